"""IAM documents as what they allow: statements, condition operators and Resource patterns.

Rules never compare spellings. A Resource pattern is matched against the ARNs this stack names
(`principals.py` reads who a trust statement admits). Condition keys are case-insensitive,
operators may carry `IfExists` or a `ForAnyValue:`/`ForAllValues:` prefix, and `ArnEquals`
expands wildcards exactly like `ArnLike` (IAM User Guide, "IAM JSON policy elements: Condition
operators").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from .values import is_unknown, strings

WILDCARDS: Final = "*?"
# A policy variable (`${aws:PrincipalTag/dbuser}`, `${aws:userid}`, with or without a default):
# its value comes from the request, often from the caller itself (session tags, the session
# name), so a rule reads it as the wildcard it may become (IAM User Guide, "IAM policy
# elements: Variables and tags"). `${*}`, `${?}` and `${$}` stand for the character itself.
POLICY_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_ESCAPES: Final = {"*": "*", "?": "?", "$": "$"}


def has_policy_variable(text: str) -> bool:
    return any(m.group(1).strip() not in _ESCAPES for m in POLICY_VARIABLE.finditer(text))


def variables_as_wildcards(text: str) -> str:
    """`dbuser:c/${aws:PrincipalTag/dbuser}` -> `dbuser:c/*`: every value the caller may pick."""
    return POLICY_VARIABLE.sub(lambda m: _ESCAPES.get(m.group(1).strip(), "*"), text)


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
    raw_resources: tuple[str, ...] = ()  # as written, policy variables included

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

    def surely_covers_resource(self, matches: Callable[[str], bool]) -> bool:
        """Whether the statement names the resource for every request: what a Deny is counted
        on. A pattern with a policy variable matches only when the caller makes it (so it may
        not), and NotResource's exceptions may be any resource."""
        if self.not_resource:
            return not any(matches(p) for p in self.resources)
        return any(
            matches(p)
            for p, raw in zip(self.resources, self.raw_resources or self.resources, strict=False)
            if not has_policy_variable(raw)
        )

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
    written = strings(raw["NotResource"] if "NotResource" in raw else raw.get("Resource"))
    return Statement(
        index=index,
        sid=str(raw.get("Sid") or ""),
        effect=str(raw.get("Effect") or ""),
        actions=strings(raw["NotAction"] if "NotAction" in raw else raw.get("Action")),
        not_action="NotAction" in raw,
        resources=tuple(variables_as_wildcards(r) for r in written),
        not_resource="NotResource" in raw,
        principals=_principals(raw["NotPrincipal"] if not_principal else raw.get("Principal")),
        not_principal=not_principal,
        conditions=conditions,
        raw_resources=written,
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


def matches_probe(pattern: str, probe: str) -> bool:
    """Whether a Resource pattern matches `probe` (`service:{region}:{account}:resource`), put in
    the region, account and partition the pattern itself names: a resource it does not name."""
    return _matches_probe(pattern, probe)


def _matches_probe(pattern: str, probe: str) -> bool:
    parts = arn_parts(pattern)
    region, account, partition = "us-east-1", "000000000000", "aws"
    if parts is not None:
        region = parts[3] if not has_wildcard(parts[3]) else region
        account = parts[4] if not has_wildcard(parts[4]) else account
        partition = parts[1] if not has_wildcard(parts[1]) else partition
    arn = f"arn:{partition}:" + probe.format(region=region, account=account)
    return glob(pattern).fullmatch(arn) is not None


Request = Mapping[str, str | None]  # condition key (lower case) -> value; None: known absent


def _condition_holds(
    op: Operator, key: str, values: Sequence[str], request: Request
) -> bool | None:
    """Whether one condition holds for a request; None when the request does not say."""
    if key not in request:
        return None
    value = request[key]
    if op.base == "null":
        return all(v.lower() == ("true" if value is None else "false") for v in values)
    if value is None:
        return op.if_exists or op.for_all_values or op.base.startswith(("stringnot", "arnnot"))
    patterns = [_resolve(v, request) for v in values]
    if any(p is None for p in patterns):
        return None
    base = op.base
    negated = base.startswith(("stringnot", "arnnot"))
    positive = base.replace("not", "", 1) if negated else base
    if positive == "bool":
        hit = value.lower() in (str(p).lower() for p in patterns)
    elif positive == "stringequals":
        hit = value in patterns
    elif positive == "stringequalsignorecase":
        hit = value.lower() in (str(p).lower() for p in patterns)
    elif positive in ("stringlike", "arnlike", "arnequals"):
        hit = any(glob(str(p)).fullmatch(value) for p in patterns)
    else:
        return None
    return not hit if negated else hit


def _resolve(value: str, request: Request) -> str | None:
    """A condition value with the request's policy variables put in; None if one is unknown."""
    missing = False

    def put(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1).strip()
        if name in _ESCAPES:
            return _ESCAPES[name]
        known_value = request.get(name.split(",")[0].strip().lower())
        if known_value is None:
            missing = True
            return ""
        return known_value

    resolved = POLICY_VARIABLE.sub(put, value)
    return None if missing else resolved


def conditions_hold(statement: Statement, request: Request | None) -> bool | None:
    """Whether every condition of the statement holds for the request (they are ANDed).

    False as soon as one certainly fails; None when one depends on what the request does not
    say (a key it does not list, an operator not modelled); True only when all certainly hold.
    """
    verdict: bool | None = True
    for name, block in statement.conditions.items():
        op = operator(name)
        for key, values in block.items():
            holds = _condition_holds(op, key, values, request or {})
            if holds is False:
                return False
            if holds is None:
                verdict = None
    return verdict


def allowed(
    statements: Sequence[Statement],
    action: str,
    resource: Callable[[str], bool],
    request: Request | None = None,
) -> bool:
    """Some Allow statement grants `action` on the resource and no Deny takes it away.

    Allow and Deny are evaluated together, each with its conditions, for the request the rule
    asks about (IAM User Guide, "Policy evaluation logic"): an Allow whose conditions certainly
    fail grants nothing; a Deny denies only when its conditions certainly hold, so a guardrail
    (`aws:SecureTransport` false, a data perimeter on `aws:ResourceAccount`) that does not match
    the request leaves the grant in place. A condition the request does not decide counts for the
    Allow and not for the Deny: a rule that demands a permission never fails on a guess.
    """
    acting = [s for s in statements if s.covers_action(action)]
    return any(
        s.allows and s.covers_resource(resource) and conditions_hold(s, request) is not False
        for s in acting
    ) and not any(
        s.denies and s.surely_covers_resource(resource) and conditions_hold(s, request) is True
        for s in acting
    )


def granted(statements: Sequence[Statement], action: str, resource: Callable[[str], bool]) -> bool:
    """What a rule against reach asks: some Allow may grant it and no unconditional Deny removes it.

    An Allow counts whatever its conditions (they may hold); only a Deny without conditions
    certainly takes the grant away.
    """
    acting = [s for s in statements if s.covers_action(action)]
    return any(s.allows and s.covers_resource(resource) for s in acting) and not any(
        s.denies and not s.conditions and s.surely_covers_resource(resource) for s in acting
    )


def granted_for_any(
    statements: Sequence[Statement],
    action: str,
    resource: Callable[[str], bool],
    requests: Sequence[Request],
) -> bool:
    """`granted`, for a call known to be one of `requests`: an Allow whose conditions certainly
    fail for every one of them grants nothing. A condition on a key the requests do not list
    counts as holding (the caller may meet it), so this narrows `granted` only by what is known
    of the call; a Deny still counts only when it has no condition."""
    acting = [s for s in statements if s.covers_action(action)]
    return any(
        s.allows
        and s.covers_resource(resource)
        and any(conditions_hold(s, r) is not False for r in requests)
        for s in acting
    ) and not any(
        s.denies and not s.conditions and s.surely_covers_resource(resource) for s in acting
    )
