"""`python -m tools.plan`: the offline plan users and CI read, its JSON contract and exit codes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools import plan as plan_tool

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The tool as its own process: only where the process (its exit status, its streams) is the
    subject. Everything else calls main() in this process (run_main), which is the same code."""
    return subprocess.run(
        [sys.executable, "-m", "tools.plan", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """The tool in this process (faster than a subprocess); argparse's exit is a status too."""
    try:
        code = plan_tool.main(list(args))
    except SystemExit as exited:
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_default_view_shows_tree_documents_connector_and_verdicts(capsys):
    code, out, err = run_main(capsys)
    assert code == 0, err
    for heading in (
        "Resources to create",
        "IAM documents:",
        "SQL the database-user provisioner runs:",
        "Connector config (its account is a placeholder: after deploy, paste what "
        "`make connector` prints):",
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
    # How long it takes is measured by `make bench` (docs/performance.md), not asserted here.


def test_json_has_the_documented_shape(dev_plan, capsys):
    code, out, err = run_main(capsys, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert set(document) == {
        "project",
        "stack",
        "accountId",
        "accountIsPlaceholder",
        "resources",
        "outputs",
        "policyViolations",
    }
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
    """As a process: exit status 2, nothing on stdout, one line per problem on stderr."""
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


def test_config_file_renders_any_stack(tmp_path, capsys):
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text() + "  xpander-redshift:roleName: agents-prod\n"
    )
    code, out, err = run_main(capsys, "--config-file", str(stack), "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["stack"] == "prod"
    assert document["outputs"]["databaseUser"] == "IAMR:agents-prod"


def test_missing_stack_file_is_a_clear_error(capsys):
    code, _, err = run_main(capsys, "--stack", "nope")
    assert code == 2
    assert "no such stack file" in err and "Pulumi.nope.yaml" in err


def test_mandatory_violation_exits_1(monkeypatch, capsys):
    violation = {"policy": "p", "urn": "u", "message": "m", "enforcementLevel": "mandatory"}
    monkeypatch.setattr(plan_tool, "evaluate", lambda resources, **_: [violation])
    assert plan_tool.main(["--json"]) == 1
    assert json.loads(capsys.readouterr().out)["policyViolations"] == [violation]
    advisory = {**violation, "enforcementLevel": "advisory"}
    monkeypatch.setattr(plan_tool, "evaluate", lambda resources, **_: [advisory])
    assert plan_tool.main([]) == 0
    assert "[advisory] p: m" in capsys.readouterr().out


def test_an_existing_clusters_named_group_is_trusted_offline(tmp_path, capsys):
    """Offline the cluster's groups are unknown: the plan opens the named one, preview checks."""
    stack = tmp_path / "Pulumi.byo.yaml"
    dev = (ROOT / "Pulumi.dev.yaml").read_text()
    subnets = dev.index("  xpander-redshift:privateSubnetIds:")  # not for an existing cluster
    end = dev.index("\n  xpander-redshift:", subnets + 1) + 1
    stack.write_text(
        dev[:subnets]
        + dev[end:]
        + "  xpander-redshift:existingClusterIdentifier: analytics-prod\n"
        + "  xpander-redshift:existingSecurityGroupId: sg-0fedcba9876543210\n"
    )
    code, out, err = run_main(capsys, "--config-file", str(stack), "--json")
    assert code == 0, err
    rules = [
        r
        for r in json.loads(out)["resources"]
        if r["type"] == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    ]
    assert [r["inputs"]["securityGroupId"] for r in rules] == ["sg-0fedcba9876543210"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("config: [unclosed\n", "is not valid YAML"),
        ("- just a list\n", "a stack file is a YAML mapping with a config: block"),
        # A key with the wrong prefix, or outside `config:`, is a typo the plan names.
        (
            "aws:region: us-west-2\nxpander-redshift:organizationId: org-1x\n",
            "stand at the top level; Pulumi reads settings only under `config:`",
        ),
        ("config:\n  port: 5439\n", "did you mean `xpander-redshift:port`?"),
        ("config:\n  xpander_redshift:port: 5439\n", "did you mean `xpander-redshift:port`?"),
        (None, ""),  # a directory where the stack file should be
    ],
)
def test_a_stack_file_the_plan_cannot_read_exits_2_with_the_reason(
    tmp_path, content, message, capsys
):
    stack = tmp_path / "Pulumi.bad.yaml"
    if content is None:
        stack.mkdir()
    else:
        stack.write_text(content)
    code, out, err = run_main(capsys, "--config-file", str(stack))
    assert (code, out) == (2, "")
    assert err.strip() and message in err
    assert "Traceback" not in err


def test_yaml_structures_for_declared_scalar_keys_are_refused_like_the_pulumi_cli(tmp_path, capsys):
    stack = tmp_path / "Pulumi.typed.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text() + "  xpander-redshift:databaseName:\n    a: b\n"
    )
    code, _, err = run_main(capsys, "--config-file", str(stack))
    assert code == 2
    assert err.startswith("xpander-redshift:databaseName = ")
    assert "Pulumi.yaml declares it type: string" in err


def test_tags_and_connectors_as_yaml_structures_render(tmp_path, capsys):
    """What `pulumi config set --path` writes: a YAML mapping and a YAML list of mappings."""
    stack = tmp_path / "Pulumi.structured.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text()
        + "  xpander-redshift:tags:\n    team: data\n"
        + "  xpander-redshift:connectors:\n    - name: sales\n      roleName: xpander-sales\n"
    )
    code, out, err = run_main(capsys, "--config-file", str(stack), "--json")
    assert code == 0, err
    plan = json.loads(out)
    roles = [r for r in plan["resources"] if r["type"] == "aws:iam/role:Role"]
    assert [r["inputs"]["name"] for r in roles] == ["xpander-sales"]
    assert roles[0]["inputs"]["tags"]["team"] == "data"


# --- a plan that tells the truth ------------------------------------------------------------------


def stack_file(tmp_path: Path, name: str, extra: str = "", region: str = "us-west-2") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    text = (ROOT / "Pulumi.dev.yaml").read_text().replace("us-west-2", region)
    path.write_text(text + extra)
    return path


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")],
)
def test_govcloud_and_china_stacks_get_their_partitions_arns(tmp_path, region, partition):
    """IAM User Guide, ARN format: `aws-us-gov` in GovCloud (US), `aws-cn` in China."""
    plan = plan_tool.build_plan(stack_file(tmp_path, "p", region=region), stack="p")
    text = json.dumps(plan)
    assert "arn:aws:" not in text
    role = f"arn:{partition}:iam::111122223333:role/xpander-redshift-access"
    assert plan["outputs"]["connectorConfig"]["IAM Role ARN"] == role
    trust = next(r for r in plan["resources"] if r["type"] == "aws:iam/role:Role")
    assert f"arn:{partition}:iam::111122223333:root" in trust["inputs"]["assumeRolePolicy"]
    documents = [
        r["inputs"]["policy"] for r in plan["resources"] if r["type"].endswith("RolePolicy")
    ]
    assert f"arn:{partition}:redshift:{region}:111122223333:cluster:xpander-redshift" in str(
        documents
    )


def test_account_id_must_be_twelve_digits(capsys):
    for bad in ("123", "1234567890123", "12345678901a", "-1", "123456789012\n", "\u0661" * 12):
        code, out, err = run_main(capsys, f"--account-id={bad}")
        assert code == 2, bad
        assert "is not an AWS account id: an account id is 12 ASCII digits" in err
        assert out == ""


def test_a_given_account_is_not_called_a_placeholder(capsys):
    code, out, _ = run_main(capsys, "--account-id", "123456789012")
    assert code == 0
    header = out.splitlines()[0]
    assert "account 123456789012; looked-up ids are placeholders" in header
    assert "Connector config (paste into the xpander UI):" in out
    assert "arn:aws:iam::123456789012:role/xpander-redshift-access" in out
    plan = json.loads(run_main(capsys, "--json", "--account-id", "123456789012")[1])
    assert (plan["accountId"], plan["accountIsPlaceholder"]) == ("123456789012", False)


def test_the_default_plan_marks_its_account_as_a_placeholder(dev_plan, capsys):
    assert (dev_plan["accountId"], dev_plan["accountIsPlaceholder"]) == ("111122223333", True)
    assert "account 111122223333 and looked-up ids are placeholders" in run_main(capsys)[1]


@pytest.mark.parametrize("stack", ["dev", "acme/dev", "acme/xpander-redshift/dev"])
def test_stack_may_name_its_organization_and_project(stack, capsys):
    code, out, err = run_main(capsys, "--stack", stack, "--json")
    assert code == 0, err
    assert json.loads(out)["stack"] == "dev"


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("acme/other/dev", "names project 'other'; this project is 'xpander-redshift'"),
        ("../../etc/dev", "is not a stack name"),
        ("a/b/c/d", "is not a stack name"),
        ("", "is not a stack name"),
    ],
)
def test_a_stack_that_cannot_be_this_projects_is_refused(stack, message, capsys):
    code, _, err = run_main(capsys, "--stack", stack)
    assert code == 2
    assert message in err


# --- no input crashes the plan --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # config/key.go ParseKey: a key without a colon is refused by the CLI.
        ("  123: x\n", "config key 123: the Pulumi CLI refuses this file"),
        ("  2024-01-01: x\n", "config key 2024-01-01: the Pulumi CLI refuses this file"),
        ("  [a, b]: x\n", "config key <tag:yaml.org,2002:seq>: cannot unmarshal !!seq"),
        # yaml.v3 decodes a !!set mapping as a mapping: not the string Pulumi.yaml declares.
        (
            "  xpander-redshift:roleName: !!set {a, b}\n",
            'xpander-redshift:roleName = \'{"a": null, "b": null}\': Pulumi.yaml declares',
        ),
        (
            "  xpander-redshift:tags: &a [*a]\n",
            "xpander-redshift:tags: its YAML aliases refer to themselves",
        ),
        (
            '  xpander-redshift:roleName: "\\ud800"\n',
            "xpander-redshift:roleName: holds text that is not valid Unicode",
        ),
        ('  "xpander-redshift:\\udc80x": y\n', "xpander-redshift:\\udc80x: holds text"),
    ],
)
def test_yaml_that_is_not_config_is_refused_naming_the_key(tmp_path, extra, expected, capsys):
    code, out, err = run_main(capsys, "--config-file", str(stack_file(tmp_path, "odd", extra)))
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_a_timestamp_value_stays_the_text_written(tmp_path, capsys):
    """The Pulumi CLI (Go yaml.v3, untyped) keeps an unquoted timestamp as its text."""
    extra = "  xpander-redshift:roleName: 2001-12-14t21:59:43.10-05:00\n"
    code, _, err = run_main(capsys, "--config-file", str(stack_file(tmp_path, "ts", extra)))
    assert code == 2
    assert err.startswith(
        "xpander-redshift:roleName = '2001-12-14t21:59:43.10-05:00': must be an IAM role name"
    )


@pytest.mark.timeout(60)  # expanded, the file is 9**9 values: a bound, not a measurement
def test_a_billion_laughs_file_is_refused_fast_with_bounded_output(tmp_path, capsys):
    lines = ['config:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  {name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n")
    lines.append("  xpander-redshift:tags: *i\n")
    path = tmp_path / "Pulumi.lol.yaml"
    path.write_text("".join(lines))
    assert len(path.read_bytes()) < 600
    code, _, err = run_main(capsys, "--config-file", str(path))
    assert code == 2
    assert "xpander-redshift:tags: expands to more than 10000 values" in err
    assert len(err) < 2000


def test_one_problem_line_is_bounded(tmp_path, capsys):
    extra = f"  xpander-redshift:roleName: {'x' * 100_000}\n"
    code, _, err = run_main(capsys, "--config-file", str(stack_file(tmp_path, "long", extra)))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 1000
    assert lines[0].startswith("xpander-redshift:roleName = 'xxx")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--base {path}: no such file"),
        ("{not json", "--base {path}: not JSON"),
        ("[1]", "not a plan from `python -m tools.plan --json`: expected a JSON object"),
        ('{"resources": [{"urn": 1}]}', "resources[0] is not a resource"),
    ],
)
def test_a_missing_or_invalid_base_plan_exits_2(tmp_path, content, message, capsys):
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run_main(capsys, "--markdown", "--base", str(path))
    assert (code, out) == (2, "")
    assert message.format(path=path) in err


def test_repeated_plans_leave_the_picklers_as_they_were():
    """pulumi.dynamic.serialize_provider wraps pickle's _Pickler methods on every call and never
    restores them; after ~1000 plans in one process that ended in RecursionError."""
    import pickle  # noqa: PLC0415 - the module under observation

    before = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)
    plan_tool.build_plan()
    plan_tool.build_plan()
    assert (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict) == before


def test_the_outputs_follow_the_contract_in_model_outputs(tmp_path, dev_plan):
    """One connector: its outputs and the cluster's side by side; several: the cluster's at the
    top and each connector's under `connectors.<name>` (model/outputs.py)."""
    from model import outputs  # noqa: PLC0415 - the contract under test

    shared, own = set(outputs.SHARED_OUTPUTS), set(outputs.PER_CONNECTOR_OUTPUTS)
    assert set(dev_plan["outputs"]) == shared | own
    assert own == {"connectorConfig", "roleArn", "databaseUser", "organizationId"}
    extra = (
        "  xpander-redshift:connectors:\n"
        "    - {name: sales, roleName: xpander-sales}\n"
        "    - {name: ops, roleName: xpander-ops, namespace: ops}\n"
    )
    plan = plan_tool.build_plan(stack_file(tmp_path, "multi", extra), stack="multi")
    assert set(plan["outputs"]) == shared | {"connectors"}
    assert {name: set(value) for name, value in plan["outputs"]["connectors"].items()} == {
        "sales": own,
        "ops": own,
    }


def test_a_stack_file_whose_name_is_no_stack_name_is_refused(tmp_path, capsys):
    path = tmp_path / "Pulumi.d€v.yaml"
    path.write_text((ROOT / "Pulumi.dev.yaml").read_text())
    code, out, err = run_main(capsys, "--config-file", str(path))
    assert (code, out) == (2, "")
    assert "the stack's name comes from the file's (Pulumi.<stack>.yaml)" in err


def test_a_team_that_opts_out_lowers_the_rule_with_the_policy_pack_config(tmp_path, capsys):
    """requireSsl=false breaks the mandatory TLS rule (exit 1) until the team's
    --policy-pack-config file, the one `pulumi preview` reads, lowers it to advisory (exit 0)."""
    stack = tmp_path / "Pulumi.nossl.yaml"
    stack.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text() + "  xpander-redshift:requireSsl: false\n"
    )
    assert run_main(capsys, "--config-file", str(stack))[0] == 1
    levels = tmp_path / "policy-config.json"
    levels.write_text('{"redshift-require-ssl": "advisory"}')
    code, out, err = run_main(
        capsys, "--config-file", str(stack), "--policy-pack-config", str(levels)
    )
    assert code == 0, err
    assert "[advisory] redshift-require-ssl" in out
    levels.write_text('{"redshift-require-tls": "advisory"}')
    code, _, err = run_main(
        capsys, "--config-file", str(stack), "--policy-pack-config", str(levels)
    )
    assert code == 2
    assert "'redshift-require-tls' is not a policy" in err


def test_a_deeply_nested_policy_pack_config_exits_2(tmp_path, capsys):
    """Python's JSON reader recurses per level: a deep file is refused, not a RecursionError."""
    levels = tmp_path / "levels.json"
    levels.write_text("[" * 100_000 + "]" * 100_000)
    stack = stack_file(tmp_path, "deep")
    code, out, err = run_main(
        capsys, "--config-file", str(stack), "--policy-pack-config", str(levels)
    )
    assert (code, out) == (2, "")
    assert err.startswith(f"--policy-pack-config {levels}: nested too deeply")
    assert "Traceback" not in err


@pytest.mark.parametrize("tool", ["plan", "deployer_policy", "import_file"])
@pytest.mark.parametrize("order", ["stack first", "config-file first"])
def test_stack_and_config_file_together_are_refused_even_for_the_default_stack(tool, order, capsys):
    # `--stack dev` spells the default; argparse's mutual exclusion skips an argument whose value
    # *is* its default, so the pair passed silently and the --stack was ignored.
    main = importlib.import_module(f"tools.{tool}").main
    pair = [["--stack", "dev"], ["--config-file", str(ROOT / "examples" / "Pulumi.prod.yaml")]]
    argv = pair[0] + pair[1] if order == "stack first" else pair[1] + pair[0]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "not allowed with argument" in err
    assert "--stack" in err and "--config-file" in err


@pytest.mark.parametrize("tool", ["plan", "deployer_policy", "import_file"])
@pytest.mark.parametrize("name", ["Pulumi.yaml", "Pulumi.yml"])
def test_the_project_file_given_as_the_stack_file_is_refused_naming_the_flag(
    tool, name, tmp_path, capsys
):
    # Pulumi.yaml is the project file (its `config:` declares keys), not a stack file: read as
    # one it gave a line per declared key ("could not parse ... as a configuration key").
    path = tmp_path / name
    path.write_text((ROOT / "Pulumi.yaml").read_text())
    with pytest.raises(SystemExit) as exited:
        importlib.import_module(f"tools.{tool}").main(["--config-file", str(path)])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"--config-file {path}: the project file" in err
    assert len(err.splitlines()) < 10
