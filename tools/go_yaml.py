"""YAML read as the Pulumi CLI reads a stack file: Go's gopkg.in/yaml.v3, then encoding/json.

The CLI decodes `Pulumi.<stack>.yaml` with yaml.v3 (sdk/go/common/workspace/project.go: the
`ProjectStack` it decodes holds `Environment`, whose `UnmarshalYAML(n *yaml.Node)` only yaml.v3
calls). Each config value is first decoded as a Go string, else as an `interface{}` that is
JSON-encoded for the program (sdk/go/common/resource/config/value.go, `unmarshalValue`). This
module reproduces the parts of that a stack file can reach, on PyYAML's nodes:

- scalars resolve as yaml.v3's resolve.go does (YAML 1.2 core schema, not PyYAML's 1.1): only
  true/True/TRUE/false/False/FALSE are booleans (`yes`, `on` are text), `12:30:45` is text (no
  base-60), `0777` is octal 511, `1_000` is 1000, `0x1F` is 31, timestamps stay the text written;
  an explicit tag whose content does not fit (`!!int abc`, `!!bool yes`) is an error;
- a mapping whose keys are not all strings becomes Go's `map[interface{}]interface{}`, which
  Pulumi's `interfaceMapToStringMap` turns into string keys (fmt's `%v`) only at the top of a
  value or inside lists and such maps; under a string-keyed map it stays, and encoding/json refuses
  it, as it refuses NaN and infinities;
- `<<` merge keys merge (explicit keys win, then earlier merged mappings).

`decode_value` returns what the program receives after `json.loads`: str, int, float, bool, None,
lists, dicts, with `secret` standing for each `{secure: <ciphertext>}` mapping.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml

STR, BOOL, INT, FLOAT, NULL, TIMESTAMP = (
    "!!str",
    "!!bool",
    "!!int",
    "!!float",
    "!!null",
    "!!timestamp",
)
BINARY, MERGE = "!!binary", "!!merge"
_LONG = "tag:yaml.org,2002:"
_RESOLVABLE = {"", STR, BOOL, INT, FLOAT, NULL, TIMESTAMP}
MAX_VALUES = 10_000  # values one config key may expand to (aliases included)
MAX_DEPTH = 100  # nesting of one config value


class GoYamlError(ValueError):
    """yaml.v3 or encoding/json would refuse the value (`cli`), or it passes this reader's
    bounds; the message says why."""

    def __init__(self, message: str, *, cli: bool = True) -> None:
        super().__init__(message)
        self.cli = cli


class Loader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's parser and composer, with a plain scalar's tag left empty ("") so that it can be
    resolved as yaml.v3 resolves it; explicit tags are kept as written."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return ""
        tag: str = super().resolve(kind, value, implicit)
        return tag


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_LONG) :] if tag.startswith(_LONG) else tag


# resolve.go: the first character hints at the kind; these are looked up whole.
_MAP: dict[str, tuple[str, Any]] = {
    **{t: (BOOL, True) for t in ("true", "True", "TRUE")},
    **{f: (BOOL, False) for f in ("false", "False", "FALSE")},
    **{n: (NULL, None) for n in ("", "~", "null", "Null", "NULL")},
    **{n: (FLOAT, math.nan) for n in (".nan", ".NaN", ".NAN")},
    **{i: (FLOAT, math.inf) for i in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{i: (FLOAT, -math.inf) for i in ("-.inf", "-.Inf", "-.INF")},
    "<<": (MERGE, "<<"),
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_DECIMAL_FLOAT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?"
)
_INT64 = (-(2**63), 2**63 - 1)


def _hint(text: str) -> str:
    if text == "":
        return "N"
    first = text[0]
    if first in "+-":
        return "S"
    if first.isascii() and first.isdigit():
        return "D"
    if first in "yYnNtTfFoO~":
        return "M"
    return "." if first == "." else ""


def go_parse_int(text: str, *, signed: bool = True) -> int | None:
    """strconv.ParseInt(text, 0, 64) (or ParseUint): a sign, a 0x/0o/0b or leading-0 octal
    prefix, digits; None when Go refuses it or it is out of the 64-bit range."""
    body, negative = text, False
    if signed and body[:1] in ("+", "-"):
        negative, body = body[0] == "-", body[1:]
    base, digits = 10, body
    if len(body) >= 2 and body[0] == "0":
        prefix = body[1].lower()
        base, digits = {"x": (16, body[2:]), "o": (8, body[2:]), "b": (2, body[2:])}.get(
            prefix, (8, body[1:])
        )
    allowed = "0123456789abcdef"[:base]
    # 64 binary digits are the most any 64-bit value takes; longer text is out of range.
    if not digits or len(digits) > 64 or not all(c in allowed for c in digits.lower()):
        return None
    value = -int(digits, base) if negative else int(digits, base)
    low, high = _INT64 if signed else (0, 2**64 - 1)
    return value if low <= value <= high else None


def go_parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64) for the decimal forms YAML reaches; None when Go refuses it
    (out of range included: Go reports ErrRange rather than an infinity)."""
    if not _GO_DECIMAL_FLOAT.fullmatch(text):
        return None
    value = float(text)
    return None if math.isinf(value) else value


def _valid_timestamp(text: str) -> bool:
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        return False
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    if match.group(4) is None:
        return True
    hour, minute, second = (int(match.group(i)) for i in (4, 5, 6))
    return hour < 24 and minute < 60 and second < 60


def resolve(tag: str, text: str) -> tuple[str, Any]:
    """yaml.v3's `resolve(tag, in)`: the tag a scalar resolves to and its Go value. Raises
    GoYamlError when an explicit tag does not fit (`cannot decode !!str `abc` as a !!int`)."""
    tag = short_tag(tag)
    if tag not in _RESOLVABLE:
        return tag, text
    rtag, out = _resolve_plain(tag, text)
    if tag in ("", rtag, STR, BINARY):
        return rtag, out
    if tag == FLOAT and rtag == INT:
        return FLOAT, float(out)
    raise GoYamlError(f"cannot decode {rtag} `{text}` as a {tag}")


def _resolve_plain(tag: str, text: str) -> tuple[str, Any]:
    hint = _hint(text)
    if not hint or tag in (STR, BINARY):
        return STR, text
    if text in _MAP:
        return _MAP[text]
    if hint == ".":
        value = go_parse_float(text)
        return (FLOAT, value) if value is not None else (STR, text)
    if hint in "DS":
        return _resolve_number(tag, text)
    return STR, text


def _resolve_number(tag: str, text: str) -> tuple[str, Any]:
    """resolve.go's digit-or-sign branch: a timestamp, an integer, a float, else text."""
    if tag in ("", TIMESTAMP) and _valid_timestamp(text):
        return TIMESTAMP, text
    plain = text.replace("_", "")
    for signed in (True, False):
        number = go_parse_int(plain, signed=signed)
        if number is not None:
            return INT, number
    value = go_parse_float(plain) if _YAML_FLOAT.fullmatch(plain) else None
    return (FLOAT, value) if value is not None else (STR, text)


def _binary(text: str) -> str:
    try:
        data = base64.b64decode("".join(text.split("\n")).replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        raise GoYamlError("!!binary value contains invalid base64 data") from None
    # Go keeps the bytes; encoding/json (and the engine) replace invalid UTF-8.
    return data.decode("utf-8", "replace")


def _indicated_string(node: yaml.ScalarNode) -> bool:
    """yaml.v3's `indicatedString`: a !!str tag, or no tag and a quoted or block scalar."""
    return short_tag(node.tag) == STR


def scalar_text(node: yaml.Node) -> str:
    """A scalar decoded into a Go string (a top-level config value, a config key): the text
    written; a null is ""; `!!binary` is decoded; an explicit tag must fit."""
    if not isinstance(node, yaml.ScalarNode):
        kind = "!!seq" if isinstance(node, yaml.SequenceNode) else "!!map"
        raise GoYamlError(f"cannot unmarshal {kind} into a string")
    text = str(node.value)
    if _indicated_string(node):
        return text
    rtag, value = resolve(node.tag, text)
    if rtag == BINARY or short_tag(node.tag) == BINARY:
        return _binary(text)
    return "" if value is None and rtag == NULL else text


@dataclass
class GeneralMap:
    """Go's map[interface{}]interface{}: a mapping with a key that is not a string."""

    items: list[tuple[Any, Any]]


class _Decoder:
    def __init__(self) -> None:
        self.count = 0
        self.active: set[int] = set()
        self.seen: set[int] = set()
        self.aliased = False

    def value(self, node: yaml.Node, depth: int) -> Any:
        self.count += 1
        self.aliased = self.aliased or id(node) in self.seen
        self.seen.add(id(node))
        if self.count > MAX_VALUES:
            raise GoYamlError(
                f"expands to more than {MAX_VALUES} values (YAML aliases); write the value out"
                if self.aliased
                else f"holds more than {MAX_VALUES} values; a config value is far smaller: is "
                "this the right file?",
                cli=False,
            )
        if depth > MAX_DEPTH:
            raise GoYamlError(f"is nested more than {MAX_DEPTH} deep", cli=False)
        if id(node) in self.active:
            raise GoYamlError(
                'its YAML aliases refer to themselves (a circular alias; yaml.v3: "anchor '
                'value contains itself")'
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, depth + 1) for item in node.value]
            return self.mapping(node, depth, string_keys=False)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        text = str(node.value)
        if _indicated_string(node):
            return text
        rtag, value = resolve(node.tag, text)
        if short_tag(node.tag) == BINARY:
            return _binary(text)
        if rtag == TIMESTAMP:  # yaml.v3 hands a timestamp to interface{} as its text
            return text
        return value

    def key_tag(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            return "!!seq" if isinstance(node, yaml.SequenceNode) else "!!map"
        if _indicated_string(node):
            return STR
        return resolve(node.tag, str(node.value))[0]

    def mapping(self, node: yaml.MappingNode, depth: int, *, string_keys: bool) -> Any:
        pairs = list(node.value)
        merges = [v for k, v in pairs if _is_merge(k)]
        explicit = [(k, v) for k, v in pairs if not _is_merge(k)]
        string_map = string_keys or all(self.key_tag(k) in (STR, MERGE) for k, _ in explicit)
        result: dict[Any, Any] = {}
        for key_node, value_node in explicit:
            key = self.key(key_node, string_map)
            try:
                result[key] = self.value(value_node, depth + 1)
            except GoYamlError as err:
                if key not in ("secure", _HashableKey("secure")):
                    raise
                # Never quote a `secure:` value: it is ciphertext.
                raise GoYamlError(
                    "a `secure:` value cannot be decoded (its text is not shown)", cli=err.cli
                ) from None
        for source in merges:
            sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
            for merged in sources:
                if not isinstance(merged, yaml.MappingNode):
                    raise GoYamlError("map merge requires map or sequence of maps as the value")
                if id(merged) in self.active:
                    raise GoYamlError("its YAML merge keys merge a mapping into itself")
                self.active.add(id(merged))
                try:
                    part = self.mapping(merged, depth, string_keys=string_map)
                finally:
                    self.active.discard(id(merged))
                items = part.items() if isinstance(part, dict) else part.items
                for key, value in items:
                    plain = string_map or isinstance(key, _HashableKey)
                    result.setdefault(key if plain else _HashableKey(key), value)
        if string_map:
            return result
        return GeneralMap(list(result.items()))

    def key(self, node: yaml.Node, string_map: bool) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise GoYamlError("a mapping key is a list or mapping (invalid map key)")
        if string_map:
            return scalar_text(node)
        key = self.scalar(node)
        if isinstance(key, float) and math.isnan(key):
            raise GoYamlError("a mapping key is .nan (invalid map key)")
        return _HashableKey(key)


@dataclass(frozen=True)
class _HashableKey:
    """A Go interface{} map key: 1 and 1.0 and True are distinct keys in Go, unlike in Python."""

    value: Any

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _HashableKey)
            and type(other.value) is type(self.value)
            and other.value == self.value
        )


def _is_merge(node: yaml.Node) -> bool:
    return (
        isinstance(node, yaml.ScalarNode)
        and node.value == "<<"
        and node.style is None
        and short_tag(node.tag) in ("", "!", MERGE)
    )


def go_format(value: Any) -> str:
    """fmt's `%v` of a decoded YAML scalar (a map key Pulumi turns into a string)."""
    if isinstance(value, _HashableKey):
        value = value.value
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), as fmt's %v prints a float64: the shortest digits,
    in %e form when the exponent is below -4 or 6 and above (1e+06)."""
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    point = len(digits_tuple) + int(exponent)  # position of the decimal point
    exp = point - 1
    head = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{head}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{head}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return head + digits + "0" * (point - len(digits))
    return f"{head}{digits[:point]}.{digits[point:]}"


def _fix(value: Any) -> Any:
    """Pulumi's `interfaceMapToStringMap` (config/value.go): general maps get `%v` keys, and it
    goes on into their values and into lists, but not into string-keyed maps."""
    if isinstance(value, GeneralMap):
        return {go_format(k): _fix(v) for k, v in value.items}
    if isinstance(value, list):
        return [_fix(v) for v in value]
    return value


def is_secure(value: Any) -> bool:
    """config/value.go `isSecureValue`: a map of one key, `secure`, whose value is a string."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _json(value: Any, secret: Any) -> Any:
    """encoding/json's view of a decoded value, as the program's `json.loads` gets it."""
    if isinstance(value, GeneralMap):
        raise GoYamlError(
            "holds a mapping whose keys are not all strings inside another mapping; the Pulumi "
            "CLI cannot pass it on (json: unsupported type: map[interface {}]interface {}): "
            "quote its keys"
        )
    if isinstance(value, dict):
        if is_secure(value):
            return secret
        return {k: _json(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v, secret) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise GoYamlError(
                f"holds {_go_float(value)}, which the Pulumi CLI cannot pass on "
                "(json: unsupported value); quote it if it is text"
            )
        # encoding/json writes a whole float64 below 1e21 without a point: the program reads
        # an integer.
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value
    return value


def decode_value(node: yaml.Node, secret: Any) -> Any:
    """A top-level config value as the program receives it (value.go, `unmarshalValue`): a scalar
    as its text, `{secure: ...}` as `secret`, a list or mapping as JSON values."""
    if isinstance(node, yaml.ScalarNode):
        return scalar_text(node)
    decoder = _Decoder()
    value = _fix(decoder.value(node, 0))
    if is_secure(value):
        return secret
    return _json(value, secret)


def config_key_text(node: yaml.Node) -> str:
    """A key of the `config:` mapping decoded into a Go string (config.Map's map[string]Value)."""
    return scalar_text(node)


def merge_pairs(
    node: yaml.MappingNode, within: frozenset[int] = frozenset()
) -> list[tuple[yaml.Node, yaml.Node]]:
    """A mapping's pairs with its `<<` merge keys applied as yaml.v3 applies them: explicit keys,
    then keys of the merged mappings not already there (the first merged mapping wins)."""
    if id(node) in within or len(within) > MAX_DEPTH:
        raise GoYamlError("its YAML merge keys merge a mapping into itself")
    within = within | {id(node)}
    explicit = [(k, v) for k, v in node.value if not _is_merge(k)]
    seen = {str(k.value) for k, _ in explicit if isinstance(k, yaml.ScalarNode)}
    result = list(explicit)
    met = 0  # pairs met in merged mappings, aliases included: bounded like any expansion
    for key_node, source in node.value:
        if not _is_merge(key_node):
            continue
        sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
        for merged in sources:
            if not isinstance(merged, yaml.MappingNode):
                raise GoYamlError("map merge requires map or sequence of maps as the value")
            for pair in merge_pairs(merged, within):
                met += 1
                if met > MAX_VALUES:
                    raise GoYamlError(
                        f"its merge keys expand to more than {MAX_VALUES} keys", cli=False
                    )
                text = str(pair[0].value) if isinstance(pair[0], yaml.ScalarNode) else None
                if text is None or text not in seen:
                    result.append(pair)
                    if text is not None:
                        seen.add(text)
    return result
