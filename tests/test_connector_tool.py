"""`python -m tools.connector` (`make connector`): the UI's fields from the stack outputs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.outputs import UI_FIELDS
from tools import connector

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"

CONFIG = {
    "ClusterNamePath": "xpander-redshift",
    "DatabaseNamePath": "xpander_demo",
    "CatalogNamePath": "pg_catalog.svv_all_columns",
    "IAM Role ARN": "arn:aws:iam::123456789012:role/xpander-redshift-access",
    "Region": "us-west-2",
    "Auth Method": "IAM",
}
# `pulumi stack output --json` prints every output; the config's keys come back sorted.
STACK_OUTPUTS = {
    "clusterEndpoint": "xpander-redshift.abc.us-west-2.redshift.amazonaws.com",
    "connectorConfig": dict(sorted(CONFIG.items())),
    "masterPasswordSecretArn": "[secret]",
}
TABLE = """\
Field             Value
----------------  ------------------------------------------------------
ClusterNamePath   xpander-redshift
DatabaseNamePath  xpander_demo
CatalogNamePath   pg_catalog.svv_all_columns
IAM Role ARN      arn:aws:iam::123456789012:role/xpander-redshift-access
Region            us-west-2
Auth Method       IAM
"""


def run_tool(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m tools.connector` as its own process: for the tests whose subject is the process
    (its exit status, its streams, the PATH it searches); the others call main() (run_main)."""
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "tools.connector", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Ran]:
    """connector.main() in this process, as run_tool runs it; argparse's exit is a status too."""

    def run(*args: str, path: str | None = None) -> Ran:
        if path is not None:
            monkeypatch.setenv("PATH", path)
        try:
            code = connector.main(list(args))
        except SystemExit as exited:
            code = int(exited.code or 0)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def write_json(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def fake_pulumi(tmp_path: Path, script: str) -> str:
    """A `pulumi` executable on a PATH of its own; it records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "argv"}\n{script}\n', encoding="utf-8")
    exe.chmod(0o755)
    return str(bin_dir)


def test_prints_the_ui_fields_as_a_table_in_the_ui_order(tmp_path):
    result = run_tool("--outputs-file", str(write_json(tmp_path, STACK_OUTPUTS)))
    assert result.returncode == 0, result.stderr
    assert result.stdout == TABLE
    names = [line.split("  ")[0] for line in result.stdout.splitlines()[2:]]
    assert names == list(UI_FIELDS)


def test_json_keeps_the_ui_order_and_only_the_ui_fields(tmp_path, run_main):
    outputs = {"connectorConfig": {**STACK_OUTPUTS["connectorConfig"], "Extra": "ignored"}}
    result = run_main("--outputs-file", str(write_json(tmp_path, outputs)), "--json")
    assert result.returncode == 0, result.stderr
    fields = json.loads(result.stdout)
    assert list(fields) == list(UI_FIELDS)
    assert fields == CONFIG


def test_reads_an_offline_plan_too(run_main):
    plan = GOLDEN / "plan-head.json"
    result = run_main("--outputs-file", str(plan), "--json")
    assert result.returncode == 0, result.stderr
    expected = json.loads(plan.read_text(encoding="utf-8"))["outputs"]["connectorConfig"]
    assert json.loads(result.stdout) == expected
    assert result.stderr.startswith(
        f"connector: warning: {plan} is an offline plan: its account 111122223333 is a "
        "placeholder, so its ARNs are examples. Do not paste them into the xpander UI"
    )


def test_an_offline_plan_with_a_real_account_is_not_called_a_placeholder(tmp_path, run_main):
    plan = json.loads((GOLDEN / "plan-head.json").read_text(encoding="utf-8"))
    plan |= {"accountId": "123456789012", "accountIsPlaceholder": False}
    result = run_main("--outputs-file", str(write_json(tmp_path, plan)))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_plan_from_before_the_mark_is_recognised_by_its_account(tmp_path, run_main):
    plan = json.loads((GOLDEN / "plan-head.json").read_text(encoding="utf-8"))
    del plan["accountId"], plan["accountIsPlaceholder"]
    result = run_main("--outputs-file", str(write_json(tmp_path, plan)))
    assert result.returncode == 0
    assert "its account 111122223333 is a placeholder" in result.stderr


def test_missing_fields_are_named_and_exit_1(tmp_path):
    partial = {k: v for k, v in CONFIG.items() if k not in ("Region", "Auth Method")}
    result = run_tool("--outputs-file", str(write_json(tmp_path, {"connectorConfig": partial})))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "missing field(s): Region, Auth Method" in result.stderr


def test_fields_without_a_value_yet_are_named(tmp_path, run_main):
    pending = {**CONFIG, "IAM Role ARN": "<computed>", "Region": ""}
    result = run_main("--outputs-file", str(write_json(tmp_path, {"connectorConfig": pending})))
    assert result.returncode == 1
    assert "no value yet: IAM Role ARN = '<computed>', Region = ''" in result.stderr


def test_a_stack_without_connector_config_says_what_it_has(tmp_path, run_main):
    result = run_main("--outputs-file", str(write_json(tmp_path, {"roleArn": "arn"})))
    assert result.returncode == 1
    assert "no `connectorConfig` output (outputs: roleArn)" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("{not json", "not JSON"), ("[1, 2]", "a JSON object")],
)
def test_unreadable_outputs_exit_2(tmp_path, content, message, run_main):
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_main("--outputs-file", str(path))
    assert result.returncode == 2
    assert message in result.stderr


def test_without_the_pulumi_cli_exit_2_and_say_how_to_proceed(tmp_path):
    result = run_tool(path=str(tmp_path))  # an empty PATH: no pulumi
    assert result.returncode == 2
    assert "the Pulumi CLI (`pulumi`) is not on PATH" in result.stderr
    assert "--outputs-file" in result.stderr


def test_asks_the_pulumi_cli_for_the_stack_outputs(tmp_path, run_main):
    path = fake_pulumi(tmp_path, f"echo '{json.dumps(STACK_OUTPUTS)}'")
    result = run_main("--stack", "acme/prod", path=f"{path}:{os.environ['PATH']}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == TABLE
    argv = (tmp_path / "argv").read_text(encoding="utf-8").split()
    assert argv == ["stack", "output", "--json", "--non-interactive", "--stack", "acme/prod"]


def test_a_failing_pulumi_cli_is_reported_with_its_message(tmp_path, run_main):
    path = fake_pulumi(tmp_path, "echo 'error: no stack named dev found' >&2; exit 255")
    result = run_main(path=f"{path}:{os.environ['PATH']}")
    assert result.returncode == 2
    assert "`pulumi stack output --json` failed: error: no stack named dev found" in result.stderr


def test_outputs_file_and_stack_are_exclusive(run_main):
    result = run_main("--outputs-file", "x.json", "--stack", "dev")
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_table_pads_to_the_longest_field_name():
    lines = connector.table({"A": "1", "Longer name": "two"}).splitlines()
    assert lines == [
        "Field        Value",
        "-----------  -----",
        "A            1",
        "Longer name  two",
    ]


MULTI = {
    "clusterEndpoint": "analytics.example",
    "clusterPort": 5439,
    "connectors": {
        "sales": {
            "connectorConfig": {
                "ClusterNamePath": "xpander-redshift",
                "DatabaseNamePath": "xpander_demo",
                "CatalogNamePath": "pg_catalog.svv_all_columns",
                "IAM Role ARN": "arn:aws:iam::111122223333:role/xpander-sales",
                "Region": "us-west-2",
                "Auth Method": "IAM",
            },
            "roleArn": "arn:aws:iam::111122223333:role/xpander-sales",
            "databaseUser": "IAMR:xpander-sales",
        },
        "ops": {"connectorConfig": {}, "databaseUser": "IAMR:xpander-ops"},
    },
}


def test_with_several_connectors_one_is_chosen_by_name(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(MULTI))
    assert connector.main(["--outputs-file", str(path), "--connector", "sales", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["IAM Role ARN"].endswith(":role/xpander-sales")


def test_with_several_connectors_none_chosen_is_an_error_listing_them(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(MULTI))
    assert connector.main(["--outputs-file", str(path)]) == 2
    assert (
        "several connectors (ops, sales): choose one with --connector NAME"
        in capsys.readouterr().err
    )
    assert connector.main(["--outputs-file", str(path), "--connector", "hr"]) == 2
    assert (
        "no connector 'hr' in the stack outputs (connectors: ops, sales)" in capsys.readouterr().err
    )


def test_verify_asks_the_same_cli_but_for_secrets_too(tmp_path, monkeypatch):
    """verify needs organizationId (the ExternalId), which a team may keep secret; connector
    prints no secret, so it never asks the CLI to decrypt one."""
    from tools import verify  # noqa: PLC0415 - the other reader of the same loader

    path = fake_pulumi(tmp_path, f"echo '{json.dumps(STACK_OUTPUTS)}'")
    monkeypatch.setenv("PATH", f"{path}:{os.environ['PATH']}")
    args = verify.build_parser().parse_args(["--stack", "acme/prod"])
    outputs, _ = verify.load_outputs(args)
    assert outputs == STACK_OUTPUTS
    argv = (tmp_path / "argv").read_text(encoding="utf-8").split()
    assert argv == [
        "stack",
        "output",
        "--json",
        "--non-interactive",
        "--show-secrets",
        "--stack",
        "acme/prod",
    ]


# --- no outputs file crashes connector or verify -------------------------------------------------

_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["[secret]", "<computed>", "xpander-redshift", "IAM", "us-west-2"])
)
_values = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from([*UI_FIELDS, "x"]), children, max_size=6)
    ),
    max_leaves=12,
)
_contract = ["connectorConfig", "clusterEndpoint", "clusterPort", "roleArn", "organizationId"]
_outputs = st.dictionaries(
    st.sampled_from([*_contract, "resources", "outputs", "accountIsPlaceholder"]),
    _values,
    max_size=5,
) | st.builds(
    lambda shared, per: {**shared, "connectors": per},
    st.dictionaries(st.sampled_from(_contract), _values, max_size=3),
    st.fixed_dictionaries(
        {"sales": _values | st.dictionaries(st.sampled_from(_contract), _values, max_size=3)},
        optional={"ops": _values},
    ),
)


class _NoAws:
    """Every AWS call fails at once: the fuzz is about reading the outputs, not AWS."""

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("no AWS here")

        return call


@pytest.mark.timeout(120)
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(document=_outputs, name=st.sampled_from([None, "sales"]))
def test_no_outputs_file_crashes_connector_or_verify(tmp_path_factory, capsys, document, name):
    """Whatever JSON the outputs file holds: exit 0, 1 or 2 with a bounded message."""
    from tools import verify  # noqa: PLC0415 - the other reader of the same outputs

    path = tmp_path_factory.mktemp("outputs") / "outputs.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    args = ["--outputs-file", str(path), *(["--connector", name] if name else [])]
    assert connector.main(args) in (0, 1, 2)
    code = verify.main(
        [*args, "--region", "us-west-2", "--timeout", "5"],
        client_factory=lambda service, credentials: _NoAws(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert code in (1, 2)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert len(captured.err) < 5000


def connector_error(config: Any) -> str:
    with pytest.raises(connector.ConnectorConfigError) as raised:
        connector.ui_fields({"connectorConfig": config})
    return str(raised.value)


def test_a_field_that_is_no_string_is_named_and_exit_1(tmp_path, run_main):
    """Each UI field is text the user pastes: a number, list, object or boolean is refused."""
    odd = {
        "ClusterNamePath": 5,
        "DatabaseNamePath": [],
        "CatalogNamePath": {},
        "IAM Role ARN": True,
        "Region": 1.5,
        "Auth Method": "Password",
    }
    result = run_main("--outputs-file", str(write_json(tmp_path, {"connectorConfig": odd})))
    assert (result.returncode, result.stdout) == (1, "")
    for shown in (
        "ClusterNamePath = 5 (not a string)",
        "DatabaseNamePath = [] (not a string)",
        "CatalogNamePath = {} (not a string)",
        "IAM Role ARN = true (not a string)",
        "Region = 1.5 (not a string)",
        'Auth Method = "Password" (xpander connects with IAM authentication: it must be IAM)',
    ):
        assert shown in result.stderr


@pytest.mark.parametrize("method", ["iam", "Password", "IAM "])
def test_an_auth_method_other_than_iam_is_refused(method):
    assert "it must be IAM" in connector_error({**CONFIG, "Auth Method": method})


def test_a_blank_field_has_no_value_yet():
    assert "no value yet: Region = '   '" in connector_error({**CONFIG, "Region": "   "})


@pytest.mark.parametrize(("config", "shown"), [(None, "null"), ("x", 'not an object: "x"')])
def test_a_connector_config_that_is_no_object_says_so(tmp_path, config, shown, run_main):
    result = run_main("--outputs-file", str(write_json(tmp_path, {"connectorConfig": config})))
    assert result.returncode == 1
    assert f"`connectorConfig` is {shown}; this project exports it as an object" in result.stderr
    assert "no `connectorConfig` output" not in result.stderr


def test_a_field_held_as_a_secret_says_how_to_read_it():
    message = connector_error({**CONFIG, "Region": "[secret]"})
    assert "held as a secret in the outputs: Region" in message
    assert "`pulumi stack output --json --show-secrets`" in message
    assert "deploy the stack first" not in message
