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
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from model.outputs import (
    CONNECTOR_CONFIG,
    NOT_VALUES,
    UI_FIELDS,
    ConnectorNotFoundError,
    connector_outputs,
)
from tools.outputs import OutputsError, load_outputs

EXIT_OK, EXIT_INCOMPLETE, EXIT_UNREADABLE = 0, 1, 2


class ConnectorConfigError(Exception):
    """The outputs were read, but `connectorConfig` cannot be pasted into the UI as it is."""


def ui_fields(outputs: Mapping[str, Any]) -> dict[str, str]:
    """The connector fields in the UI's order; raises naming every missing or unknown field."""
    config = outputs.get(CONNECTOR_CONFIG)
    if config is None:
        known = ", ".join(sorted(outputs)) or "none"
        raise ConnectorConfigError(
            f"the stack has no `{CONNECTOR_CONFIG}` output (outputs: {known}); "
            "run `pulumi up` with this project first"
        )
    if not isinstance(config, dict):
        raise ConnectorConfigError(f"`{CONNECTOR_CONFIG}` is not an object: {json.dumps(config)}")
    missing = [field for field in UI_FIELDS if field not in config]
    unknown = [field for field in UI_FIELDS if field in config and _not_a_value(config[field])]
    problems = []
    if missing:
        problems.append(f"missing field(s): {', '.join(missing)}")
    if unknown:
        shown = ", ".join(f"{field} = {config[field]!r}" for field in unknown)
        problems.append(f"no value yet: {shown} (deploy the stack first)")
    if problems:
        raise ConnectorConfigError(f"`{CONNECTOR_CONFIG}` is incomplete: " + "; ".join(problems))
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
        # The UI's fields hold no secret: the CLI is not asked to decrypt any.
        loaded = load_outputs(args.outputs_file, args.stack, show_secrets=False)
    except OutputsError as err:
        print(f"connector: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    warning = loaded.placeholder_warning()
    if warning:
        print(f"connector: warning: {warning}", file=sys.stderr)
    try:
        outputs = connector_outputs(loaded.values, args.connector)
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
