"""No stack file crashes the offline plan: a bounded fuzz over YAML that parses but is not config.

Each example is the dev stack's config, with settings replaced by generated values (any JSON-like
structure, any text) and hostile YAML lines added (aliases, tags, odd keys, escapes). Whatever the
file, `python -m tools.plan` exits 0, 1 or 2, raises nothing and prints a bounded error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.config_keys import CONFIG_KEYS, PROJECT
from tools import plan as plan_tool

ROOT = Path(__file__).resolve().parent.parent
DEV = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8"))["config"]
MAX_STDERR = plan_tool.MAX_PROBLEMS * (plan_tool.MAX_LINE + 1) + 100

CIPHERTEXT = "v1:AAABAQ==:c2VjcmV0"  # what `pulumi config set --secret` writes; never printed
# Lines a careless or hostile stack file holds, each one a config entry (indented under config:).
HOSTILE_LINES = [
    "  123: x",
    "  2024-01-01: x",
    "  true: x",
    "  ~: x",
    "  [a, b]: x",
    "  ? {a: 1}\n  : x",
    f"  {PROJECT}:roleName: !!binary aGVsbG8=",
    f"  {PROJECT}:roleName: !!set {{a, b}}",
    f"  {PROJECT}:roleName: 2001-12-14t21:59:43.10-05:00",
    f"  {PROJECT}:tags: &c [*c]",
    f"  {PROJECT}:tags: &m {{a: *m}}",
    f'  {PROJECT}:roleName: "\\ud800"',
    f'  "{PROJECT}:\\udfff": x',
    f'  {PROJECT}:roleName: "a\\x00b\\x1b[31m"',
    f"  {PROJECT}:port: 1e400",
    f"  {PROJECT}:port: .nan",
    f"  {PROJECT}:port: 0x1F",
    f"  {PROJECT}:connectors: [{{name: a}}, {{name: a}}]",
    f"  {PROJECT}:connectors: '[{{\"name\": 1}}]'",
    f'  {PROJECT}:tags: \'{{"a": {{"b": 1}}}}\'',
    f"  {PROJECT}:organizationId:\n    secure: {CIPHERTEXT}",
    f"  {PROJECT}:connectors:\n    - name: a\n      organizationId:\n        secure: {CIPHERTEXT}",
    f"  {PROJECT}:tags:\n    team:\n      secure: {CIPHERTEXT}",
    f"  {PROJECT}:tags: {{a: x, a: y}}",
    f"  {PROJECT}:protect: yes",
    f"  {PROJECT}:port: 5_439",
    f"{PROJECT}:port: 5439",
    f"  {PROJECT}:privateSubnetIds: {{a: b}}",
    f"  {PROJECT}:privateSubnetIds: []",
    "  xpander_redshift:port: 5439",
    "  port: 5439",
    "  aws:region: us-west-9",
    "  aws:region: cn-north-1",
    "  aws:region: !!python/object:os.system ls",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
setting_names = st.sampled_from([f"{PROJECT}:{key.name}" for key in CONFIG_KEYS] + ["aws:region"])


@st.composite
def stack_files(draw: st.DrawFn) -> str:
    config = dict(DEV)
    for name, value in draw(st.dictionaries(setting_names, json_values, max_size=3)).items():
        config[name] = value
    text = yaml.safe_dump({"config": config}, allow_unicode=True, width=1000)
    extra = draw(st.lists(st.sampled_from(HOSTILE_LINES), max_size=3, unique=True))
    # A repeated key (refused, as the Pulumi CLI's yaml.v3 refuses it) is part of what it explores.
    return text + "".join(line + "\n" for line in extra)


@pytest.mark.timeout(240)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=stack_files())
def test_no_stack_file_crashes_the_plan(tmp_path_factory, capsys, content):
    path = tmp_path_factory.mktemp("fuzz") / "Pulumi.fuzz.yaml"
    path.write_text(content, encoding="utf-8")
    try:
        code = plan_tool.main(["--config-file", str(path), "--json"])
    except SystemExit as exited:  # argparse only; never for a stack file
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    assert code in (0, 1, 2), captured.err[-2000:]
    assert "Traceback" not in captured.err
    assert CIPHERTEXT not in captured.out + captured.err
    assert len(captured.err) <= MAX_STDERR
    if code == 2:
        assert captured.out == ""
        assert captured.err.strip(), "a refusal says why"
    else:
        json.loads(captured.out)
