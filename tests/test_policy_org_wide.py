"""The pack run org-wide (issue 23): no mandatory verdict on safe stacks, none missed on bad ones.

Each case is a whole stack (the stack's own shape plus what an ordinary EKS stack or an
adversary adds), judged offline by `tools.policy_check.evaluate` and, in one batch through one
server start, by the real policy server; both must give the same verdicts, and the mandatory
rules violated must be exactly the expected ones. AWS facts relied on: IAM's evaluation logic
(an explicit Deny wins, but only when its conditions hold; `NotAction` allows everything else),
policy variables (`${aws:PrincipalTag/...}` comes from session tags the caller may set with
sts:TagSession), ICMP type 3 code 4 / ICMPv6 type 2 as path-MTU discovery (Amazon VPC User
Guide), and pulumi-aws 7's input names (`policyArns`/`roleName` of
RolePolicyAttachmentsExclusive, `iamRoleArns` of redshift.ClusterIamRoles).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2_grpc

from model.settings import PROJECT
from policies import stack_view as types
from tests.policy_stacks import (
    ACCOUNT,
    ADMIN_POLICY,
    CLUSTER_ID,
    CLUSTER_URN,
    REDSHIFT,
    ROLE_ARN,
    ROLE_NAME,
    ROLE_URN,
    Resource,
    base,
    cluster_resources,
    pod_trust,
    res,
    role,
    role_policy,
)
from tests.test_policies import served_pack, served_violations
from tools import policy_check

Case = tuple[Callable[[], list[Resource]], set[str]]
ESCALATE = "assumable-roles-cannot-escalate"
SELF_ASSUME = "xpander-role-can-assume-itself"
DATA_API = "xpander-role-has-data-api-permissions"
MASTER_USER = "no-cluster-credentials-for-the-master-user"
PORT = "redshift-port-from-security-group-only"
ONE_WAY = "one-way-to-manage-policies-and-rules"
CASES: dict[str, Case] = {}


def case(name: str, expected: set[str]) -> Callable[[Callable[[], list[Resource]]], Any]:
    def register(build: Callable[[], list[Resource]]) -> Callable[[], list[Resource]]:
        CASES[name] = (build, expected)
        return build

    return register


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def with_xpander_policy(*statements: dict[str, Any]) -> list[Resource]:
    stack = base()
    xpander = next(r for r in stack if r["urn"] == ROLE_URN)
    return [*stack, role_policy("Extra", xpander, *statements)]


def log_shipper(*statements: dict[str, Any], **inputs: Any) -> list[Resource]:
    shipper = role("log-shipper", pod_trust(), **inputs)
    extra = [role_policy("Logs", shipper, *statements)] if statements else []
    pia = res(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "log-shipper",
        {"clusterName": "eks", "namespace": "logging", "serviceAccount": "fluent-bit"},
        edges={"roleArn": [shipper["urn"]]},
    )
    return [*base(), shipper, *extra, pia]


# --- false positives: ordinary stacks ------------------------------------------------------------


@case("own-stack", set())
def _own() -> list[Resource]:
    return base()


@case("second-pod-identity-role", set())
def _second_pod_role() -> list[Resource]:
    return log_shipper(allow("s3:PutObject", "arn:aws:s3:::logs-bucket/*"))


@case("second-pod-identity-role-without-policies", set())
def _second_pod_role_bare() -> list[Resource]:
    return log_shipper()


@case("second-compliant-cluster", set())
def _second_cluster() -> list[Resource]:
    return [*base(), *cluster_resources("analytics", "analytics")]


@case("data-perimeter-deny", set())
def _perimeter() -> list[Resource]:
    return with_xpander_policy(
        {
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:ResourceAccount": ACCOUNT}},
        },
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
        },
    )


@case("deny-insecure-transport", set())
def _tls_only() -> list[Resource]:
    return with_xpander_policy(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def _with_rule(type_: str, **inputs: Any) -> list[Resource]:
    rule = res(
        type_,
        "extra-rule",
        {"securityGroupId": "<computed>", **inputs},
        edges={
            "securityGroupId": [next(r["urn"] for r in base() if r["type"] == types.SECURITY_GROUP)]
        },
    )
    return [*base(), rule]


@case("egress-https-to-the-internet", set())
def _egress_https() -> list[Resource]:
    return _with_rule(
        types.EGRESS_RULE, ipProtocol="tcp", fromPort=443, toPort=443, cidrIpv4="0.0.0.0/0"
    )


@case("path-mtu-icmp-from-anywhere", set())
def _pmtu() -> list[Resource]:
    return _with_rule(
        types.INGRESS_RULE, ipProtocol="icmp", fromPort=3, toPort=4, cidrIpv4="0.0.0.0/0"
    )


@case("path-mtu-icmpv6-from-anywhere", set())
def _pmtu6() -> list[Resource]:
    return _with_rule(types.INGRESS_RULE, ipProtocol="58", fromPort=2, toPort=0, cidrIpv6="::/0")


@case("scoped-pass-role-and-secret", set())
def _scoped() -> list[Resource]:
    return log_shipper(
        allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/fluent-bit-node"),
        allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:app/*"),
    )


@case("broad-grant-taken-back-by-a-deny", set())
def _deny_takes_back() -> list[Resource]:
    return log_shipper(
        allow(["sts:AssumeRole", "iam:PassRole"]),
        {"Effect": "Deny", "Action": ["sts:AssumeRole", "iam:PassRole"], "Resource": "*"},
    )


# --- Deny guardrails that do take the xpander role's calls away ---------------------------------


@case("deny-self-assume", {SELF_ASSUME})
def _deny_self() -> list[Resource]:
    return with_xpander_policy({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"})


@case("deny-over-tls", {SELF_ASSUME, DATA_API})
def _deny_tls() -> list[Resource]:
    return with_xpander_policy(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    )


@case("egress-everything-to-the-internet", {PORT})
def _egress_all() -> list[Resource]:
    return _with_rule(
        types.EGRESS_RULE, ipProtocol="tcp", fromPort=0, toPort=65535, cidrIpv4="0.0.0.0/0"
    )


# --- the master user by another door -------------------------------------------------------------


@pytest.mark.parametrize(
    "variable", ["${aws:PrincipalTag/dbuser}", "${aws:userid}", "x${aws:username}"]
)
def test_a_dbuser_named_by_a_policy_variable_is_the_master_user(variable: str) -> None:
    stack = with_xpander_policy(
        allow("redshift:GetClusterCredentials", f"{REDSHIFT}:dbuser:{CLUSTER_ID}/{variable}")
    )
    assert mandatory(stack) == {MASTER_USER}


@case("secret-value-on-everything", {ESCALATE})
def _secret_star() -> list[Resource]:
    return with_xpander_policy(allow("secretsmanager:GetSecretValue"))


@case("redshift-star-on-the-cluster", {ESCALATE})
def _redshift_star() -> list[Resource]:
    return with_xpander_policy(allow("redshift:*", f"{REDSHIFT}:cluster:{CLUSTER_ID}"))


@case("modify-cluster-on-every-cluster", {ESCALATE})
def _modify() -> list[Resource]:
    return with_xpander_policy(allow("redshift:ModifyCluster", "arn:aws:redshift:*:*:cluster:*"))


# --- privilege escalation from a role pods can assume --------------------------------------------


@case("pass-role-on-everything", {ESCALATE})
def _pass_role() -> list[Resource]:
    return with_xpander_policy(allow("iam:PassRole"))


@case("assume-role-on-every-role", {ESCALATE})
def _assume_any() -> list[Resource]:
    return log_shipper(allow("sts:AssumeRole", "arn:aws:iam::*:role/*"))


@case(
    "not-action-list",
    {ESCALATE, "no-cluster-credentials-on-any-resource", "data-api-only-on-the-stacks-clusters"},
)
def _not_action() -> list[Resource]:
    return log_shipper({"Effect": "Allow", "NotAction": ["s3:DeleteBucket"], "Resource": "*"})


@case("put-role-policy-on-itself", {ESCALATE})
def _put_self() -> list[Resource]:
    return with_xpander_policy(allow(["iam:PutRolePolicy", "iam:AttachRolePolicy"], ROLE_ARN))


@case("admin-policy-on-a-pod-role", {ESCALATE})
def _admin_managed() -> list[Resource]:
    return log_shipper(managedPolicyArns=[ADMIN_POLICY])


@case("admin-role-trusting-the-xpander-role", {ESCALATE})
def _chain() -> list[Resource]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "sts:AssumeRole"}
        ],
    }
    admin = role("ops-admin", trust, managedPolicyArns=[ADMIN_POLICY])
    return [*base(), admin]


@case("admin-role-attached-to-the-cluster", {ESCALATE})
def _cluster_role() -> list[Resource]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "redshift.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    admin = role("redshift-copy", trust, managedPolicyArns=[ADMIN_POLICY])
    attach = res(
        "aws:redshift/clusterIamRoles:ClusterIamRoles",
        "cluster-roles",
        {"clusterIdentifier": CLUSTER_ID, "iamRoleArns": ["<computed>"]},
        edges={"iamRoleArns": [admin["urn"]], "clusterIdentifier": [CLUSTER_URN]},
    )
    return [*base(), admin, attach]


@case("exclusive-attachments-on-the-xpander-role", {ESCALATE, ONE_WAY})
def _exclusive() -> list[Resource]:
    attach = res(
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "exclusive",
        {"roleName": ROLE_NAME, "policyArns": [ADMIN_POLICY]},
    )
    return [*base(), attach]


# --- running every case ---------------------------------------------------------------------------


def mandatory(resources: list[Resource]) -> set[str]:
    found = policy_check.evaluate(resources, project=PROJECT, stack="dev")
    return {v["policy"] for v in found if v["enforcementLevel"] == "mandatory"}


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_gets_exactly_its_mandatory_verdicts(name: str) -> None:
    build, expected = CASES[name]
    assert mandatory(build()) == expected


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    with served_pack() as stub:
        yield stub


def test_the_real_policy_server_agrees_on_every_case(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    """One server start for every case: the analyzer says what evaluate() says, word for word."""
    for name, (build, expected) in CASES.items():
        resources = build()
        offline = policy_check.evaluate(copy.deepcopy(resources), project=PROJECT, stack="dev")
        served = served_violations(analyzer, resources)
        assert served == offline, name
        assert {v["policy"] for v in served if v["enforcementLevel"] == "mandatory"} == expected, (
            name
        )
