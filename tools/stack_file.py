"""A stack file (`Pulumi.<stack>.yaml`) read the way the Pulumi CLI hands it to the program.

No input crashes this: every problem is a `SettingsError` line naming the file or the key.
The file is read with tools.input_files (a regular file, bounded in size); its YAML as Go's
yaml.v3 reads it (tools.go_yaml): a top-level scalar is handed on as the text written
(sdk/go/common/resource/config/value.go, `unmarshalValue`: "First, try to unmarshal as a
string"), so `0777`, `yes`, `.5` stay that text; a list or mapping is handed on as the JSON the
CLI passes (`yes` and `12:30:45` stay text in it, `1_000` is 1000); a `{secure: <ciphertext>}`
is `model.config_values.ENCRYPTED` wherever it stands, so no ciphertext goes further. Mapping keys
must be unique at every level (yaml.v3 refuses a repeated key); config keys are parsed as the CLI's
`config.ParseKey` parses them (sdk/go/common/resource/config/key.go).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from model.config_keys import KEYS_BY_NAME, PROJECT
from model.config_values import ENCRYPTED, go_atoi, shown
from model.settings import SettingsError
from tools import go_yaml
from tools.input_files import InputFileError, read_bytes

# Bounds: a stack file is a few dozen lines.
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = go_yaml.MAX_DEPTH
MAX_SHOWN = 200  # characters of a refused value quoted in a message


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


_NOT_UNICODE = "holds text that is not valid Unicode (a lone surrogate escape)"


def _encodable(value: Any) -> bool:
    """Whether every text in a decoded value can be UTF-8 (a `\ud800` escape cannot)."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(current, dict):
            stack.extend(current)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return True


def parse_key(text: str) -> tuple[str, str] | None:
    """config.ParseKey (sdk/go/common/resource/config/key.go): `<namespace>:<name>`, or the old
    `<namespace>:config:<name>`, read as `<namespace>:<name>`; None for any other form (no colon,
    three or more, or two whose middle part is not `config`), which the CLI refuses."""
    parts = text.split(":")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 3 and parts[1] == "config":
        return parts[0], parts[2]
    return None


def _unparsable_key(name: str) -> str:
    parts = name.split(":")
    hint = ""
    if len(parts) == 3 and parts[0] == PROJECT and parts[1] in ("aws", "pulumi"):
        hint = f"; did you mean `{parts[1]}:{parts[2]}`?"
    elif len(parts) >= 3 and parts[0] == PROJECT:
        hint = f"; did you mean `{PROJECT}:{parts[-1]}`?"
    elif len(parts) == 1 and parts[0] in KEYS_BY_NAME:
        hint = f"; did you mean `{PROJECT}:{parts[0]}`?"
    return (
        f"config key {name}: the Pulumi CLI refuses this file: it could not parse {name} as "
        "a configuration key (configuration keys should be of the form `<namespace>:<name>`, "
        f"e.g. {PROJECT}:port){hint}"
    )


def _config_problems(config: yaml.MappingNode) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    checked: set[int] = set()
    first_line: dict[str, int] = {}
    repeated = _repeated_keys_here(config)
    if repeated:
        return {}, [_repeated_key_problem("config", repeated)]
    written_as: dict[str, str] = {}
    for key_node, value_node in go_yaml.merge_pairs(config):
        name = _key_name(key_node)
        try:
            text = go_yaml.config_key_text(key_node)
        except go_yaml.GoYamlError as err:
            problems.append(
                f"config key {name}: {err}; a config key is a string `<namespace>:<name>`, "
                f"e.g. {PROJECT}:port"
            )
            continue
        parsed = parse_key(text)
        if parsed is None:
            problems.append(_unparsable_key(printable(text)))
            continue
        full = f"{parsed[0]}:{parsed[1]}"
        if full in written_as:
            problems.append(
                f"config key {printable(text)}: names the same key as "
                f"{printable(written_as[full])} ({printable(full)}); the Pulumi CLI keeps one of "
                "the two at random: keep one"
            )
            continue
        written_as[full] = text
        first_line.setdefault(full, key_node.start_mark.line + 1)
        name = printable(full)
        repeated_keys = _repeated_keys(value_node, checked)
        if repeated_keys:
            problems.append(_repeated_key_problem(name, repeated_keys[0]))
            continue
        try:
            value = go_yaml.decode_value(value_node, ENCRYPTED)
        except go_yaml.GoYamlError as err:
            line = value_node.start_mark.line + 1
            problems.append(
                f"{name}: {printable(str(err))} (line {line}); the Pulumi CLI refuses this file"
                if err.cli
                else f"{name}: {printable(str(err))}"
            )
            continue
        if not _encodable(value) or not _encodable(full):
            problems.append(f"{name}: {_NOT_UNICODE}")
            continue
        values[full] = value
    return values, problems


def _repeated_keys_here(node: yaml.MappingNode) -> tuple[str, int, int] | None:
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            text, line = str(key_node.value), key_node.start_mark.line + 1
            if text in lines:
                return text, line, lines[text]
            lines[text] = line
    return None


# YAML's printable characters (libyaml's reader, which yaml.v3 ports: "control characters are
# not allowed"): TAB, LF, CR, 0x20-0x7E, NEL, 0xA0-0xD7FF, 0xE000-0xFFFD, 0x10000 and above.
def _control_character(text: str) -> tuple[int, int, str] | None:
    for index, char in enumerate(text):
        code = ord(char)
        if (
            code in (0x09, 0x0A, 0x0D, 0x85)
            or 0x20 <= code <= 0x7E
            or 0xA0 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or code >= 0x10000
        ):
            continue
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        return line, column, f"U+{code:04X}"
    return None


def _depth_problem(text: str) -> int | None:
    """The line where the first document nests deeper than MAX_DEPTH (None when it does not),
    found from the parser's events, before any recursive composing."""
    loader = go_yaml.Loader(text)
    depth = 0
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH + 2:  # the document's mapping and `config:` itself
                    return int(event.start_mark.line) + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.DocumentEndEvent | yaml.StreamEndEvent):
                return None
    finally:
        loader.dispose()


def _decoded_text(config_file: Path, data: bytes) -> str:
    # The CLI strips a UTF-8 byte order mark (workspace/loaders.go, readFileStripUTF8BOM);
    # yaml.v3, like libyaml, also reads UTF-16 that starts with its byte order mark.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise SettingsError(
            [f"{config_file}: is not UTF-8 text (byte {err.start}: {err.reason})"]
        ) from None


def read_config(config_file: Path, notes: list[str] | None = None) -> dict[str, Any]:
    """The stack file's `config:` block as the program gets it. Raises SettingsError, one line
    per key, or FileNotFoundError. `notes` collects what the CLI does silently (a second YAML
    document it ignores)."""
    where = printable(str(config_file))
    try:
        missing = not config_file.exists() and not config_file.is_symlink()
    except (OSError, ValueError):  # a NUL byte in the path, a name too long: read_bytes says
        missing = False
    if missing:
        raise FileNotFoundError(2, "No such file or directory", str(config_file))
    try:
        data = read_bytes(config_file, where, MAX_FILE_BYTES)
    except InputFileError as err:
        raise SettingsError([str(err)]) from None
    text = _decoded_text(config_file, data)
    control = _control_character(text)
    if control:
        line, column, code = control
        raise SettingsError(
            [
                f"{where}: line {line}, column {column}: holds the control character {code}; "
                'YAML, and so the Pulumi CLI, refuses a file with one ("control characters are '
                'not allowed"): remove it, or write it as an escape inside double quotes'
            ]
        )
    try:
        deep = _depth_problem(text)
        if deep is not None:
            raise SettingsError(
                [f"{where}: line {deep}: nested more than {MAX_DEPTH} deep; a stack file is not"]
            )
        loader = go_yaml.Loader(text)
        try:
            # yaml.v3's Unmarshal reads the first document only.
            root = loader.get_node() if loader.check_node() else None
            if notes is not None and _has_another_document(loader):
                notes.append(
                    f"{where}: holds a second YAML document (after a `---` line); the Pulumi "
                    "CLI reads only the first and ignores the rest, and so does this plan"
                )
            config = _config_node(config_file, root)
            if config is None:
                return {}
            values, problems = _config_problems(config)
        finally:
            loader.dispose()
    except go_yaml.GoYamlError as err:
        raise SettingsError([f"{where}: {printable(str(err))}"]) from None
    except yaml.YAMLError as err:
        first = printable(" ".join(str(err).split()))
        raise SettingsError([f"{where}: is not valid YAML: {first}"]) from None
    except RecursionError:
        raise SettingsError([f"{where}: is nested too deeply to be a stack file"]) from None
    if problems:
        raise SettingsError(problems)
    return values


def _has_another_document(loader: go_yaml.Loader) -> bool:
    try:
        return not loader.check_event(yaml.StreamEndEvent)
    except yaml.YAMLError:
        return True  # unreadable, and ignored by the CLI all the same


def _config_node(config_file: Path, root: yaml.Node | None) -> yaml.MappingNode | None:
    """The `config:` mapping of the document (None when there is none)."""
    shape = SettingsError([f"{config_file}: a stack file is a YAML mapping with a config: block"])
    if root is None:
        return None
    if isinstance(root, yaml.ScalarNode) and go_yaml.resolve(root.tag, root.value)[0] == "!!null":
        return None
    if not isinstance(root, yaml.MappingNode):
        raise shape
    repeated = _repeated_keys_here(root)
    if repeated:
        raise SettingsError([_repeated_key_problem(str(config_file), repeated)])
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
    for key_node, value_node in go_yaml.merge_pairs(root):
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "config":
            if isinstance(value_node, yaml.ScalarNode) and (
                go_yaml.resolve(value_node.tag, value_node.value)[0] == "!!null"
            ):
                return None
            if not isinstance(value_node, yaml.MappingNode):
                raise shape
            return value_node
    return None


# What `pulumi preview` takes for a key Pulumi.yaml declares (sdk/go/common/workspace/project.go,
# `ValidateConfigValue`, run on every stack value by workspace/config.go,
# `validateStackConfigValues`): a top-level scalar reaches it as a Go string, a list or mapping
# as its decoded JSON.
_FIXES = {
    "string": "write one string",
    "integer": (
        "write the number alone: digits with an optional sign, e.g. 5439 (the CLI parses it "
        "with Go's strconv.Atoi: no spaces, underscores, 0x or exponent)"
    ),
    "boolean": "write true or false, in lower case",
    "array": "write a YAML list of strings, e.g. [a, b] or one `- item` per line",
}


def _fits_declared(kind: str, value: Any) -> bool:
    if kind == "string":  # any scalar: the CLI holds it as the text written
        return isinstance(value, str)
    if kind == "integer":  # a string strconv.Atoi parses
        return isinstance(value, str) and go_atoi(value) is not None
    if kind == "boolean":  # the literal strings "true" and "false" only
        return value in ("true", "false")
    # array with `items: {type: string}`: a list (never a string, JSON or not) of strings; a
    # `secure:` entry is a string once decrypted.
    return isinstance(value, list) and all(
        isinstance(item, str) or item is ENCRYPTED for item in value
    )


def declared_type_problems(config: Mapping[str, Any], stack: str = "<stack>") -> list[str]:
    """Values the Pulumi CLI refuses before the program runs, for keys Pulumi.yaml declares."""
    problems = []
    for full_name, value in config.items():
        namespace, _, name = full_name.partition(":")
        key = KEYS_BY_NAME.get(name)
        if namespace != PROJECT or key is None or not key.declared or value is ENCRYPTED:
            continue
        if _fits_declared(key.type, value):
            continue
        type_name = "array<string>" if key.type == "array" else key.type
        fix = _FIXES[key.type]
        if key.type == "array" and isinstance(value, str):
            fix += "; a JSON string is text, not a list, to the CLI"
        elif key.type == "array" and isinstance(value, list):
            fix = "each entry must be a string: quote it"
        problems.append(
            f"{full_name} = {shown(value)}: Pulumi.yaml declares it type: {key.type}, and "
            f'`pulumi preview` refuses this value before the program runs ("Stack '
            f"'{printable(stack)}' with configuration key '{name}' must be of type "
            f"'{type_name}'\"): {fix}"
        )
    return problems


def _secrets_marked(value: Any) -> Any:
    """A constructed value with every `{secure: ...}` mapping in it replaced by the marker."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("secure"), str):
            return ENCRYPTED
        return {k: _secrets_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets_marked(v) for v in value]
    return value


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


def load_config(config_file: Path, notes: list[str] | None = None) -> dict[str, Any]:
    """The stack file's config as the engine would pass it to the program."""
    config = read_config(config_file, notes)
    problems = declared_type_problems(config, stack=config_file.stem.split(".")[-1])
    if problems:
        raise SettingsError(problems)
    return config_strings(config)
