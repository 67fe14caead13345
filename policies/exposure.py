"""Roles other people's code can assume, every document that applies to them, and where they reach.

A role is *assumable from outside* when its trust admits Pod Identity (`pods.eks.amazonaws.com`,
any pod bound to it), a web identity (`Federated`), another account, or anyone; when it is the
target role of a pod identity association; when it is attached to a Redshift cluster (any
database user with ASSUMEROLE, PUBLIC by default, runs COPY/UNLOAD and federated queries as it);
and, transitively, when its trust admits such a role (role chaining). For those roles the rules
judge what the role can *do*, with every document that applies: its RolePolicies (followed by
value or dependency edge), inline and managed policies, attachments, exclusive attachments, and
the AWS managed policies whose effect on these checks is known. What cannot be read is said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .documents import ArnTarget, Statement, arn_parts, granted, parse_document
from .principals import POD_IDENTITY_PRINCIPAL, account_of, is_trust_grant, trustees
from .stack_view import (
    CLUSTER,
    MANAGED_POLICY,
    POLICY_ATTACHMENT,
    ROLE_POLICY_ATTACHMENT,
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    RoleView,
    StackResource,
    names,
    of_type,
    refers_to,
)
from .values import is_unknown, known_str

ROLE_POLICIES_EXCLUSIVE: Final = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
CLUSTER_IAM_ROLES: Final = "aws:redshift/clusterIamRoles:ClusterIamRoles"
POD_IDENTITY_ASSOCIATION: Final = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
EKS_OIDC: Final = "oidc.eks."  # an EKS cluster's OIDC issuer: IAM roles for service accounts

_EVERYTHING: Final = {"Effect": "Allow", "Action": "*", "Resource": "*"}
# AWS managed policies whose grants decide these checks (AWS Managed Policy Reference Guide).
# Only the statements that matter here; any other AWS managed policy cannot be judged.
AWS_MANAGED_POLICIES: Final[dict[str, list[dict[str, Any]]]] = {
    "AdministratorAccess": [_EVERYTHING],
    "PowerUserAccess": [
        {
            "Effect": "Allow",
            "NotAction": ["iam:*", "organizations:*", "account:*"],
            "Resource": "*",
        }
    ],
    "IAMFullAccess": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
    "AmazonRedshiftFullAccess": [{"Effect": "Allow", "Action": "redshift:*", "Resource": "*"}],
    "SecretsManagerReadWrite": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
}


def aws_managed_statements(policy_arn: str) -> list[Statement] | None:
    parts = arn_parts(policy_arn)
    if parts is None or parts[2] != "iam" or parts[4] != "aws":
        return None
    name = parts[5].rsplit("/", 1)[-1]
    known = AWS_MANAGED_POLICIES.get(name)
    if known is None:
        return None
    return parse_document({"Version": "2012-10-17", "Statement": known})


# --- every document of a role ---------------------------------------------------------------------


@dataclass
class RolePermissions:
    statements: list[Statement] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # what applies but could not be read


def _policy_documents(
    item: StackResource, prop: str, arns: list[Any], resources: Sequence[StackResource]
) -> RolePermissions:
    """The documents behind policy ARNs an attachment names (by value or by edge)."""
    found = RolePermissions()
    managed = of_type(resources, MANAGED_POLICY)
    by_edge = [p for p in managed if item.depends_on(p, prop)]
    for arn in arns:
        text = known_str(arn)
        if text is not None:
            statements = aws_managed_statements(text)
            mine = [p for p in managed if _policy_arn_matches(p, text)]
            if statements is not None:
                found.statements += statements
            elif mine:
                by_edge += mine
            else:
                found.unread.append(f"managed policy {text}")
        elif not by_edge:
            found.unread.append(f"a managed policy of '{item.name}' not known at preview")
    for policy in {p.urn: p for p in by_edge}.values():
        statements = parse_document(policy.props.get("policy"))
        if statements is None:
            found.unread.append(f"policy '{policy.name}' (its document is not known at preview)")
        else:
            found.statements += statements
    return found


def _policy_arn_matches(policy: StackResource, arn: str) -> bool:
    name = known_str(policy.props.get("name"))
    path = known_str(policy.props.get("path")) or "/"
    parts = arn_parts(arn)
    return bool(name and parts and parts[5] == f"policy{path}{name}")


def _role_names(view: RoleView) -> Any:
    return view.identity.name


def permissions_of(view: RoleView, resources: Sequence[StackResource]) -> RolePermissions:
    """Every permission statement that applies to the role, and what could not be read."""
    found = RolePermissions()
    own = view.permission_statements()
    if own is None:
        found.unread.append("one of its RolePolicies or inline policies")
    else:
        found.statements += own
    found.unread += [
        f"RolePolicy '{p.name}' (its role is not known)" for p in view.undecided_policies
    ]
    managed = view.role.props.get("managedPolicyArns")
    if isinstance(managed, list) and managed:
        more = _policy_documents(view.role, "managedPolicyArns", managed, resources)
        found.statements += more.statements
        found.unread += more.unread
    name = _role_names(view)
    for item in of_type(resources, ROLE_POLICY_ATTACHMENT, ROLE_POLICY_ATTACHMENTS_EXCLUSIVE):
        prop = "role" if item.type == ROLE_POLICY_ATTACHMENT else "roleName"
        verdict = refers_to(item, prop, view.role, name)
        if verdict is False:
            continue
        arns_prop = "policyArn" if item.type == ROLE_POLICY_ATTACHMENT else "policyArns"
        arns = item.props.get(arns_prop)
        more = _policy_documents(
            item, arns_prop, arns if isinstance(arns, list) else [arns], resources
        )
        if verdict is None:
            found.unread.append(f"'{item.name}' (the role it attaches to is not known at preview)")
            continue
        found.statements += more.statements
        found.unread += more.unread
    for item in of_type(resources, POLICY_ATTACHMENT):
        roles = item.props.get("roles")
        listed = roles if isinstance(roles, list) else [roles]
        mine = (isinstance(name, str) and name in listed) or (
            any(is_unknown(r) for r in listed) and item.depends_on(view.role, "roles")
        )
        if mine:
            more = _policy_documents(item, "policyArn", [item.props.get("policyArn")], resources)
            found.statements += more.statements
            found.unread += more.unread
    for item in of_type(resources, ROLE_POLICIES_EXCLUSIVE):
        verdict = refers_to(item, "roleName", view.role, name)
        if verdict is None:
            found.unread.append(f"'{item.name}' (the role it manages is not known at preview)")
        elif verdict:
            held = {known_str(p.props.get("name")) for p in view.role_policies}
            inline = view.role.props.get("inlinePolicies")
            for p in inline if isinstance(inline, list) else []:
                held.add(known_str(p.get("name")) if isinstance(p, dict) else None)
            foreign = [n for n in names(item.props.get("policyNames")) if n not in held]
            found.unread += [f"inline policy '{n}' (not a policy of this stack)" for n in foreign]
    return found


# --- who can assume a role from outside ---------------------------------------------------------


def home_accounts(views: Sequence[RoleView]) -> set[str]:
    """The stack's own accounts: those its roles' self-assume statements name."""
    return {v.identity.account for v in views if v.identity.account}


def _arn_matches_role(arn: Any, view: RoleView) -> bool:
    text = known_str(arn)
    parts = arn_parts(text or "")
    return bool(parts and view.identity.named and parts[5] == view.identity.resource)


def outside_trust(view: RoleView, home: set[str]) -> str | None:
    """Why the role's own trust lets code outside the account's administrators assume it."""
    for statement in view.trust or []:
        if not is_trust_grant(statement):
            continue
        if statement.trusts_service(POD_IDENTITY_PRINCIPAL):
            return "pods through EKS Pod Identity"
        eks = [p for p in statement.principals.get("federated", ()) if EKS_OIDC in p]
        if eks and not statement.not_principal:
            return f"pods through IRSA ({', '.join(eks)})"
        who = trustees(statement)
        if who.anyone:
            return "any AWS identity"
        foreign = sorted(a for a in who.accounts if home and a not in home)
        foreign += sorted(
            a for a in (account_of(x) for x in who.arns) if a and home and a not in home
        )
        if foreign or who.organizations:
            return f"identities of account(s) {', '.join(foreign or sorted(who.organizations))}"
    return None


def _trusts_role(view: RoleView, other: RoleView) -> bool:
    """Whether `view`'s trust admits exactly `other` (role chaining)."""
    if not other.identity.named:
        return False
    for statement in view.trust or []:
        if is_trust_grant(statement):
            for arn in trustees(statement).arns:
                parts = arn_parts(arn)
                if (
                    parts
                    and parts[5] == other.identity.resource
                    and (not other.identity.account or parts[4] == other.identity.account)
                ):
                    return True
    return False


def _chains_through_account(
    view: RoleView, other: RoleView, other_grants: Sequence[Statement]
) -> bool:
    """`view` trusts `other`'s whole account and `other` may call sts:AssumeRole on `view`."""
    if not view.identity.named or not other.identity.account:
        return False
    trusts_account = any(
        is_trust_grant(s) and other.identity.account in trustees(s).accounts
        for s in view.trust or []
    )
    target = view.identity.target()
    target = ArnTarget("iam", target.resource, "role", None, "", other.identity.account)
    return trusts_account and granted(other_grants, "sts:AssumeRole", target.covered_by)


def _attached_to_cluster(view: RoleView, resources: Sequence[StackResource]) -> str | None:
    for item in of_type(resources, CLUSTER, CLUSTER_IAM_ROLES):
        key = "iamRoles" if item.type == CLUSTER else "iamRoleArns"
        listed = item.props.get(key)
        values = [
            *(listed if isinstance(listed, list) else []),
            item.props.get("defaultIamRoleArn"),
        ]
        by_value = any(_arn_matches_role(v, view) for v in values)
        by_edge = any(is_unknown(v) for v in values) and (
            item.depends_on(view.role, key) or item.depends_on(view.role, "defaultIamRoleArn")
        )
        if by_value or by_edge:
            cluster = known_str(item.props.get("clusterIdentifier")) or item.name
            return f"every database user of Redshift cluster '{cluster}' (COPY/UNLOAD IAM_ROLE)"
    for item in of_type(resources, POD_IDENTITY_ASSOCIATION):
        target = item.props.get("targetRoleArn")
        if _arn_matches_role(target, view) or (
            is_unknown(target) and item.depends_on(view.role, "targetRoleArn")
        ):
            return "pods, as the target role of a pod identity association"
    return None


@dataclass(frozen=True)
class Exposed:
    view: RoleView
    why: str


def exposed_roles(views: Sequence[RoleView], resources: Sequence[StackResource]) -> list[Exposed]:
    home = home_accounts(views)
    exposed: dict[str, Exposed] = {}
    for view in views:
        why = outside_trust(view, home) or _attached_to_cluster(view, resources)
        if why:
            exposed[view.role.urn] = Exposed(view, why)
    grants = {urn: permissions_of(e.view, resources).statements for urn, e in exposed.items()}
    changed = True
    while changed:  # role chaining: a role that trusts an exposed role is exposed too
        changed = False
        for view in views:
            if view.role.urn in exposed:
                continue
            for urn, other in list(exposed.items()):
                if _trusts_role(view, other.view) or _chains_through_account(
                    view, other.view, grants.setdefault(urn, [])
                ):
                    exposed[view.role.urn] = Exposed(view, f"role {other.view.label} ({other.why})")
                    grants[view.role.urn] = permissions_of(view, resources).statements
                    changed = True
                    break
    return list(exposed.values())
