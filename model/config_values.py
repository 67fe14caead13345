"""Reading one config value the way each caller hands it over, and showing a refused one.

The engine passes every value as text (structured ones as JSON); a stack file read by the offline
plan gives YAML lists and mappings, and `ENCRYPTED` for a value the file keeps encrypted. Each
parser returns the key's type or raises ValueError with the rule, worded for the user.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from model.config_keys import PROJECT

MAX_SHOWN = 80  # characters of a refused value shown in its problem line


class _Secret:
    """A value the stack file keeps encrypted (`secure:`): the offline plan cannot read it."""

    def __repr__(self) -> str:
        return "[secret]"


ENCRYPTED: Any = _Secret()


def shown(value: Any) -> str:
    """A refused value as its problem line shows it: repr, cut to a bounded length; the value of
    any `secure` key in it is ciphertext (a `secure:` mapping Pulumi did not take as a secret) and
    is never shown."""
    if value is ENCRYPTED:
        return "[secret]"
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = repr(json.dumps(_ciphertext_hidden(value), ensure_ascii=True, default=repr))
        except (ValueError, RecursionError):  # circular structures
            text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 5] + "...'"


def _ciphertext_hidden(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return "..."
    if isinstance(value, dict):
        return {
            k: "[ciphertext]" if k == "secure" else _ciphertext_hidden(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_ciphertext_hidden(v, depth + 1) for v in value]
    return value


def problem(key: str, value: Any, rule: str) -> str:
    return f"{PROJECT}:{key} = {shown(value)}: {rule}"


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def go_atoi(text: str) -> int | None:
    """Go's strconv.Atoi on a 64-bit machine, the parser the Pulumi CLI checks a declared
    `type: integer` value with (sdk/go/common/workspace/project.go, `ValidateConfigValue`): an
    optional sign and the ASCII digits 0-9, nothing else (no spaces, `_`, `0x`), within int64.
    None when it refuses the text. Every whole number in a config value is read with this."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits and digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    number = int(text)
    return number if INT64_MIN <= number <= INT64_MAX else None


def integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and (number := go_atoi(value)) is not None:
        return number
    raise ValueError(
        "must be a whole number written with the digits 0-9 alone (an optional sign; no "
        "spaces or other characters)"
    )


def boolean(value: Any) -> bool:
    # The Pulumi CLI takes only the literal strings "true" and "false" for a declared boolean
    # (sdk/go/common/workspace/project.go, `ValidateConfigValue`).
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise ValueError("must be true or false (lower case)")


def string(value: Any) -> str:
    # The engine hands every scalar over as text; a YAML number in a stack file is the same text.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError("must be a string")


def structured(value: Any, kind: type, example: str, *, declared: bool = False) -> Any:
    """A list or mapping as YAML gives it, or as the JSON text the engine passes for one.

    `declared`: Pulumi.yaml declares the key an array, and the CLI refuses a string for it (a
    JSON string included), so the message does not offer that form."""
    form = f"must be a {example}" + ("" if declared else " (YAML, or the same as a JSON string)")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise ValueError(form) from None
    if not isinstance(value, kind):
        raise ValueError(form)
    return value


def strings(value: Any) -> tuple[str, ...]:
    items = structured(value, list, 'list of strings, e.g. ["a", "b"]', declared=True)
    if not all(isinstance(item, str) for item in items):
        raise ValueError('must be a list of strings, e.g. ["a", "b"]')
    return tuple(items)


def tags(value: Any) -> dict[str, str]:
    mapping = structured(value, dict, 'mapping of strings, e.g. {"team": "data"}')
    # `pulumi config set --path 'xpander-redshift:tags.cost-center' 4711` stores a number (and
    # `true` a boolean); an AWS tag value is their text.
    text = {k: tag_value(val) for k, val in mapping.items()}
    if not all(isinstance(k, str) and isinstance(val, str) for k, val in text.items()):
        raise ValueError('must be a mapping of strings to strings, e.g. {"team": "data"}')
    return text


def tag_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


PARSERS: dict[str, Callable[[Any], Any]] = {
    "string": string,
    "integer": integer,
    "boolean": boolean,
    "array": strings,
    "object": tags,
    "connectors": lambda value: structured(value, list, "list of connector mappings"),
}


def holds_secret(value: Any) -> bool:
    """Whether a value is the secret marker or holds one: Pulumi marks the whole top-level key
    secret when any part of it is (`pulumi config set --secret --path`)."""
    if isinstance(value, dict):
        return any(holds_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_secret(item) for item in value)
    return value is ENCRYPTED
