"""A stack file (`Pulumi.<stack>.yaml`) read the way the Pulumi CLI hands it to the program.

No input crashes this: YAML that parses but is not config (non-string keys, `!!binary`, `!!set`,
circular or exploding aliases, unencodable text) is refused with one problem per config key, and
every problem names its key.

A top-level config scalar is handed on as the text written (a quoted one: its content), as the
Pulumi CLI reads it (sdk/go/common/resource/config/value.go, `unmarshalValue`: "First, try to
unmarshal as a string"): `0777`, `1_000`, `yes`, `.5` stay that text, not YAML 1.1's numbers and
booleans. Lists and mappings are handed on as Python structures, their scalars as YAML reads them
(timestamps kept as text, as Go yaml.v3 keeps them); a `{secure: <ciphertext>}` anywhere in them
is `model.config_values.ENCRYPTED`, so no ciphertext goes further. Mapping keys must be unique at
every level (yaml.v3, which the CLI reads stack files with, refuses a repeated key).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from model.config_keys import KEYS_BY_NAME, PROJECT
from model.config_values import ENCRYPTED
from model.settings import SettingsError

# Bounds: a stack file is a few dozen lines. Far larger files, or aliases that expand a few
# hundred bytes into millions of values ("billion laughs"), are refused before they are built.
MAX_FILE_BYTES = 1_000_000
MAX_VALUES_PER_KEY = 10_000
MAX_SHOWN = 200  # characters of a refused value quoted in a message


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader, keeping timestamps as the text written (not date objects)."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def printable(text: str, limit: int = MAX_SHOWN) -> str:
    """Text safe to print on one line whatever it holds: lone surrogates and controls escaped,
    at most `limit` characters."""
    escaped = text.encode("utf-8", "backslashreplace").decode("utf-8")
    escaped = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in escaped)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


def _key_name(node: yaml.Node) -> str:
    return printable(str(node.value)) if isinstance(node, yaml.ScalarNode) else f"<{node.tag}>"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _expanded_size(
    node: yaml.Node, sizes: dict[int, int], active: set[int], aliased: list[bool]
) -> int:
    """How many values the node becomes once its aliases are expanded; -1 for a cycle.

    Aliases are shared nodes, so the count is memoised per node: linear in the file's size even
    when the expansion is exponential. `aliased[0]` is set when a node is met again (an alias).
    """
    key = id(node)
    if key in sizes:
        aliased[0] = True
        return sizes[key]
    if key in active:
        return -1
    active.add(key)
    total = 1
    for child in _children(node):
        size = _expanded_size(child, sizes, active, aliased)
        if size < 0:
            return -1
        total = min(total + size, MAX_VALUES_PER_KEY + 1)
    active.discard(key)
    sizes[key] = total
    return total


def _repeated_keys(node: yaml.Node, seen: set[int]) -> list[tuple[str, int, int]]:
    """Mapping keys written twice in one mapping, anywhere under `node`: (key, line, first line).

    As Go yaml.v3 (decode.go, `uniqueKeys`) compares them: two scalar keys with the same text.
    """
    found: list[tuple[str, int, int]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key_node, _ in current.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                text = str(key_node.value)
                line = key_node.start_mark.line + 1
                if text in lines:
                    found.append((text, line, lines[text]))
                else:
                    lines[text] = line
        stack.extend(_children(current))
    return found


def _repeated_key_problem(where: str, repeated: tuple[str, int, int]) -> str:
    key, line, first = repeated
    return (
        f"{where}: key {printable(key)!r} is written twice (lines {first} and {line}); the "
        "Pulumi CLI refuses a repeated YAML key: keep one"
    )


def _is_secure(node: yaml.Node) -> bool:
    """`{secure: <ciphertext>}`: what `pulumi config set --secret` writes, at any depth."""
    return (
        isinstance(node, yaml.MappingNode)
        and len(node.value) == 1
        and isinstance(node.value[0][0], yaml.ScalarNode)
        and node.value[0][0].value == "secure"
        and isinstance(node.value[0][1], yaml.ScalarNode)
        and node.value[0][1].tag == "tag:yaml.org,2002:str"
    )


# Tags whose top-level scalars are handed on as the text written; others (`!!binary`, unknown
# tags) are constructed, so that they are refused as not config.
_TEXT_TAGS = {
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "timestamp")
}


def _secrets_marked(value: Any) -> Any:
    """A constructed value with every `{secure: ...}` mapping in it replaced by the marker."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("secure"), str):
            return ENCRYPTED
        return {k: _secrets_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets_marked(v) for v in value]
    return value


def _value_problem(value: Any) -> str | None:
    """Why a constructed YAML value cannot be config (None when it can)."""
    if isinstance(value, str):
        return None if _encodable(value) else _NOT_UNICODE
    if value is None or value is ENCRYPTED or isinstance(value, bool | int | float):
        return None
    if isinstance(value, list):
        return next((p for p in map(_value_problem, value) if p), None)
    if isinstance(value, dict):
        keys = [k for k in value if not isinstance(k, str | int | float | bool)]
        if keys:
            return f"has a mapping key of YAML type {type(keys[0]).__name__}"
        return next((p for p in map(_value_problem, [*value, *value.values()]) if p), None)
    kinds: dict[type, str] = {bytes: "!!binary", set: "!!set"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"is a YAML {kind} value, which is not config: write a string"


_NOT_UNICODE = "holds text that is not valid Unicode (a lone surrogate escape)"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _config_problems(loader: _Loader, config: yaml.MappingNode) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    sizes: dict[int, int] = {}
    checked: set[int] = set()
    first_line: dict[str, int] = {}
    for key_node, value_node in config.value:
        name = _key_name(key_node)
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"):
            problems.append(
                f"config key {name}: a config key is a string `<namespace>:<name>`, "
                f"e.g. {PROJECT}:port"
            )
            continue
        line = key_node.start_mark.line + 1
        if str(key_node.value) in first_line:
            repeated = (str(key_node.value), line, first_line[str(key_node.value)])
            problems.append(_repeated_key_problem("config", repeated))
            continue
        first_line[str(key_node.value)] = line
        aliased = [False]
        size = _expanded_size(value_node, sizes, set(), aliased)
        if size < 0:
            problems.append(f"{name}: its YAML aliases refer to themselves (a circular alias)")
            continue
        if size > MAX_VALUES_PER_KEY:
            problems.append(
                f"{name}: expands to more than {MAX_VALUES_PER_KEY} values (YAML aliases); "
                "write the value out"
                if aliased[0]
                else f"{name}: holds more than {MAX_VALUES_PER_KEY} values; a config value "
                "is far smaller: is this the right file?"
            )
            continue
        repeated_keys = _repeated_keys(value_node, checked)
        if repeated_keys:
            problems.append(_repeated_key_problem(name, repeated_keys[0]))
            continue
        try:
            value = _handed_on(loader, value_node)
        except (yaml.YAMLError, TypeError, ValueError) as err:
            problems.append(f"{name}: is not a config value: {printable(str(err).splitlines()[0])}")
            continue
        problem = _value_problem(value) or _value_problem(str(key_node.value))
        if problem:
            problems.append(f"{name}: {problem}")
            continue
        values[str(key_node.value)] = value
    return values, problems


def _handed_on(loader: _Loader, node: yaml.Node) -> Any:
    """A config value as the Pulumi CLI hands it on: a top-level scalar as its text, a secret
    as the marker, a list or mapping as YAML builds it (secrets in it marked)."""
    if _is_secure(node):
        return ENCRYPTED
    if isinstance(node, yaml.ScalarNode) and node.tag in _TEXT_TAGS:
        # A null (`key:`, `~`, `null`) decodes into Go's empty string.
        return "" if node.tag.endswith(":null") else str(node.value)
    return _secrets_marked(loader.construct_object(node, deep=True))


def read_config(config_file: Path) -> dict[str, Any]:
    """The stack file's `config:` block as YAML values. Raises SettingsError, one line per key,
    or FileNotFoundError."""
    try:
        with config_file.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise SettingsError([f"{config_file}: cannot be read: {err.strerror or err}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise SettingsError([f"{config_file}: is larger than {MAX_FILE_BYTES} bytes"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SettingsError([f"{config_file}: is not UTF-8 text ({err.reason})"]) from None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        config = _config_node(config_file, root)
        if config is None:
            return {}
        values, problems = _config_problems(loader, config)
    except yaml.YAMLError as err:
        first = printable(" ".join(str(err).split()))
        raise SettingsError([f"{config_file}: is not valid YAML: {first}"]) from None
    except RecursionError:
        raise SettingsError([f"{config_file}: is nested too deeply to be a stack file"]) from None
    finally:
        loader.dispose()
    if problems:
        raise SettingsError(problems)
    return values


def _config_node(config_file: Path, root: yaml.Node | None) -> yaml.MappingNode | None:
    """The `config:` mapping of the document (None when there is none)."""
    shape = SettingsError([f"{config_file}: a stack file is a YAML mapping with a config: block"])
    if root is None:
        return None
    if not isinstance(root, yaml.MappingNode):
        raise shape
    first_line: dict[str, int] = {}
    for key_node, _ in root.value:
        if isinstance(key_node, yaml.ScalarNode):
            line = key_node.start_mark.line + 1
            if str(key_node.value) in first_line:
                repeated = (str(key_node.value), line, first_line[str(key_node.value)])
                raise SettingsError([_repeated_key_problem(str(config_file), repeated)])
            first_line[str(key_node.value)] = line
    # Settings written at the top level, outside the `config:` block Pulumi reads them from.
    stray = [
        key_node.value
        for key_node, _ in root.value
        if isinstance(key_node, yaml.ScalarNode) and ":" in str(key_node.value)
    ]
    if stray:
        raise SettingsError(
            [
                f"{config_file}: {printable(stray[0])!s} and {len(stray) - 1} more keys stand at "
                "the top level; Pulumi reads settings only under `config:` (indent them below a "
                "`config:` line)"
                if len(stray) > 1
                else f"{config_file}: {printable(stray[0])!s} stands at the top level; Pulumi "
                "reads settings only under `config:` (indent it below a `config:` line)"
            ]
        )
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "config":
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
                return None
            if not isinstance(value_node, yaml.MappingNode):
                raise shape
            return value_node
    return None


def declared_type_problems(config: Mapping[str, Any]) -> list[str]:
    """Values the Pulumi CLI refuses before the program runs: a YAML list or mapping where
    Pulumi.yaml declares a string, integer or boolean, and a mapping where it declares an array."""
    problems = []
    for full_name, value in config.items():
        key = KEYS_BY_NAME.get(full_name.removeprefix(f"{PROJECT}:"))
        if key is None or not key.declared or not full_name.startswith(f"{PROJECT}:"):
            continue
        if key.type != "array" and isinstance(value, list | dict):
            fix = f"write one {key.type} value"
        elif key.type == "array" and isinstance(value, dict):
            fix = "write a YAML list"
        else:
            continue
        shown = printable(json.dumps(value, default=repr))
        problems.append(f"{full_name} = {shown!r}: Pulumi.yaml declares it type: {key.type}; {fix}")
    return problems


def config_strings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config values already built by a YAML reader, as the engine passes them on: scalars as
    text (`true`/`false` for booleans), lists and mappings as they are; a `secure:` value, at the
    top level or inside a list or mapping, is model.config_values.ENCRYPTED, which the gate shows
    as a secret and never reads. (`read_config` keeps the text written; this serves documents read
    with `yaml.safe_load`.)"""
    result: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            result[key] = str(value)
        else:
            result[key] = _secrets_marked(value)
    return result


def load_config(config_file: Path) -> dict[str, Any]:
    """The stack file's config as the engine would pass it to the program."""
    config = read_config(config_file)
    problems = declared_type_problems(config)
    if problems:
        raise SettingsError(problems)
    return config_strings(config)
