"""A stack file (`Pulumi.<stack>.yaml`) read the way the Pulumi CLI hands it to the program.

No input crashes this: YAML that parses but is not config (non-string keys, `!!binary`, `!!set`,
circular or exploding aliases, unencodable text) is refused with one problem per config key, and
every problem names its key. Timestamps stay the text they were written as, as the Pulumi CLI's
YAML reader (Go yaml.v3, decoding into untyped values) keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from model.settings import KEYS_BY_NAME, PROJECT, SettingsError
from model.settings import SECRET as ENCRYPTED

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


def _expanded_size(node: yaml.Node, sizes: dict[int, int], active: set[int]) -> int:
    """How many values the node becomes once its aliases are expanded; -1 for a cycle.

    Aliases are shared nodes, so the count is memoised per node: linear in the file's size even
    when the expansion is exponential.
    """
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        return -1
    active.add(key)
    total = 1
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    for child in children:
        size = _expanded_size(child, sizes, active)
        if size < 0:
            return -1
        total = min(total + size, MAX_VALUES_PER_KEY + 1)
    active.discard(key)
    sizes[key] = total
    return total


def _value_problem(value: Any) -> str | None:
    """Why a constructed YAML value cannot be config (None when it can)."""
    if isinstance(value, str):
        return None if _encodable(value) else _NOT_UNICODE
    if value is None or isinstance(value, bool | int | float):
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
    for key_node, value_node in config.value:
        name = _key_name(key_node)
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"):
            problems.append(
                f"config key {name}: a config key is a string `<namespace>:<name>`, "
                f"e.g. {PROJECT}:port"
            )
            continue
        size = _expanded_size(value_node, sizes, set())
        if size < 0:
            problems.append(f"{name}: its YAML aliases refer to themselves (a circular alias)")
            continue
        if size > MAX_VALUES_PER_KEY:
            problems.append(
                f"{name}: expands to more than {MAX_VALUES_PER_KEY} values (YAML aliases); "
                "write the value out"
            )
            continue
        try:
            value = loader.construct_object(value_node, deep=True)
        except (yaml.YAMLError, TypeError, ValueError) as err:
            problems.append(f"{name}: is not a config value: {printable(str(err).splitlines()[0])}")
            continue
        problem = _value_problem(value) or _value_problem(str(key_node.value))
        if problem:
            problems.append(f"{name}: {problem}")
            continue
        values[str(key_node.value)] = value
    return values, problems


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
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "config":
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
                return None
            if not isinstance(value_node, yaml.MappingNode):
                raise shape
            return value_node
    # Settings written at the top level, without the `config:` block Pulumi reads them from.
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
    return None


def declared_type_problems(config: Mapping[str, Any]) -> list[str]:
    """Values the Pulumi CLI refuses before the program runs: a YAML list or mapping where
    Pulumi.yaml declares a string, integer or boolean, and a mapping where it declares an array."""
    problems = []
    for full_name, value in config.items():
        key = KEYS_BY_NAME.get(full_name.removeprefix(f"{PROJECT}:"))
        if key is None or not key.declared or not full_name.startswith(f"{PROJECT}:"):
            continue
        structured = isinstance(value, list) or (isinstance(value, dict) and "secure" not in value)
        if key.type != "array" and structured:
            fix = 'write it as a JSON string, e.g. \'{"team":"data"}\''
        elif key.type == "array" and isinstance(value, dict) and "secure" not in value:
            fix = "write a YAML list"
        else:
            continue
        shown = printable(json.dumps(value))
        problems.append(f"{full_name} = {shown!r}: Pulumi.yaml declares it type: {key.type}; {fix}")
    return problems


def config_strings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Config values as the engine passes them on: strings, JSON for lists and mappings,
    `true`/`false` for booleans; a `secure:` value is model.settings.SECRET, which the gate shows
    as a secret and never reads."""
    result: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            result[key] = ENCRYPTED
        elif isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, str):
            result[key] = value
        else:
            result[key] = json.dumps(value)
    return result


def load_config(config_file: Path) -> dict[str, Any]:
    """The stack file's config as the engine would pass it to the program."""
    config = read_config(config_file)
    problems = declared_type_problems(config)
    if problems:
        raise SettingsError(problems)
    return config_strings(config)
