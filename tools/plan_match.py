"""Which resource of a base plan each resource of a new plan is, aliases included.

Pulumi matches a registration to the state by its URN first, then by each URN its `aliases`
option names, then by the aliases it inherits from a parent that was itself found under an alias:
the child's name with the parent's old name in place of the new one, under the parent's old URN
(pulumi/pulumi pkg/resource/deploy/step_generator.go: generateAliases, inheritedChildAlias).
A resource found under an alias is the same resource: no create, no delete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Resource = Mapping[str, Any]


def urn_name(urn: str) -> str:
    """The name part of a URN (`urn:pulumi:STACK::PROJECT::TYPE::NAME`)."""
    return urn.split("::", 3)[-1]


def urn_type(urn: str) -> str:
    """The resource's own type: the last `$`-separated part of the URN's qualified type."""
    parts = urn.split("::", 3)
    return parts[2].split("$")[-1] if len(parts) == 4 else ""


def child_urn(parent_urn: str, type_: str, name: str) -> str:
    """A child's URN under `parent_urn`, formed as the plan's engine forms URNs
    (pulumi.runtime.mocks.MockMonitor.make_urn: the parent's own type, then the child's)."""
    stack, project = parent_urn.split("::", 3)[:2]
    return "::".join([stack, project, f"{urn_type(parent_urn)}${type_}", name])


def inherited_alias(child_type: str, child_name: str, parent_name: str, parent_alias: str) -> str:
    """The engine's inheritedChildAlias: a child named `<parent name>-x` was `<old name>-x`."""
    name = child_name
    if child_name.startswith(parent_name):
        name = urn_name(parent_alias) + child_name[len(parent_name) :]
    return child_urn(parent_alias, child_type, name)


def _depth(resource: Resource, by_urn: Mapping[str, Resource]) -> int:
    depth, parent, seen = 0, resource.get("parent"), set()
    while isinstance(parent, str) and parent in by_urn and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = by_urn[parent].get("parent")
    return depth


def match(base: Iterable[Resource], head: Sequence[Resource]) -> dict[str, str]:
    """head URN -> the base URN it is (itself, or an alias); unmatched head URNs are left out."""
    olds = {str(r["urn"]) for r in base}
    by_urn = {str(r["urn"]): r for r in head}
    matched = {urn: urn for urn in by_urn if urn in olds}
    claimed = set(matched)
    for resource in sorted(head, key=lambda r: _depth(r, by_urn)):
        urn = str(resource["urn"])
        if urn in matched:
            continue
        own = [str(a) for a in resource.get("aliases") or []]
        candidates = list(own)
        parent = resource.get("parent")
        if isinstance(parent, str) and matched.get(parent, parent) != parent:
            parent_alias, parent_name = matched[parent], urn_name(parent)
            candidates.append(
                inherited_alias(str(resource["type"]), urn_name(urn), parent_name, parent_alias)
            )
            candidates += [
                inherited_alias(urn_type(a), urn_name(a), parent_name, parent_alias) for a in own
            ]
        for candidate in candidates:
            if candidate in olds and candidate not in claimed:
                matched[urn] = candidate
                claimed.add(candidate)
                break
    return matched
