"""Stack outputs for `make verify` and `make connector`: one loader, one set of flags and errors.

From FILE (`--outputs-file`): what `pulumi stack output --json` prints, or an offline plan's
`python -m tools.plan --json` (its outputs; its account may be a placeholder, which the tools say).
Otherwise from the Pulumi CLI: `pulumi stack output --json --non-interactive [--stack NAME]`, with
`--show-secrets` only for a tool that needs a secret output (verify: organizationId may be one,
and it is the ExternalId), bounded by PULUMI_TIMEOUT.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.outputs import PLACEHOLDER_ACCOUNT_ID, plan_account_is_placeholder, stack_outputs

PROJECT_DIR = Path(__file__).resolve().parent.parent  # where Pulumi.yaml is
PULUMI_TIMEOUT = 60  # seconds for `pulumi stack output`; it reads the state, nothing more
MAX_MESSAGE = 500  # characters of the Pulumi CLI's error quoted in ours


class OutputsError(Exception):
    """The stack outputs could not be read; the message says why and what to do."""


class PulumiNotFoundError(OutputsError):
    """No Pulumi CLI on PATH (a tool whose flags can stand in for the outputs may carry on)."""


@dataclass(frozen=True)
class StackOutputs:
    values: dict[str, Any]
    source: str  # where they came from, for messages
    placeholder_account: bool = False  # an offline plan rendered with the placeholder account

    def placeholder_warning(self) -> str | None:
        """What to say before anyone pastes an offline plan's values (None for real outputs)."""
        if not self.placeholder_account:
            return None
        return (
            f"{self.source} is an offline plan: its account {PLACEHOLDER_ACCOUNT_ID} is a "
            "placeholder, so its ARNs are examples. Do not paste them into the xpander UI: "
            "read the deployed stack's outputs (or render the plan with --account-id)."
        )


def outputs_from_file(path: Path) -> StackOutputs:
    """Stack outputs from FILE: `pulumi stack output --json`, or an offline plan's `--json`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise OutputsError(f"{path}: no such file") from err
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise OutputsError(f"{path}: cannot read it ({reason})") from err
    except json.JSONDecodeError as err:
        raise OutputsError(
            f"{path}: not JSON ({err.msg}, line {err.lineno}); "
            "write it with `pulumi stack output --json > FILE`"
        ) from err
    except RecursionError as err:
        raise OutputsError(f"{path}: not stack outputs (nested too deeply)") from err
    if not isinstance(document, dict):
        raise OutputsError(f"{path}: expected a JSON object of stack outputs")
    return StackOutputs(stack_outputs(document), str(path), plan_account_is_placeholder(document))


def outputs_from_pulumi(stack: str | None, *, show_secrets: bool) -> StackOutputs:
    """Stack outputs from the Pulumi CLI; secrets in clear text only when `show_secrets`."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise PulumiNotFoundError(
            "the Pulumi CLI (`pulumi`) is not on PATH: install it "
            "(https://www.pulumi.com/docs/install/) and log in to the stack's backend, or pass "
            "--outputs-file FILE with the output of `pulumi stack output --json`"
        )
    argv = [pulumi, "stack", "output", "--json", "--non-interactive"]
    if show_secrets:
        argv.append("--show-secrets")
    if stack:
        argv += ["--stack", stack]
    command = "`pulumi stack output --json`"
    try:
        result = subprocess.run(
            argv,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
            timeout=PULUMI_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise OutputsError(f"{command} did not answer in {PULUMI_TIMEOUT} s") from None
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:MAX_MESSAGE] or f"exit status {result.returncode}"
        raise OutputsError(
            f"{command} failed: {detail} (select a stack with --stack NAME, or pass "
            "--outputs-file FILE)"
        )
    try:
        document = json.loads(result.stdout)
    except (json.JSONDecodeError, RecursionError) as err:
        reason = err.msg if isinstance(err, json.JSONDecodeError) else "nested too deeply"
        raise OutputsError(f"{command} printed no JSON: {reason}") from err
    if not isinstance(document, dict):
        raise OutputsError(f"{command} printed no JSON object")
    return StackOutputs(document, f"stack {stack}" if stack else "the selected stack")


def load_outputs(
    outputs_file: Path | None, stack: str | None, *, show_secrets: bool
) -> StackOutputs:
    """From `--outputs-file FILE` when given, else from the Pulumi CLI (`--stack NAME`)."""
    if outputs_file is not None:
        return outputs_from_file(outputs_file)
    return outputs_from_pulumi(stack, show_secrets=show_secrets)
