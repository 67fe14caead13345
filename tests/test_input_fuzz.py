"""No input crashes a tool, hangs it, or makes it print a traceback or ciphertext.

Fresh generators over what the tools read: stack files with control characters, explicit tags,
merge keys, extra documents, huge numbers and deep nesting (read and gated in-process, as the plan
does before it runs the program); `--base` plans with malformed parts; stack outputs with huge
numbers and odd ports for `connector` and `verify`; FIFOs and devices as every file flag; a
`pulumi` that answers non-UTF-8 or huge numbers. Each run ends in exit 0, 1 or 2 (or the one
exception type the reader documents), with bounded output. Bounded: derandomized, a few dozen
examples each, in-process; subprocesses only where the process boundary is the subject.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.settings import PROJECT, SettingsError
from tools import connector, verify, verify_inputs
from tools import plan as plan_tool
from tools.plan_markdown import render_markdown
from tools.policy_check import PolicyConfigError, config_levels
from tools.stack_file import load_config

ROOT = Path(__file__).resolve().parent.parent
DEV_TEXT = (ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8")
HEAD = json.loads((ROOT / "tests" / "golden" / "plan-head.json").read_text(encoding="utf-8"))
CIPHERTEXT = "v1:AAABAQ==:c2VjcmV0Y2lwaGVy"
MAX_ERR = plan_tool.MAX_PROBLEMS * (plan_tool.MAX_LINE + 1) + 200
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- stack files ------------------------------------------------------------------------------

CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x9B)]
TAGS = ["!!int", "!!bool", "!!float", "!!null", "!!timestamp", "!!binary", "!!str", "!!set", "!x"]
SCALARS = ["abc", '""', "yes", "12:30:45", "0777", "1_000", ".nan", "-.inf", "1e400", "~", "0x1F"]
KEYS = ["a:b:c", f"{PROJECT}:config:port", f"{PROJECT}:aws:region", "port", "<<", '"<<"', "~"]
SETTINGS = [f"{PROJECT}:{k}" for k in ("port", "protect", "tags", "privateSubnetIds", "roleName")]


def _value(draw: st.DrawFn, kind: str) -> str:
    """The text after `key: ` of one hostile config entry of the given kind."""
    tag, scalar = draw(st.sampled_from(TAGS)), draw(st.sampled_from(SCALARS))
    digits = "9" * draw(st.sampled_from([20, 25, 4400, 6000]))
    depth = draw(st.sampled_from([50, 101, 3000]))
    shapes = {
        "tag": ["[{t} {s}]", "{{a: {t} {s}}}", "{t} {s}", "[[{t} {s}]]"],
        "merge": [
            "&m {{a: {s}}}\n  <<: *m",
            "&m {{a: {s}}}\n  <<: [*m, 5]",
            "{s}\n  <<: 5",
            "&m {{a: {s}, <<: *m}}",
        ],
        "huge": [digits, f"[{digits}]", f"{{a: {digits}}}"],
        "deep": ["[" * depth + "]" * depth],
        "secure": [
            "{{secure: {c}, x: 1}}",
            "{{secure: [{c}]}}",
            "[{{secure: {c}}}]",
            "{{secure: !!bool {c}}}",
            "[{{secure: !!int {c}}}]",
        ],
        "flow": ["{{a: {{1: b}}}}", "{{1: a, true: b}}", "[a, {{b: {s}}}]"],
    }
    shape = draw(st.sampled_from(shapes[kind]))
    if kind in ("huge", "deep"):
        return shape
    return shape.format(t=tag, s=scalar, c=CIPHERTEXT)


@st.composite
def hostile_fragments(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["tag", "merge", "key", "huge", "deep", "secure", "flow"]))
    if kind == "key":
        key = draw(st.sampled_from(KEYS))
        return f"  {key}: {draw(st.sampled_from(SCALARS))}\n"
    return f"  {draw(st.sampled_from(SETTINGS))}: {_value(draw, kind)}\n"


@st.composite
def stack_texts(draw: st.DrawFn) -> str:
    text = DEV_TEXT + "".join(draw(st.lists(hostile_fragments(), min_size=1, max_size=3)))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(CONTROL)) + text[at:]
    if draw(st.booleans()):
        text += draw(st.sampled_from(["---\nconfig: {a: b}\n", "---\n[: garbage\n", "...\n"]))
    return text


@pytest.mark.timeout(120)
@FUZZ
@given(text=stack_texts())
def test_no_stack_file_crashes_the_reader_or_the_gate(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("stack") / "Pulumi.fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        plan_tool.check_settings(load_config(path))
    except SettingsError as refused:
        shown = "\n".join(refused.problems)
        assert refused.problems and all(p.strip() for p in refused.problems)
        assert CIPHERTEXT not in shown
        assert "Traceback" not in shown


def test_a_hostile_stack_file_through_the_whole_plan_exits_2_without_a_traceback(tmp_path, capsys):
    """The process-level view of the reader: a few files, in-process, no program run needed."""
    for index, extra in enumerate(
        ["  a:b:c: x\n", f"  {PROJECT}:tags: [!!bool abc]\n", "\x1b", f"  {PROJECT}:port: ' 2'\n"]
    ):
        path = tmp_path / f"Pulumi.h{index}.yaml"
        path.write_text(DEV_TEXT + extra, encoding="utf-8")
        code = plan_tool.main(["--config-file", str(path)])
        captured = capsys.readouterr()
        assert (code, captured.out) == (2, ""), captured.err
        assert "Traceback" not in captured.err and len(captured.err) <= MAX_ERR


# --- --base plans -------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:6]):
            found += _paths(child, (*path, index))
    return found


PLAN_PATHS = _paths(HEAD)


@st.composite
def base_texts(draw: st.DrawFn) -> str:
    base = json.loads(json.dumps(HEAD))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PLAN_PATHS[1:]))
        parent = base
        try:
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(base)
    extreme = draw(st.sampled_from(["", "digits", "deep", "policy"]))
    if extreme == "digits":
        text = text.replace('"outputs": {', '"outputs": {"n": ' + "7" * 5000 + ", ", 1)
    elif extreme == "deep":
        text = text.replace('"outputs": {', '"outputs": {"n": ' + "[" * 3000 + "]" * 3000 + ", ", 1)
    elif extreme == "policy":
        text = text.replace('"Statement":', '"Statement": 5, "x":')
    return text


@pytest.mark.timeout(120)
@FUZZ
@given(text=base_texts())
def test_no_base_plan_crashes_the_markdown_view(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("base") / "base.json"
    path.write_text(text, encoding="utf-8")
    try:
        base = plan_tool.load_base(path)
    except SettingsError as refused:
        assert refused.problems[0].startswith(f"--base {path}: ")
        assert len(refused.problems[0]) < 1000
        return
    assert render_markdown(HEAD, base=base).startswith("#")


# --- stack outputs: connector and verify ----------------------------------------------------

output_values = st.one_of(
    json_values,
    st.sampled_from(["²", "٥٤٣٩", "5439", " 5439", "-1", "99999", "[secret]", "[unknown]"]),
)


@st.composite
def outputs_texts(draw: st.DrawFn) -> str:
    fields = [
        "Cluster Name",
        "Database Name",
        "Catalog Name",
        "IAM Role ARN",
        "Region",
        "Auth Method",
    ]
    config = {f: draw(output_values) for f in draw(st.lists(st.sampled_from(fields), unique=True))}
    outputs = {"connectorConfig": config, "clusterPort": draw(output_values)}
    text = json.dumps(outputs)
    if draw(st.booleans()):
        text = text.replace(
            '"clusterPort": ', '"clusterPort": ' + "9" * draw(st.integers(30, 6000)) + ', "x": ', 1
        )
    return text


class _NoAws:
    """A client factory whose every call fails as an unreachable endpoint does."""

    def __call__(self, service: str, credentials: Any) -> Any:
        return self

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://127.0.0.1:9")

        return call


@pytest.mark.timeout(120)
@FUZZ
@given(text=outputs_texts())
def test_no_outputs_file_crashes_connector_or_verify(tmp_path_factory, capsys, text):
    path = tmp_path_factory.mktemp("outputs") / "outputs.json"
    path.write_text(text, encoding="utf-8")
    codes = [
        connector.main(["--outputs-file", str(path)]),
        verify.main(
            ["--outputs-file", str(path), "--json", "--timeout", "5"], client_factory=_NoAws()
        ),
    ]
    captured = capsys.readouterr()
    assert all(code in (0, 1, 2) for code in codes), captured.err[-2000:]
    assert "Traceback" not in captured.err
    assert len(captured.err) <= 20_000 and len(captured.out) <= 50_000


# --- files that are not regular files -----------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.fifo.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
@pytest.mark.parametrize("flag", ["--config-file", "--base", "--policy-pack-config"])
def test_a_fifo_or_device_as_a_plan_file_is_refused_at_once(capsys, fifo, special, flag):
    path = str(fifo) if special == "fifo" else special
    args = [flag, path] if flag == "--config-file" else ["--markdown", flag, path]
    if flag == "--policy-pack-config":
        args = [flag, path]
    code = plan_tool.main(args)
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert "give a regular file" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.timeout(60)
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_as_the_outputs_file_is_refused_at_once(capsys, fifo, special):
    path = str(fifo) if special == "fifo" else special
    assert connector.main(["--outputs-file", path]) == 2
    assert verify.main(["--outputs-file", path], client_factory=_NoAws()) == 2
    captured = capsys.readouterr()
    assert captured.err.count("give a regular file") == 2


@pytest.mark.parametrize("seconds", ["inf", "1e308", "nan", "-1", "0", "x"])
def test_an_unusable_timeout_is_a_usage_error(capsys, seconds):
    with pytest.raises(SystemExit) as exited:
        verify.main(["--timeout", seconds], client_factory=_NoAws())
    assert exited.value.code == 2
    assert "must be a number of seconds above 0 and at most 86400" in capsys.readouterr().err


# --- what the Pulumi CLI answers ----------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (b"\xff\xfe{\x00}", "printed text that is not UTF-8"),
        (b'{"clusterPort": ' + b"9" * 5000 + b"}", "holds a number of 5000 characters"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    ],
)
def test_an_odd_answer_of_the_pulumi_cli_is_refused_alike_by_both_tools(
    tmp_path, capsys, monkeypatch, answer, says
):
    """The process boundary is the subject: a fake `pulumi` prints the answer."""
    (tmp_path / "answer").write_bytes(answer)
    exe = tmp_path / "pulumi"
    exe.write_text(f"#!/bin/sh\ncat {tmp_path / 'answer'}\n", encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    codes = (
        connector.main(["--stack", "dev"]),
        verify.main(["--stack", "dev"], client_factory=_NoAws()),
    )
    captured = capsys.readouterr()
    assert codes == (2, 2), captured.err
    assert captured.err.count(says) == 2
    assert "Traceback" not in captured.err


# --- named cases of the above -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("redshift_require_ssl", "redshift-require-ssl"),
        ("require-ssl", "redshift-require-ssl"),
        ("redshift-audit-loging", "redshift-audit-logging"),
    ],
)
def test_an_unknown_policy_name_gets_a_did_you_mean(written, meant):
    with pytest.raises(PolicyConfigError) as caught:
        config_levels({written: "advisory"})
    assert f"did you mean {meant!r}?" in str(caught.value)


def _base_with(tmp_path: Path, edit: Any) -> Path:
    base = json.loads(json.dumps(HEAD))
    edit(base)
    path = tmp_path / "base.json"
    path.write_text(json.dumps(base), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b.__setitem__("policyViolations", [{"policy": "p", "urn": 5, "message": "m"}]),
        lambda b: b.__setitem__("policyViolations", [{"policy": ["p"], "message": "m"}]),
        lambda b: b.__setitem__("resources", {"a": 1}),
    ],
)
def test_a_base_plan_of_the_wrong_shape_is_refused_naming_the_flag(tmp_path, edit):
    path = _base_with(tmp_path, edit)
    with pytest.raises(SettingsError) as caught:
        plan_tool.load_base(path)
    assert caught.value.problems[0].startswith(f"--base {path}: not a plan")


def test_a_base_plan_whose_statements_are_not_a_list_is_diffed(tmp_path):
    def edit(base: dict[str, Any]) -> None:
        for resource in base["resources"]:
            if resource["type"] == "aws:iam/role:Role":
                resource["inputs"]["assumeRolePolicy"] = '{"Statement": 5}'

    base = plan_tool.load_base(_base_with(tmp_path, edit))
    assert "statement by statement" in render_markdown(HEAD, base=base)


@pytest.mark.parametrize(
    ("tail", "says"),
    [
        ('"n": ' + "1" * 5000, "holds a number of 5000 characters"),
        ('"n": ' + "[" * 3000 + "]" * 3000, "nested too deeply"),
        ('"n": ' + "[" * 70 + "]" * 70, "nested more than 64 deep"),
    ],
)
def test_a_base_plan_with_a_huge_number_or_deep_nesting_names_the_flag(tmp_path, tail, says):
    path = tmp_path / "base.json"
    path.write_text(json.dumps(HEAD)[:-1] + ", " + tail + "}", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        plan_tool.load_base(path)
    assert caught.value.problems[0].startswith(f"--base {path}: ")
    assert says in caught.value.problems[0]
    assert "set_int_max_str_digits" not in caught.value.problems[0]


def test_a_base_plan_of_another_stack_says_the_stacks_differ(tmp_path):
    base = plan_tool.load_base(_base_with(tmp_path, lambda b: b.__setitem__("stack", "prod")))
    view = render_markdown(HEAD, base=base)
    assert "The base plan is of stack `prod`" in view
    assert "The base plan is of stack" not in render_markdown(HEAD, base=HEAD)


def test_a_cluster_port_that_is_not_ascii_digits_is_no_port():
    for port in ("²", "٥٤٣٩", " 5439", "99999", True, 2**80):
        assert verify_inputs.inputs_from_outputs({"clusterPort": port}).port is None
    assert verify_inputs.inputs_from_outputs({"clusterPort": "5439"}).port == 5439


def test_a_path_with_a_nul_byte_is_refused_by_every_tool(capsys):
    bad = "plan\x00.json"
    assert plan_tool.main(["--config-file", "d\x00/Pulumi.ab.yaml"]) == 2
    assert plan_tool.main(["--markdown", "--base", bad]) == 2
    assert connector.main(["--outputs-file", bad]) == 2
    assert verify.main(["--outputs-file", bad], client_factory=_NoAws()) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("no such stack file: d\\x00/Pulumi.ab.yaml\n")
    assert captured.err.count("is not a path a file can have") == 3, captured.err
    assert "Traceback" not in captured.err
