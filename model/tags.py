"""Tags: one stack-wide set from settings, merged with a per-resource Name."""

from __future__ import annotations

from collections.abc import Mapping


def resource_tags(stack_tags: Mapping[str, str], name: str) -> dict[str, str]:
    """The stack's tags plus `Name`; a `Name` the user set for the whole stack is kept."""
    return {"Name": name, **stack_tags}
