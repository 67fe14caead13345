"""What changed between two plans: resources by URN (or by the aliases that make a new URN the
same resource, tools/plan_match.py), their inputs, which of those replace the resource
(tools/plan_replace.py), IAM documents statement by statement, stack outputs and policy verdicts.
Pure data; tools/plan_markdown.py renders it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from model import cluster_baseline as baseline
from model.outputs import COMPUTED, SECRET
from tools import plan_match
from tools.plan_replace import CLUSTER_INPUT_SETTINGS, CLUSTER_TYPE, replacing_inputs
from tools.plan_views import IAM_DOCUMENT_INPUTS

Plan = dict[str, Any]
Resource = Mapping[str, Any]

# Inputs that are engine plumbing, not settings a reviewer can act on (the dynamic provider's
# pickled code changes with every edit of the provider module).
_IGNORED_INPUT_PREFIX = "__"
_LEVEL_ORDER = {"mandatory": 0, "advisory": 1, "remediate": 2, "disabled": 3}


def violation_key(violation: Mapping[str, Any]) -> tuple[int, str, str, str]:
    return (
        _LEVEL_ORDER.get(str(violation.get("enforcementLevel")), len(_LEVEL_ORDER)),
        str(violation.get("policy")),
        str(violation.get("urn") or ""),
        str(violation.get("message")),
    )


@dataclass(frozen=True)
class StatementChange:
    key: str  # the Sid, "#<n>" (1-based) for a statement without one, or "document:<element>"
    kind: str  # "added" | "removed" | "changed"
    before: Any
    after: Any


@dataclass(frozen=True)
class InputChange:
    path: str
    before: Any
    after: Any
    statements: tuple[StatementChange, ...] = ()  # set for IAM documents


@dataclass(frozen=True)
class ResourceChange:
    resource: Mapping[str, Any]
    inputs: tuple[InputChange, ...]
    # The changed inputs that replace the resource (or that it cannot change at all).
    replaces: tuple[str, ...] = ()
    # Static parameters of a parameter group that change: pending until the cluster reboots.
    reboot_parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Aliased:
    """A resource under a new URN that its aliases make the one the base had: not recreated."""

    base_urn: str
    resource: Mapping[str, Any]


@dataclass(frozen=True)
class PlanDiff:
    added: tuple[Mapping[str, Any], ...]
    removed: tuple[Mapping[str, Any], ...]
    changed: tuple[ResourceChange, ...]
    outputs: tuple[InputChange, ...]
    new_violations: tuple[Mapping[str, Any], ...]
    resolved_violations: tuple[Mapping[str, Any], ...]
    aliased: tuple[Aliased, ...] = ()

    @property
    def replaced(self) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changed if change.replaces)

    def headline(self) -> str:
        renamed = f"{len(self.aliased)} under a new name (aliases: the same resources)"
        if not (self.added or self.removed or self.changed or self.outputs):
            return "no resource or output changes" + (f"; {renamed}" if self.aliased else "")
        parts = [
            f"{len(self.added)} to add",
            f"{len(self.removed)} to remove",
            f"{len(self.changed)} to change",
        ]
        if self.replaced:
            parts.append(f"{len(self.replaced)} of them REPLACED (deleted and created anew)")
        if self.aliased:
            parts.append(renamed)
        if self.outputs:
            parts.append(f"{len(self.outputs)} output(s) changed")
        return ", ".join(parts)


MISSING = object()  # an input or output that one side does not have
DOCUMENT_KEY = "document:"  # StatementChange.key of a document element other than Statement


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf paths of a JSON value: `tags.Name`, `vpcSecurityGroupIds[0]`."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in value:
            out.update(flatten(value[key], f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{path}[{index}]"))
        return out
    return {path: value}


def _statements(document: Any) -> list[tuple[str, Any]]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if not isinstance(statements, list):  # one statement written as an object (or malformed)
        statements = [statements]
    keyed: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for index, statement in enumerate(statements, start=1):
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        key = sid if isinstance(sid, str) and sid and sid not in seen else f"#{index}"
        seen.add(key)
        keyed.append((key, statement))
    return keyed


def _parse_document(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str) or text in (COMPUTED, SECRET):
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def statement_changes(before: dict[str, Any], after: dict[str, Any]) -> list[StatementChange]:
    """IAM document changes statement by statement (matched by Sid, else by position)."""
    old, new = dict(_statements(before)), dict(_statements(after))
    changes: list[StatementChange] = []
    for key, statement in _statements(after):
        if key not in old:
            changes.append(StatementChange(key, "added", None, statement))
        elif old[key] != statement:
            changes.append(StatementChange(key, "changed", old[key], statement))
    changes += [
        StatementChange(key, "removed", statement, None)
        for key, statement in _statements(before)
        if key not in new
    ]
    rest_before = {k: v for k, v in before.items() if k != "Statement"}
    rest_after = {k: v for k, v in after.items() if k != "Statement"}
    for key in sorted(set(rest_before) | set(rest_after)):
        if rest_before.get(key) != rest_after.get(key):
            changes.append(
                StatementChange(
                    f"{DOCUMENT_KEY}{key}", "changed", rest_before.get(key), rest_after.get(key)
                )
            )
    return changes


def input_changes(base: Resource, head: Resource) -> list[InputChange]:
    """Changed inputs of one resource; IAM documents compared statement by statement."""
    document_key = IAM_DOCUMENT_INPUTS.get(str(head["type"]))
    before_inputs = {
        k: v for k, v in base.get("inputs", {}).items() if not k.startswith(_IGNORED_INPUT_PREFIX)
    }
    after_inputs = {
        k: v for k, v in head.get("inputs", {}).items() if not k.startswith(_IGNORED_INPUT_PREFIX)
    }
    changes: list[InputChange] = []
    for key in sorted(set(before_inputs) | set(after_inputs)):
        before, after = before_inputs.get(key, MISSING), after_inputs.get(key, MISSING)
        if before == after:
            continue
        if key == document_key:
            old_doc, new_doc = _parse_document(before), _parse_document(after)
            if old_doc is not None and new_doc is not None:
                changes.append(
                    InputChange(key, before, after, tuple(statement_changes(old_doc, new_doc)))
                )
                continue
        if isinstance(before, str | int | float | bool) or isinstance(
            after, str | int | float | bool
        ):
            changes.append(InputChange(key, before, after))
            continue
        old_leaves = flatten(before, key) if before is not MISSING else {}
        new_leaves = flatten(after, key) if after is not MISSING else {}
        for path in sorted(set(old_leaves) | set(new_leaves)):
            old, new = old_leaves.get(path, MISSING), new_leaves.get(path, MISSING)
            if old != new:
                changes.append(InputChange(path, old, new))
    if bool(base.get("protect")) != bool(head.get("protect")):
        changes.append(
            InputChange("(protect)", bool(base.get("protect")), bool(head.get("protect")))
        )
    return changes


def _violation_identity(violation: Mapping[str, Any]) -> str:
    return json.dumps([violation.get(k) for k in ("policy", "urn", "message", "enforcementLevel")])


def plan_diff(base: Plan, head: Plan) -> PlanDiff:
    """What changes from the base plan to this one, resources matched by URN or alias."""
    old = {r["urn"]: r for r in base.get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    matched = plan_match.match(old.values(), list(new.values()))
    changed = []
    for urn in sorted(matched):
        inputs = input_changes(old[matched[urn]], new[urn])
        if inputs:
            replaces = replacing_inputs(str(new[urn]["type"]), {c.path for c in inputs})
            reboot = baseline.parameters_pending_reboot(
                new[urn].get("type"), old[matched[urn]].get("inputs"), new[urn].get("inputs")
            )
            changed.append(ResourceChange(new[urn], tuple(inputs), replaces, tuple(reboot)))
    old_outputs = flatten(base.get("outputs", {}))
    new_outputs = flatten(head.get("outputs", {}))
    outputs = tuple(
        InputChange(path, old_outputs.get(path, MISSING), new_outputs.get(path, MISSING))
        for path in sorted(set(old_outputs) | set(new_outputs))
        if path and old_outputs.get(path, MISSING) != new_outputs.get(path, MISSING)
    )
    old_violations = {_violation_identity(v): v for v in base.get("policyViolations", [])}
    new_violations = {_violation_identity(v): v for v in head.get("policyViolations", [])}
    return PlanDiff(
        added=tuple(new[u] for u in sorted(set(new) - set(matched))),
        removed=tuple(old[u] for u in sorted(set(old) - set(matched.values()))),
        changed=tuple(changed),
        aliased=tuple(Aliased(matched[u], new[u]) for u in sorted(matched) if matched[u] != u),
        outputs=outputs,
        new_violations=tuple(
            sorted(
                (v for k, v in new_violations.items() if k not in old_violations),
                key=violation_key,
            )
        ),
        resolved_violations=tuple(
            sorted(
                (v for k, v in old_violations.items() if k not in new_violations),
                key=violation_key,
            )
        ),
    )


def cluster_replacement_problems(diff: PlanDiff, project: str) -> list[str]:
    """One line per input that would replace a cluster of the base plan (or that it cannot
    change), naming the setting, the value the cluster has and the one the stack asks for."""
    problems = []
    for change in diff.replaced:
        if change.resource["type"] != CLUSTER_TYPE:
            continue
        by_path = {c.path: c for c in change.inputs}
        for key in change.replaces:
            setting, why = CLUSTER_INPUT_SETTINGS.get(key, (key, "it replaces the cluster"))
            c = by_path[key]
            before = "(unset)" if c.before is MISSING else repr(c.before)
            problems.append(
                f"{project}:{setting}: the cluster {change.resource['name']!r} has {key} "
                f"{before}, the stack asks for {c.after!r}: {why}. Set the stack to the "
                "cluster's value to keep it, or pass --allow-cluster-replacement"
            )
    return problems
