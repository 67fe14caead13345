"""Stack outputs for `make verify` and `make connector`: one loader, one set of flags and errors.

From FILE (`--outputs-file`): what `pulumi stack output --json` prints, or an offline plan's
`python -m tools.plan --json` (its outputs; its account may be a placeholder, which the tools say).
Otherwise from the Pulumi CLI: `pulumi stack output --json --non-interactive [--stack NAME]`, with
`--show-secrets` only for a tool that needs a secret output (verify: organizationId may be one,
and it is the ExternalId), bounded by PULUMI_TIMEOUT.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.outputs import PLACEHOLDER_ACCOUNT_ID, plan_account_is_placeholder, stack_outputs
from tools.input_files import InputFileError, loads_json, read_json, shown_path

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
    where = f"--outputs-file {shown_path(path)}"
    try:
        document = read_json(path, where, "write it with `pulumi stack output --json > FILE`")
    except InputFileError as err:
        raise OutputsError(str(err)) from None
    if not isinstance(document, dict):
        raise OutputsError(f"{where}: expected a JSON object of stack outputs")
    return StackOutputs(
        stack_outputs(document), shown_path(path), plan_account_is_placeholder(document)
    )


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
            check=False,
            timeout=PULUMI_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise OutputsError(f"{command} did not answer in {PULUMI_TIMEOUT} s") from None
    except OSError as err:
        raise OutputsError(f"{command} could not be run: {err.strerror or err}") from None
    if result.returncode != 0:
        stderr = " ".join(result.stderr.decode("utf-8", "replace").split())
        detail = shown_path(stderr, MAX_MESSAGE) or f"exit status {result.returncode}"
        raise OutputsError(
            f"{command} failed: {detail} (select a stack with --stack NAME, or pass "
            "--outputs-file FILE)"
        )
    try:
        text = result.stdout.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OutputsError(
            f"{command} printed text that is not UTF-8 (byte {err.start}: {err.reason})"
        ) from None
    try:
        document = loads_json(text, command, "is the Pulumi CLI the real one?")
    except InputFileError as err:
        raise OutputsError(str(err)) from None
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


def add_source_arguments(parser: argparse.ArgumentParser, *, purpose: str) -> None:
    """The flags both tools read their outputs with: `--outputs-file`, `--stack`, `--connector`.

    `purpose` says what the tool does with the chosen connector ("print", "check").
    """
    group = parser.add_argument_group("stack outputs")
    source = group.add_mutually_exclusive_group()
    source.add_argument(
        "--outputs-file",
        type=Path,
        metavar="FILE",
        help="JSON of `pulumi stack output --json` (or `python -m tools.plan --json`), "
        "instead of running the Pulumi CLI",
    )
    source.add_argument(
        "--stack", metavar="NAME", help="the stack whose outputs the Pulumi CLI reads"
    )
    group.add_argument(
        "--connector",
        metavar="NAME",
        help=f"with several connectors (setting `connectors`): the one to {purpose}",
    )
