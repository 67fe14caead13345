"""The CrossGuard pack: every rule passes on the stack's own plan and fails on a crafted violation.

Rules are called the way the analyzer calls them: with real `ResourceValidationArgs` /
`StackValidationArgs` whose properties sit behind pulumi-policy's unknown-checking proxy. The
crafted violations start from the documents `model.iam_documents` really builds, changed in
the one way each rule is about. The last tests check `tools.policy_check.evaluate` against the real
policy server, started the way the Pulumi CLI starts it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import re
import runpy
import select
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
import pulumi_policy
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import pulumi_sdk
from model.config_keys import CONFIG_KEYS, PROJECT
from model.iam_documents import role_documents
from policies import cluster_rules, iam_rules
from policies import stack_view as rules
from policies.pack import POLICIES
from policies.values import COMPUTED
from tests.stack_helpers import EXAMPLE_SETTINGS
from tools import policy_check
from tools.plan import build_plan
from tools.policy_check import ENGINE_UNKNOWN

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
PLATFORM_ACCOUNT = "210987654321"
SETTINGS = dataclasses.replace(EXAMPLE_SETTINGS, platform_account_id=PLATFORM_ACCOUNT)
DOCS = role_documents(SETTINGS, partition="aws", account_id=ACCOUNT)
ROLE_ARN = DOCS.role_arn
POLICY = {p.name: p for p in POLICIES}

# The pack as docs/policy-pack.md documents it: every rule and its level.
EXPECTED_LEVELS = {
    "pod-identity-trust-allows-tag-session": "mandatory",
    "xpander-role-self-assume-without-external-id": "mandatory",
    "cross-account-trust-requires-external-id": "mandatory",
    "xpander-role-can-assume-itself": "mandatory",
    "xpander-role-has-data-api-permissions": "mandatory",
    "redshift-cluster-private-and-encrypted": "mandatory",
    "redshift-port-from-security-group-only": "mandatory",
    "no-cluster-credentials-on-any-resource": "mandatory",
    "redshift-credentials-dbuser-wildcard": "advisory",
    "redshift-final-snapshot-on-delete": "advisory",
    "redshift-protected-in-production": "advisory",
    "redshift-node-type-orderable": "advisory",
    "one-way-to-manage-policies-and-rules": "mandatory",
    "trust-never-open-to-anyone": "mandatory",
    "no-cluster-credentials-for-the-master-user": "mandatory",
    "data-api-only-on-the-stacks-clusters": "mandatory",
    "redshift-port-in-node-type-range": "mandatory",
    "redshift-require-ssl": "mandatory",
    "redshift-audit-logging": "mandatory",
    "redshift-enhanced-vpc-routing": "mandatory",
    "redshift-snapshot-retention": "mandatory",
    "redshift-serverless-workgroup-private": "mandatory",
    "psql-job-image-pinned-by-digest": "advisory",
    "assumable-roles-cannot-escalate": "mandatory",
    "redshift-data-stays-in-the-account": "mandatory",
    "redshift-master-password-not-in-state": "mandatory",
    "resource-policies-never-public": "mandatory",
    "xpander-workloads-unprivileged": "mandatory",
    "xpander-service-account-least-privilege": "mandatory",
    "could-not-judge-resource-at-preview": "advisory",
    "could-not-judge-stack-at-preview": "advisory",
}

# The resource types each rule judges: the plan must hold them for a pass to mean anything.
JUDGES = {
    "pod-identity-trust-allows-tag-session": [rules.ROLE],
    "xpander-role-self-assume-without-external-id": [rules.ROLE],
    "cross-account-trust-requires-external-id": [rules.ROLE],
    "xpander-role-can-assume-itself": [rules.ROLE, rules.ROLE_POLICY],
    "xpander-role-has-data-api-permissions": [rules.ROLE, rules.ROLE_POLICY, rules.CLUSTER],
    "redshift-cluster-private-and-encrypted": [rules.CLUSTER],
    "redshift-port-from-security-group-only": [
        rules.CLUSTER,
        rules.SECURITY_GROUP,
        rules.INGRESS_RULE,
    ],
    "no-cluster-credentials-on-any-resource": [rules.ROLE_POLICY],
    "redshift-credentials-dbuser-wildcard": [rules.ROLE_POLICY],
    "redshift-final-snapshot-on-delete": [rules.CLUSTER],
    "redshift-protected-in-production": [rules.CLUSTER],
    "redshift-node-type-orderable": [rules.CLUSTER],
    "one-way-to-manage-policies-and-rules": [rules.ROLE, rules.SECURITY_GROUP],
    "trust-never-open-to-anyone": [rules.ROLE],
    "no-cluster-credentials-for-the-master-user": [rules.ROLE_POLICY, rules.CLUSTER],
    "data-api-only-on-the-stacks-clusters": [rules.ROLE_POLICY],
    "redshift-port-in-node-type-range": [rules.CLUSTER],
    "redshift-require-ssl": [rules.CLUSTER],
    "redshift-audit-logging": [rules.CLUSTER],
    "redshift-enhanced-vpc-routing": [rules.CLUSTER],
    "redshift-snapshot-retention": [rules.CLUSTER],
    # The stack creates no workgroup; the Job only with userProvisioner kubernetes-job (a variant).
    "redshift-serverless-workgroup-private": [],
    "psql-job-image-pinned-by-digest": [],
    "assumable-roles-cannot-escalate": [rules.ROLE, rules.ROLE_POLICY, rules.CLUSTER],
    # The stack shares nothing and keeps no password or resource policy of its own.
    "redshift-data-stays-in-the-account": [],
    "redshift-master-password-not-in-state": [rules.CLUSTER],
    "resource-policies-never-public": [],
    # The Job only with userProvisioner kubernetes-job (a variant); no RBAC, no access entry.
    "xpander-workloads-unprivileged": [],
    "xpander-service-account-least-privilege": [
        "aws:eks/podIdentityAssociation:PodIdentityAssociation"
    ],
    "could-not-judge-resource-at-preview": [rules.ROLE, rules.CLUSTER],
    "could-not-judge-stack-at-preview": [rules.ROLE, rules.CLUSTER],
}


# --- building what the analyzer hands a policy ---------------------------------------------------


def options(*, protect: bool = False, parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


# The component the stack puts its own role under (components/access_role.py).
ROLE_PARENT = (
    f"urn:pulumi:dev::{PROJECT}::xpander:redshift:XpanderRedshift"
    "$xpander:redshift:XpanderAccessRole::xpander-role"
)


def urn_of(type_: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def resource_args(
    type_: str,
    props: Mapping[str, Any],
    *,
    name: str = "crafted",
    stack: str = "dev",
    protect: bool = False,
    parent: str | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type=type_,
        props=pulumi_sdk.POLICY_PROXY.get()(copy.deepcopy(dict(props))),
        urn=urn_of(type_, name, stack),
        name=name,
        opts=options(protect=protect, parent=parent),
        provider=None,
    )


def policy_resource(type_: str, name: str, props: Mapping[str, Any]) -> PolicyResource:
    return PolicyResource(
        type_,
        pulumi_sdk.POLICY_PROXY.get()(copy.deepcopy(dict(props))),
        urn_of(type_, name),
        name,
        options(),
        None,
        None,
        [],
        {},
    )


def stack_args(
    resources: Sequence[PolicyResource], depends: Mapping[str, Sequence[str]] = {}
) -> StackValidationArgs:
    """Resources by name, with `depends[name]` the names each depends on."""
    by_name = {r.name: r for r in resources}
    for name, targets in depends.items():
        by_name[name].dependencies = [by_name[t] for t in targets]
    return StackValidationArgs(list(resources))


def violations(policy_name: str, args: Any) -> list[str]:
    """The messages a policy reports (urns checked by the evaluate tests)."""
    messages: list[str] = []
    POLICY[policy_name].validate(args, lambda message, urn=None: messages.append(message))
    return messages


# --- the stack as a set of crafted resources ------------------------------------------------------


def role_props(trust: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": SETTINGS.role_name,
        "path": SETTINGS.role_path,
        "assumeRolePolicy": json.dumps(trust if trust is not None else DOCS.trust_policy),
        **extra,
    }


def trust_with(change: Any) -> dict[str, Any]:
    """The stack's trust policy with `change(statements_by_sid)` applied."""
    trust = copy.deepcopy(DOCS.trust_policy)
    change({s["Sid"]: s for s in trust["Statement"]})
    trust["Statement"] = [s for s in trust["Statement"] if not s.get("_drop")]
    return trust


def cluster_props(**changes: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "clusterIdentifier": SETTINGS.cluster_identifier,
        "databaseName": SETTINGS.database_name,
        "nodeType": "ra3.large",
        "port": 5439,
        "publiclyAccessible": False,
        "encrypted": True,
        "manageMasterPassword": True,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": "xpander-redshift-final-snapshot",
        "vpcSecurityGroupIds": [ENGINE_UNKNOWN],
    }
    props.update(changes)
    return {k: v for k, v in props.items() if v is not None}


INGRESS_FROM_EKS = {
    "ipProtocol": "tcp",
    "fromPort": 5439,
    "toPort": 5439,
    "referencedSecurityGroupId": "sg-0eks",
    "securityGroupId": ENGINE_UNKNOWN,
}


def xpander_stack(
    *,
    policies: Mapping[str, Any] | None = None,
    role: Mapping[str, Any] | None = None,
    ingress: Mapping[str, Any] | None = None,
    extra: Sequence[tuple[PolicyResource, Sequence[str]]] = (),
    security_group: Mapping[str, Any] | None = None,
) -> StackValidationArgs:
    """The stack's resources as the analyzer sees them (the role's ARN, cluster's id unknown)."""
    documents = DOCS.policies if policies is None else policies
    resources = [
        policy_resource(rules.ROLE, "role", role if role is not None else role_props()),
        *(
            policy_resource(
                rules.ROLE_POLICY,
                f"role-{name}",
                {"name": name, "role": SETTINGS.role_name, "policy": json.dumps(document)},
            )
            for name, document in documents.items()
        ),
        policy_resource(rules.CLUSTER, "cluster", cluster_props()),
        policy_resource(
            rules.SECURITY_GROUP, "sg", security_group or {"name": "xpander-redshift-sg"}
        ),
        policy_resource(
            rules.INGRESS_RULE, "ingress", ingress if ingress is not None else INGRESS_FROM_EKS
        ),
        *(resource for resource, _ in extra),
    ]
    depends: dict[str, Sequence[str]] = {
        "cluster": ["sg"],
        "ingress": ["sg"],
        **{f"role-{name}": ["role"] for name in documents},
        **{resource.name: deps for resource, deps in extra},
    }
    return stack_args(resources, depends)


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in DOCS.policies.items() if k != name}


# --- the stack's own plan -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return build_plan()


@pytest.fixture(scope="module")
def planned(plan: dict[str, Any]) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = plan["resources"]
    return resources


def test_the_pack_has_every_rule_of_the_issue_at_its_level() -> None:
    assert {p.name: p.enforcement_level.value for p in POLICIES} == EXPECTED_LEVELS
    for policy in POLICIES:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", policy.name)
        assert policy.description.strip()


PACK_LAYERS = [
    "aws_facts",
    "values",
    "findings",
    "documents",
    "principals",
    "networks",
    "stack_view",
    "exposure",
    "iam_rules",
    "permission_rules",
    "escalation_rules",
    "data_rules",
    "cluster_rules",
    "endpoint_rules",
    "workload_rules",
    "pack",
]


def test_the_pack_modules_import_downward_only_and_stay_small() -> None:
    modules = {p.stem for p in (ROOT / "policies").glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(PACK_LAYERS)
    for index, name in enumerate(PACK_LAYERS):
        source = (ROOT / "policies" / f"{name}.py").read_text(encoding="utf-8")
        assert len(source.splitlines()) <= 600, name
        imported = set(re.findall(r"^from \.(\w+) import|^from \. import (\w+)", source, re.M))
        below = {m for pair in imported for m in pair if m}
        assert below <= set(PACK_LAYERS[:index]), (name, below)


def test_every_setting_and_opt_out_a_rule_names_is_real() -> None:
    """Messages name the setting that fixes them and the --policy-pack-config opt-out (issue 23)."""
    keys = {key.name for key in CONFIG_KEYS}
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "policies").glob("*.py"))
    named = set(re.findall(r"xpander-redshift:([A-Za-z]+)", text))
    assert named and named <= keys, named - keys
    opt_outs = set(re.findall(r'policy-pack-config[^{]*\{\{?"([a-z0-9-]+)"', text))
    opt_outs |= set(re.findall(r"opt_out\(['\"]([a-z0-9-]+)['\"]\)", text))
    assert opt_outs and opt_outs <= set(EXPECTED_LEVELS), opt_outs - set(EXPECTED_LEVELS)


def test_the_docs_table_lists_every_rule_at_its_level() -> None:
    readme = (ROOT / "docs" / "policy-pack.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| `([a-z0-9-]+)`(?:, `([a-z0-9-]+)`)? \| (mandatory|advisory)", readme, re.M
    )
    table = {name: level for *names, level in rows for name in names if name}
    assert table == EXPECTED_LEVELS


@pytest.mark.parametrize("name", list(EXPECTED_LEVELS))
def test_rule_passes_on_the_stacks_own_plan(name: str, planned: list[dict[str, Any]]) -> None:
    types = {r["type"] for r in planned}
    assert set(JUDGES[name]) <= types, "the plan lacks what this rule judges"
    policy = POLICY[name]
    if isinstance(policy, ResourceValidationPolicy):
        for resource in planned:
            args = policy_check.resource_args(resource, project=PROJECT, stack="dev")
            assert violations(name, args) == [], resource["urn"]
    else:
        assert isinstance(policy, StackValidationPolicy)
        args = policy_check.stack_args(planned, project=PROJECT, stack="dev")
        assert violations(name, args) == []


def test_the_stacks_plan_has_no_violation_and_plan_reports_none(plan: dict[str, Any]) -> None:
    assert policy_check.evaluate(plan["resources"], project=PROJECT, stack="dev") == []
    assert plan["policyViolations"] == []


def plan_of_variant(tmp_path: Path, changes: Mapping[str, Any], stack: str) -> dict[str, Any]:
    """The plan of Pulumi.dev.yaml with some config changed (None removes a key)."""
    stack_file = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            stack_file["config"].pop(f"xpander-redshift:{key}", None)
        else:
            stack_file["config"][f"xpander-redshift:{key}"] = value
    config_file = tmp_path / f"Pulumi.{stack}.yaml"
    config_file.write_text(yaml.safe_dump(stack_file), encoding="utf-8")
    return build_plan(config_file, stack=stack)


STACK_VARIANTS = {
    "three-connectors": {
        "connectors": json.dumps(
            [
                {"name": "main", "roleName": "xpander-main", "namespace": "main"},
                {"name": "sales", "roleName": "xpander-sales", "organizationId": "org-2"},
                {"name": "ops", "roleName": "xpander-ops", "namespace": "ops"},
            ]
        )
    },
    "kubernetes-job": {"userProvisioner": "kubernetes-job"},
    "existing-cluster": {
        "existingClusterIdentifier": "analytics",
        "existingSecurityGroupId": "sg-0123456789abcdef0",
        "privateSubnetIds": None,
    },
    "production": {"protect": True},
    # The Data API's grant on the cluster's customer managed key (model/iam_documents.py).
    "customer-managed-key": {
        "kmsKeyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    },
}


@pytest.mark.parametrize("variant", list(STACK_VARIANTS))
def test_other_shapes_of_the_stack_pass_every_rule(variant: str, tmp_path: Path) -> None:
    plan = plan_of_variant(tmp_path, STACK_VARIANTS[variant], stack=variant)
    found = policy_check.evaluate(plan["resources"], project=PROJECT, stack=variant)
    # The default psqlImage is a tag: pinning it by digest is advised, not required.
    advised = (
        [("psql-job-image-pinned-by-digest", "advisory")] if variant == "kubernetes-job" else []
    )
    assert [(v["policy"], v["enforcementLevel"]) for v in found] == advised


def test_a_stack_with_a_role_path_and_a_wildcard_db_user_only_gets_the_advisory(
    tmp_path: Path,
) -> None:
    changes = {"rolePath": "/xpander/agents/", "credentialsDbUsers": ["*"]}
    plan = plan_of_variant(tmp_path, changes, stack="variant")

    found = policy_check.evaluate(plan["resources"], project=PROJECT, stack="variant")
    assert [(v["policy"], v["enforcementLevel"]) for v in found] == [
        ("redshift-credentials-dbuser-wildcard", "advisory")
    ]
    assert "dbuser:xpander-redshift/*" in found[0]["message"]


def test_an_unprotected_production_stack_gets_the_advisory(tmp_path: Path) -> None:
    plan = plan_of_variant(tmp_path, {"protect": False}, stack="production")
    found = policy_check.evaluate(plan["resources"], project=PROJECT, stack="production")
    [cluster] = [r["urn"] for r in plan["resources"] if r["type"] == rules.CLUSTER]
    assert [(v["policy"], v["urn"]) for v in found] == [
        ("redshift-protected-in-production", cluster)
    ]


# --- 1. pod-identity-trust-allows-tag-session -----------------------------------------------------


def test_pod_identity_trust_without_tag_session_fails() -> None:
    trust = trust_with(lambda s: s["PodIdentity"].update(Action="sts:AssumeRole"))
    [message] = violations(
        "pod-identity-trust-allows-tag-session", resource_args(rules.ROLE, role_props(trust))
    )
    assert 'trust statement "PodIdentity" trusts pods.eks.amazonaws.com' in message
    assert "does not allow sts:TagSession" in message
    assert '"Action": ["sts:AssumeRole", "sts:TagSession"]' in message
    assert iam_rules.GUIDE_TAG_SESSION in message


def test_pod_identity_trust_with_a_wildcard_sts_action_passes() -> None:
    trust = trust_with(lambda s: s["PodIdentity"].update(Action="sts:*"))
    args = resource_args(rules.ROLE, role_props(trust))
    assert violations("pod-identity-trust-allows-tag-session", args) == []


# --- 2. xpander-role-self-assume-without-external-id ----------------------------------------------


def test_self_assume_with_external_id_fails() -> None:
    trust = trust_with(
        lambda s: s["SelfAssume"]["Condition"].update(
            StringEquals={"sts:ExternalId": EXAMPLE_SETTINGS.organization_id}
        )
    )
    [message] = violations(
        "xpander-role-self-assume-without-external-id", resource_args(rules.ROLE, role_props(trust))
    )
    assert 'self-assume trust statement "SelfAssume" has an sts:ExternalId condition' in message
    assert "remove that condition" in message
    assert iam_rules.GUIDE_SELF_ASSUME in message


def test_missing_self_assume_fails_and_shows_the_statement_to_add() -> None:
    trust = trust_with(lambda s: s["SelfAssume"].update(_drop=True))
    [message] = violations(
        "xpander-role-self-assume-without-external-id", resource_args(rules.ROLE, role_props(trust))
    )
    assert "has no self-assume trust statement that admits exactly its own ARN" in message
    assert (
        '"aws:PrincipalArn": "arn:<partition>:iam::<this-account-id>:role/xpander-redshift-access"'
        in message
    )
    assert iam_rules.GUIDE_SELF_ASSUME in message


def test_self_assume_without_tag_session_fails() -> None:
    trust = trust_with(lambda s: s["SelfAssume"].update(Action=["sts:AssumeRole"]))
    [message] = violations(
        "xpander-role-self-assume-without-external-id", resource_args(rules.ROLE, role_props(trust))
    )
    assert "does not allow sts:TagSession" in message


def test_self_assume_for_another_role_or_path_is_not_a_self_assume() -> None:
    # Same name, different path: the ARN is not the role's own.
    props = role_props(path="/xpander/")
    [message] = violations(
        "xpander-role-self-assume-without-external-id", resource_args(rules.ROLE, props)
    )
    assert "arn:<partition>:iam::<account>:role/xpander/xpander-redshift-access" in message


def test_an_auto_named_xpander_role_fails() -> None:
    props = role_props()
    del props["name"]
    [message] = violations(
        "xpander-role-self-assume-without-external-id", resource_args(rules.ROLE, props)
    )
    assert "has no explicit name" in message
    assert "xpander-redshift:roleName" in message


def test_the_guides_own_self_assume_form_passes() -> None:
    def guide_form(s: dict[str, Any]) -> None:
        s["SelfAssume"]["Principal"] = {"AWS": ROLE_ARN}
        del s["SelfAssume"]["Condition"]

    args = resource_args(rules.ROLE, role_props(trust_with(guide_form)))
    assert violations("xpander-role-self-assume-without-external-id", args) == []
    assert violations("cross-account-trust-requires-external-id", args) == []


# --- 3. cross-account-trust-requires-external-id --------------------------------------------------


def test_cross_account_trust_without_external_id_fails() -> None:
    trust = trust_with(lambda s: s["CrossAccountWithExternalId"].pop("Condition"))
    [message] = violations(
        "cross-account-trust-requires-external-id", resource_args(rules.ROLE, role_props(trust))
    )
    assert f"lets every identity of account {PLATFORM_ACCOUNT} assume the role" in message
    assert "without requiring sts:ExternalId" in message
    assert (
        '"Condition": {"StringEquals": {"sts:ExternalId": "<xpander organization ID>"}}' in message
    )


def test_an_if_exists_external_id_does_not_count() -> None:
    trust = trust_with(
        lambda s: s["CrossAccountWithExternalId"].update(
            Condition={"StringEqualsIfExists": {"sts:ExternalId": EXAMPLE_SETTINGS.organization_id}}
        )
    )
    [message] = violations(
        "cross-account-trust-requires-external-id", resource_args(rules.ROLE, role_props(trust))
    )
    assert "StringEqualsIfExists" in message


def test_a_same_account_role_principal_needs_no_external_id() -> None:
    def add(s: dict[str, Any]) -> None:
        s["CrossAccountWithExternalId"]["Principal"] = {
            "AWS": f"arn:aws:iam::{ACCOUNT}:role/ci-deployer"
        }
        del s["CrossAccountWithExternalId"]["Condition"]

    args = resource_args(rules.ROLE, role_props(trust_with(add)))
    assert violations("cross-account-trust-requires-external-id", args) == []


# --- 4. xpander-role-can-assume-itself ------------------------------------------------------------


def test_a_role_without_the_self_assume_permission_fails() -> None:
    [message] = violations(
        "xpander-role-can-assume-itself", xpander_stack(policies=without("SelfAssumeAndTagSession"))
    )
    assert "do not allow sts:AssumeRole and sts:TagSession on the role itself" in message
    assert ROLE_ARN in message
    assert iam_rules.GUIDE_TAG_SESSION in message and iam_rules.GUIDE_SELF_ASSUME in message


def test_a_self_assume_permission_on_another_role_fails() -> None:
    policies = dict(DOCS.policies)
    policies["SelfAssumeAndTagSession"] = copy.deepcopy(policies["SelfAssumeAndTagSession"])
    policies["SelfAssumeAndTagSession"]["Statement"][0]["Resource"] = (
        f"arn:aws:iam::{ACCOUNT}:role/someone-else"
    )
    [message] = violations("xpander-role-can-assume-itself", xpander_stack(policies=policies))
    assert "do not allow sts:AssumeRole and sts:TagSession" in message


def test_a_deny_takes_the_self_assume_permission_away() -> None:
    policies = {
        **DOCS.policies,
        "Deny": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "sts:TagSession", "Resource": "*"}],
        },
    }
    [message] = violations("xpander-role-can-assume-itself", xpander_stack(policies=policies))
    assert "do not allow sts:TagSession on the role itself" in message


# --- 5. xpander-role-has-data-api-permissions -----------------------------------------------------


def test_a_role_without_the_data_api_policy_fails() -> None:
    [message] = violations(
        "xpander-role-has-data-api-permissions", xpander_stack(policies=without("RedshiftDataAPI"))
    )
    assert "redshift-data:DescribeStatement, redshift-data:GetStatementResult" in message
    assert "redshift-data:ExecuteStatement" in message
    assert f"cluster:{SETTINGS.cluster_identifier}" in message
    assert iam_rules.GUIDE_DATA_API in message


def test_a_role_without_iam_credentials_for_the_database_fails() -> None:
    [message] = violations(
        "xpander-role-has-data-api-permissions",
        xpander_stack(policies=without("RedshiftCredentials")),
    )
    assert "redshift:GetClusterCredentialsWithIAM on the database" in message
    assert f"dbname:{SETTINGS.cluster_identifier}/{SETTINGS.database_name}" in message
    assert "redshift:DescribeClusters" in message


def test_data_api_permissions_for_another_cluster_fail() -> None:
    policies = json.loads(
        json.dumps(DOCS.policies).replace("cluster:xpander-redshift", "cluster:other")
    )
    [message] = violations(
        "xpander-role-has-data-api-permissions", xpander_stack(policies=policies)
    )
    assert (
        "on the cluster (arn:aws:redshift:<region>:123456789012:cluster:xpander-redshift)"
        in message
    )


def test_only_the_role_that_lacks_the_data_api_policy_is_reported() -> None:
    other_name = "xpander-sales"
    other_docs = role_documents(
        dataclasses.replace(SETTINGS, role_name=other_name, credentials_db_users=()),
        partition="aws",
        account_id=ACCOUNT,
    )
    other_role = policy_resource(
        rules.ROLE,
        "sales-role",
        {"name": other_name, "path": "/", "assumeRolePolicy": json.dumps(other_docs.trust_policy)},
    )
    other_policies = [
        (
            policy_resource(
                rules.ROLE_POLICY,
                f"sales-{name}",
                {"name": name, "role": other_name, "policy": json.dumps(document)},
            ),
            ["sales-role"],
        )
        for name, document in other_docs.policies.items()
        if name != "RedshiftDataAPI"
    ]
    args = xpander_stack(extra=[(other_role, []), *other_policies])
    [message] = violations("xpander-role-has-data-api-permissions", args)
    assert message.startswith(f"Role '{other_name}':")


# --- 6. redshift-cluster-private-and-encrypted ----------------------------------------------------


def test_a_cluster_that_does_not_say_publicly_accessible_false_fails() -> None:
    [message] = violations(
        "redshift-cluster-private-and-encrypted",
        resource_args(rules.CLUSTER, cluster_props(publiclyAccessible=None)),
    )
    assert "publiclyAccessible is not set" in message
    assert "Set publicly_accessible=False" in message


def test_a_public_unencrypted_cluster_fails_twice() -> None:
    messages = violations(
        "redshift-cluster-private-and-encrypted",
        resource_args(rules.CLUSTER, cluster_props(publiclyAccessible=True, encrypted=False)),
    )
    assert len(messages) == 2
    assert "publiclyAccessible is true" in messages[0]
    assert "encrypted is false" in messages[1] and "set encrypted=True" in messages[1]


# --- 7. redshift-port-from-security-group-only ----------------------------------------------------


def test_a_cidr_source_on_the_redshift_port_fails() -> None:
    ingress = {k: v for k, v in INGRESS_FROM_EKS.items() if k != "referencedSecurityGroupId"}
    ingress["cidrIpv4"] = "10.0.0.0/8"
    [message] = violations("redshift-port-from-security-group-only", xpander_stack(ingress=ingress))
    assert "opens the Redshift port 5439 to 10.0.0.0/8" in message
    assert "referenced_security_group_id is the EKS cluster security group" in message
    assert cluster_rules.GUIDE_SECURITY_GROUP in message


def test_a_world_open_egress_rule_on_the_cluster_group_fails() -> None:
    egress = policy_resource(
        rules.EGRESS_RULE,
        "egress",
        {"ipProtocol": "-1", "cidrIpv6": "::/0", "securityGroupId": ENGINE_UNKNOWN},
    )
    [message] = violations(
        "redshift-port-from-security-group-only", xpander_stack(extra=[(egress, ["sg"])])
    )
    assert "security group rule 'egress' together allow egress all traffic" in message
    assert "the whole IPv6 internet (their CIDRs ::/0" in message


def test_an_inline_cidr_ingress_on_the_cluster_group_fails() -> None:
    group = {
        "name": "xpander-redshift-sg",
        "ingress": [
            {"protocol": "tcp", "fromPort": 5400, "toPort": 5500, "cidrBlocks": ["10.1.0.0/16"]}
        ],
    }
    [message] = violations(
        "redshift-port-from-security-group-only", xpander_stack(security_group=group)
    )
    assert "inline ingress rule #1 of security group 'sg' opens the Redshift port 5439" in message


def test_a_cidr_rule_on_another_port_of_the_group_passes() -> None:
    https = policy_resource(
        rules.INGRESS_RULE,
        "https",
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "10.0.0.0/8"},
    )
    args = xpander_stack(extra=[(https, ["sg"])])
    assert violations("redshift-port-from-security-group-only", args) == []


# --- 8. no-cluster-credentials-on-any-resource ----------------------------------------------------


def credentials_everywhere(action: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": action, "Resource": "*"}],
    }


def test_cluster_credentials_on_any_resource_fail() -> None:
    props = {
        "name": "RedshiftCredentials",
        "role": SETTINGS.role_name,
        "policy": json.dumps(credentials_everywhere("redshift:GetClusterCredentials*")),
    }
    [message] = violations(
        "no-cluster-credentials-on-any-resource", resource_args(rules.ROLE_POLICY, props)
    )
    assert "policy 'RedshiftCredentials': statement \"Everything\"" in message
    assert (
        "allows redshift:GetClusterCredentials and redshift:GetClusterCredentialsWithIAM "
        'on "*", which reaches every cluster of the account' in message
    )
    assert "dbname:<cluster>/<database>" in message


def test_a_service_wildcard_in_a_roles_inline_policy_fails_too() -> None:
    props = role_props(
        inlinePolicies=[
            {"name": "admin", "policy": json.dumps(credentials_everywhere("redshift:*"))}
        ]
    )
    [message] = violations(
        "no-cluster-credentials-on-any-resource", resource_args(rules.ROLE, props)
    )
    assert "inline policy 'admin' of role 'xpander-redshift-access'" in message


# --- advisory rules -------------------------------------------------------------------------------


def test_a_wildcard_dbuser_is_advised_against() -> None:
    documents = role_documents(
        dataclasses.replace(SETTINGS, credentials_db_users=("*",)),
        partition="aws",
        account_id=ACCOUNT,
    )
    props = {
        "name": "RedshiftCredentials",
        "role": SETTINGS.role_name,
        "policy": json.dumps(documents.policies["RedshiftCredentials"]),
    }
    [message] = violations(
        "redshift-credentials-dbuser-wildcard", resource_args(rules.ROLE_POLICY, props)
    )
    assert '"arn:aws:redshift:us-west-2:123456789012:dbuser:xpander-redshift/*"' in message
    assert "master user" in message and "xpander-redshift:credentialsDbUsers" in message


def test_a_cluster_deleted_without_a_final_snapshot_is_advised_against() -> None:
    [message] = violations(
        "redshift-final-snapshot-on-delete",
        resource_args(
            rules.CLUSTER, cluster_props(skipFinalSnapshot=True, finalSnapshotIdentifier=None)
        ),
    )
    assert "skipFinalSnapshot is true" in message
    assert "xpander-redshift:skipFinalSnapshot to false" in message


def test_a_cluster_that_cannot_name_its_final_snapshot_is_advised_against() -> None:
    [message] = violations(
        "redshift-final-snapshot-on-delete",
        resource_args(rules.CLUSTER, cluster_props(finalSnapshotIdentifier=None)),
    )
    assert "finalSnapshotIdentifier is not set" in message


@pytest.mark.parametrize("stack", ["prod", "production", "eu-prod", "prod-2", "live"])
def test_an_unprotected_cluster_in_production_is_advised_against(stack: str) -> None:
    [message] = violations(
        "redshift-protected-in-production",
        resource_args(rules.CLUSTER, cluster_props(), stack=stack, protect=False),
    )
    assert f"stack '{stack}' looks like production" in message
    assert "xpander-redshift:protect" in message


@pytest.mark.parametrize("stack", ["dev", "product-demo", "preprod-like-staging"])
def test_other_stacks_and_protected_clusters_pass(stack: str) -> None:
    # "prod" counts only as a word of the stack name: not in "product" nor "preprod".
    unprotected = resource_args(rules.CLUSTER, cluster_props(), stack=stack, protect=False)
    protected = resource_args(rules.CLUSTER, cluster_props(), stack="prod", protect=True)
    assert violations("redshift-protected-in-production", unprotected) == []
    assert violations("redshift-protected-in-production", protected) == []


def test_a_previous_generation_node_type_is_advised_against() -> None:
    [message] = violations(
        "redshift-node-type-orderable",
        resource_args(rules.CLUSTER, cluster_props(nodeType="dc2.large")),
    )
    assert "Invalid node type: dc2.large" in message
    assert "xpander-redshift:nodeTypes" in message


# --- stack: one-way-to-manage-policies-and-rules --------------------------------------------------


def test_managed_policies_on_the_xpander_role_fail() -> None:
    role = role_props(managedPolicyArns=["arn:aws:iam::aws:policy/AmazonRedshiftDataFullAccess"])
    [message] = violations("one-way-to-manage-policies-and-rules", xpander_stack(role=role))
    assert "(the xpander role) gets permissions through 3 aws.iam.RolePolicy resource(s)" in message
    assert "managed_policy_arns on the Role" in message


def test_a_policy_attachment_to_the_xpander_role_fails() -> None:
    attachment = policy_resource(
        rules.ROLE_POLICY_ATTACHMENT,
        "attach",
        {"role": SETTINGS.role_name, "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
    )
    [message] = violations(
        "one-way-to-manage-policies-and-rules", xpander_stack(extra=[(attachment, ["role"])])
    )
    assert "1 policy attachment resource(s)" in message


def test_another_role_mixing_inline_and_separate_policies_fails() -> None:
    other = policy_resource(
        rules.ROLE,
        "other",
        {
            "name": "other",
            "assumeRolePolicy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            "inlinePolicies": [{"name": "a", "policy": "{}"}],
        },
    )
    separate = policy_resource(rules.ROLE_POLICY, "other-b", {"role": "other", "policy": "{}"})
    args = xpander_stack(extra=[(other, []), (separate, ["other"])])
    [message] = violations("one-way-to-manage-policies-and-rules", args)
    assert (
        "Role 'other' mixes 1 aws.iam.RolePolicy resource(s), inline_policies on the Role"
        in message
    )


def test_a_security_group_with_inline_rules_and_rule_resources_fails() -> None:
    group = {
        "name": "xpander-redshift-sg",
        "egress": [
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}
        ],
    }
    [message] = violations(
        "one-way-to-manage-policies-and-rules", xpander_stack(security_group=group)
    )
    assert "Security group 'sg' has inline egress rules and 1 separate rule resource(s)" in message


# --- unknown values -------------------------------------------------------------------------------


def all_unknown(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: all_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [all_unknown(v) for v in value]
    return COMPUTED


def test_every_input_unknown_gives_could_not_judge_advisories_only(
    planned: list[dict[str, Any]],
) -> None:
    unknown = [dict(r, inputs=all_unknown(r["inputs"])) for r in planned]
    found = policy_check.evaluate(unknown, project=PROJECT, stack="dev")
    assert {(v["policy"], v["enforcementLevel"]) for v in found} <= {
        ("could-not-judge-resource-at-preview", "advisory"),
        ("could-not-judge-stack-at-preview", "advisory"),
    }
    said = "\n".join(v["message"] for v in found)
    for rule in ("trust-never-open-to-anyone", "redshift-cluster-private-and-encrypted"):
        assert f"[{rule}]" in said
    assert "The rule could not judge it at preview and did not pass it silently" in said


def test_rules_read_unknowns_without_raising_what_preview_would_report() -> None:
    # The engine's proxy raises on reading an unknown; the rules must skip, not let it escape.
    props = role_props()
    props["assumeRolePolicy"] = ENGINE_UNKNOWN
    props["name"] = ENGINE_UNKNOWN
    undecided = []
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            found = violations(policy.name, resource_args(rules.ROLE, props))
            if policy.name == "could-not-judge-resource-at-preview":
                undecided = found
            else:
                assert found == [], policy.name
    assert violations("xpander-role-can-assume-itself", xpander_stack(role=props)) == []
    assert [m.split("]")[0] for m in undecided] == ["[trust-never-open-to-anyone"]
    assert "Role 'crafted': its trust policy is not known at preview" in undecided[0]


# --- evaluate(): the engine's part, offline -------------------------------------------------------


def bad_plan(planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan with two public clusters and no Data API policy."""
    resources = copy.deepcopy(planned)
    resources = [r for r in resources if r["name"] != "xpander-role-RedshiftDataAPI"]
    [cluster] = [r for r in resources if r["type"] == rules.CLUSTER]
    cluster["inputs"]["publiclyAccessible"] = True
    second = copy.deepcopy(cluster)
    second["urn"] = cluster["urn"] + "-2"
    second["name"] += "-2"
    second["inputs"]["clusterIdentifier"] = "xpander-redshift-2"
    return [*resources, second]


BROKEN = ("redshift-cluster-private-and-encrypted", "xpander-role-has-data-api-permissions")


def test_evaluate_reports_each_resource_once_and_each_stack_rule_once(
    planned: list[dict[str, Any]],
) -> None:
    resources = bad_plan(planned)
    found = policy_check.evaluate(resources, project=PROJECT, stack="dev")
    found = [v for v in found if v["policy"] in BROKEN]  # the copied cluster lacks more
    clusters = [r["urn"] for r in resources if r["type"] == rules.CLUSTER]
    [role] = [r["urn"] for r in resources if r["type"] == rules.ROLE]
    assert [(v["policy"], v["urn"], v["enforcementLevel"]) for v in found] == [
        ("redshift-cluster-private-and-encrypted", clusters[0], "mandatory"),
        ("redshift-cluster-private-and-encrypted", clusters[1], "mandatory"),
        ("xpander-role-has-data-api-permissions", role, "mandatory"),
    ]
    assert "publiclyAccessible is true" in found[0]["message"]
    assert "cluster:xpander-redshift-2" in found[2]["message"]


def test_evaluate_skips_disabled_rules_and_reports_remediate_as_mandatory(
    planned: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    private = POLICY["redshift-cluster-private-and-encrypted"]
    data_api = POLICY["xpander-role-has-data-api-permissions"]
    monkeypatch.setattr(private, "enforcement_level", EnforcementLevel.DISABLED)
    monkeypatch.setattr(data_api, "enforcement_level", EnforcementLevel.REMEDIATE)
    found = policy_check.evaluate(bad_plan(planned), project=PROJECT, stack="dev")
    assert [(v["policy"], v["enforcementLevel"]) for v in found if v["policy"] in BROKEN] == [
        ("xpander-role-has-data-api-permissions", "mandatory")
    ]


# --- the pack as the Pulumi CLI runs it -----------------------------------------------------------


def test_importing_the_rules_does_not_start_the_policy_server() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import policies.pack"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_the_entry_point_builds_the_pack_from_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    built: dict[str, Any] = {}
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.update(kwargs))
    runpy.run_path(str(ROOT / "policies"), run_name="__main__")
    assert built["name"] == "xpander-redshift"
    assert [p.name for p in built["policies"]] == [p.name for p in POLICIES]
    pack_file = yaml.safe_load(
        (ROOT / "policies" / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    )
    assert pack_file["runtime"]["name"] == "python"


@contextlib.contextmanager
def served_pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The real policy server, started the way the CLI does: `python -m pulumi.policy <engine> .`"""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=ROOT / "policies",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 60)
        port = server.stdout.readline().strip() if ready else ""
        assert port.isdigit(), server.stderr.read() if server.stderr and ready else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        server.kill()
        server.wait(timeout=30)


def wire_struct(inputs: Mapping[str, Any]) -> struct_pb2.Struct:
    def wire(value: Any) -> Any:
        if value == COMPUTED:
            return ENGINE_UNKNOWN
        if isinstance(value, dict):
            return {k: wire(v) for k, v in value.items()}
        if isinstance(value, list):
            return [wire(v) for v in value]
        return value

    struct = struct_pb2.Struct()
    struct.update(wire(dict(inputs)))
    return struct


def served_violations(
    stub: analyzer_pb2_grpc.AnalyzerStub, resources: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """What the real analyzer reports, in evaluate()'s shape (the engine adds the resource URN)."""
    descriptions = {p.name: p.description for p in POLICIES}

    def shape(diagnostic: Any, urn: str) -> dict[str, str]:
        prefix = descriptions[diagnostic.policyName] + "\n"
        assert diagnostic.message.startswith(prefix)
        return {
            "policy": diagnostic.policyName,
            "urn": urn,
            "message": diagnostic.message[len(prefix) :],
            "enforcementLevel": analyzer_pb2.EnforcementLevel.Name(
                diagnostic.enforcementLevel
            ).lower(),
        }

    found = []
    for r in resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=r["type"],
            properties=wire_struct(r["inputs"]),
            urn=r["urn"],
            name=r["name"],
            options=analyzer_pb2.AnalyzerResourceOptions(
                protect=bool(r.get("protect")), parent=r.get("parent") or ""
            ),
        )
        found += [shape(d, r["urn"]) for d in stub.Analyze(request).diagnostics]
    stack = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r["type"],
                properties=wire_struct(r["inputs"]),
                urn=r["urn"],
                name=r["name"],
                options=analyzer_pb2.AnalyzerResourceOptions(
                    protect=bool(r.get("protect")), parent=r.get("parent") or ""
                ),
                parent=r.get("parent") or "",
                dependencies=r["dependencies"],
                propertyDependencies={
                    key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                    for key, urns in (r.get("propertyDependencies") or {}).items()
                },
            )
            for r in resources
        ]
    )
    found += [shape(d, d.urn) for d in stub.AnalyzeStack(stack).diagnostics]
    return found


def test_the_served_pack_has_every_rule_at_its_level(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "xpander-redshift"
    assert {
        p.name: analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel).lower()
        for p in info.policies
    } == EXPECTED_LEVELS


def test_evaluate_reports_what_the_real_policy_server_reports(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, planned: list[dict[str, Any]]
) -> None:
    assert served_violations(analyzer, planned) == []
    resources = bad_plan(planned)
    expected = policy_check.evaluate(resources, project=PROJECT, stack="dev")
    assert expected
    assert served_violations(analyzer, resources) == expected
