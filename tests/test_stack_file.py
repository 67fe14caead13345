"""`tools.stack_file`: a stack file's config read as the Pulumi CLI hands it to the program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.config_keys import PROJECT
from model.config_values import ENCRYPTED
from model.settings import SettingsError
from tests.test_plan import run_main, stack_file
from tools import engine
from tools import plan as plan_tool
from tools.stack_file import load_config

CIPHERTEXT = "v1:Zm9vYmFyCg==:c2VjcmV0LWNpcGhlcnRleHQ="


def config_of(tmp_path: Path, body: str) -> dict[str, object]:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text("config:\n" + body, encoding="utf-8")
    return load_config(path)


def problems_of(tmp_path: Path, body: str, head: str = "config:\n") -> list[str]:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(head + body, encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_config(path)
    return raised.value.problems


@pytest.mark.parametrize(
    ("written", "handed_on"),
    [
        ("0777", "0777"),
        ("1_000", "1_000"),
        ("0x1F", "0x1F"),
        ("190:20:30", "190:20:30"),
        ("yes", "yes"),
        ("on", "on"),
        ("Off", "Off"),
        (".5", ".5"),
        (".inf", ".inf"),
        ("1e3", "1e3"),
        ("5439", "5439"),
        ("true", "true"),
        ("2001-12-14", "2001-12-14"),
        ('"0777"', "0777"),
        ("'it''s'", "it's"),
        ("!!str 0x1F", "0x1F"),
        ("", ""),  # Go's yaml.v3 decodes a null into the empty string
        ("~", ""),
    ],
)
def test_a_top_level_scalar_is_handed_on_as_the_text_written(tmp_path, written, handed_on):
    """Pulumi reads each top-level config value first as a string (sdk/go/common/resource/config/
    value.go, `unmarshalValue`), so `0777` stays `0777`, not YAML 1.1's octal 511."""
    config = config_of(tmp_path, f"  {PROJECT}:organizationId: {written}\n")
    assert config == {f"{PROJECT}:organizationId": handed_on}


def test_lists_and_mappings_are_handed_on_as_structures(tmp_path):
    config = config_of(
        tmp_path,
        f"  {PROJECT}:privateSubnetIds: [subnet-a, subnet-b]\n"
        f"  {PROJECT}:tags:\n    team: data\n    cost: 12\n",
    )
    assert config == {
        f"{PROJECT}:privateSubnetIds": ["subnet-a", "subnet-b"],
        f"{PROJECT}:tags": {"team": "data", "cost": 12},
    }


@pytest.mark.parametrize(
    ("setting", "written"),
    [("protect", "yes"), ("protect", "on"), ("port", "0x153F"), ("port", "5_439")],
)
def test_a_yaml_1_1_spelling_is_refused_by_the_plan_as_by_the_program(
    tmp_path, capsys, setting, written
):
    extra = f"  {PROJECT}:{setting}: {written}\n"
    text = stack_file(tmp_path, "y11", "").read_text().replace(f"  {PROJECT}:protect: true\n", "")
    path = tmp_path / "Pulumi.y11.yaml"
    path.write_text(text + extra)
    code, out, err = run_main(capsys, "--config-file", str(path))
    assert (code, out) == (2, "")
    assert f"{PROJECT}:{setting} = '{written}'" in err


NESTED_SECRETS = [
    # `pulumi config set --secret --path 'xpander-redshift:connectors[0].organizationId' ...`
    (
        f"  {PROJECT}:connectors:\n    - name: a\n      organizationId:\n"
        f"        secure: {CIPHERTEXT}\n",
        f"{PROJECT}:connectors",
        [{"name": "a", "organizationId": ENCRYPTED}],
    ),
    # `pulumi config set --secret --path 'xpander-redshift:tags.team' ...`
    (
        f"  {PROJECT}:tags:\n    owner: me\n    team:\n      secure: {CIPHERTEXT}\n",
        f"{PROJECT}:tags",
        {"owner": "me", "team": ENCRYPTED},
    ),
    (
        f"  {PROJECT}:securityGroupIds:\n    - secure: {CIPHERTEXT}\n",
        f"{PROJECT}:securityGroupIds",
        [ENCRYPTED],
    ),
]


@pytest.mark.parametrize(("body", "key", "expected"), NESTED_SECRETS)
def test_a_nested_secret_is_handed_on_as_the_marker(tmp_path, body, key, expected):
    config = config_of(tmp_path, body)
    assert config[key] == expected
    assert CIPHERTEXT not in repr(config)


@pytest.mark.parametrize(("body", "key", "expected"), NESTED_SECRETS)
def test_the_plan_never_prints_a_nested_secrets_ciphertext(tmp_path, capsys, body, key, expected):
    code, out, err = run_main(capsys, "--config-file", str(stack_file(tmp_path, "sec", body)))
    assert code in (0, 2), err
    assert CIPHERTEXT not in out + err
    assert "Traceback" not in err
    if code == 0:
        assert "secure" not in out


def test_a_key_holding_a_nested_secret_is_a_secret_key_for_the_program(tmp_path):
    """Pulumi marks the whole top-level key secret when `--path` sets part of it as a secret."""
    program = tmp_path / "program.py"
    program.write_text(
        "import pulumi\n"
        "from pulumi.runtime.config import is_config_secret\n"
        f"pulumi.export('tags', is_config_secret('{PROJECT}:tags'))\n"
        f"pulumi.export('roleName', is_config_secret('{PROJECT}:roleName'))\n"
    )
    config = {f"{PROJECT}:tags": {"team": ENCRYPTED}, f"{PROJECT}:roleName": "r"}
    run = engine.run_program(config, program=program)
    assert run.outputs == {"tags": True, "roleName": False}


def test_stack_config_strings_marks_nested_secrets_of_a_parsed_document():
    document = {
        "config": {
            f"{PROJECT}:tags": {"team": {"secure": CIPHERTEXT}},
            f"{PROJECT}:port": 5439,
            f"{PROJECT}:protect": True,
        }
    }
    assert engine.stack_config_strings(document) == {
        f"{PROJECT}:tags": {"team": ENCRYPTED},
        f"{PROJECT}:port": "5439",
        f"{PROJECT}:protect": "true",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f"  {PROJECT}:port: 5439\n  {PROJECT}:port: 5440\n",
            f"config: key '{PROJECT}:port' is written twice (lines 2 and 3)",
        ),
        (
            f"  {PROJECT}:tags:\n    team: a\n    team: b\n",
            f"{PROJECT}:tags: key 'team' is written twice (lines 3 and 4)",
        ),
        (
            f"  {PROJECT}:connectors:\n    - name: a\n      name: b\n",
            f"{PROJECT}:connectors: key 'name' is written twice (lines 3 and 4)",
        ),
    ],
)
def test_a_repeated_key_is_refused_naming_it(tmp_path, body, expected):
    """The Pulumi CLI reads stack files with Go yaml.v3, which refuses a mapping key written
    twice (decode.go: "mapping key ... already defined at line ...")."""
    problems = problems_of(tmp_path, body)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_a_repeated_config_block_is_refused(tmp_path):
    problems = problems_of(tmp_path, "config:\n  aws:region: us-west-2\n", head="config: {}\n")
    assert len(problems) == 1 and "key 'config' is written twice (lines 1 and 2)" in problems[0]


def test_a_setting_beside_the_config_block_is_named(tmp_path):
    problems = problems_of(tmp_path, f"  aws:region: us-west-2\n{PROJECT}:port: 5439\n")
    assert len(problems) == 1
    assert f"{PROJECT}:port stands at the top level" in problems[0]


def test_a_long_list_written_out_is_too_large_not_an_alias_problem(tmp_path):
    items = "".join(f"    - subnet-{i:08x}\n" for i in range(20_000))
    problems = problems_of(tmp_path, f"  {PROJECT}:privateSubnetIds:\n{items}")
    assert len(problems) == 1
    assert problems[0].startswith(f"{PROJECT}:privateSubnetIds: holds more than 10000 values")
    assert "alias" not in problems[0]


def test_a_secret_organization_id_masks_only_itself_in_the_trust_policy(tmp_path):
    """The reviewer sees the whole trust policy; the ExternalId stays "[secret]", and the
    ciphertext appears nowhere."""
    text = (engine.ROOT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if f"{PROJECT}:organizationId:" not in line]
    path = tmp_path / "Pulumi.sec.yaml"
    path.write_text(
        "\n".join(lines) + f"\n  {PROJECT}:organizationId:\n    secure: {CIPHERTEXT}\n",
        encoding="utf-8",
    )
    plan = plan_tool.build_plan(path, stack="sec")
    assert CIPHERTEXT not in json.dumps(plan)
    (role,) = [r for r in plan["resources"] if r["type"] == "aws:iam/role:Role"]
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    by_sid = {s["Sid"]: s for s in trust["Statement"]}
    assert set(by_sid) == {"PodIdentity", "CrossAccountWithExternalId", "SelfAssume"}
    condition = by_sid["CrossAccountWithExternalId"]["Condition"]
    assert condition == {"StringEquals": {"sts:ExternalId": "[secret]"}}


def test_merge_keys_that_expand_past_the_bound_are_refused(tmp_path):
    """Aliased mappings merged again and again ("billion laughs" through `<<`) stop at the same
    bound as aliases: refused at once, not expanded."""
    keys = "".join(f"  k{i}:v: x\n" for i in range(200))
    refs = ", ".join(["*b"] * 100)
    problems = problems_of(tmp_path, f"  <<: [{refs}]\n", head=f"big: &b\n{keys}config:\n")
    assert problems == [
        f"{tmp_path / 'Pulumi.t.yaml'}: its merge keys expand to more than 10000 keys"
    ]
