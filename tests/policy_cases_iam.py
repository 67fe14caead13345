"""Crafted stacks for the IAM rules run org-wide (issue 23): ordinary stacks, Deny guardrails,
the master user by another door, privilege escalation, trust. `tests/test_policy_org_wide.py`
judges every one offline and through the real policy server.

AWS facts: IAM's evaluation logic (an explicit Deny wins, but only when its conditions hold;
`NotAction` allows everything else; IAM User Guide, "Policy evaluation logic"), policy variables
(`${aws:PrincipalTag/...}` comes from session tags the caller may set with sts:TagSession; IAM
User Guide, "IAM policy elements: Variables and tags"), OIDC trust (a web identity's `aud` names
the audience, `sub` the subject; IAM User Guide, "Available keys for AWS web identity
federation"), pulumi-aws 7's input names (`policyArns`/`roleName` of
RolePolicyAttachmentsExclusive, `iamRoleArns` of redshift.ClusterIamRoles).
"""

from __future__ import annotations

import functools
from typing import Any

from policies import stack_view as types
from tests.policy_stacks import (
    ACCOUNT,
    ADMIN_POLICY,
    CASES,
    CLUSTER_ID,
    CLUSTER_URN,
    REDSHIFT,
    ROLE_ARN,
    ROLE_NAME,
    STRANGER,
    Resource,
    allow,
    base,
    case,
    cluster_resources,
    log_shipper,
    pod_trust,
    res,
    role,
    role_policy,
    with_xpander_policy,
)

ESCALATE = "assumable-roles-cannot-escalate"
SELF_ASSUME = "xpander-role-can-assume-itself"
DATA_API = "xpander-role-has-data-api-permissions"
MASTER_USER = "no-cluster-credentials-for-the-master-user"
PORT = "redshift-port-from-security-group-only"
ONE_WAY = "one-way-to-manage-policies-and-rules"


def assume(principal: dict[str, str]) -> dict[str, Any]:
    """A trust statement: `principal` may call sts:AssumeRole."""
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}


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


@case("another-pod-role-using-the-data-api", set())
def _analytics() -> list[Resource]:
    cluster = f"{REDSHIFT}:cluster:{CLUSTER_ID}"
    return log_shipper(
        allow(["redshift-data:ExecuteStatement", "redshift-data:DescribeTable"], cluster),
        allow(["redshift-data:DescribeStatement", "redshift-data:GetStatementResult"]),
    )


@case("a-pod-role-a-ci-role-of-the-account-may-assume", set())
def _pod_and_ci() -> list[Resource]:
    trust = pod_trust()
    trust["Statement"].append(assume({"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}))
    shipper = role("metrics", trust)
    return [*base(), shipper, role_policy("Metrics", shipper, allow("cloudwatch:PutMetricData"))]


@case("a-bi-pod-role-its-account-may-assume-using-iam-credentials", set())
def _bi_and_account() -> list[Resource]:
    """Next to the stack's own role, pods plus its account plus the connector's calls is not it."""
    trust = pod_trust()
    trust["Statement"].append(assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    bi = role("metabase", trust)
    database = f"{REDSHIFT}:dbname:{CLUSTER_ID}/dev"
    grant = allow("redshift:GetClusterCredentialsWithIAM", database)
    return [*base(), bi, role_policy("Query", bi, grant)]


@case("data-api-on-the-account-with-every-cluster-denied", set())
def _every_cluster_denied() -> list[Resource]:
    """`redshift-data:*` on `...:<account>:*` reaches clusters and nothing else a Data API call
    takes (Service Authorization Reference: cluster and workgroup ARNs); the Deny on every
    cluster of that account and region takes them all back."""
    return log_shipper(
        allow("redshift-data:*", f"{REDSHIFT}:*"),
        {
            "Effect": "Deny",
            "NotAction": "redshift:GetClusterCredentials",
            "Resource": f"{REDSHIFT}:cluster:*",
        },
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


for _variable in ("${aws:PrincipalTag/dbuser}", "${aws:userid}", "x${aws:username}"):
    CASES[f"dbuser-from-policy-variable-{_variable}"] = (
        functools.partial(
            with_xpander_policy,
            allow("redshift:GetClusterCredentials", f"{REDSHIFT}:dbuser:{CLUSTER_ID}/{_variable}"),
        ),
        {MASTER_USER},
    )


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


# Another user's access key or console password: any user's permissions become the role's own.
_TAKEOVER = ["iam:CreateAccessKey", "IAM:createloginprofile", "iam:*LoginProfile"]
for _i, _action in enumerate(_TAKEOVER):
    CASES[f"user-credentials-on-every-user-{_i}"] = (
        functools.partial(log_shipper, allow(_action, f"arn:aws:iam::{ACCOUNT}:user/*")),
        {ESCALATE},
    )
CASES["create-access-key-on-one-named-user"] = (
    functools.partial(
        log_shipper, allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/fluent-bit-ci")
    ),
    set(),
)


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
    trust = {"Version": "2012-10-17", "Statement": [assume({"Service": "redshift.amazonaws.com"})]}
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


@case("admin-role-the-xpander-role-may-assume-through-the-account", {ESCALATE})
def _chain_account() -> list[Resource]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
    }
    admin = role("ops-admin", trust, managedPolicyArns=[ADMIN_POLICY])
    stack = with_xpander_policy(allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/ops-admin"))
    return [*stack, admin]


@case("admin-role-of-the-account-the-xpander-role-may-not-assume", set())
def _no_chain() -> list[Resource]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
    }
    return [*base(), role("ops-admin", trust, managedPolicyArns=[ADMIN_POLICY])]


def web_identity_admin(provider: str, subject: str) -> list[Resource]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{provider}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{provider}:sub": subject}},
            }
        ],
    }
    return [*base(), role("admin-by-token", trust, managedPolicyArns=[ADMIN_POLICY])]


CASES["admin-role-for-a-service-account-irsa"] = (
    functools.partial(
        web_identity_admin,
        "oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789",
        "system:serviceaccount:tools:runner",
    ),
    {ESCALATE},
)
# A CI deploy role is neither pods nor another account: its permissions are its owners' call.
CASES["admin-role-for-ci-pinned-to-a-repository"] = (
    functools.partial(
        web_identity_admin,
        "token.actions.githubusercontent.com",
        "repo:acme/infra:environment:prod",
    ),
    set(),
)


# --- trust ----------------------------------------------------------------------------------------

OIDC = "oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789"
GITHUB = "token.actions.githubusercontent.com"
TRUST = "trust-never-open-to-anyone"
CROSS = "cross-account-trust-requires-external-id"


def federated_role(provider: str, condition: dict[str, Any]) -> list[Resource]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{provider}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ],
    }
    return [*base(), role("ci-deployer", trust)]


OPEN_WEB_IDENTITIES = [
    (OIDC, {"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"}}),
    (GITHUB, {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}),
    (GITHUB, {"StringLike": {f"{GITHUB}:sub": "*"}}),
    (GITHUB, {"StringLike": {f"{GITHUB}:sub": "repo:*"}}),
    (OIDC, {"StringLike": {f"{OIDC}:sub": "system:serviceaccount:*"}}),
    (OIDC, {"StringEqualsIfExists": {f"{OIDC}:sub": "system:serviceaccount:a:b"}}),
    (GITHUB, {}),
]
PINNED_WEB_IDENTITIES = [
    (
        OIDC,
        {
            "StringEquals": {
                f"{OIDC}:sub": "system:serviceaccount:ci:deployer",
                f"{OIDC}:aud": "sts.amazonaws.com",
            }
        },
    ),
    (GITHUB, {"StringLike": {f"{GITHUB}:sub": "repo:acme/infra:ref:refs/heads/*"}}),
    (GITHUB, {"StringEquals": {f"{GITHUB.upper()}:SUB": "repo:acme/infra:environment:prod"}}),
]
for _i, (_provider, _condition) in enumerate(OPEN_WEB_IDENTITIES):
    CASES[f"web-identity-not-pinned-{_i}"] = (
        functools.partial(federated_role, _provider, _condition),
        {TRUST},
    )
for _i, (_provider, _condition) in enumerate(PINNED_WEB_IDENTITIES):
    CASES[f"web-identity-pinned-{_i}"] = (
        functools.partial(federated_role, _provider, _condition),
        set(),
    )


def trusting(principal: str, **condition: Any) -> list[Resource]:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return [*base(), role("partner-reader", {"Version": "2012-10-17", "Statement": [statement]})]


@case("another-role-trusting-a-foreign-role", {CROSS})
def _foreign_role() -> list[Resource]:
    return trusting(f"arn:aws:iam::{STRANGER}:role/etl")


@case("another-role-trusting-a-foreign-account", {CROSS})
def _foreign_account() -> list[Resource]:
    return trusting(f"arn:aws:iam::{STRANGER}:root")


@case("another-role-trusting-a-foreign-role-with-external-id", set())
def _foreign_with_id() -> list[Resource]:
    return trusting(
        f"arn:aws:iam::{STRANGER}:role/etl", StringEquals={"sts:ExternalId": "partner-7"}
    )


@case("another-role-trusting-its-own-account", set())
def _own_account() -> list[Resource]:
    return trusting(f"arn:aws:iam::{ACCOUNT}:root")


@case("another-role-trusting-a-role-of-its-own-account", set())
def _own_role() -> list[Resource]:
    return trusting(f"arn:aws:iam::{ACCOUNT}:role/ci")
