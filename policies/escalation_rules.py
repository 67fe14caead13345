"""assumable-roles-cannot-escalate: what a role that pods or other accounts assume may never do.

For every role `exposure.py` finds assumable from outside, every document that applies is read
as AWS evaluates it (Allow and an unconditional Deny together; `NotAction`; policy variables as
the wildcards the caller may make them), and the role may not: pass or assume every role, change
its own permissions or trust, rewrite managed policies, take over a cluster of the stack
(ModifyCluster resets the master password and can make it public), read a cluster's managed
master secret, or create KMS grants itself (a grant may give it, or anyone, Decrypt with the key).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from pulumi_policy import StackValidationArgs

from .documents import ArnTarget, Request, Statement, glob, granted, granted_for_any, matches_probe
from .exposure import Exposed, exposed_roles, permissions_of
from .findings import Findings, opt_out
from .stack_view import CLUSTER, StackResource, of_type, role_views, stack_resources
from .values import known_str

RULE: Final = "assumable-roles-cannot-escalate"
SELF_MODIFY: Final = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
)
POLICY_REWRITE: Final = ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")
# Calls that hand the caller another IAM user's credentials (an access key, a console password):
# on every user, any user's permissions become its own, as AssumeRole on every role.
USER_TAKEOVER: Final = ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")
CLUSTER_CONTROL: Final = ("redshift:ModifyCluster", "redshift:ModifyClusterIamRoles")
ANY_ROLE: Final = "iam::{account}:role/zz-probe-role"
ANY_POLICY: Final = "iam::{account}:policy/zz-probe-policy"
ANY_USER: Final = "iam::{account}:user/zz-probe-user"
ANY_CLUSTER: Final = "redshift:{region}:{account}:cluster:zz-probe-0"
ANY_SECRET: Final = "secretsmanager:{region}:{account}:secret:redshift!zz-probe-admin-AbCdEf"  # noqa: S105
ANY_KEY: Final = "kms:{region}:{account}:key/zz-probe-key"
CREATE_GRANT: Final = "kms:CreateGrant"
# CreateGrant called by the role itself, not by an AWS service on its behalf: what a grant to
# itself would take. kms:GrantIsForAWSResource is true "only when an AWS service integrated with
# AWS KMS calls the operation on the user's behalf. This policy condition doesn't allow the user to
# call these grant operations directly" (AWS KMS Developer Guide, "AWS KMS condition keys");
# kms:ViaService is set only on a request a service makes (same guide); aws:ViaAWSService is true
# only on a forward access session (IAM User Guide, "AWS global condition context keys"). Whether a
# direct call carries the two booleans as false or not at all is not documented: both are tried,
# so `BoolIfExists` true and `Bool` false count as direct, and only a positive `Bool` true (or a
# kms:ViaService value) keeps the grant to what a service asks for. The Data API's grant on a
# customer managed key (model/iam_documents.py cluster_key_statements) is such a grant.
_DIRECT_CALL_KEYS: Final = ("kms:grantisforawsresource", "aws:viaawsservice")
DIRECT_CALLS: Final[tuple[Request, ...]] = (
    {"kms:viaservice": None, **dict.fromkeys(_DIRECT_CALL_KEYS)},
    {"kms:viaservice": None, **dict.fromkeys(_DIRECT_CALL_KEYS, "false")},
)


def _probe(probe: str) -> Callable[[str], bool]:
    return lambda pattern: matches_probe(pattern, probe)


def _master_secrets(clusters: Sequence[StackResource]) -> list[tuple[str, Callable[[str], bool]]]:
    """The managed master secret of each cluster (`redshift!<cluster>-<user>-<suffix>`)."""
    found = []
    for cluster in clusters:
        identifier = known_str(cluster.props.get("clusterIdentifier")) or "zz-probe"
        user = known_str(cluster.props.get("masterUsername")) or "zz-admin"
        probe = f"secretsmanager:{{region}}:{{account}}:secret:redshift!{identifier}-{user}-AbCdEf"
        found.append((f"the master secret of cluster '{identifier}'", _probe(probe)))
    return found


def _exactly(arn: str) -> Callable[[str], bool]:
    return lambda pattern: glob(pattern).fullmatch(arn) is not None


def _keys(clusters: Sequence[StackResource]) -> list[tuple[str, Callable[[str], bool]]]:
    """Each cluster's customer managed key (its kmsKeyId), then every key of the account."""
    keys = []
    for cluster in clusters:
        if key := known_str(cluster.props.get("kmsKeyId")):
            identifier = known_str(cluster.props.get("clusterIdentifier")) or cluster.name
            keys.append((f"the key of cluster '{identifier}' ({key})", _exactly(key)))
    return [*keys, ("every KMS key", _probe(ANY_KEY))]


def _reaches(
    statements: Sequence[Statement], exposed: Exposed, clusters: Sequence[StackResource]
) -> list[str]:
    role = exposed.view.identity
    problems = []
    for action in ("iam:PassRole", "sts:AssumeRole"):
        if granted(statements, action, _probe(ANY_ROLE)):
            problems.append(f"{action} on every role (any role's permissions become its own)")
    takeover = [a for a in USER_TAKEOVER if granted(statements, a, _probe(ANY_USER))]
    if takeover:
        problems.append(f"{', '.join(takeover)} on every user (any user's credentials)")
    own = role.target().covered_by if role.named else _probe(ANY_ROLE)
    changes = [a for a in SELF_MODIFY if granted(statements, a, own)]
    if changes:
        problems.append(f"{', '.join(changes)} on itself (it can grant itself anything)")
    rewrites = [a for a in POLICY_REWRITE if granted(statements, a, _probe(ANY_POLICY))]
    if rewrites:
        problems.append(f"{', '.join(rewrites)} on every managed policy")
    targets = [
        (
            f"cluster '{identifier}'",
            ArnTarget("redshift", f"cluster:{identifier}", "cluster").covered_by,
        )
        for identifier in (known_str(c.props.get("clusterIdentifier")) for c in clusters)
        if identifier
    ] + [("every cluster", _probe(ANY_CLUSTER))]
    for label, target in targets:
        control = [a for a in CLUSTER_CONTROL if granted(statements, a, target)]
        if control:
            problems.append(
                f"{', '.join(control)} on {label} (reset the master password, make it public, "
                "attach any role)"
            )
            break
    secrets = _master_secrets(clusters) if clusters else []
    if exposed.view.is_xpander_role:  # an existing cluster's admin secret is outside the stack
        secrets.append(("every Redshift admin secret", _probe(ANY_SECRET)))
    for label, target in secrets:
        if granted(statements, "secretsmanager:GetSecretValue", target):
            problems.append(
                f"secretsmanager:GetSecretValue on {label} (the master user's password)"
            )
            break
    for label, target in _keys(clusters):
        if granted_for_any(statements, CREATE_GRANT, target, DIRECT_CALLS):
            problems.append(
                f"{CREATE_GRANT} on {label} called by the role itself (a grant may give it, or "
                "anyone, Decrypt with the key; kms:GrantIsForAWSResource true leaves only the "
                "grants an AWS service makes for it)"
            )
            break
    return problems


def check_assumable_roles(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    views = role_views(resources)
    clusters = of_type(resources, CLUSTER)
    for exposed in exposed_roles(views, resources):
        permissions = permissions_of(exposed.view, resources)
        problems = _reaches(permissions.statements, exposed, clusters)
        label = exposed.view.label
        if problems:
            found.violation(
                f"Role {label} can be assumed by {exposed.why}, and its permissions allow "
                f"{'; '.join(problems)}. Whoever runs as it can then act as any role or take the "
                "database over. Scope each action to the resources it needs (a Deny with no "
                "condition also takes it away); the stack's own role needs none of them. For a "
                f"role this stack does not build for xpander, {opt_out(RULE)}.",
                exposed.view.role.urn,
            )
        if permissions.unread:
            found.could_not_judge(
                f"Role {label} can be assumed by {exposed.why}, and some of what applies to it "
                f"could not be read: {'; '.join(permissions.unread)}.",
                exposed.view.role.urn,
            )
