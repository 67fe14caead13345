"""CrossGuard rules for xpander-redshift: the guide's troubleshooting items, caught at preview time.

The Pulumi CLI runs these from the pack's own virtualenv (`pulumi preview --policy-pack policies`),
where the project's `components` package is not installed, so this module needs only pulumi-policy
and the standard library. `tools.policy_check` (the offline plan) and the tests import the very
same `POLICIES`. Importing this module only defines the rules; constructing a `PolicyPack` (done
in `policies/__main__.py` alone) is what starts the policy server.

How the rules find "the xpander role": an `aws:iam/role:Role` whose trust policy allows the EKS
Pod Identity service principal `pods.eks.amazonaws.com`. Its own ARN is not known at preview (it
is an output), so it is built from the role's explicit `name` and `path` inputs, plus the
partition and account of the self-assume trust statement (the `aws:PrincipalArn` condition, or
the role ARN named as principal). Its permission policies are the `aws:iam/rolePolicy:RolePolicy`
resources whose `role` input is the role's name (or, when that input is unknown, that depend on
the role), plus any `inlinePolicies` on the role itself.

Values only known after deploy arrive as the engine's unknown sentinels (or `<computed>` from the
offline plan); a rule that needs such a value skips that check rather than guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as _proxy

PACK_NAME: Final = "xpander-redshift"

# --- resource types (Pulumi type tokens) ---------------------------------------------------------

ROLE: Final = "aws:iam/role:Role"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY: Final = "aws:iam/policy:Policy"
USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"
CLUSTER: Final = "aws:redshift/cluster:Cluster"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE: Final = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

# Resources whose `policy` input is an IAM permission document.
POLICY_DOCUMENT_TYPES: Final = (ROLE_POLICY, MANAGED_POLICY, USER_POLICY, GROUP_POLICY)

# --- what the guide and AWS require ---------------------------------------------------------------

POD_IDENTITY_PRINCIPAL: Final = "pods.eks.amazonaws.com"
ASSUME_ROLE: Final = "sts:AssumeRole"
TAG_SESSION: Final = "sts:TagSession"
ASSUME_ACTIONS: Final = (ASSUME_ROLE, TAG_SESSION)
CREDENTIALS_ACTIONS: Final = (
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
)
# The connector (guide step 5): Data API calls that accept the cluster ARN ...
CONNECTOR_CLUSTER_ACTIONS: Final = (
    "redshift-data:ExecuteStatement",
    "redshift-data:BatchExecuteStatement",
    "redshift-data:ListDatabases",
    "redshift-data:ListSchemas",
    "redshift-data:ListTables",
    "redshift-data:DescribeTable",
    "redshift:DescribeClusters",
)
# ... calls on statement ids, for which AWS defines no resource type (Resource must be "*") ...
CONNECTOR_STATEMENT_ACTIONS: Final = (
    "redshift-data:DescribeStatement",
    "redshift-data:GetStatementResult",
    "redshift-data:CancelStatement",
    "redshift-data:ListStatements",
)
# ... and the IAM authentication behind a Data API call without DbUser or SecretArn.
CONNECTOR_DBNAME_ACTIONS: Final = ("redshift:GetClusterCredentialsWithIAM",)

DEFAULT_REDSHIFT_PORT: Final = 5439
DEFAULT_DATABASE: Final = "dev"  # what Redshift creates when databaseName is not given
PREVIOUS_GENERATION_NODE_PREFIXES: Final = ("dc1.", "dc2.", "ds1.", "ds2.")
OPEN_TO_THE_WORLD: Final = ("0.0.0.0/0", "::/0")
PRODUCTION_STACK = re.compile(r"(?:^|[-_.])(?:prod|production|prd|live)(?:$|[-_.0-9])", re.I)

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
GUIDE_SECURITY_GROUP: Final = (
    "Check the Redshift security group allows port 5439 from the EKS cluster security group."
)

# --- unknown values -------------------------------------------------------------------------------


class _Unknown:
    """A value only known after deploy (or a secret the offline plan does not show)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Final = _Unknown()
COMPUTED: Final = "<computed>"  # how the offline plan writes an unknown
HIDDEN: Final = "[secret]"  # how the offline plan writes a secret value
_UNKNOWN_STRINGS: Final = frozenset(
    {
        COMPUTED,
        HIDDEN,
        _proxy.UNKNOWN_BOOLEAN_VALUE,
        _proxy.UNKNOWN_NUMBER_VALUE,
        _proxy.UNKNOWN_STRING_VALUE,
        _proxy.UNKNOWN_ARRAY_VALUE,
        _proxy.UNKNOWN_ASSET_VALUE,
        _proxy.UNKNOWN_ARCHIVE_VALUE,
        _proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def is_unknown(value: object) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in _UNKNOWN_STRINGS)


def known(value: Any) -> Any:
    """A plain copy of resource properties with every unknown replaced by `UNKNOWN`.

    The engine hands policies a proxy that raises `UnknownValueError` on reading an unknown
    value (the preview then reports "can't run policy"); reading through this copy instead lets
    a rule skip just the checks that need the unknown value.
    """
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[key] = known(value[key])
            except _proxy.UnknownValueError:
                result[key] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(known(value[index]))
            except _proxy.UnknownValueError:
                items.append(UNKNOWN)
        return items
    inner = getattr(value, "value", None) if type(value).__name__ == "Secret" else None
    if inner is not None:
        return known(inner)
    return UNKNOWN if is_unknown(value) else value


def _as_bool(value: Any) -> bool | _Unknown | None:
    """True/False, None when absent, UNKNOWN when not known yet."""
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return UNKNOWN


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _known_str(value: Any) -> str | None:
    return value if isinstance(value, str) and not is_unknown(value) else None


def _strings(value: Any) -> tuple[str, ...]:
    """An IAM element that may be one value or a list, as strings."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(s for item in value for s in _strings(item))
    if isinstance(value, bool):
        return ("true" if value else "false",)
    return (str(value),)


def stack_of(urn: str) -> str | None:
    """The stack name inside a URN (`urn:pulumi:<stack>::<project>::...`)."""
    match = re.match(r"^urn:pulumi:([^:]+)::", urn or "")
    return match.group(1) if match else None


# --- IAM documents --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _arn_parts(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement, normalised: every element a tuple of strings."""

    index: int
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    principals: Mapping[str, tuple[str, ...]]
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]]  # operator -> key (lower) -> values

    @property
    def label(self) -> str:
        return f'"{self.sid}"' if self.sid else f"#{self.index + 1}"

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def covers_action(self, action: str) -> bool:
        hit = any(_glob(pattern, True).fullmatch(action) for pattern in self.actions)
        return not hit if self.not_action else hit

    def covers_resource(self, matches: Callable[[str], bool]) -> bool:
        hit = any(matches(pattern) for pattern in self.resources)
        return not hit if self.not_resource else hit

    def condition(self, key: str) -> list[tuple[str, tuple[str, ...]]]:
        """(operator, values) of every condition on `key` (condition keys are case-insensitive)."""
        return [
            (operator, values)
            for operator, block in self.conditions.items()
            for k, values in block.items()
            if k == key.lower()
        ]

    def trusts_service(self, service: str) -> bool:
        return any(s.lower() == service for s in self.principals.get("Service", ()))


def _statement(index: int, raw: Mapping[str, Any]) -> Statement:
    principal = raw.get("Principal")
    if principal == "*":
        principals: dict[str, tuple[str, ...]] = {"AWS": ("*",)}
    elif isinstance(principal, Mapping):
        principals = {str(k): _strings(v) for k, v in principal.items()}
    else:
        principals = {}
    conditions: dict[str, dict[str, tuple[str, ...]]] = {}
    raw_conditions = raw.get("Condition")
    if isinstance(raw_conditions, Mapping):
        for operator, block in raw_conditions.items():
            if isinstance(block, Mapping):
                conditions[str(operator)] = {str(k).lower(): _strings(v) for k, v in block.items()}
    return Statement(
        index=index,
        sid=str(raw.get("Sid") or ""),
        effect=str(raw.get("Effect") or ""),
        actions=_strings(raw["NotAction"] if "NotAction" in raw else raw.get("Action")),
        not_action="NotAction" in raw,
        resources=_strings(raw["NotResource"] if "NotResource" in raw else raw.get("Resource")),
        not_resource="NotResource" in raw,
        principals=principals,
        conditions=conditions,
    )


def parse_document(value: Any) -> list[Statement] | None:
    """The statements of an IAM document given as a JSON string or a dict.

    None when the document is unknown at preview, a secret, or not a readable document (IAM
    rejects those at deploy; these rules only judge what they can read).
    """
    if value is None or is_unknown(value):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, Mapping):
        return None
    raw = value.get("Statement")
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        return None
    return [_statement(i, s) for i, s in enumerate(raw) if isinstance(s, Mapping)]


@dataclass(frozen=True)
class ArnTarget:
    """A resource to test policy Resource patterns against; None fields are unknown (any)."""

    service: str
    resource: str | None  # e.g. "cluster:xpander-redshift"; None: any resource of `resource_type`
    resource_type: str = ""
    partition: str | None = None
    region: str | None = None
    account: str | None = None

    def sample(self) -> str:
        resource = self.resource or f"{self.resource_type}:any"
        return (
            f"arn:{self.partition or 'aws'}:{self.service}:{self.region or ''}:"
            f"{self.account or '000000000000'}:{resource}"
        )

    def __str__(self) -> str:
        resource = self.resource or f"{self.resource_type}:<any>"
        return (
            f"arn:{self.partition or '<partition>'}:{self.service}:"
            f"{'<region>' if self.region is None else self.region}:"
            f"{self.account or '<account>'}:{resource}"
        )

    def covered_by(self, pattern: str) -> bool:
        parts = _arn_parts(pattern)
        if parts is None:
            return _glob(pattern).fullmatch(self.sample()) is not None
        for got, want in zip(
            parts[1:5], (self.partition, self.service, self.region, self.account), strict=True
        ):
            if want is not None and not _glob(got).fullmatch(want):
                return False
        if self.resource is None:
            prefix = f"{self.resource_type}:"
            return parts[5].startswith(prefix) or bool(_glob(parts[5]).fullmatch(prefix + "any"))
        return _glob(parts[5]).fullmatch(self.resource) is not None


def _is_any_resource(pattern: str) -> bool:
    """`*`, or an ARN pattern whose resource part is all wildcard (`arn:aws:redshift:*:*:*`)."""
    if not pattern.strip("*"):
        return True
    parts = _arn_parts(pattern)
    return parts is not None and not parts[5].strip("*")


def _on_star(pattern: str) -> bool:
    """Whether a Resource pattern grants an action whose only resource is `*`."""
    return _glob(pattern).fullmatch("*") is not None


def allowed(statements: Sequence[Statement], action: str, resource: Callable[[str], bool]) -> bool:
    """Some Allow statement grants `action` on the resource and no Deny takes it away.

    Conditions are not evaluated: a conditional Allow counts as an Allow, so the rules never
    fault a policy for what a condition might restrict.
    """
    matching = [s for s in statements if s.covers_action(action) and s.covers_resource(resource)]
    return any(s.allows for s in matching) and not any(s.effect == "Deny" for s in matching)


# --- the role's identity and trust ----------------------------------------------------------------


@dataclass(frozen=True)
class RoleIdentity:
    """What the rules know about a role before it exists: name, path, partition and account."""

    name: str | _Unknown | None  # None: no explicit name (auto-named), so no known ARN
    path: str
    partition: str | None = None
    account: str | None = None

    @property
    def named(self) -> bool:
        return isinstance(self.name, str)

    @property
    def resource(self) -> str:
        return f"role{self.path}{self.name}"

    def target(self) -> ArnTarget:
        return ArnTarget("iam", self.resource, "role", self.partition, "", self.account)

    def arn(self) -> str:
        return str(self.target())


def _role_identity(props: Mapping[str, Any], trust: Sequence[Statement] | None) -> RoleIdentity:
    name = props.get("name")
    path = _known_str(props.get("path")) or "/"
    identity = RoleIdentity(UNKNOWN if is_unknown(name) else _known_str(name), path)
    for _, partition, account in self_assume_statements(trust or [], identity):
        return RoleIdentity(identity.name, path, partition, account)
    return identity


def _account_of_principal(principal: str) -> str | None:
    """The account a principal stands for as a whole: `123456789012` or `arn:...:root`."""
    if re.fullmatch(r"\d{12}", principal):
        return principal
    parts = _arn_parts(principal)
    if parts and parts[2] == "iam" and parts[5] == "root":
        return parts[4]
    return None


_PRINCIPAL_ARN_OPERATORS: Final = ("ArnEquals", "ArnLike", "StringEquals", "StringLike")


def self_assume_statements(
    statements: Sequence[Statement], role: RoleIdentity
) -> Iterator[tuple[Statement, str | None, str | None]]:
    """Trust statements that let the role assume itself, with the partition and account they name.

    Either the guide's form (the role's own ARN as principal) or the form that also works on the
    very first create: the account root as principal, narrowed by `aws:PrincipalArn` to the
    role's own ARN.
    """
    if not role.named:
        return
    for statement in statements:
        if not (statement.allows and statement.covers_action(ASSUME_ROLE)):
            continue
        for principal in statement.principals.get("AWS", ()):
            parts = _arn_parts(principal)
            if parts and parts[2] == "iam" and parts[5] == role.resource:
                yield statement, parts[1], parts[4]
                break
            account = _account_of_principal(principal)
            if account is None:
                continue
            hit = next(
                (
                    value_parts
                    for operator, values in statement.condition("aws:PrincipalArn")
                    if operator.startswith(_PRINCIPAL_ARN_OPERATORS)
                    for value in values
                    if (value_parts := _arn_parts(value))
                    and value_parts[2] == "iam"
                    and value_parts[4] == account
                    and _glob(value_parts[5]).fullmatch(role.resource)
                ),
                None,
            )
            if hit:
                yield statement, hit[1], account
                break


def _has_external_id_condition(statement: Statement) -> bool:
    return bool(statement.condition("sts:ExternalId"))


def _requires_external_id(statement: Statement) -> bool:
    """An ExternalId condition that fails when the caller sends none or a different one.

    `...IfExists` operators pass when no ExternalId is sent, and a `StringLike` wildcard accepts
    any, so neither counts.
    """
    for operator, values in statement.condition("sts:ExternalId"):
        if not values or any(not v for v in values):
            continue
        if operator in ("StringEquals", "StringEqualsIgnoreCase"):
            return True
        if operator == "StringLike" and not any(c in v for v in values for c in "*?"):
            return True
    return False


# --- reading resources in a stack -----------------------------------------------------------------


@dataclass(frozen=True)
class StackResource:
    resource: PolicyResource
    props: Mapping[str, Any]

    @property
    def urn(self) -> str:
        return str(self.resource.urn)

    @property
    def type(self) -> str:
        return str(self.resource.resource_type)

    def depends_on(self, other: StackResource, prop: str) -> bool:
        """Whether `prop` (else the resource as a whole) takes a value from `other`."""
        deps = (self.resource.property_dependencies or {}).get(prop) or self.resource.dependencies
        return any(d.urn == other.urn for d in deps or [])


def _stack_resources(args: StackValidationArgs) -> list[StackResource]:
    return [StackResource(r, known(r.props)) for r in args.resources]


def _refers_to_role(item: StackResource, prop: str, role: StackResource, name: Any) -> bool:
    """Whether `item.props[prop]` (a role name) is this role, by value or, if unknown, by edge."""
    value = item.props.get(prop)
    if isinstance(value, str) and not is_unknown(value) and isinstance(name, str):
        return value == name
    return item.depends_on(role, prop)


@dataclass(frozen=True)
class RoleView:
    """A role with its trust policy, its identity and the permission documents that apply to it."""

    role: StackResource
    identity: RoleIdentity
    trust: list[Statement] | None
    role_policies: list[StackResource]
    inline_documents: list[Any]  # `inlinePolicies[].policy` of the Role itself

    @property
    def label(self) -> str:
        return f"'{self.identity.name}'" if self.identity.named else f"'{self.role.resource.name}'"

    @property
    def is_xpander_role(self) -> bool:
        return any(s.allows and s.trusts_service(POD_IDENTITY_PRINCIPAL) for s in self.trust or [])

    def permission_statements(self) -> list[Statement] | None:
        """Every permission statement of the role; None if any document is unknown at preview."""
        documents = [p.props.get("policy") for p in self.role_policies] + self.inline_documents
        statements: list[Statement] = []
        for document in documents:
            parsed = parse_document(document)
            if parsed is None:
                return None
            statements.extend(parsed)
        return statements


def _inline_policies(props: Mapping[str, Any]) -> list[Any]:
    value = props.get("inlinePolicies")
    if not isinstance(value, list):
        return []
    return [p.get("policy") for p in value if isinstance(p, Mapping) and p.get("policy")]


def role_views(resources: Sequence[StackResource]) -> list[RoleView]:
    views = []
    for role in (r for r in resources if r.type == ROLE):
        trust = parse_document(role.props.get("assumeRolePolicy"))
        identity = _role_identity(role.props, trust)
        policies = [
            r
            for r in resources
            if r.type == ROLE_POLICY and _refers_to_role(r, "role", role, identity.name)
        ]
        views.append(RoleView(role, identity, trust, policies, _inline_policies(role.props)))
    return views


# --- 1. pod-identity-trust-allows-tag-session -----------------------------------------------------


def _role_label(args: ResourceValidationArgs, props: Mapping[str, Any]) -> str:
    return f"'{_known_str(props.get('name')) or args.name}'"


def check_pod_identity_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    props = known(args.props)
    for statement in parse_document(props.get("assumeRolePolicy")) or []:
        if not (statement.allows and statement.trusts_service(POD_IDENTITY_PRINCIPAL)):
            continue
        missing = [a for a in ASSUME_ACTIONS if not statement.covers_action(a)]
        if missing:
            report(
                f"Role {_role_label(args, props)}: trust statement {statement.label} trusts "
                f"{POD_IDENTITY_PRINCIPAL} but does not allow {' and '.join(missing)}. EKS Pod "
                "Identity assumes the role with session tags (eks-cluster-name, "
                "kubernetes-namespace, ...), so the statement must allow both: "
                '"Action": ["sts:AssumeRole", "sts:TagSession"]. '
                f'Guide troubleshooting: "{GUIDE_TAG_SESSION}"',
                None,
            )


# --- 2. xpander-role-self-assume-without-external-id ----------------------------------------------


def _self_assume_example(role: RoleIdentity) -> str:
    partition = role.partition or "<partition>"
    account = role.account or "<this-account-id>"
    return (
        f'{{"Principal": {{"AWS": "arn:{partition}:iam::{account}:root"}}, '
        '"Action": ["sts:AssumeRole", "sts:TagSession"], '
        f'"Condition": {{"ArnEquals": {{"aws:PrincipalArn": "arn:{partition}:iam::{account}:'
        f'{role.resource}"}}}}}}'
    )


def check_self_assume(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    props = known(args.props)
    trust = parse_document(props.get("assumeRolePolicy"))
    if trust is None or not any(
        s.allows and s.trusts_service(POD_IDENTITY_PRINCIPAL) for s in trust
    ):
        return
    role = _role_identity(props, trust)
    label = _role_label(args, props)
    if role.name is UNKNOWN:
        return
    if role.name is None:
        report(
            f"Role {label} has no explicit name, so its own ARN is unknown until it exists and no "
            "trust statement can name it for the AI gateway's self-assume. Give the role an "
            "explicit name (and path) - the stack sets them from xpander-redshift:roleName and "
            f'xpander-redshift:rolePath. Guide troubleshooting: "{GUIDE_SELF_ASSUME}"',
            None,
        )
        return
    candidates = [s for s, _, _ in self_assume_statements(trust, role)]
    if any(
        not _has_external_id_condition(s) and all(s.covers_action(a) for a in ASSUME_ACTIONS)
        for s in candidates
    ):
        return
    if not candidates:
        report(
            f"Role {label} has no self-assume trust statement for its own ARN "
            f"({role.arn()}), so the AI gateway's re-assume of its own role gets AccessDenied. "
            f"Add one without an ExternalId condition: {_self_assume_example(role)} (the account "
            "root narrowed by aws:PrincipalArn works on the first create too; naming the role "
            'ARN itself as principal fails with "Invalid principal" until the role exists). '
            f'Guide troubleshooting: "{GUIDE_SELF_ASSUME}"',
            None,
        )
        return
    for statement in candidates:
        problems = []
        if _has_external_id_condition(statement):
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
        report(
            f"Role {label}: self-assume trust statement {statement.label} "
            f'{"; it also ".join(problems)}. Guide troubleshooting: "{GUIDE_SELF_ASSUME}"',
            None,
        )


# --- 3. cross-account-trust-requires-external-id --------------------------------------------------


def _needs_external_id(principal: str, home_account: str | None) -> bool:
    """Whole accounts (root, bare id, `*`) always; a role/user ARN only if in another account."""
    if principal == "*" or _account_of_principal(principal):
        return True
    parts = _arn_parts(principal)
    return bool(parts and home_account and parts[4] not in (home_account, ""))


def check_cross_account_external_id(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    props = known(args.props)
    trust = parse_document(props.get("assumeRolePolicy"))
    if trust is None:
        return
    role = _role_identity(props, trust)
    self_assume = {s.index for s, _, _ in self_assume_statements(trust, role)}
    for statement in trust:
        if not statement.allows or statement.index in self_assume:
            continue
        if not role.named and statement.condition("aws:PrincipalArn"):
            continue  # may be the self-assume of a role whose name is not known yet
        principals = [
            p for p in statement.principals.get("AWS", ()) if _needs_external_id(p, role.account)
        ]
        if not principals or _requires_external_id(statement):
            continue
        weak = [op for op, _ in statement.condition("sts:ExternalId")]
        why = (
            f" (its condition uses {', '.join(weak)}, which also passes when no or any external "
            "ID is sent)"
            if weak
            else ""
        )
        report(
            f"Role {_role_label(args, props)}: trust statement {statement.label} lets "
            f"{', '.join(principals)} assume the role without requiring sts:ExternalId{why}. "
            "Any identity in that account could then assume it on the xpander platform's behalf "
            "(the confused-deputy problem). Add "
            '"Condition": {"StringEquals": {"sts:ExternalId": "<xpander organization ID>"}} '
            "(the stack sets it from xpander-redshift:organizationId); only the self-assume "
            "statement goes without it.",
            None,
        )


# --- 4. xpander-role-can-assume-itself ------------------------------------------------------------


def check_role_can_assume_itself(args: StackValidationArgs, report: ReportViolation) -> None:
    for view in role_views(_stack_resources(args)):
        if not (view.is_xpander_role and view.identity.named):
            continue
        statements = view.permission_statements()
        if statements is None:
            continue
        target = view.identity.target()
        missing = [a for a in ASSUME_ACTIONS if not allowed(statements, a, target.covered_by)]
        if missing:
            report(
                f"Role {view.label}: its permission policies do not allow {' and '.join(missing)} "
                f"on the role itself ({target}). With the account root trusted for the "
                "self-assume, the gateway's re-assume also needs an identity-policy Allow: add "
                "an aws.iam.RolePolicy with "
                '{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], '
                f'"Resource": "{target}"}}. Guide troubleshooting: "{GUIDE_TAG_SESSION}" and '
                f'"{GUIDE_SELF_ASSUME}"',
                view.role.urn,
            )


# --- 5. xpander-role-has-data-api-permissions -----------------------------------------------------


def _cluster_targets(
    resources: Sequence[StackResource], role: RoleIdentity
) -> list[tuple[ArnTarget, ArnTarget]]:
    """(cluster ARN, dbname ARN) of each cluster in the stack; "any cluster" if there is none."""
    targets = []
    for cluster in (r for r in resources if r.type == CLUSTER):
        identifier = _known_str(cluster.props.get("clusterIdentifier"))
        database = cluster.props.get("databaseName", DEFAULT_DATABASE)
        database = None if is_unknown(database) else database or DEFAULT_DATABASE
        targets.append(
            (
                ArnTarget(
                    "redshift",
                    f"cluster:{identifier}" if identifier else None,
                    "cluster",
                    role.partition,
                    None,
                    role.account,
                ),
                ArnTarget(
                    "redshift",
                    f"dbname:{identifier}/{database}" if identifier and database else None,
                    "dbname",
                    role.partition,
                    None,
                    role.account,
                ),
            )
        )
    if not targets:
        targets.append(
            (
                ArnTarget("redshift", None, "cluster", role.partition, None, role.account),
                ArnTarget("redshift", None, "dbname", role.partition, None, role.account),
            )
        )
    return targets


def check_data_api_permissions(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = _stack_resources(args)
    for view in role_views(resources):
        if not view.is_xpander_role:
            continue
        statements = view.permission_statements()
        if statements is None:
            continue
        gaps: list[str] = []
        missing = [a for a in CONNECTOR_STATEMENT_ACTIONS if not allowed(statements, a, _on_star)]
        if missing:
            gaps.append(f'{", ".join(missing)} on "*" (AWS defines no narrower resource for them)')
        for cluster, dbname in _cluster_targets(resources, view.identity):
            missing = [
                a
                for a in CONNECTOR_CLUSTER_ACTIONS
                if not allowed(statements, a, cluster.covered_by)
            ]
            if missing:
                gaps.append(f"{', '.join(missing)} on the cluster ({cluster})")
            missing = [
                a for a in CONNECTOR_DBNAME_ACTIONS if not allowed(statements, a, dbname.covered_by)
            ]
            if missing:
                gaps.append(
                    f"{', '.join(missing)} on the database ({dbname}); the Data API "
                    "authenticates the role as IAMR:<role> with it"
                )
        if gaps:
            report(
                f"Role {view.label}: its permission policies do not allow what the xpander "
                f"connector calls: {'; '.join(gaps)}. Add the RedshiftDataAPI and "
                "RedshiftCredentials policies as aws.iam.RolePolicy resources of this role. "
                f'Guide troubleshooting: "{GUIDE_DATA_API}"',
                view.role.urn,
            )


# --- 6. redshift-cluster-private-and-encrypted ----------------------------------------------------


def _cluster_label(args: ResourceValidationArgs, props: Mapping[str, Any]) -> str:
    return f"'{_known_str(props.get('clusterIdentifier')) or args.name}'"


def check_cluster_private_and_encrypted(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    if args.resource_type != CLUSTER:
        return
    props = known(args.props)
    label = _cluster_label(args, props)
    public = _as_bool(props.get("publiclyAccessible"))
    if public is not UNKNOWN and public is not False:
        shown = "not set" if public is None else "true"
        report(
            f"Redshift cluster {label}: publiclyAccessible is {shown}. It must be explicitly false "
            "- the guide creates the cluster --no-publicly-accessible and reaches it only from "
            "inside the VPC (EKS) and through the Data API. Set publicly_accessible=False.",
            None,
        )
    encrypted = _as_bool(props.get("encrypted"))
    if encrypted is not UNKNOWN and encrypted is not True:
        shown = "not set" if encrypted is None else "false"
        report(
            f"Redshift cluster {label}: encrypted is {shown}. Data at rest must be encrypted "
            "(the guide's --encrypted): set encrypted=True, optionally with a customer managed "
            "key (kms_key_id; the stack's xpander-redshift:kmsKeyId).",
            None,
        )


# --- 7. redshift-port-from-security-group-only ----------------------------------------------------


@dataclass(frozen=True)
class SecurityGroupRule:
    """One rule of a security group, whichever way it is written (inline or as a resource)."""

    urn: str
    label: str
    ingress: bool
    protocol: Any
    from_port: Any
    to_port: Any
    cidrs: tuple[str, ...]
    prefix_lists: tuple[str, ...]

    def covers_port(self, port: int) -> bool | None:
        """Whether the rule opens `port`; None when not known at preview."""
        protocol = str(self.protocol).lower() if not is_unknown(self.protocol) else None
        if protocol in ("-1", "all"):
            return True
        if protocol is None:
            return None
        if protocol not in ("tcp", "6"):
            return False
        low, high = _as_int(self.from_port), _as_int(self.to_port)
        if low is None or high is None:
            return None
        return low <= port <= high


def _known_strings(value: Any) -> tuple[str, ...]:
    return tuple(s for s in _strings(value) if not is_unknown(s) and s != "<unknown>")


def _inline_rules(group: StackResource) -> list[SecurityGroupRule]:
    rules = []
    for direction in ("ingress", "egress"):
        declared = group.props.get(direction)
        for index, rule in enumerate(declared if isinstance(declared, list) else []):
            if not isinstance(rule, Mapping):
                continue
            rules.append(
                SecurityGroupRule(
                    group.urn,
                    f"inline {direction} rule #{index + 1} of security group "
                    f"'{group.resource.name}'",
                    direction == "ingress",
                    rule.get("protocol"),
                    rule.get("fromPort"),
                    rule.get("toPort"),
                    _known_strings(rule.get("cidrBlocks"))
                    + _known_strings(rule.get("ipv6CidrBlocks")),
                    _known_strings(rule.get("prefixListIds")),
                )
            )
    return rules


def _rule_resource(item: StackResource) -> SecurityGroupRule:
    p = item.props
    if item.type == SECURITY_GROUP_RULE:
        return SecurityGroupRule(
            item.urn,
            f"security group rule '{item.resource.name}'",
            p.get("type") == "ingress",
            p.get("protocol"),
            p.get("fromPort"),
            p.get("toPort"),
            _known_strings(p.get("cidrBlocks")) + _known_strings(p.get("ipv6CidrBlocks")),
            _known_strings(p.get("prefixListIds")),
        )
    return SecurityGroupRule(
        item.urn,
        f"security group rule '{item.resource.name}'",
        item.type == INGRESS_RULE,
        p.get("ipProtocol"),
        p.get("fromPort"),
        p.get("toPort"),
        _known_strings(p.get("cidrIpv4")) + _known_strings(p.get("cidrIpv6")),
        _known_strings(p.get("prefixListId")),
    )


RULE_RESOURCE_TYPES: Final = (SECURITY_GROUP_RULE, INGRESS_RULE, EGRESS_RULE)


def _rule_resources_of(
    group: StackResource, resources: Sequence[StackResource]
) -> list[StackResource]:
    """Rule resources that belong to a security group managed in this stack."""
    return [
        r
        for r in resources
        if r.type in RULE_RESOURCE_TYPES and r.depends_on(group, "securityGroupId")
    ]


def _cluster_security_groups(
    cluster: StackResource, resources: Sequence[StackResource]
) -> list[StackResource]:
    return [
        r
        for r in resources
        if r.type == SECURITY_GROUP and cluster.depends_on(r, "vpcSecurityGroupIds")
    ]


def check_port_from_security_group_only(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = _stack_resources(args)
    reported: set[tuple[str, str]] = set()

    def once(key: tuple[str, str], message: str, urn: str) -> None:
        if key not in reported:
            reported.add(key)
            report(message, urn)

    for cluster in (r for r in resources if r.type == CLUSTER):
        raw_port = cluster.props.get("port", DEFAULT_REDSHIFT_PORT)
        port = None if is_unknown(raw_port) else _as_int(raw_port) or DEFAULT_REDSHIFT_PORT
        external_ids = set(_known_strings(cluster.props.get("vpcSecurityGroupIds")))
        groups = _cluster_security_groups(cluster, resources)
        rules = [rule for group in groups for rule in _inline_rules(group)]
        rules += [
            _rule_resource(r)
            for r in resources
            if r.type in RULE_RESOURCE_TYPES
            and (
                any(r.depends_on(g, "securityGroupId") for g in groups)
                or _known_str(r.props.get("securityGroupId")) in external_ids
            )
        ]
        for rule in rules:
            world = [c for c in rule.cidrs if c in OPEN_TO_THE_WORLD]
            sources = rule.cidrs + rule.prefix_lists
            on_port = rule.ingress and port is not None and rule.covers_port(port) is True
            if on_port and sources:
                once(
                    (rule.urn, rule.label),
                    f"The {rule.label} opens the Redshift port {port} to {', '.join(sources)}"
                    f"{' - the whole internet' if world else ''}. Only a security group may be "
                    "the source: replace it with an aws.vpc.SecurityGroupIngressRule (ip_protocol "
                    f"tcp, from_port = to_port = {port}) whose referenced_security_group_id is the "
                    f'EKS cluster security group. Guide troubleshooting: "{GUIDE_SECURITY_GROUP}"',
                    rule.urn,
                )
            elif world:
                once(
                    (rule.urn, rule.label),
                    f"The {rule.label} on the Redshift cluster's security group allows "
                    f"{', '.join(world)}. Nothing on that group may be open to the whole internet, "
                    "ingress or egress: remove the rule (the cluster answers connections without "
                    "any egress rule).",
                    rule.urn,
                )


# --- 8. no-cluster-credentials-on-any-resource ----------------------------------------------------


def _permission_documents(
    args: ResourceValidationArgs, props: Mapping[str, Any]
) -> list[tuple[str, Any]]:
    """(where, document) for every permission document a resource carries."""
    if args.resource_type in POLICY_DOCUMENT_TYPES:
        name = _known_str(props.get("name")) or args.name
        return [(f"policy '{name}'", props.get("policy"))]
    if args.resource_type == ROLE:
        role = _role_label(args, props)
        return [
            (f"inline policy '{p.get('name')}' of role {role}", p.get("policy"))
            for p in props.get("inlinePolicies") or []
            if isinstance(p, Mapping)
        ]
    return []


def check_credentials_not_on_any_resource(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    props = known(args.props)
    for where, document in _permission_documents(args, props):
        for statement in parse_document(document) or []:
            actions = [a for a in CREDENTIALS_ACTIONS if statement.covers_action(a)]
            if not (statement.allows and actions):
                continue
            wide = [r for r in statement.resources if _is_any_resource(r)]
            if statement.not_resource or wide:
                shown = "NotResource" if statement.not_resource else f'Resource "{wide[0]}"'
                report(
                    f"{where}: statement {statement.label} allows {' and '.join(actions)} on "
                    f"{shown}, which lets the role mint database credentials for any user "
                    "(the master user included) on every cluster in the account. Scope it: "
                    "GetClusterCredentialsWithIAM to "
                    "arn:<partition>:redshift:<region>:<account>:dbname:<cluster>/<database>, "
                    "GetClusterCredentials to ...:dbuser:<cluster>/<user> (plus the dbname ARN).",
                    None,
                )


# --- advisory: redshift-credentials-dbuser-wildcard -----------------------------------------------


def _wildcard_dbuser(pattern: str) -> bool:
    parts = _arn_parts(pattern)
    if parts is None or not parts[5].startswith("dbuser:"):
        return False
    user = parts[5].split("/", 1)[1] if "/" in parts[5] else parts[5][len("dbuser:") :]
    return any(c in user for c in "*?")


def check_dbuser_wildcard(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = known(args.props)
    for where, document in _permission_documents(args, props):
        for statement in parse_document(document) or []:
            if not (statement.allows and statement.covers_action("redshift:GetClusterCredentials")):
                continue
            for pattern in (r for r in statement.resources if _wildcard_dbuser(r)):
                report(
                    f"{where}: statement {statement.label} allows "
                    f'redshift:GetClusterCredentials on "{pattern}", so the role can get temporary '
                    "credentials for every matching "
                    "database user - the cluster's master user (full admin) included. List only "
                    "the users xpander needs (the stack's xpander-redshift:credentialsDbUsers, "
                    'default ["IAMR:<roleName>"]); GetClusterCredentialsWithIAM on the dbname ARN '
                    "needs no dbuser resource at all.",
                    None,
                )


# --- advisory: redshift-final-snapshot-on-delete --------------------------------------------------


def check_final_snapshot(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CLUSTER:
        return
    props = known(args.props)
    label = _cluster_label(args, props)
    skip = _as_bool(props.get("skipFinalSnapshot"))
    if skip is True:
        report(
            f"Redshift cluster {label}: skipFinalSnapshot is true, so deleting or replacing it "
            "(pulumi destroy, or a change that forces a new cluster) drops every table with no "
            "snapshot to restore from. Set xpander-redshift:skipFinalSnapshot to false (the stack "
            "then names the snapshot <clusterIdentifier>-final-snapshot).",
            None,
        )
    elif skip is not UNKNOWN and props.get("finalSnapshotIdentifier") in (None, ""):
        report(
            f"Redshift cluster {label}: no final snapshot is skipped but finalSnapshotIdentifier "
            "is not set, so AWS refuses to delete the cluster. Set final_snapshot_identifier "
            "(the stack does this unless xpander-redshift:skipFinalSnapshot is true).",
            None,
        )


# --- advisory: redshift-protected-in-production ---------------------------------------------------


def check_protected_in_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CLUSTER:
        return
    stack = stack_of(args.urn)
    if not stack or not PRODUCTION_STACK.search(stack) or getattr(args.opts, "protect", False):
        return
    report(
        f"Redshift cluster {_cluster_label(args, known(args.props))}: stack '{stack}' looks like "
        "production but the cluster is not protected, so `pulumi destroy` or a replacing change "
        "deletes it. Set xpander-redshift:protect to true (the resource option protect=True).",
        None,
    )


# --- advisory: redshift-node-type-orderable -------------------------------------------------------


def check_node_type(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CLUSTER:
        return
    props = known(args.props)
    node_type = _known_str(props.get("nodeType"))
    if node_type and node_type.lower().startswith(PREVIOUS_GENERATION_NODE_PREFIXES):
        report(
            f"Redshift cluster {_cluster_label(args, props)}: node type {node_type} is a previous "
            f'generation that new clusters can no longer use (CreateCluster fails: "Invalid node '
            f"type: {node_type}\"); the guide's dc2.large is one. Use RA3: the stack picks the "
            "first of xpander-redshift:nodeTypes (default ra3.large, ra3.xlplus) the region "
            "offers, through aws.redshift.get_orderable_cluster.",
            None,
        )


# --- stack: one-way-to-manage-policies-and-rules --------------------------------------------------


def _policy_attachments(view: RoleView, resources: Sequence[StackResource]) -> list[StackResource]:
    name = view.identity.name
    found = []
    for r in resources:
        if r.type == ROLE_POLICY_ATTACHMENT and _refers_to_role(r, "role", view.role, name):
            found.append(r)
        elif r.type == POLICY_ATTACHMENT:
            roles = r.props.get("roles")
            by_name = isinstance(name, str) and isinstance(roles, list) and name in roles
            if by_name or (not isinstance(roles, list) and r.depends_on(view.role, "roles")):
                found.append(r)
    return found


def _role_management_problem(view: RoleView, resources: Sequence[StackResource]) -> str | None:
    inline = view.role.props.get("inlinePolicies")
    has_inline = isinstance(inline, list) and len(inline) > 0
    managed = view.role.props.get("managedPolicyArns")
    has_managed = isinstance(managed, list) and len(managed) > 0
    attachments = _policy_attachments(view, resources)
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
            "Its policies are managed one way only, as aws.iam.RolePolicy resources: remove "
            "inline_policies / managed_policy_arns from the Role and any policy attachments, and "
            "express the permission as a RolePolicy."
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


def check_one_way_to_manage(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = _stack_resources(args)
    for view in role_views(resources):
        problem = _role_management_problem(view, resources)
        if problem:
            report(problem, view.role.urn)
    for group in (r for r in resources if r.type == SECURITY_GROUP):
        inline = [
            d
            for d in ("ingress", "egress")
            if isinstance(group.props.get(d), list) and group.props.get(d)
        ]
        attached = _rule_resources_of(group, resources)
        kinds = {r.type for r in attached}
        problem = None
        if inline and attached:
            problem = (
                f"has inline {' and '.join(inline)} rules and {len(attached)} separate rule "
                "resource(s)"
            )
        elif SECURITY_GROUP_RULE in kinds and kinds & {INGRESS_RULE, EGRESS_RULE}:
            problem = (
                "has both aws.ec2.SecurityGroupRule and aws.vpc.SecurityGroupIngressRule/"
                "EgressRule resources"
            )
        if problem:
            report(
                f"Security group '{group.resource.name}' {problem}: the provider reverts one with "
                "the other on every update, dropping rules. Manage its rules one way only: "
                "aws.vpc.SecurityGroupIngressRule/EgressRule resources, with no ingress/egress "
                "blocks on the SecurityGroup.",
                group.urn,
            )


# --- the pack -------------------------------------------------------------------------------------

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

POLICIES: list[Policy] = [
    ResourceValidationPolicy(
        name="pod-identity-trust-allows-tag-session",
        description=(
            "A role trusted by pods.eks.amazonaws.com allows both sts:AssumeRole and "
            "sts:TagSession in that trust statement (EKS Pod Identity passes session tags)."
        ),
        enforcement_level=MANDATORY,
        validate=check_pod_identity_trust,
    ),
    ResourceValidationPolicy(
        name="xpander-role-self-assume-without-external-id",
        description=(
            "The xpander role (trusted by pods.eks.amazonaws.com) has an explicit name and a "
            "self-assume trust statement for its own ARN - built from name, path and the "
            "statement's account - as principal or as aws:PrincipalArn condition, allowing "
            "sts:AssumeRole and sts:TagSession with no sts:ExternalId condition."
        ),
        enforcement_level=MANDATORY,
        validate=check_self_assume,
    ),
    ResourceValidationPolicy(
        name="cross-account-trust-requires-external-id",
        description=(
            "Every other trust statement of any role that trusts a whole account (root, account "
            "id, *) or a role/user of another account requires sts:ExternalId (StringEquals)."
        ),
        enforcement_level=MANDATORY,
        validate=check_cross_account_external_id,
    ),
    StackValidationPolicy(
        name="xpander-role-can-assume-itself",
        description=(
            "The xpander role's permission policies (its RolePolicy resources, matched by the "
            "role input = the role's name, and inline policies) allow sts:AssumeRole and "
            "sts:TagSession on the role's own ARN."
        ),
        enforcement_level=MANDATORY,
        validate=check_role_can_assume_itself,
    ),
    StackValidationPolicy(
        name="xpander-role-has-data-api-permissions",
        description=(
            "The xpander role's permission policies allow the Data API calls the connector "
            "makes: statement calls on *, cluster calls and DescribeClusters on each Redshift "
            "cluster of the stack, GetClusterCredentialsWithIAM on its database."
        ),
        enforcement_level=MANDATORY,
        validate=check_data_api_permissions,
    ),
    ResourceValidationPolicy(
        name="redshift-cluster-private-and-encrypted",
        description=(
            "Redshift clusters set publiclyAccessible explicitly to false and encrypted to true."
        ),
        enforcement_level=MANDATORY,
        validate=check_cluster_private_and_encrypted,
    ),
    StackValidationPolicy(
        name="redshift-port-from-security-group-only",
        description=(
            "On a Redshift cluster's security groups, ingress to the cluster port comes from "
            "security groups only (never a CIDR or prefix list) and no rule allows 0.0.0.0/0 "
            "or ::/0."
        ),
        enforcement_level=MANDATORY,
        validate=check_port_from_security_group_only,
    ),
    ResourceValidationPolicy(
        name="no-cluster-credentials-on-any-resource",
        description=(
            'No permission policy allows redshift:GetClusterCredentials* on Resource "*" '
            "(or an all-wildcard ARN, or NotResource)."
        ),
        enforcement_level=MANDATORY,
        validate=check_credentials_not_on_any_resource,
    ),
    ResourceValidationPolicy(
        name="redshift-credentials-dbuser-wildcard",
        description=(
            "redshift:GetClusterCredentials is not granted on a wildcard dbuser ARN "
            "(dbuser:<cluster>/*), which covers the master user."
        ),
        enforcement_level=ADVISORY,
        validate=check_dbuser_wildcard,
    ),
    ResourceValidationPolicy(
        name="redshift-final-snapshot-on-delete",
        description="Deleting a Redshift cluster takes a final snapshot (and can: it has a name).",
        enforcement_level=ADVISORY,
        validate=check_final_snapshot,
    ),
    ResourceValidationPolicy(
        name="redshift-protected-in-production",
        description=(
            "In a stack named like production (prod, production, prd, live), Redshift clusters "
            "are protected."
        ),
        enforcement_level=ADVISORY,
        validate=check_protected_in_production,
    ),
    ResourceValidationPolicy(
        name="redshift-node-type-orderable",
        description="Redshift clusters use a current node type (RA3), not dc1/dc2/ds1/ds2.",
        enforcement_level=ADVISORY,
        validate=check_node_type,
    ),
    StackValidationPolicy(
        name="one-way-to-manage-policies-and-rules",
        description=(
            "The xpander role's policies are managed only as aws.iam.RolePolicy resources, no role "
            "mixes inline and separate policies, and no security group mixes inline rules with "
            "rule resources."
        ),
        enforcement_level=MANDATORY,
        validate=check_one_way_to_manage,
    ),
]
