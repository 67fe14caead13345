"""The xpander UI's Redshift connector fields, from a deployed stack's `connectorConfig` output.

    python -m tools.connector [--outputs-file FILE | --stack NAME] [--json]

Reads `pulumi stack output --json` (the Pulumi CLI on PATH) or FILE: the JSON that command
prints, or a plan from `python -m tools.plan --json`. Prints the fields in the order the UI's form
shows them, as a two-column table or, with --json, as a JSON object.
Exit status: 0 printed; 1 `connectorConfig` is missing or incomplete; 2 the outputs could not be
read (no Pulumi CLI, the CLI failed, no such file, not JSON).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from model.outputs import (
    UI_FIELDS,
    ConnectorNotFoundError,
    connector_outputs,
    stack_outputs,
)

EXIT_OK, EXIT_INCOMPLETE, EXIT_UNREADABLE = 0, 1, 2
OUTPUT_NAME = "connectorConfig"
PROJECT_DIR = Path(__file__).resolve().parent.parent
# What `pulumi stack output` (and the offline plan) print instead of a value they do not know.
NOT_VALUES = ("<computed>", "[secret]", "[unknown]")


class OutputsError(Exception):
    """The stack outputs could not be read; the message says why and what to do."""


class ConnectorConfigError(Exception):
    """The outputs were read, but `connectorConfig` cannot be pasted into the UI as it is."""


def outputs_from_file(path: Path) -> dict[str, Any]:
    """Stack outputs from FILE: `pulumi stack output --json`, or an offline plan's `--json`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise OutputsError(f"{path}: no such file") from err
    except (OSError, UnicodeDecodeError) as err:
        raise OutputsError(f"{path}: cannot read it ({err})") from err
    except json.JSONDecodeError as err:
        raise OutputsError(
            f"{path}: not JSON ({err.msg}, line {err.lineno}); "
            "write it with `pulumi stack output --json > FILE`"
        ) from err
    if not isinstance(document, dict):
        raise OutputsError(f"{path}: expected a JSON object of stack outputs")
    return stack_outputs(document)


def outputs_from_pulumi(stack: str | None) -> dict[str, Any]:
    """Stack outputs from the Pulumi CLI (`pulumi stack output --json`)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError(
            "the Pulumi CLI (`pulumi`) is not on PATH: install it "
            "(https://www.pulumi.com/docs/install/) and log in to the stack's backend, or pass "
            "--outputs-file FILE with the output of `pulumi stack output --json`"
        )
    argv = [pulumi, "stack", "output", "--json", "--non-interactive"]
    if stack:
        argv += ["--stack", stack]
    try:
        result = subprocess.run(
            argv, cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=120
        )
    except subprocess.TimeoutExpired:
        raise OutputsError("`pulumi stack output --json` did not answer in 120 s") from None
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise OutputsError(f"`pulumi stack output --json` failed: {detail}")
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as err:
        raise OutputsError(f"`pulumi stack output --json` printed no JSON: {err.msg}") from err
    if not isinstance(document, dict):
        raise OutputsError("`pulumi stack output --json` printed no JSON object")
    return document


def ui_fields(outputs: Mapping[str, Any]) -> dict[str, str]:
    """The connector fields in the UI's order; raises naming every missing or unknown field."""
    config = outputs.get(OUTPUT_NAME)
    if config is None:
        known = ", ".join(sorted(outputs)) or "none"
        raise ConnectorConfigError(
            f"the stack has no `{OUTPUT_NAME}` output (outputs: {known}); "
            "run `pulumi up` with this project first"
        )
    if not isinstance(config, dict):
        raise ConnectorConfigError(f"`{OUTPUT_NAME}` is not an object: {json.dumps(config)}")
    missing = [field for field in UI_FIELDS if field not in config]
    unknown = [field for field in UI_FIELDS if field in config and _not_a_value(config[field])]
    problems = []
    if missing:
        problems.append(f"missing field(s): {', '.join(missing)}")
    if unknown:
        shown = ", ".join(f"{field} = {config[field]!r}" for field in unknown)
        problems.append(f"no value yet: {shown} (deploy the stack first)")
    if problems:
        raise ConnectorConfigError(f"`{OUTPUT_NAME}` is incomplete: " + "; ".join(problems))
    return {field: str(config[field]) for field in UI_FIELDS}


def _not_a_value(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and value in NOT_VALUES)


def table(fields: Mapping[str, str]) -> str:
    """Two columns, the UI's field names on the left, padded so the values line up."""
    rows = [("Field", "Value"), *fields.items()]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name.ljust(width)}  {value}".rstrip() for name, value in rows]
    lines.insert(1, f"{'-' * width}  {'-' * max(len(value) for _, value in rows)}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.connector",
        description="Print the xpander UI's Redshift connector fields from the stack outputs.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--outputs-file",
        type=Path,
        metavar="FILE",
        help="JSON from `pulumi stack output --json` (or `python -m tools.plan --json`) "
        "instead of asking the Pulumi CLI",
    )
    source.add_argument(
        "--stack", metavar="NAME", help="stack to read with the Pulumi CLI (default: the selected)"
    )
    parser.add_argument(
        "--connector", metavar="NAME", help="with several connectors: the one to print"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")
    args = parser.parse_args(argv)

    try:
        outputs = (
            outputs_from_file(args.outputs_file)
            if args.outputs_file is not None
            else outputs_from_pulumi(args.stack)
        )
    except OutputsError as err:
        print(f"connector: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        outputs = connector_outputs(outputs, args.connector)
    except ConnectorNotFoundError as err:
        print(f"connector: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        fields = ui_fields(outputs)
    except ConnectorConfigError as err:
        print(f"connector: {err}", file=sys.stderr)
        return EXIT_INCOMPLETE
    sys.stdout.write(json.dumps(fields, indent=2) + "\n" if args.json else table(fields))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
