"""The pack judges what a document or a network rule allows, whatever its spelling (issue 13).

For each class of hole, several spellings fail the right rule and the safe spellings pass. AWS
facts these rely on: IAM's condition operators (ArnEquals expands wildcards like ArnLike;
`...IfExists` passes when the key is absent; condition keys are case-insensitive), the
`aws:PrincipalOrgID` key being absent for accounts outside an organization (IAM User Guide,
"AWS global condition context keys"), CreateCluster's port ranges for RA3/RG (botocore's redshift
model: 5431-5455, 8191-8215), the default parameter group's `require_ssl` false and default
automated snapshot retention of 1 day (CreateCluster), and pulumi-aws 7.51.1's
`aws.redshift.Logging` inputs (cluster_identifier, log_destination_type, log_exports, bucket_name).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import PolicyResource

from model.config_keys import PROJECT
from policies import stack_view as types
from policies.documents import parse_document
from policies.networks import whole_spaces
from policies.principals import trustees
from tests.test_policies import (
    ACCOUNT,
    DOCS,
    INGRESS_FROM_EKS,
    PLATFORM_ACCOUNT,
    ROLE_ARN,
    SETTINGS,
    cluster_props,
    policy_resource,
    resource_args,
    role_props,
    served_pack,
    stack_args,
    trust_with,
    violations,
    wire_struct,
    xpander_stack,
)
from tools import policy_check
from tools.plan import build_plan
from tools.policy_check import ENGINE_UNKNOWN

EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "org-4f1c9a2e7b"}}
STRANGER = "999988887777"
MASTER = "xpander_admin"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def trust_of(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The stack's trust policy with one more statement."""
    trust = copy.deepcopy(DOCS.trust_policy)
    trust["Statement"].append({"Sid": "Extra", "Effect": "Allow", **statement})
    return trust


def role_verdicts(trust: Mapping[str, Any]) -> dict[str, list[str]]:
    args = resource_args(types.ROLE, role_props(trust))
    return {
        name: violations(name, args)
        for name in (
            "trust-never-open-to-anyone",
            "cross-account-trust-requires-external-id",
            "xpander-role-self-assume-without-external-id",
        )
    }


# --- anyone as principal --------------------------------------------------------------------------

ASSUME = ["sts:AssumeRole", "sts:TagSession"]


@pytest.mark.parametrize(
    "statement",
    [
        {"Principal": "*", "Action": ASSUME, "Condition": EXTERNAL_ID},
        {"Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": EXTERNAL_ID},
        {"Principal": {"AWS": ["*"]}, "Action": "sts:*", "Condition": EXTERNAL_ID},
        {"Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": ASSUME, "Condition": EXTERNAL_ID},
        {"Principal": {"AWS": [f"arn:aws:iam::{PLATFORM_ACCOUNT}:root", "*"]}, "Action": "*"},
        {"NotPrincipal": {"AWS": f"arn:aws:iam::{STRANGER}:root"}, "Action": ASSUME},
        # conditions that do not pin the caller to named accounts
        {
            "Principal": "*",
            "Action": ASSUME,
            "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}},
        },
        {
            "Principal": "*",
            "Action": ASSUME,
            "Condition": {"StringLike": {"aws:PrincipalAccount": "*"}},
        },
        {
            "Principal": "*",
            "Action": ASSUME,
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": STRANGER}},
        },
        {
            "Principal": "*",
            "Action": ASSUME,
            "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/xpander-*"}},
        },
    ],
)
def test_a_trust_open_to_anyone_fails_whatever_its_spelling(statement: dict[str, Any]) -> None:
    found = role_verdicts(trust_of(statement))
    [message] = found["trust-never-open-to-anyone"]
    assert 'trust statement "Extra" lets any AWS identity in any account assume' in message
    assert "Name the account instead" in message


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": PLATFORM_ACCOUNT, **EXTERNAL_ID["StringEquals"]}},
        {"StringEquals": {"AWS:principalaccount": [PLATFORM_ACCOUNT], "sts:externalid": "org-1"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123", "sts:ExternalId": "org-1"}},
    ],
)
def test_anyone_pinned_to_named_accounts_is_judged_as_those_accounts(
    condition: dict[str, Any],
) -> None:
    found = role_verdicts(trust_of({"Principal": "*", "Action": ASSUME, "Condition": condition}))
    assert found["trust-never-open-to-anyone"] == []
    assert found["cross-account-trust-requires-external-id"] == []


def test_anyone_pinned_to_an_account_without_external_id_needs_one() -> None:
    condition = {"StringEquals": {"aws:PrincipalAccount": PLATFORM_ACCOUNT}}
    found = role_verdicts(trust_of({"Principal": "*", "Action": ASSUME, "Condition": condition}))
    assert found["trust-never-open-to-anyone"] == []
    [message] = found["cross-account-trust-requires-external-id"]
    assert f"lets every identity of account {PLATFORM_ACCOUNT} assume the role" in message


# --- the self-assume: exactly the role's own ARN --------------------------------------------------

WILDCARD_SELF_ASSUME = [
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}},
    {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}},  # expands too
    {"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/xpander-*"}},
    {"ArnLike": {"AWS:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:*"}},
    {
        "ForAnyValue:ArnLike": {
            "aws:principalarn": f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-acces?"
        }
    },
    {"ArnLike": {"aws:PrincipalArn": [ROLE_ARN, f"arn:aws:iam::{ACCOUNT}:role/ops-*"]}},
    {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/other"}},
]


@pytest.mark.parametrize("condition", WILDCARD_SELF_ASSUME)
def test_a_self_assume_condition_broader_than_the_role_is_judged_as_cross_account(
    condition: dict[str, Any],
) -> None:
    trust = trust_with(lambda s: s["SelfAssume"].update(Condition=condition))
    found = role_verdicts(trust)
    [cross] = found["cross-account-trust-requires-external-id"]
    assert f'trust statement "SelfAssume" lets every identity of account {ACCOUNT}' in cross
    [missing] = found["xpander-role-self-assume-without-external-id"]
    assert "has no self-assume trust statement that admits exactly its own ARN" in missing


@pytest.mark.parametrize(
    "condition",
    [
        {"ArnEquals": {"aws:PrincipalArn": ROLE_ARN}},
        {"ArnLike": {"aws:PrincipalArn": [ROLE_ARN]}},
        {"StringEquals": {"AWS:PRINCIPALARN": ROLE_ARN}},
        {"ArnEqualsIfExists": {"aws:PrincipalArn": ROLE_ARN}},  # always present for IAM callers
        {"ForAnyValue:StringEquals": {"aws:PrincipalArn": ROLE_ARN}},
        # ANDed with a broader condition, the exact one still decides
        {
            "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"},
            "ArnEquals": {"aws:PrincipalArn": ROLE_ARN},
        },
    ],
)
def test_a_self_assume_that_pins_exactly_the_role_passes(condition: dict[str, Any]) -> None:
    trust = trust_with(lambda s: s["SelfAssume"].update(Condition=condition))
    assert role_verdicts(trust) == {name: [] for name in role_verdicts(DOCS.trust_policy)}


def test_anyone_narrowed_to_exactly_the_role_is_a_self_assume() -> None:
    def change(s: dict[str, Any]) -> None:
        s["SelfAssume"]["Principal"] = "*"

    found = role_verdicts(trust_with(change))
    assert found == {name: [] for name in found}


def test_a_root_principal_and_a_pin_in_another_account_admit_nobody() -> None:
    other = f"arn:aws:iam::{STRANGER}:role/xpander-redshift-access"
    statement = trust_of({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": ASSUME})
    statement["Statement"][-1]["Condition"] = {"ArnEquals": {"aws:PrincipalArn": other}}
    [extra] = [s for s in parse_document(json.dumps(statement)) or [] if s.sid == "Extra"]
    who = trustees(extra)
    assert not who.whole_accounts and not who.arns


# --- a weak ExternalId ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIfExists": {"sts:ExternalId": "org-4f1c9a2e7b"}},
        {"ForAllValues:StringEquals": {"sts:ExternalId": "org-4f1c9a2e7b"}},
        {"StringLike": {"sts:ExternalId": "org-*"}},
        {"StringNotEquals": {"sts:ExternalId": "wrong"}},
        {"Null": {"sts:ExternalId": "false"}},
        {"StringEquals": {"sts:ExternalId": ""}},
    ],
)
def test_an_external_id_that_passes_without_the_id_does_not_count(
    condition: dict[str, Any],
) -> None:
    trust = trust_with(lambda s: s["CrossAccountWithExternalId"].update(Condition=condition))
    [message] = role_verdicts(trust)["cross-account-trust-requires-external-id"]
    assert f"every identity of account {PLATFORM_ACCOUNT}" in message


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIgnoreCase": {"sts:ExternalId": "org-4f1c9a2e7b"}},
        {"StringLike": {"STS:EXTERNALID": "org-4f1c9a2e7b"}},
        {"ForAnyValue:StringEquals": {"sts:ExternalId": ["org-4f1c9a2e7b"]}},
    ],
)
def test_an_external_id_the_caller_must_send_counts(condition: dict[str, Any]) -> None:
    trust = trust_with(lambda s: s["CrossAccountWithExternalId"].update(Condition=condition))
    assert role_verdicts(trust)["cross-account-trust-requires-external-id"] == []


# --- credentials ----------------------------------------------------------------------------------

CLUSTER_ARN = f"arn:aws:redshift:us-west-2:{ACCOUNT}"


def permission(action: Any, resource: Any, *, not_resource: bool = False) -> dict[str, Any]:
    key = "NotResource" if not_resource else "Resource"
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Crafted", "Effect": "Allow", "Action": action, key: resource}],
    }


def master_stack(document: Mapping[str, Any]) -> Any:
    """The stack plus a crafted policy, the cluster's master user being MASTER."""
    base = xpander_stack()
    resources: list[PolicyResource] = []
    for r in base.resources:
        mastered = cluster_props(masterUsername=MASTER)
        resources.append(
            policy_resource(types.CLUSTER, "cluster", mastered) if r.name == "cluster" else r
        )
    resources.append(
        policy_resource(
            types.ROLE_POLICY,
            "crafted-policy",
            {"name": "Crafted", "role": SETTINGS.role_name, "policy": json.dumps(document)},
        )
    )
    return stack_args(resources)


@pytest.mark.parametrize(
    ("action", "user"),
    [
        ("redshift:GetClusterCredentials", MASTER),
        ("redshift:getclustercredentials", MASTER.upper()),
        ("redshift:GetCluster*", "xpander_*"),
        ("redshift:*", "*admin"),
        ("*", "xpander_adm?n"),
    ],
)
@pytest.mark.parametrize("kind", ["dbuser", "db*", "dbus?r"])
def test_credentials_for_the_master_user_fail(action: str, user: str, kind: str) -> None:
    document = permission(action, f"{CLUSTER_ARN}:{kind}:xpander-redshift/{user}")
    [message] = violations("no-cluster-credentials-for-the-master-user", master_stack(document))
    assert f"which is the master user {MASTER} of cluster 'xpander-redshift'" in message


def test_credentials_for_every_user_of_the_cluster_stay_advisory() -> None:
    document = permission(
        "redshift:GetClusterCredentials", f"{CLUSTER_ARN}:dbuser:xpander-redshift/*"
    )
    assert violations("no-cluster-credentials-for-the-master-user", master_stack(document)) == []
    args = resource_args(types.ROLE_POLICY, {"name": "Crafted", "policy": json.dumps(document)})
    assert violations("no-cluster-credentials-on-any-resource", args) == []
    [advice] = violations("redshift-credentials-dbuser-wildcard", args)
    assert "master user (full admin) included" in advice


def test_credentials_for_named_users_pass() -> None:
    document = permission(
        "redshift:GetClusterCredentials",
        [
            f"{CLUSTER_ARN}:dbuser:xpander-redshift/IAMR:xpander-redshift-access",
            f"{CLUSTER_ARN}:dbuser:xpander-redshift/analyst",
        ],
    )
    assert violations("no-cluster-credentials-for-the-master-user", master_stack(document)) == []


@pytest.mark.parametrize(
    ("action", "resource", "not_resource"),
    [
        ("redshift:GetClusterCredentials", f"{CLUSTER_ARN}:dbuser:*/*", False),
        ("redshift:GetClusterCredentialsWithIAM", f"{CLUSTER_ARN}:dbname:*/*", False),
        ("redshift:GetClusterCredentials", f"{CLUSTER_ARN}:dbuser:xpander-*/IAMR:x", False),
        ("redshift:GetClusterCredentialsWithIAM", "arn:aws:redshift:*:*:*", False),
        ("redshift:Get*", "arn:*", False),
        ("redshift:*", "*", False),
        ("redshift:GetClusterCredentialsWithIAM", f"{CLUSTER_ARN}:dbname:xpander-redshift/x", True),
        ("redshift:GetClusterCredentials", f"{CLUSTER_ARN}:d*r/x", False),
    ],
)
def test_credentials_on_every_cluster_fail(action: str, resource: str, not_resource: bool) -> None:
    document = permission(action, resource, not_resource=not_resource)
    args = resource_args(types.ROLE_POLICY, {"name": "Crafted", "policy": json.dumps(document)})
    [message] = violations("no-cluster-credentials-on-any-resource", args)
    assert "which reaches every cluster of the account" in message


@pytest.mark.parametrize(
    ("action", "resource", "not_resource"),
    [
        ("redshift-data:*", "*", False),
        ("redshift-data:Execute*", f"{CLUSTER_ARN}:cluster:*", False),
        ("*", "*", False),
        ("redshift-data:ExecuteStatement", f"{CLUSTER_ARN}:cluster:xpander-redshift", True),
        ("redshift-data:ListTables", "arn:aws:redshift:*:*:cluster:xpander*", False),
    ],
)
def test_data_api_sql_on_every_cluster_fails(
    action: str, resource: str, not_resource: bool
) -> None:
    document = permission(action, resource, not_resource=not_resource)
    args = resource_args(types.ROLE_POLICY, {"name": "Crafted", "policy": json.dumps(document)})
    [message] = violations("data-api-only-on-the-stacks-clusters", args)
    assert "run SQL and read catalogs on every Redshift cluster" in message


def test_the_stacks_own_data_api_policy_is_scoped() -> None:
    for name, document in DOCS.policies.items():
        args = resource_args(types.ROLE_POLICY, {"name": name, "policy": json.dumps(document)})
        assert violations("data-api-only-on-the-stacks-clusters", args) == []


# --- attachments whose role is known only at apply ------------------------------------------------


def test_a_managed_policy_attached_by_a_computed_role_is_found_by_its_edge() -> None:
    attachment = policy_resource(
        types.POLICY_ATTACHMENT,
        "admin",
        {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "roles": [ENGINE_UNKNOWN]},
    )
    attachment.property_dependencies = {}
    stack = xpander_stack(extra=[(attachment, ["role"])])
    [message] = violations("one-way-to-manage-policies-and-rules", stack)
    assert "(the xpander role) gets permissions through" in message
    assert "1 policy attachment resource(s)" in message


def test_a_role_policy_attachment_without_any_edge_is_not_passed_silently() -> None:
    attachment = policy_resource(
        types.ROLE_POLICY_ATTACHMENT,
        "mystery",
        {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess", "role": ENGINE_UNKNOWN},
    )
    stack = xpander_stack(extra=[(attachment, [])])
    assert violations("one-way-to-manage-policies-and-rules", stack) == []
    found = violations("could-not-judge-stack-at-preview", stack)
    [message] = [m for m in found if m.startswith("[one-way-to-manage-policies-and-rules]")]
    assert message.startswith(
        "[one-way-to-manage-policies-and-rules] Policy attachment(s) 'mystery'"
    )
    [escalation] = [m for m in found if m.startswith("[assumable-roles-cannot-escalate]")]
    assert "'mystery' (the role it attaches to is not known at preview)" in escalation


# --- networks -------------------------------------------------------------------------------------


def rule(
    name: str, direction: str, cidr_key: str, cidr: str, **ports: Any
) -> tuple[PolicyResource, list[str]]:
    type_ = types.INGRESS_RULE if direction == "ingress" else types.EGRESS_RULE
    props = {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, cidr_key: cidr, **ports}
    return policy_resource(type_, name, {**props, "securityGroupId": ENGINE_UNKNOWN}), ["sg"]


@pytest.mark.parametrize(
    "rules",
    [
        [("egress", "cidrIpv4", "0.0.0.0/1"), ("egress", "cidrIpv4", "128.0.0.0/1")],
        [("ingress", "cidrIpv6", "0:0:0:0:0:0:0:0/0")],
        [("ingress", "cidrIpv6", "0000::/0")],
        [("egress", "cidrIpv6", "::0.0.0.0/0")],
        [("ingress", "cidrIpv4", "10.1.2.3/0")],
        [("egress", "cidrIpv4", "000.0.0.0/0")],
        [
            ("ingress", "cidrIpv4", "0.0.0.0/2"),
            ("ingress", "cidrIpv4", "64.0.0.0/2"),
            ("ingress", "cidrIpv4", "128.0.0.0/1"),
        ],
    ],
)
def test_rules_reaching_the_whole_internet_together_fail(rules: list[tuple[str, str, str]]) -> None:
    extra = [rule(f"r{i}", d, key, cidr) for i, (d, key, cidr) in enumerate(rules)]
    found = violations("redshift-port-from-security-group-only", xpander_stack(extra=extra))
    assert len(found) == 1, found
    assert "tcp port 22 from/to the whole" in found[0]


def test_halves_of_the_internet_on_different_ports_pass() -> None:
    extra = [
        rule("a", "egress", "cidrIpv4", "0.0.0.0/1"),
        rule("b", "egress", "cidrIpv4", "128.0.0.0/1", fromPort=80, toPort=80),
    ]
    assert violations("redshift-port-from-security-group-only", xpander_stack(extra=extra)) == []


def test_inline_rules_split_across_the_ipv4_space_fail() -> None:
    group = {
        "name": "xpander-redshift-sg",
        "egress": [
            {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/1"]},
            {"protocol": "all", "fromPort": 0, "toPort": 0, "cidrBlocks": ["128.0.0.0/1"]},
        ],
    }
    ingress = dict(INGRESS_FROM_EKS)
    [message] = violations(
        "redshift-port-from-security-group-only",
        xpander_stack(security_group=group, ingress=ingress),
    )
    assert "egress all traffic from/to the whole IPv4 internet" in message


def test_an_unknown_cidr_is_reported_as_not_judged() -> None:
    extra = [rule("unknown", "egress", "cidrIpv4", ENGINE_UNKNOWN)]
    stack = xpander_stack(extra=extra)
    assert violations("redshift-port-from-security-group-only", stack) == []
    [message] = violations("could-not-judge-stack-at-preview", stack)
    assert "not known at preview: it may open the group to the whole internet" in message


def test_whole_spaces_reads_any_spelling() -> None:
    assert whole_spaces(["0.0.0.0/1", "128.0.0.0/1"]) == ["IPv4"]
    assert whole_spaces(["::/1", "8000::/1"]) == ["IPv6"]
    assert whole_spaces(["10.0.0.0/8", "fd00::/8", "not-a-cidr"]) == []


# --- the cluster's port, TLS, logging, routing and snapshots --------------------------------------


def cluster_stack(**changes: Any) -> Any:
    return stack_args([policy_resource(types.CLUSTER, "cluster", cluster_props(**changes))])


def cluster_args(**changes: Any) -> Any:
    return resource_args(types.CLUSTER, cluster_props(**changes))


@pytest.mark.parametrize(
    ("node_type", "port"), [("ra3.large", 5400), ("ra3.xlplus", 3306), ("rg.large", 8216)]
)
def test_a_port_the_node_type_refuses_fails(node_type: str, port: int) -> None:
    [message] = violations(
        "redshift-port-in-node-type-range", cluster_stack(nodeType=node_type, port=port)
    )
    assert (
        f"port {port} is outside what node type {node_type} accepts (5431-5455 or 8191-8215"
        in message
    )


@pytest.mark.parametrize(
    ("node_type", "port"),
    [("ra3.large", 5431), ("ra3.4xlarge", 8215), ("dc2.large", 3000), ("ra3.large", None)],
)
def test_a_port_the_node_type_accepts_passes(node_type: str, port: int | None) -> None:
    assert (
        violations("redshift-port-in-node-type-range", cluster_stack(nodeType=node_type, port=port))
        == []
    )


def test_a_node_type_kept_in_a_stash_is_followed() -> None:
    stash = policy_resource("pulumi:index:Stash", "node-type", {"input": "ra3.large"})
    cluster = policy_resource(
        types.CLUSTER,
        "cluster",
        cluster_props(nodeType=ENGINE_UNKNOWN, port=5400, vpcSecurityGroupIds=[]),
    )
    cluster.property_dependencies = {"nodeType": [stash]}
    stack = stack_args([stash, cluster])
    [message] = violations("redshift-port-in-node-type-range", stack)
    assert "port 5400 is outside what node type ra3.large accepts" in message
    cluster.property_dependencies = {}
    assert violations("redshift-port-in-node-type-range", stack) == []
    [undecided] = violations("could-not-judge-stack-at-preview", stack)
    assert "its node type is not known at preview" in undecided


def test_a_serverless_workgroup_made_public_or_on_a_bad_port_fails() -> None:
    props = {"workgroupName": "side", "namespaceName": "ns", "publiclyAccessible": "true"}
    args = resource_args(types.SERVERLESS_WORKGROUP, {**props, "port": 5400})
    [public] = violations("redshift-serverless-workgroup-private", args)
    assert "Redshift Serverless workgroup 'side': publiclyAccessible is true" in public
    workgroup = policy_resource(types.SERVERLESS_WORKGROUP, "side", {**props, "port": 5400})
    [port] = violations("redshift-port-in-node-type-range", stack_args([workgroup]))
    assert "port 5400 is outside what a serverless workgroup accepts" in port
    private = resource_args(
        types.SERVERLESS_WORKGROUP, {"workgroupName": "side", "publiclyAccessible": False}
    )
    assert violations("redshift-serverless-workgroup-private", private) == []


def tls_stack(cluster: Mapping[str, Any], *groups: Mapping[str, Any]) -> Any:
    resources = [policy_resource(types.CLUSTER, "cluster", {**cluster, "vpcSecurityGroupIds": []})]
    resources += [policy_resource(types.PARAMETER_GROUP, f"pg{i}", g) for i, g in enumerate(groups)]
    return stack_args(resources)


def params(**values: str) -> dict[str, Any]:
    return {
        "name": "xpander-redshift-params",
        "family": "redshift-1.0",
        "parameters": [{"name": k, "value": v} for k, v in values.items()],
    }


@pytest.mark.parametrize(
    ("cluster", "groups", "expected"),
    [
        (cluster_props(), [], "uses the default parameter group, whose require_ssl is false"),
        (
            cluster_props(clusterParameterGroupName="xpander-redshift-params"),
            [params(enable_user_activity_logging="true")],
            "leaves require_ssl at AWS's default (false)",
        ),
        (
            cluster_props(clusterParameterGroupName="xpander-redshift-params"),
            [params(require_ssl="FALSE")],
            "sets require_ssl to false",
        ),
        (
            cluster_props(clusterParameterGroupName="xpander-redshift-params"),
            [params(require_ssl="true"), {**params(require_ssl="false"), "name": "loose"}],
            "'loose' sets require_ssl to false",
        ),
    ],
)
def test_tls_off_fails(cluster: Mapping[str, Any], groups: list[Any], expected: str) -> None:
    [message] = violations("redshift-require-ssl", tls_stack(cluster, *groups))
    assert expected in message


def test_a_parameter_group_found_by_its_edge_with_require_ssl_passes() -> None:
    stack = tls_stack(
        cluster_props(clusterParameterGroupName=ENGINE_UNKNOWN), params(require_ssl="True")
    )
    cluster, group = stack.resources
    cluster.property_dependencies = {"clusterParameterGroupName": [group]}
    assert violations("redshift-require-ssl", stack) == []
    assert violations("could-not-judge-stack-at-preview", stack) == []


def test_a_parameter_group_from_outside_the_stack_is_not_judged_silently() -> None:
    stack = tls_stack(cluster_props(clusterParameterGroupName="shared-params"))
    assert violations("redshift-require-ssl", stack) == []
    [message] = violations("could-not-judge-stack-at-preview", stack)
    assert "its parameter group shared-params is not one of this stack's" in message


def logging_stack(*loggings: Mapping[str, Any], edge: bool = False) -> Any:
    resources = [policy_resource(types.CLUSTER, "cluster", cluster_props(vpcSecurityGroupIds=[]))]
    resources += [policy_resource(types.LOGGING, f"log{i}", log) for i, log in enumerate(loggings)]
    if edge:
        for log in resources[1:]:
            log.property_dependencies = {"clusterIdentifier": [resources[0]]}
    return stack_args(resources)


CLOUDWATCH = {
    "logDestinationType": "cloudwatch",
    "logExports": ["connectionlog", "userlog", "useractivitylog"],
}


@pytest.mark.parametrize(
    ("loggings", "expected"),
    [
        ([], "has no audit logging (no aws.redshift.Logging for it)"),
        ([{"clusterIdentifier": "another-cluster", **CLOUDWATCH}], "has no audit logging"),
        (
            [{"clusterIdentifier": "xpander-redshift", "logDestinationType": "cloudwatch"}],
            "exports no log",
        ),
        (
            [{"clusterIdentifier": "xpander-redshift", "logDestinationType": "s3"}],
            "names no bucket_name",
        ),
    ],
)
def test_audit_logging_off_fails(loggings: list[Any], expected: str) -> None:
    [message] = violations("redshift-audit-logging", logging_stack(*loggings))
    assert expected in message


def test_audit_logging_found_by_value_or_edge_passes() -> None:
    assert (
        violations(
            "redshift-audit-logging",
            logging_stack({"clusterIdentifier": "xpander-redshift", **CLOUDWATCH}),
        )
        == []
    )
    by_edge = logging_stack(
        {"clusterIdentifier": ENGINE_UNKNOWN, "logDestinationType": "s3", "bucketName": "audit"},
        edge=True,
    )
    assert violations("redshift-audit-logging", by_edge) == []
    unplaced = logging_stack({"clusterIdentifier": ENGINE_UNKNOWN, **CLOUDWATCH})
    assert violations("redshift-audit-logging", unplaced) == []
    [message] = violations("could-not-judge-stack-at-preview", unplaced)
    assert "names a cluster not known at preview" in message


@pytest.mark.parametrize("value", [None, False, "false"])
def test_enhanced_vpc_routing_off_fails(value: Any) -> None:
    [message] = violations("redshift-enhanced-vpc-routing", cluster_args(enhancedVpcRouting=value))
    assert "COPY and UNLOAD traffic leaves the VPC" in message
    assert violations("redshift-enhanced-vpc-routing", cluster_args(enhancedVpcRouting=True)) == []


@pytest.mark.parametrize(
    ("days", "shown"),
    [
        (None, "1 day(s) (AWS's default, not set)"),
        (0, "0 day(s)"),
        (6, "6 day(s)"),
        ("1", "1 day(s)"),
    ],
)
def test_snapshot_retention_under_seven_days_fails(days: Any, shown: str) -> None:
    [message] = violations(
        "redshift-snapshot-retention", cluster_args(automatedSnapshotRetentionPeriod=days)
    )
    assert f"automated snapshots are kept {shown}" in message


@pytest.mark.parametrize("days", [7, 35])
def test_snapshot_retention_of_seven_days_or_more_passes(days: int) -> None:
    assert (
        violations(
            "redshift-snapshot-retention", cluster_args(automatedSnapshotRetentionPeriod=days)
        )
        == []
    )


def job(*images: Any, init: Any = None) -> Any:
    pod: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": im} for i, im in enumerate(images)]
    }
    if init is not None:
        pod["initContainers"] = [{"name": "init", "image": init}]
    return resource_args(
        types.JOB, {"metadata": {"name": "xpander-user"}, "spec": {"template": {"spec": pod}}}
    )


@pytest.mark.parametrize(
    "args",
    [
        job("postgres:15-alpine"),
        job("postgres"),
        job("postgres@sha256:abc123"),
        job(f"postgres@{DIGEST}", init="busybox:latest"),
    ],
)
def test_a_job_image_not_pinned_by_digest_fails(args: Any) -> None:
    [message] = violations("psql-job-image-pinned-by-digest", args)
    assert "Kubernetes Job 'xpander-user': container image" in message
    assert "is not pinned by digest" in message


def test_a_job_image_pinned_by_digest_passes_and_an_unknown_one_is_not_judged() -> None:
    assert (
        violations(
            "psql-job-image-pinned-by-digest", job(f"postgres@{DIGEST}", f"postgres:15@{DIGEST}")
        )
        == []
    )
    unknown = job(ENGINE_UNKNOWN)
    assert violations("psql-job-image-pinned-by-digest", unknown) == []
    [message] = violations("could-not-judge-resource-at-preview", unknown)
    assert message.startswith("[psql-job-image-pinned-by-digest] Kubernetes Job 'xpander-user'")


# --- opting out: the policy pack config lowers a rule ---------------------------------------------


def test_a_policy_pack_config_lowers_an_opted_out_rule(planned: list[dict[str, Any]]) -> None:
    planned = copy.deepcopy(planned)
    [cluster] = [r for r in planned if r["type"] == types.CLUSTER]
    cluster["inputs"].update(enhancedVpcRouting=False, automatedSnapshotRetentionPeriod=1)
    config = {
        "redshift-enhanced-vpc-routing": "advisory",
        "redshift-snapshot-retention": {"enforcementLevel": "disabled"},
    }
    unlowered = policy_check.evaluate(planned, project=PROJECT, stack="dev")
    assert {v["policy"]: v["enforcementLevel"] for v in unlowered}[
        "redshift-enhanced-vpc-routing"
    ] == "mandatory"
    found = policy_check.evaluate(planned, project=PROJECT, stack="dev", config=config)
    levels = {v["policy"]: v["enforcementLevel"] for v in found}
    assert levels.get("redshift-enhanced-vpc-routing") == "advisory"
    assert "redshift-snapshot-retention" not in levels
    everything = policy_check.evaluate(
        planned, project=PROJECT, stack="dev", config={"all": "advisory"}
    )
    assert {v["enforcementLevel"] for v in everything} <= {"advisory"}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"no-such-rule": "advisory"}, "'no-such-rule' is not a policy of xpander-redshift"),
        (
            {"redshift-require-ssl": "optional"},
            "redshift-require-ssl = 'optional' is not an enforcement level",
        ),
    ],
)
def test_a_policy_pack_config_the_cli_would_refuse_is_refused(
    config: dict[str, Any], error: str
) -> None:
    with pytest.raises(policy_check.PolicyConfigError, match=error):
        policy_check.config_levels(config)


@pytest.fixture(scope="module")
def planned() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = build_plan()["resources"]
    return resources


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """A server of this module's own: Configure changes the levels it serves."""
    with served_pack() as stub:
        yield stub


def test_the_served_pack_takes_its_levels_from_the_policy_pack_config(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    """What `pulumi preview --policy-pack-config` does: the CLI sends the file to Configure."""
    request = analyzer_pb2.AnalyzeRequest(
        type=types.CLUSTER,
        properties=wire_struct(cluster_props(enhancedVpcRouting=False)),
        urn="urn:pulumi:dev::xpander-redshift::aws:redshift/cluster:Cluster::c",
        name="c",
    )

    def level() -> str:
        [found] = [
            d
            for d in analyzer.Analyze(request).diagnostics
            if d.policyName == "redshift-enhanced-vpc-routing"
        ]
        return analyzer_pb2.EnforcementLevel.Name(found.enforcementLevel)

    assert level() == "MANDATORY"
    lowered = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.EnforcementLevel.ADVISORY)
    analyzer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={"redshift-enhanced-vpc-routing": lowered}
        )
    )
    assert level() == "ADVISORY"
