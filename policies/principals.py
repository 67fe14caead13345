"""Trust statements as who they admit: principals narrowed by conditions, and the self-assume.

A trust statement's principal, narrowed by its conditions on who calls (`aws:PrincipalArn`,
`aws:PrincipalAccount`, `aws:PrincipalOrgID`), becomes the set of identities it admits
(`Trustees`): anyone, whole accounts, organizations, or exact principal ARNs. Exact principals
are judged exactly, every condition evaluated for them; a missing key passes `...IfExists`,
`ForAllValues:` and negated operators only (IAM User Guide, "Condition operators").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .documents import ArnTarget, Operator, Statement, arn_parts, glob, has_wildcard
from .values import UNKNOWN, Unknown, is_unknown, known_str

# --- principals, and who a trust statement admits -------------------------------------------

ACCOUNT_ID: Final = re.compile(r"\d{12}")
POD_IDENTITY_PRINCIPAL: Final = "pods.eks.amazonaws.com"
# The component the stack wraps its own role in (components/access_role.py).
XPANDER_ROLE_COMPONENT: Final = "xpander:redshift:XpanderAccessRole"


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


# --- which role is the xpander role ---------------------------------------------------------------


def trusts_pods(trust: Sequence[Statement] | None) -> bool:
    return any(s.allows and s.trusts_service(POD_IDENTITY_PRINCIPAL) for s in trust or [])


def trusts_aws_principals(trust: Sequence[Statement] | None) -> bool:
    return any(
        is_trust_grant(s) and not s.not_principal and s.principals.get("aws") for s in trust or []
    )


def guide_shaped_trust(trust: Sequence[Statement] | None, role_name: object = None) -> bool:
    """The guide's trust: Pod Identity plus xpander's account (with an ExternalId condition) or
    the role's own ARN (the self-assume).

    A Pod Identity role of another workload (a log shipper, a controller, a team's CI role that
    also trusts a role of the account) has neither.
    """
    if not trusts_pods(trust):
        return False
    for s in trust or []:
        if not is_trust_grant(s) or s.not_principal or not s.principals.get("aws"):
            continue
        if any("sts:externalid" in block for block in s.conditions.values()):
            return True
        named = [
            *s.principals.get("aws", ()),
            *(v for b in s.conditions.values() for vs in b.values() for v in vs),
        ]
        if isinstance(role_name, str) and any(v.endswith(f"/{role_name}") for v in named):
            return True
    return False


def names_connector_calls(statements: Sequence[Statement]) -> bool:
    """Permissions that name the connector's calls outright (not through `*` or `redshift:*`)."""
    return any(
        s.allows
        and not s.not_action
        and any(a.lower().startswith(CONNECTOR_ACTION_PREFIXES) for a in s.actions)
        for s in statements
    )


CONNECTOR_ACTION_PREFIXES: Final = ("redshift-data:", "redshift:getclustercredentialswithiam")


# --- web identities -------------------------------------------------------------------------------

# Subjects no document names on purpose, in the shapes OIDC providers use: GitHub Actions
# (`repo:<org>/<repo>:...`), EKS service accounts (`system:serviceaccount:<ns>:<sa>`), any other.
STRANGE_SUBJECTS: Final = (
    "zz-probe-subject",
    "repo:zz-probe-org/zz-probe-repo:ref:refs/heads/main",
    "repo:zz-probe-org/zz-probe-repo:pull_request",
    "system:serviceaccount:zz-probe-ns:zz-probe-sa",
)
COGNITO: Final = "cognito-identity.amazonaws.com"


def _pins(statement: Statement, key: str) -> bool:
    """A condition on `key` that every request must meet and no stranger's value meets."""
    for op, values in statement.condition(key):
        if not op.matches_positively or not op.fails_when_absent or not values:
            continue
        strangers = op.expands_wildcards and any(
            glob(v).fullmatch(s) for v in values for s in STRANGE_SUBJECTS
        )
        if not strangers:
            return True
    return False


def open_web_identities(statement: Statement) -> list[str]:
    """OIDC providers through which any of their identities may assume the role.

    The audience (`:aud`) only says the token was minted for AWS (or for one app), so every
    repository, service account or user of the provider has one; only the subject (`:sub`)
    names who. SAML providers (the organisation's own IdP) and Cognito identity pools (pinned by
    `cognito-identity.amazonaws.com:aud`, AWS's own guidance) are judged by their own key.
    """
    if not is_trust_grant(statement) or statement.not_principal:
        return []
    found = []
    for provider in statement.principals.get("federated", ()):
        if has_wildcard(provider):
            found.append(provider)
            continue
        if ":saml-provider/" in provider:
            continue
        if provider.lower() == COGNITO:
            if not _pins(statement, f"{COGNITO}:aud"):
                found.append(provider)
            continue
        host = provider.split(":oidc-provider/", 1)[-1]
        if not _pins(statement, f"{host}:sub"):
            found.append(provider)
    return found
