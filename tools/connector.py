"""The xpander UI's Redshift connector fields, from a deployed stack's `connectorConfig` output.

    python -m tools.connector [--outputs-file FILE | --stack NAME] [--json]

Reads `pulumi stack output --json` (the Pulumi CLI on PATH) or FILE: the JSON that command
prints, or a plan from `python -m tools.plan --json`. Prints the fields in the order the UI's form
shows them, as a two-column table or, with --json, as a JSON object.
Exit status: 0 printed; 1 `connectorConfig` is missing, incomplete or holds a field the UI cannot
take (not a non-empty string, an `Auth Method` other than IAM, a value shown as a secret); 2 the
outputs could not be read (no Pulumi CLI, the CLI failed, no such file, not JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from model.outputs import (
    AUTH_METHOD,
    CONNECTOR_CONFIG,
    NOT_VALUES,
    SECRET,
    UI_FIELDS,
    ConnectorNotFoundError,
    connector_outputs,
)
from tools.outputs import OutputsError, add_source_arguments, load_outputs
from tools.stack_file import printable

EXIT_OK, EXIT_INCOMPLETE, EXIT_UNREADABLE = 0, 1, 2
AUTH_METHOD_FIELD = UI_FIELDS[-1]  # "Auth Method"


class ConnectorConfigError(Exception):
    """The outputs were read, but `connectorConfig` cannot be pasted into the UI as it is."""


def ui_fields(outputs: Mapping[str, Any]) -> dict[str, str]:
    """The connector fields in the UI's order; raises naming every field that cannot be pasted."""
    if CONNECTOR_CONFIG not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        raise ConnectorConfigError(
            f"the stack has no `{CONNECTOR_CONFIG}` output (outputs: {known}); "
            "run `pulumi up` with this project first"
        )
    config = outputs[CONNECTOR_CONFIG]
    if not isinstance(config, dict):
        what = "null" if config is None else f"not an object: {_shown(config)}"
        raise ConnectorConfigError(
            f"`{CONNECTOR_CONFIG}` is {what}; this project exports it as an object of the UI's "
            f"fields ({', '.join(UI_FIELDS)}): run `pulumi up` with this project"
        )
    missing = [field for field in UI_FIELDS if field not in config]
    present = [(field, config[field]) for field in UI_FIELDS if field in config]
    secret = [field for field, value in present if value == SECRET]
    pending = [f"{field} = {value!r}" for field, value in present if _pending(value)]
    wrong = [
        f"{field} = {_shown(value)} (not a string)"
        for field, value in present
        if value is not None and not isinstance(value, str)
    ]
    method = config.get(AUTH_METHOD_FIELD)
    if isinstance(method, str) and method.strip() and method not in (*NOT_VALUES, AUTH_METHOD):
        wrong.append(
            f"{AUTH_METHOD_FIELD} = {_shown(method)} (xpander connects with IAM authentication: "
            f"it must be {AUTH_METHOD})"
        )
    problems = []
    if missing:
        problems.append(f"missing field(s): {', '.join(missing)}")
    if pending:
        problems.append(f"no value yet: {', '.join(pending)} (deploy the stack first)")
    if wrong:
        problems.append(f"not a value the UI takes: {', '.join(wrong)}")
    if secret:
        problems.append(
            f"held as a secret in the outputs: {', '.join(secret)}; the UI's fields are not "
            "secrets, but the stack marked them so (say, from a secret config value): print "
            "them with `pulumi stack output --json --show-secrets` and pass that file with "
            "--outputs-file"
        )
    if problems:
        raise ConnectorConfigError(
            f"`{CONNECTOR_CONFIG}` cannot go into the UI: " + "; ".join(problems)
        )
    return {field: str(config[field]) for field in UI_FIELDS}


def _pending(value: Any) -> bool:
    """No value yet: unset, empty, or a stand-in for one known after deploy (not a secret)."""
    not_yet = ("", *(shown for shown in NOT_VALUES if shown != SECRET))
    return value is None or (isinstance(value, str) and value.strip() in not_yet)


def _shown(value: Any) -> str:
    return printable(json.dumps(value, default=repr))


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
    add_source_arguments(parser, purpose="print")
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
