"""`python -m tools.plan`: the offline plan users and CI read, its JSON contract and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import plan as plan_tool

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.plan", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def dev_plan():
    return plan_tool.build_plan()


def test_default_view_shows_tree_documents_connector_and_verdicts():
    started = time.monotonic()
    result = run_cli()
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in (
        "Resources to create",
        "IAM documents:",
        "SQL the database-user provisioner runs:",
        "Connector config (paste into the xpander UI):",
        "Policy verdicts:",
    ):
        assert heading in out
    assert "+ aws.redshift.Cluster  xpander-cluster [protected]" in out
    assert '"Sid": "SelfAssume"' in out
    connector_lines = [
        line.split() for line in out.splitlines() if line.startswith("  IAM Role ARN")
    ]
    assert connector_lines == [
        ["IAM", "Role", "ARN", "arn:aws:iam::111122223333:role/xpander-redshift-access"]
    ]
    # The target is under 3 s on a 2-core machine; a regression past 10 s fails here.
    assert elapsed < 10, f"plan took {elapsed:.1f} s"


def test_json_has_the_documented_shape(dev_plan):
    result = run_cli("--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"project", "stack", "resources", "outputs", "policyViolations"}
    assert (document["project"], document["stack"]) == ("xpander-redshift", "dev")
    urns = {r["urn"] for r in document["resources"]}
    stack_urn = "urn:pulumi:dev::xpander-redshift::pulumi:pulumi:Stack::xpander-redshift-dev"
    for resource in document["resources"]:
        assert {"urn", "type", "name", "parent", "inputs", "dependencies"} <= set(resource)
        assert resource["parent"] in urns | {stack_urn}
        assert set(resource["dependencies"]) <= urns
    types = {r["type"] for r in document["resources"]}
    assert {"aws:iam/role:Role", "aws:redshift/cluster:Cluster"} <= types
    cluster = next(r for r in document["resources"] if r["type"] == "aws:redshift/cluster:Cluster")
    assert cluster["inputs"]["publiclyAccessible"] is False  # camelCase, as policies see it
    assert isinstance(document["policyViolations"], list)
    assert document == json.loads(json.dumps(dev_plan))


def test_plan_is_deterministic(dev_plan):
    assert plan_tool.build_plan() == dev_plan


def test_invalid_settings_exit_2_with_one_line_per_problem(tmp_path):
    stack = tmp_path / "Pulumi.broken.yaml"
    stack.write_text(
        "config:\n"
        "  aws:region: us-west-2\n"
        "  xpander-redshift:organizationId: org-1\n"
        "  xpander-redshift:eksClusterName: eks\n"
        "  xpander-redshift:privateSubnetIds: [subnet-123]\n"
        "  xpander-redshift:clusterIdentifier: Bad--Id\n"
        "  xpander-redshift:port: 99999\n"
    )
    result = run_cli("--config-file", str(stack))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("xpander-redshift:privateSubnetIds = 'subnet-123': must be a subnet")
    assert lines[1].startswith("xpander-redshift:clusterIdentifier = 'Bad--Id': must be 1-63")
    assert lines[2].startswith(
        "xpander-redshift:port = '99999': RA3 and RG node types accept only ports"
    )


def test_config_file_renders_any_stack(tmp_path):
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text() + "  xpander-redshift:roleName: agents-prod\n"
    )
    result = run_cli("--config-file", str(stack), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["stack"] == "prod"
    assert document["outputs"]["databaseUser"] == "IAMR:agents-prod"


def test_missing_stack_file_is_a_clear_error():
    result = run_cli("--stack", "nope")
    assert result.returncode == 2
    assert "no such stack file" in result.stderr and "Pulumi.nope.yaml" in result.stderr


def test_mandatory_violation_exits_1(monkeypatch, capsys):
    violation = {"policy": "p", "urn": "u", "message": "m", "enforcementLevel": "mandatory"}
    monkeypatch.setattr(plan_tool, "evaluate", lambda resources, **_: [violation])
    assert plan_tool.main(["--json"]) == 1
    assert json.loads(capsys.readouterr().out)["policyViolations"] == [violation]
    advisory = {**violation, "enforcementLevel": "advisory"}
    monkeypatch.setattr(plan_tool, "evaluate", lambda resources, **_: [advisory])
    assert plan_tool.main([]) == 0
    assert "[advisory] p: m" in capsys.readouterr().out


def test_an_existing_clusters_named_group_is_trusted_offline(tmp_path):
    """Offline the cluster's groups are unknown: the plan opens the named one, preview checks."""
    stack = tmp_path / "Pulumi.byo.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text()
        + "  xpander-redshift:existingClusterIdentifier: analytics-prod\n"
        + "  xpander-redshift:existingSecurityGroupId: sg-0fedcba9876543210\n"
    )
    result = run_cli("--config-file", str(stack), "--json")
    assert result.returncode == 0, result.stderr
    rules = [
        r
        for r in json.loads(result.stdout)["resources"]
        if r["type"] == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    ]
    assert [r["inputs"]["securityGroupId"] for r in rules] == ["sg-0fedcba9876543210"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("config: [unclosed\n", "is not valid YAML"),
        ("- just a list\n", "a stack file is a YAML mapping with a config: block"),
    ],
)
def test_an_unreadable_stack_file_exits_2_with_the_reason(tmp_path, content, message):
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(content)
    result = run_cli("--config-file", str(stack))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_directory_as_stack_file_exits_2(tmp_path):
    result = run_cli("--config-file", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_yaml_structures_for_declared_scalar_keys_are_refused_like_the_pulumi_cli(tmp_path):
    stack = tmp_path / "Pulumi.typed.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text() + "  xpander-redshift:databaseName:\n    a: b\n"
    )
    result = run_cli("--config-file", str(stack))
    assert result.returncode == 2
    assert result.stderr.startswith("xpander-redshift:databaseName = ")
    assert "Pulumi.yaml declares it type: string" in result.stderr


def test_tags_and_connectors_as_yaml_structures_render(tmp_path):
    """What `pulumi config set --path` writes: a YAML mapping and a YAML list of mappings."""
    stack = tmp_path / "Pulumi.structured.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text()
        + "  xpander-redshift:tags:\n    team: data\n"
        + "  xpander-redshift:connectors:\n    - name: sales\n      roleName: xpander-sales\n"
    )
    result = run_cli("--config-file", str(stack), "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    roles = [r for r in plan["resources"] if r["type"] == "aws:iam/role:Role"]
    assert [r["inputs"]["name"] for r in roles] == ["xpander-sales"]
    assert roles[0]["inputs"]["tags"]["team"] == "data"
