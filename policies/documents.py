"""IAM documents as what they allow: statements, ARN patterns, principals and conditions.

Rules never compare spellings. A Resource pattern is matched against the ARNs this stack names;
a trust statement's principal, narrowed by its conditions, becomes the set of identities it
admits (`Trustees`): anyone, whole accounts, organizations, or exact principal ARNs. Condition
keys are case-insensitive, operators may carry `IfExists` or a `ForAnyValue:`/`ForAllValues:`
prefix, and `ArnEquals` expands wildcards exactly like `ArnLike` (IAM User Guide, "IAM JSON
policy elements: Condition operators").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from .values import UNKNOWN, Unknown, is_unknown, known_str, strings

WILDCARDS: Final = "*?"


@lru_cache(maxsize=4096)
def glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def has_wildcard(text: str) -> bool:
    return any(c in text for c in WILDCARDS)


def arn_parts(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


# --- condition operators --------------------------------------------------------------------------


@dataclass(frozen=True)
class Operator:
    """A condition operator taken apart: `ForAnyValue:StringLikeIfExists` -> StringLike, ..."""

    base: str  # lower case, without set prefix and IfExists: "stringequals", "arnlike", ...
    if_exists: bool
    for_all_values: bool

    @property
    def expands_wildcards(self) -> bool:
        return self.base in ("stringlike", "arnlike", "arnequals")

    @property
    def matches_positively(self) -> bool:
        """An operator that admits only the values it lists (not a Not... operator)."""
        return self.base in (
            "stringequals",
            "stringequalsignorecase",
            "stringlike",
            "arnequals",
            "arnlike",
        )

    @property
    def fails_when_absent(self) -> bool:
        """False for `...IfExists` and `ForAllValues:`, which pass when the key is missing."""
        return not (self.if_exists or self.for_all_values)


def operator(name: str) -> Operator:
    text = name.strip()
    lowered = text.lower()
    for_all = lowered.startswith("forallvalues:")
    if ":" in lowered:
        lowered = lowered.split(":", 1)[1]
    if_exists = lowered.endswith("ifexists")
    if if_exists:
        lowered = lowered[: -len("ifexists")]
    return Operator(lowered, if_exists, for_all)


# --- statements -----------------------------------------------------------------------------------


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
    not_principal: bool
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]]  # operator -> key (lower) -> values

    @property
    def label(self) -> str:
        return f'"{self.sid}"' if self.sid else f"#{self.index + 1}"

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"

    @property
    def denies(self) -> bool:
        return self.effect.lower() == "deny"

    def covers_action(self, action: str) -> bool:
        hit = any(glob(pattern, True).fullmatch(action) for pattern in self.actions)
        return not hit if self.not_action else hit

    def covers_resource(self, matches: Callable[[str], bool]) -> bool:
        hit = any(matches(pattern) for pattern in self.resources)
        return not hit if self.not_resource else hit

    def condition(self, key: str) -> list[tuple[Operator, tuple[str, ...]]]:
        """(operator, values) of every condition on `key` (condition keys are case-insensitive)."""
        return [
            (operator(name), values)
            for name, block in self.conditions.items()
            for k, values in block.items()
            if k == key.lower()
        ]

    def trusts_service(self, service: str) -> bool:
        return not self.not_principal and any(
            s.lower() == service for s in self.principals.get("service", ())
        )


def _principals(value: Any) -> dict[str, tuple[str, ...]]:
    """Principal types in lower case (`AWS` -> `aws`), `"*"` meaning every type."""
    if isinstance(value, str):  # only "*" is valid here: every principal
        return {"aws": (value.strip(),)}
    if isinstance(value, Mapping):
        return {str(k).lower(): strings(v) for k, v in value.items()}
    return {}


def _statement(index: int, raw: Mapping[str, Any]) -> Statement:
    conditions: dict[str, dict[str, tuple[str, ...]]] = {}
    raw_conditions = raw.get("Condition")
    if isinstance(raw_conditions, Mapping):
        for name, block in raw_conditions.items():
            if isinstance(block, Mapping):
                conditions[str(name)] = {str(k).lower(): strings(v) for k, v in block.items()}
    not_principal = "NotPrincipal" in raw
    return Statement(
        index=index,
        sid=str(raw.get("Sid") or ""),
        effect=str(raw.get("Effect") or ""),
        actions=strings(raw["NotAction"] if "NotAction" in raw else raw.get("Action")),
        not_action="NotAction" in raw,
        resources=strings(raw["NotResource"] if "NotResource" in raw else raw.get("Resource")),
        not_resource="NotResource" in raw,
        principals=_principals(raw["NotPrincipal"] if not_principal else raw.get("Principal")),
        not_principal=not_principal,
        conditions=conditions,
    )


def parse_document(value: Any) -> list[Statement] | None:
    """The statements of an IAM document given as a JSON string or a dict.

    None when the document is unknown at preview, a secret, or not a readable document.
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


# --- resources ------------------------------------------------------------------------------------


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
        parts = arn_parts(pattern)
        if parts is None:
            return glob(pattern).fullmatch(self.sample()) is not None
        for got, want in zip(
            parts[1:5], (self.partition, self.service, self.region, self.account), strict=True
        ):
            if want is not None and not glob(got).fullmatch(want):
                return False
        if self.resource is None:
            prefix = f"{self.resource_type}:"
            return parts[5].startswith(prefix) or bool(glob(parts[5]).fullmatch(prefix + "any"))
        return glob(parts[5]).fullmatch(self.resource) is not None


def on_star(pattern: str) -> bool:
    """Whether a Resource pattern grants an action whose only resource is `*`."""
    return glob(pattern).fullmatch("*") is not None


@dataclass(frozen=True)
class RedshiftResource:
    """A Resource pattern read as a Redshift resource: its type, cluster part and the rest."""

    pattern: str
    any_cluster: bool  # the pattern reaches clusters other than the one it names
    cluster: str | None  # the one cluster named (None when any_cluster)
    rest: str  # after `<type>:<cluster>/` (database or user name pattern)


def redshift_resource(pattern: str, resource_type: str) -> RedshiftResource | None:
    """How a Resource pattern reaches resources of `resource_type` (cluster, dbname, dbuser).

    Cluster names cannot hold `/` or `:`, so a wildcard after the first `/` stays inside one
    cluster; one before it (or in the resource type) reaches every cluster of the account.
    None when the pattern cannot match that resource type at all.
    """
    parts = arn_parts(pattern)
    if parts is None or not glob(parts[2]).fullmatch("redshift"):
        # Not a Redshift ARN: only a wildcard spanning whole ARNs (`*`, `arn:*`) reaches one.
        arn = f"arn:aws:redshift:us-east-1:000000000000:{resource_type}:any/any"
        wide = parts is None and glob(pattern).fullmatch(arn) is not None
        return RedshiftResource(pattern, True, None, "*") if wide else None
    kind, colon, cluster_and_rest = parts[5].partition(":")
    if not colon:
        # No literal colon: a `*` spans type and cluster (`*`, `d*r/x`), reaching every cluster
        # whose ARN agrees with the pattern's literal start.
        start = re.split(r"[*?]", kind, maxsplit=1)[0]
        reaches = "*" in kind and f"{resource_type}:".startswith(start)
        return RedshiftResource(pattern, True, None, "*") if reaches else None
    if not glob(kind).fullmatch(resource_type):
        return None
    head, _, rest = cluster_and_rest.partition("/")
    wide = has_wildcard(head)
    return RedshiftResource(pattern, wide, None if wide else head, rest)


def reaches_every_workgroup(pattern: str) -> bool:
    """A Redshift Serverless workgroup pattern with a wildcard in the workgroup part."""
    parts = arn_parts(pattern)
    if parts is None or not glob(parts[2]).fullmatch("redshift-serverless"):
        return False
    kind, _, workgroup = parts[5].partition("/")
    return glob(kind).fullmatch("workgroup") is not None and has_wildcard(kind + workgroup)


def covers_every_cluster(patterns: Sequence[str], resource_type: str) -> bool:
    """Whether the patterns match `resource_type` resources of any cluster (as NotResource does).

    Tried on a cluster and user no pattern names on purpose, in the region and account a pattern
    itself names: only a wildcard over the whole cluster part matches it. For `cluster`, the
    Data API's other target, every serverless workgroup, must be matched too.
    """
    probes = [f"redshift:{{region}}:{{account}}:{resource_type}:zz-probe-0/zz-probe"]
    if resource_type == "cluster":
        probes = [
            "redshift:{region}:{account}:cluster:zz-probe-0",
            "redshift-serverless:{region}:{account}:workgroup/zz-probe-0",
        ]
    return all(any(_matches_probe(p, probe) for p in patterns) for probe in probes)


def _matches_probe(pattern: str, probe: str) -> bool:
    parts = arn_parts(pattern)
    region, account, partition = "us-east-1", "000000000000", "aws"
    if parts is not None:
        region = parts[3] if not has_wildcard(parts[3]) else region
        account = parts[4] if not has_wildcard(parts[4]) else account
        partition = parts[1] if not has_wildcard(parts[1]) else partition
    arn = f"arn:{partition}:" + probe.format(region=region, account=account)
    return glob(pattern).fullmatch(arn) is not None


def allowed(statements: Sequence[Statement], action: str, resource: Callable[[str], bool]) -> bool:
    """Some Allow statement grants `action` on the resource and no Deny takes it away.

    Conditions are not evaluated: a conditional Allow counts as an Allow, a conditional Deny as a
    Deny, so a rule that demands a permission never counts on a condition that may not hold.
    """
    matching = [s for s in statements if s.covers_action(action) and s.covers_resource(resource)]
    return any(s.allows for s in matching) and not any(s.denies for s in matching)


# --- principals, and who a trust statement admits -------------------------------------------

ACCOUNT_ID: Final = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Trustees:
    """Who a trust statement admits once its conditions have narrowed the principal."""

    anyone: bool = False  # every AWS identity (principal "*", a wildcard, NotPrincipal)
    accounts: frozenset[str] = frozenset()  # every identity of these accounts
    organizations: frozenset[str] = frozenset()  # every identity of these organizations
    arns: frozenset[str] = frozenset()  # exactly these roles/users
    services: frozenset[str] = frozenset()

    @property
    def whole_accounts(self) -> bool:
        return self.anyone or bool(self.accounts or self.organizations)

    def describe(self) -> str:
        if self.anyone:
            return "any AWS identity in any account"
        shown = [f"every identity of account {a}" for a in sorted(self.accounts)]
        shown += [f"every identity of organization {o}" for o in sorted(self.organizations)]
        shown += sorted(self.arns)
        return ", ".join(shown) or "no identity"


def _aws_principal(principal: str) -> Trustees:
    if has_wildcard(principal):
        return Trustees(anyone=True)
    if ACCOUNT_ID.fullmatch(principal):
        return Trustees(accounts=frozenset({principal}))
    parts = arn_parts(principal)
    if parts and parts[5] == "root":
        return Trustees(accounts=frozenset({parts[4]}))
    return Trustees(arns=frozenset({principal}))


def _pinned_values(
    statement: Statement, key: str, present_always: bool
) -> tuple[list[str], bool] | None:
    """(values, wildcards expand) of a positive condition limiting the caller on `key`, if any.

    `...IfExists` and `ForAllValues:` pass when the key is missing, so they pin only a key that
    every AWS principal's request carries (aws:PrincipalArn, aws:PrincipalAccount), not
    aws:PrincipalOrgID (absent for accounts outside an organization). Conditions are ANDed, so
    the narrowest one decides.
    """
    best: tuple[list[str], bool] | None = None
    for op, values in statement.condition(key):
        if not op.matches_positively or not values:
            continue
        if not op.fails_when_absent and not present_always:
            continue
        candidate = (list(values), op.expands_wildcards)
        if best is None or _narrower(candidate, best):
            best = candidate
    return best


def _narrower(a: tuple[list[str], bool], b: tuple[list[str], bool]) -> bool:
    def wide(values: tuple[list[str], bool]) -> tuple[bool, int]:
        return (values[1] and any(has_wildcard(v) for v in values[0]), len(values[0]))

    return wide(a) < wide(b)


def trustees(statement: Statement) -> Trustees:
    """Who may assume the role through this (Allow) statement."""
    raw = Trustees(anyone=True) if statement.not_principal else Trustees()
    for kind, values in ({} if statement.not_principal else statement.principals).items():
        for value in values:
            if kind == "aws":
                one = _aws_principal(value)
            elif has_wildcard(value):
                one = Trustees(anyone=True)
            else:
                one = Trustees(services=frozenset({value.lower()}))
            raw = Trustees(
                raw.anyone or one.anyone,
                raw.accounts | one.accounts,
                raw.organizations,
                raw.arns | one.arns,
                raw.services | one.services,
            )
    if raw.whole_accounts:
        raw = _narrowed(statement, raw)
    # An exact principal is judged exactly: every condition on who calls, evaluated for it.
    exact = frozenset(a for a in raw.arns if admits_caller(statement, a))
    return Trustees(raw.anyone, raw.accounts, raw.organizations, exact, raw.services)


def _narrowed(statement: Statement, raw: Trustees) -> Trustees:
    """Whole-account principals narrowed by the conditions on who calls (all of which must hold)."""
    pinned = _pinned_accounts(statement)
    if pinned is not None:
        kept = pinned if raw.anyone else raw.accounts & pinned
        raw = Trustees(False, kept, frozenset(), raw.arns, raw.services)
    arns = _pinned_values(statement, "aws:PrincipalArn", present_always=True)
    if arns is not None:
        raw = _narrow_to_arns(raw, *arns)
    accounts = frozenset(a for a in raw.accounts if _account_may_call(statement, a))
    raw = Trustees(raw.anyone, accounts, raw.organizations, raw.arns, raw.services)
    orgs = _pinned_values(statement, "aws:PrincipalOrgID", present_always=False)
    if raw.anyone and orgs is not None and not (orgs[1] and any(has_wildcard(o) for o in orgs[0])):
        raw = Trustees(False, raw.accounts, frozenset(orgs[0]), raw.arns, raw.services)
    return raw


def _pinned_accounts(statement: Statement) -> frozenset[str] | None:
    """The accounts every positive aws:PrincipalAccount condition admits (they are ANDed)."""
    pinned: frozenset[str] | None = None
    for op, values in statement.condition("aws:PrincipalAccount"):
        if not op.matches_positively or (op.expands_wildcards and any(map(has_wildcard, values))):
            continue
        real = frozenset(v for v in values if ACCOUNT_ID.fullmatch(v))  # "*" here is literal
        pinned = real if pinned is None else pinned & real
    return pinned


def _account_may_call(statement: Statement, account: str) -> bool:
    """Whether some principal of the account can meet every positive aws:PrincipalArn condition."""
    for op, values in statement.condition("aws:PrincipalArn"):
        if not op.matches_positively:
            continue
        accounts = [account_of(v) or "" for v in values]
        if op.expands_wildcards:
            if not any(glob(a).fullmatch(account) for a in accounts):
                return False
        elif account not in accounts:
            return False
    return True


_NEGATED: Final = ("stringnot", "arnnot")


def _holds(op: Operator, value: str, patterns: Sequence[str]) -> bool | None:
    """Whether a condition holds for a present single value; None for an operator not modelled."""
    base = op.base
    negated = base.startswith(_NEGATED)
    positive = base.replace("not", "", 1) if negated else base
    if positive == "stringequals":
        hit = value in patterns
    elif positive == "stringequalsignorecase":
        hit = value.lower() in (p.lower() for p in patterns)
    elif positive in ("stringlike", "arnlike", "arnequals"):
        hit = any(glob(p).fullmatch(value) for p in patterns)
    else:
        return None
    return not hit if negated else hit


def admits_caller(statement: Statement, principal_arn: str) -> bool:
    """Whether the statement's conditions on who calls hold for this exact principal.

    aws:PrincipalArn and aws:PrincipalAccount are in every IAM caller's request, so `IfExists`
    and the set prefixes change nothing here. Operators not modelled count as holding.
    """
    account = account_of(principal_arn) or ""
    for key, value in (("aws:PrincipalArn", principal_arn), ("aws:PrincipalAccount", account)):
        for op, patterns in statement.condition(key):
            if _holds(op, value, patterns) is False:
                return False
    return True


def passes_without_external_id(statement: Statement) -> bool:
    """Whether a caller that sends no sts:ExternalId meets every ExternalId condition.

    Conditions on a missing key: `...IfExists`, `ForAllValues:` and negated operators hold;
    `Null: true` holds; every other operator fails.
    """
    for op, values in statement.condition("sts:ExternalId"):
        if op.base == "null":
            if not all(v.lower() == "true" for v in values):
                return False
        elif not (op.if_exists or op.for_all_values or op.base.startswith(_NEGATED)):
            return False
    return True


def _narrow_to_arns(raw: Trustees, patterns: list[str], expands: bool) -> Trustees:
    """The principal narrowed by aws:PrincipalArn: exact ARNs, or whole accounts for wildcards.

    Narrowing never widens: a pattern whose account is a wildcard, under a principal naming
    accounts, is read in each of those accounts. Under StringEquals a `*` is a literal character,
    so such a value admits only itself.
    """
    exact: set[str] = set()
    accounts: set[str] = set()
    anyone = False
    for pattern in patterns:
        parts = arn_parts(pattern)
        if parts is None:
            anyone = anyone or (raw.anyone and expands and has_wildcard(pattern))
            accounts |= raw.accounts if expands and has_wildcard(pattern) else set()
            continue
        if raw.anyone:
            candidates = [parts[4]]
        else:
            matches = glob(parts[4]).fullmatch if expands else parts[4].__eq__
            candidates = [a for a in sorted(raw.accounts) if matches(a)]
        for account in candidates:
            resource = ":".join([*parts[:4], account, parts[5]])
            if expands and has_wildcard(account):
                anyone = True
            elif expands and has_wildcard(resource):
                accounts.add(account)
            elif ACCOUNT_ID.fullmatch(account):  # a literal `*` names no real principal
                exact.add(resource)
    return Trustees(anyone, frozenset(accounts), frozenset(), raw.arns | exact, raw.services)


def account_of(principal_arn: str) -> str | None:
    parts = arn_parts(principal_arn)
    return parts[4] if parts else None


# --- the role's identity and its self-assume ------------------------------------------------


@dataclass(frozen=True)
class RoleIdentity:
    """What the rules know about a role before it exists: name, path, partition and account."""

    name: str | Unknown | None  # None: no explicit name (auto-named), so no known ARN
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


def role_identity(props: Mapping[str, Any], trust: Sequence[Statement] | None) -> RoleIdentity:
    name = props.get("name")
    path = known_str(props.get("path")) or "/"
    identity = RoleIdentity(UNKNOWN if is_unknown(name) else known_str(name), path)
    for _, partition, account in self_assume_statements(trust or [], identity):
        return RoleIdentity(identity.name, path, partition, account)
    return identity


ASSUME_ROLE: Final = "sts:AssumeRole"
# The calls a trust policy lets a principal make to become the role.
ROLE_SESSION_ACTIONS: Final = (
    ASSUME_ROLE,
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
)


def is_trust_grant(statement: Statement) -> bool:
    """An Allow statement of a trust policy through which someone can start a session."""
    return statement.allows and any(statement.covers_action(a) for a in ROLE_SESSION_ACTIONS)


def self_assume_statements(
    statements: Sequence[Statement], role: RoleIdentity
) -> Iterator[tuple[Statement, str, str]]:
    """Trust statements that admit exactly the role itself, with the partition and account named.

    Either the guide's form (the role's own ARN as principal) or the form that also works on the
    very first create: the account root (or `*`) narrowed by `aws:PrincipalArn` to exactly the
    role's own ARN. A condition any broader (`role/*`, a `?`) admits other principals too, so the
    statement is judged as the cross-account or open statement it is.
    """
    if not role.named:
        return
    found: list[tuple[Statement, str, str, bool]] = []
    for statement in statements:
        if not (statement.allows and statement.covers_action(ASSUME_ROLE)):
            continue
        who = trustees(statement)
        if who.whole_accounts or len(who.arns) != 1:
            continue
        [arn] = who.arns
        parts = arn_parts(arn)
        if parts and parts[2] == "iam" and parts[5] == role.resource and parts[4]:
            named = [_aws_principal(p) for p in statement.principals.get("aws", ())]
            explicit = any(parts[4] in t.accounts or arn in t.arns for t in named)
            found.append((statement, parts[1], parts[4], explicit))
    # A role of the same name in another account is someone else: the role's own account is the
    # one a principal names outright (the account root or the ARN), else the first one named.
    ranked = sorted(found, key=lambda f: not f[3])
    home = ranked[0][2] if ranked else None
    for statement, partition, account, _ in found:
        if account == home:
            yield statement, partition, account


def requires_external_id(statement: Statement) -> bool:
    """An ExternalId condition that fails when the caller sends none, or any other value.

    `...IfExists`/`ForAllValues:` pass when no ExternalId is sent, and a wildcard under a
    wildcard-expanding operator accepts any, so neither counts.
    """
    for op, values in statement.condition("sts:ExternalId"):
        if not op.matches_positively or not op.fails_when_absent or op.base.startswith("arn"):
            continue
        if not values or any(not v for v in values):
            continue
        if op.expands_wildcards and any(has_wildcard(v) for v in values):
            continue
        return True
    return False
