"""Stack files read as the Pulumi CLI reads them: each expected outcome below is derived from
Pulumi's and Go yaml.v3's source (cited per case), not from this project's reader.

- sdk/go/common/resource/config/value.go `unmarshalValue`: a top-level value is first decoded as
  a Go string (the text written); a list or mapping is decoded as interface{} and JSON-encoded,
  `{secure: <string>}` being a secret.
- sdk/go/common/resource/config/key.go `ParseKey`: `<ns>:<name>`, or `<ns>:config:<name>`; any
  other form fails ("could not parse ... as a configuration key").
- sdk/go/common/workspace/project.go `ValidateConfigValue` (run by workspace/config.go
  `validateStackConfigValues` on each key Pulumi.yaml types): string = a Go string; integer = a
  string strconv.Atoi parses; boolean = the string "true" or "false"; array = a []interface{}
  whose items are strings.
- gopkg.in/yaml.v3 resolve.go: YAML 1.2 core booleans only, no base-60, `0777` octal, `_` dropped
  in numbers; an explicit tag that does not fit fails ("cannot decode !!str `abc` as a !!bool").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model.config_keys import PROJECT
from model.config_values import ENCRYPTED as SECRET
from model.settings import SettingsError
from tools.stack_file import load_config

P = PROJECT
CIPHERTEXT = "v1:Zm9vYmFyCg==:c2VjcmV0LWNpcGhlcnRleHQ="


def read(tmp_path: Path, body: str, notes: list[str] | None = None) -> dict[str, Any]:
    path = tmp_path / "Pulumi.cli.yaml"
    path.write_text(body, encoding="utf-8")
    return load_config(path, notes)


def refused(tmp_path: Path, body: str) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        read(tmp_path, body)
    return caught.value.problems


# --- declared types: project.go ValidateConfigValue ---------------------------------------------

DECLARED_REFUSED = [
    # array: a JSON string is a Go string, not []interface{}.
    (f'{P}:privateSubnetIds: \'["subnet-a", "subnet-b"]\'', "array<string>"),
    (f"{P}:nodeTypes: '[\"ra3.large\"]'", "array<string>"),
    (f"{P}:grantSchemas: '[\"public\"]'", "array<string>"),
    (f"{P}:sourceSecurityGroupIds: '[\"sg-0123456789abcdef0\"]'", "array<string>"),
    (f"{P}:credentialsDbUsers: '[\"*\"]'", "array<string>"),
    (f"{P}:privateSubnetIds: subnet-a", "array<string>"),
    # array: every item must be a Go string; 12 decodes to int.
    (f"{P}:privateSubnetIds: [subnet-a, 12]", "array<string>"),
    (f"{P}:privateSubnetIds: {{a: b}}", "array<string>"),
    # boolean: only the strings "true" and "false".
    (f"{P}:protect: True", "boolean"),
    (f"{P}:protect: FALSE", "boolean"),
    (f"{P}:protect: yes", "boolean"),
    (f'{P}:protect: "1"', "boolean"),
    (f"{P}:protect: [true]", "boolean"),
    # integer: strconv.Atoi takes a sign and decimal digits, nothing else.
    (f'{P}:numberOfNodes: " 2"', "integer"),
    (f'{P}:numberOfNodes: "2 "', "integer"),
    (f"{P}:numberOfNodes: 1_000", "integer"),
    (f"{P}:numberOfNodes: 0x2", "integer"),
    (f"{P}:numberOfNodes: 2.0", "integer"),
    (f"{P}:numberOfNodes: 99999999999999999999", "integer"),  # beyond int64
    (f"{P}:numberOfNodes: ''", "integer"),
    (f'{P}:port: "\\x1c5439"', "integer"),
    # string: a list or mapping is not a Go string.
    (f"{P}:roleName: [a]", "string"),
    (f"{P}:organizationId: {{secure: {CIPHERTEXT}, note: x}}", "string"),
]


@pytest.mark.parametrize(("line", "type_name"), DECLARED_REFUSED)
def test_a_value_the_cli_refuses_for_a_declared_type_is_refused(tmp_path, line, type_name):
    problems = refused(tmp_path, f"config:\n  {line}\n")
    assert len(problems) == 1, problems
    key = line.split(":")[1]
    assert problems[0].startswith(f"{P}:{key} = "), problems
    assert f"configuration key '{key}' must be of type '{type_name}'" in problems[0]
    assert CIPHERTEXT not in problems[0]


def test_a_json_string_is_not_recommended_for_a_declared_array(tmp_path):
    problems = refused(tmp_path, f"config:\n  {P}:privateSubnetIds: '[\"subnet-a\"]'\n")
    assert "a JSON string is text, not a list, to the CLI" in problems[0]
    assert "or the same as a JSON string" not in problems[0]


DECLARED_ACCEPTED = [
    (f"{P}:protect: 'true'", "true"),
    (f"{P}:protect: false", "false"),
    (f"{P}:numberOfNodes: '+2'", "+2"),  # Atoi takes a sign
    (f"{P}:numberOfNodes: 0002", "0002"),  # the text written; Atoi reads 2
    (f"{P}:port: -1", "-1"),  # the type fits; the program's own rule refuses the range
    (f"{P}:roleName: 5439", "5439"),  # any scalar is a Go string
    (f"{P}:privateSubnetIds: []", []),
    (f"{P}:privateSubnetIds: [subnet-a, 'subnet-b']", ["subnet-a", "subnet-b"]),
    (f"{P}:privateSubnetIds: [{{secure: {CIPHERTEXT}}}]", [SECRET]),
    # `tags` and `connectors` are not declared in Pulumi.yaml: no type check, so the program's
    # own JSON-string form stays open to them.
    (f'{P}:tags: \'{{"team": "data"}}\'', '{"team": "data"}'),
]


@pytest.mark.parametrize(("line", "value"), DECLARED_ACCEPTED)
def test_a_value_the_cli_accepts_is_handed_on(tmp_path, line, value):
    key = line.split(":")[1]
    assert read(tmp_path, f"config:\n  {line}\n") == {f"{P}:{key}": value}


# --- nested values: yaml.v3 then encoding/json ----------------------------------------------------

NESTED = [
    ("12:30:45", "12:30:45"),  # no base-60 in yaml.v3
    ("12:30", "12:30"),
    ("yes", "yes"),  # YAML 1.2: not a boolean
    ("on", "on"),
    ("Off", "Off"),
    ("True", True),
    ("0777", 511),  # ParseInt(s, 0, 64): a leading 0 is octal
    ("0o17", 15),
    ("0x1F", 31),
    ("1_000", 1000),  # underscores dropped
    ("1.0", 1),  # a whole float64 is written `1` by encoding/json
    ("1e3", 1000),
    (".5", 0.5),
    ("1e400", "1e400"),  # ParseFloat's range error: the text stays a string
    ("2001-12-14", "2001-12-14"),  # timestamps decode into interface{} as their text
    ("'0777'", "0777"),
    ("~", None),
    ("!!str 12", "12"),
    ("!!float 1", 1),
    ("!!binary aGVsbG8=", "hello"),
    ("!custom text", "text"),  # an unknown tag leaves the text
]


@pytest.mark.parametrize(("written", "handed_on"), NESTED)
def test_a_value_nested_in_a_mapping_is_read_as_yaml_v3_reads_it(tmp_path, written, handed_on):
    config = read(tmp_path, f"config:\n  {P}:tags:\n    a: {written}\n")
    assert config == {f"{P}:tags": {"a": handed_on}}
    assert type(config[f"{P}:tags"]["a"]) is type(handed_on)


def test_a_connectors_organization_id_of_digits_and_colons_is_text(tmp_path):
    """YAML 1.1 would read 12:30:45 as 45045 (base 60), a different ExternalId."""
    body = f"config:\n  {P}:connectors:\n    - name: a\n      organizationId: 12:30:45\n"
    config = read(tmp_path, body)
    assert config[f"{P}:connectors"] == [{"name": "a", "organizationId": "12:30:45"}]


@pytest.mark.parametrize(
    "written",
    ["[!!bool abc]", '[!!int ""]', "{a: !!float x}", "[!!null x]", "[!!timestamp 2001-13-45]"],
)
def test_an_explicit_tag_that_does_not_fit_is_refused_naming_the_key(tmp_path, written):
    problems = refused(tmp_path, f"config:\n  {P}:tags: {written}\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"{P}:tags: cannot decode "), problems
    assert "the Pulumi CLI refuses this file" in problems[0]


def test_mapping_keys_become_text_as_pulumi_formats_them(tmp_path):
    """value.go `interfaceMapToStringMap`: fmt.Sprintf("%v", key)."""
    config = read(tmp_path, f"config:\n  {P}:tags: {{1: a, true: b, 1.5: c, 1e6: d}}\n")
    assert config == {f"{P}:tags": {"1": "a", "true": "b", "1.5": "c", "1e+06": "d"}}


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("{a: {1: b}}", "json: unsupported type"),  # not converted under a string-keyed map
        ("{a: .nan}", "json: unsupported value"),
        ("[.inf]", "json: unsupported value"),
    ],
)
def test_a_value_encoding_json_refuses_is_refused(tmp_path, written, says):
    problems = refused(tmp_path, f"config:\n  {P}:tags: {written}\n")
    assert len(problems) == 1 and says in problems[0], problems


# --- keys: config/key.go ParseKey ---------------------------------------------------------------


def test_the_old_config_form_of_a_key_is_the_key(tmp_path):
    config = read(tmp_path, f"config:\n  {P}:config:eksClusterName: eks\n")
    assert config == {f"{P}:eksClusterName": "eks"}


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("foo:bar:baz", ""),
        ("a:b:c:d", ""),
        (f"{P}:aws:region", "did you mean `aws:region`?"),
        ("eksClusterName", f"did you mean `{P}:eksClusterName`?"),
    ],
)
def test_a_key_the_cli_cannot_parse_is_refused_saying_so(tmp_path, key, hint):
    problems = refused(tmp_path, f"config:\n  {key}: x\n")
    assert len(problems) == 1
    assert (
        f"the Pulumi CLI refuses this file: it could not parse {key} as a configuration key"
        in (problems[0])
    )
    assert hint in problems[0]


def test_two_spellings_of_one_key_are_refused(tmp_path):
    """Both parse to one config.Key; config.Map keeps whichever Go's map order gives last."""
    problems = refused(tmp_path, f"config:\n  {P}:port: '5439'\n  {P}:config:port: '5440'\n")
    assert len(problems) == 1 and "names the same key" in problems[0]


def test_a_merge_key_under_config_merges_as_yaml_v3_does(tmp_path):
    body = (
        f"shared: &shared\n  {P}:port: '5440'\n  {P}:roleName: from-merge\n"
        f"config:\n  <<: *shared\n  {P}:port: '5441'\n"
    )
    assert read(tmp_path, body) == {f"{P}:port": "5441", f"{P}:roleName": "from-merge"}


@pytest.mark.parametrize(
    "body",
    [
        "x: &x\n  <<: *x\nconfig:\n  <<: *x\n",
        f"config:\n  {P}:tags: &t {{<<: *t, a: b}}\n",
    ],
)
def test_a_mapping_merged_into_itself_is_refused(tmp_path, body):
    """yaml.v3: "anchor ... value contains itself"."""
    problems = refused(tmp_path, body)
    assert len(problems) == 1 and "merge a mapping into itself" in problems[0]


def test_only_the_first_yaml_document_is_read_and_a_note_says_so(tmp_path):
    """yaml.v3's Unmarshal decodes the first document only."""
    notes: list[str] = []
    body = f"config:\n  {P}:roleName: first\n---\nconfig:\n  {P}:roleName: second\n"
    assert read(tmp_path, body, notes) == {f"{P}:roleName": "first"}
    assert len(notes) == 1 and "reads only the first" in notes[0]


@pytest.mark.parametrize("byte", ["\x00", "\x01", "\x1b", "\x7f", "\x9b"])
def test_a_control_character_in_the_file_is_refused_naming_its_place(tmp_path, byte):
    """libyaml's reader, ported by yaml.v3: "control characters are not allowed"."""
    problems = refused(tmp_path, f"config:\n  {P}:roleName: a{byte}b\n")
    assert len(problems) == 1
    assert (
        f"line 2, column {len(P) + 15}: holds the control character U+{ord(byte):04X}"
        in (problems[0])
    )


def test_a_control_character_written_as_an_escape_is_text(tmp_path):
    assert read(tmp_path, f'config:\n  {P}:roleName: "a\\x1bb"\n') == {f"{P}:roleName": "a\x1bb"}


def test_a_top_level_binary_value_is_its_decoded_text(tmp_path):
    assert read(tmp_path, f"config:\n  {P}:roleName: !!binary aGVsbG8=\n") == {
        f"{P}:roleName": "hello"
    }


def test_a_utf8_byte_order_mark_is_skipped(tmp_path):
    """workspace/loaders.go `readFileStripUTF8BOM`."""
    path = tmp_path / "Pulumi.bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfconfig:\n  aws:region: us-west-2\n")
    assert load_config(path) == {"aws:region": "us-west-2"}


@pytest.mark.parametrize(
    ("digits", "handed_on"),
    [
        ("9" * 25, 1e25),  # ParseInt and ParseUint overflow; ParseFloat reads it
        ("9" * 6000, "9" * 6000),  # ParseFloat's range error too: it stays text
        ("18446744073709551615", 2**64 - 1),  # ParseUint's range
    ],
)
def test_a_long_number_nested_in_a_value_is_read_as_yaml_v3_reads_it(tmp_path, digits, handed_on):
    config = read(tmp_path, f"config:\n  {P}:tags: {{a: {digits}}}\n")
    assert config == {f"{P}:tags": {"a": handed_on}}


@pytest.mark.parametrize(
    "written",
    [
        f"{{secure: !!bool {CIPHERTEXT}}}",
        f"[{{secure: !!int {CIPHERTEXT}}}]",
        f"{{secure: {CIPHERTEXT}, note: [!!bool x]}}",
    ],
)
def test_a_secure_value_that_does_not_decode_is_refused_without_its_ciphertext(tmp_path, written):
    problems = refused(tmp_path, f"config:\n  {P}:organizationId: {written}\n")
    assert len(problems) == 1
    assert CIPHERTEXT not in problems[0]
