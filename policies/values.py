"""Reading resource properties at preview: unknown values, booleans, numbers and string lists.

Values only known after deploy arrive as the engine's unknown sentinels (or `<computed>` from the
offline plan). Rules read properties through `known()`, which turns each of them into `UNKNOWN`,
so a rule can tell "not set" (None) from "not known yet" (UNKNOWN) and never guesses either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import proxy as _proxy

from .aws_facts import COMPUTED, SECRET

__all__ = ["COMPUTED", "HIDDEN", "UNKNOWN"]


class Unknown:
    """A value only known after deploy (or a secret the offline plan does not show)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Final = Unknown()
HIDDEN: Final = SECRET  # how the offline plan writes a secret value (COMPUTED: an unknown)
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
    a rule judge what it can and say which value it could not judge.
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


def as_bool(value: Any) -> bool | Unknown | None:
    """True/False, None when absent, UNKNOWN when not known yet (or not a boolean at all)."""
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return UNKNOWN


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def known_str(value: Any) -> str | None:
    return value if isinstance(value, str) and not is_unknown(value) else None


def strings(value: Any) -> tuple[str, ...]:
    """An IAM element that may be one value or a list, as strings."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(s for item in value for s in strings(item))
    if isinstance(value, bool):
        return ("true" if value else "false",)
    return (str(value),)


def stack_of(urn: str) -> str | None:
    """The stack name inside a URN (`urn:pulumi:<stack>::<project>::...`)."""
    match = re.match(r"^urn:pulumi:([^:]+)::", urn or "")
    return match.group(1) if match else None


def parent_type(parent_urn: Any) -> str | None:
    """The type of the resource a URN names (`...::a:b:C$x:y:Z::name` -> `x:y:Z`)."""
    if not isinstance(parent_urn, str):
        return None
    parts = parent_urn.split("::")
    return parts[2].split("$")[-1] if len(parts) >= 4 else None
