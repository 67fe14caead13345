"""Offline plan: what `pulumi up` would create for a stack, with no cloud account and no Pulumi CLI.

    python -m tools.plan [--stack NAME | --config-file FILE] [--json | --markdown] [--account-id ID]

Runs the real program under Pulumi's mock engine. Exit status: 0 clean, 1 a mandatory policy is
violated, 2 invalid settings (one line per problem on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import yaml

from model.job_manifests import SQL_FILE
from model.resource_types import CONFIG_MAP_TYPE, IAMR_USER_TYPE
from model.settings import (
    KEYS_BY_NAME,
    PROJECT,
    SECRET,
    SettingsError,
    settings_from_config,
)
from model.sql import data_api_sql
from tools import engine
from tools.policy_check import evaluate

EXIT_OK, EXIT_POLICY, EXIT_SETTINGS = 0, 1, 2


def declared_type_problems(config: Mapping[str, Any]) -> list[str]:
    """Values the Pulumi CLI refuses before the program runs: a YAML list or mapping where
    Pulumi.yaml declares a string, integer or boolean, and a mapping where it declares an array."""
    problems = []
    for full_name, value in config.items():
        key = KEYS_BY_NAME.get(full_name.removeprefix(f"{PROJECT}:"))
        if key is None or not key.declared or not full_name.startswith(f"{PROJECT}:"):
            continue
        structured = isinstance(value, list) or (isinstance(value, dict) and "secure" not in value)
        if key.type != "array" and structured:
            fix = 'write it as a JSON string, e.g. \'{"team":"data"}\''
        elif key.type == "array" and isinstance(value, dict) and "secure" not in value:
            fix = "write a YAML list"
        else:
            continue
        problems.append(
            f"{full_name} = {json.dumps(value)!r}: Pulumi.yaml declares it type: {key.type}; {fix}"
        )
    return problems


def load_config(config_file: Path) -> dict[str, str]:
    """The stack file's config as the engine would pass it to the program."""
    try:
        document = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise SettingsError([f"{config_file}: is not valid YAML: {err}"]) from None
    except FileNotFoundError:
        raise
    except OSError as err:
        raise SettingsError([f"{config_file}: cannot be read: {err.strerror or err}"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise SettingsError([f"{config_file}: a stack file is a YAML mapping with a config: block"])
    problems = declared_type_problems(document.get("config") or {})
    if problems:
        raise SettingsError(problems)
    return engine.stack_config_strings(document)


def check_settings(config: dict[str, str]) -> None:
    """Raise SettingsError before anything runs, exactly as the program would."""
    secret_keys = [key for key, value in config.items() if value is SECRET]
    settings_from_config(config, secret_keys=secret_keys)


def build_plan(
    config_file: Path | None = None,
    stack: str = "dev",
    account_id: str = engine.PLACEHOLDER_ACCOUNT_ID,
) -> dict[str, Any]:
    """The plan as the `--json` document. Raises SettingsError on invalid settings."""
    path = config_file or engine.ROOT_DIR / f"Pulumi.{stack}.yaml"
    config = load_config(path)
    check_settings(config)
    run = engine.run_program(config, stack=stack, account_id=account_id)
    resources = [r.as_json() for r in run.resources]
    return {
        "project": PROJECT,
        "stack": stack,
        "resources": resources,
        "outputs": run.outputs,
        "policyViolations": evaluate(resources, project=PROJECT, stack=stack),
    }


# --- the readable views ---------------------------------------------------------------------------

IAM_DOCUMENT_INPUTS = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
}


def short_type(type_token: str) -> str:
    """`aws:iam/role:Role` -> `aws.iam.Role`; component tokens stay as they are."""
    parts = type_token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}.{parts[1].split('/')[0]}.{parts[2]}"
    return type_token


def iam_documents(plan: dict[str, Any]) -> list[tuple[str, Any]]:
    """(resource name, parsed document) for every IAM document in the plan, in plan order."""
    found = []
    for resource in plan["resources"]:
        key = IAM_DOCUMENT_INPUTS.get(resource["type"])
        text = resource["inputs"].get(key) if key else None
        if isinstance(text, str) and text != engine.COMPUTED:
            label = resource["inputs"].get("name", resource["name"])
            if resource["type"] == "aws:iam/role:Role":
                label = f"{label} (trust policy)"
            elif isinstance(role := resource["inputs"].get("role"), str):
                label = f"{role}: {label}"
            # A document built from a secret setting is a secret itself: shown as the placeholder.
            found.append((label, text if text == engine.SECRET else json.loads(text)))
    return found


def connector_configs(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each connector's `connectorConfig` by connector name ("" for the stack's only one)."""
    outputs = plan["outputs"]
    if isinstance(outputs.get("connectorConfig"), dict):
        return {"": outputs["connectorConfig"]}
    connectors = outputs.get("connectors")
    if not isinstance(connectors, dict):
        return {}
    return {
        name: value["connectorConfig"]
        for name, value in connectors.items()
        if isinstance(value, dict) and isinstance(value.get("connectorConfig"), dict)
    }


def provisioning_sql(plan: dict[str, Any]) -> list[str]:
    """The SQL each database-user provisioner will run, rebuilt by the very functions it calls."""
    statements: list[str] = []
    for resource in plan["resources"]:
        inputs = resource["inputs"]
        if resource["type"] == IAMR_USER_TYPE:
            statements.append(f"-- {resource['name']} (Data API):")
            sql = data_api_sql(inputs["user"], inputs["schemas"], inputs["owner"])
            statements += sql.splitlines()
        elif resource["type"] == CONFIG_MAP_TYPE:
            script = (inputs.get("data") or {}).get(SQL_FILE)
            if isinstance(script, str):
                statements.append(f"-- {resource['name']} (psql Job script):")
                statements += script.splitlines()
    return statements


def resource_tree(plan: dict[str, Any]) -> list[str]:
    children: dict[str | None, list[dict[str, Any]]] = {}
    for resource in plan["resources"]:
        children.setdefault(resource["parent"], []).append(resource)
    urns = {r["urn"] for r in plan["resources"]}
    roots = [r for r in plan["resources"] if r["parent"] not in urns]
    lines: list[str] = []

    def walk(resource: dict[str, Any], depth: int) -> None:
        marks = " [protected]" if resource.get("protect") else ""
        lines.append(f"{'  ' * depth}+ {short_type(resource['type'])}  {resource['name']}{marks}")
        for child in sorted(children.get(resource["urn"], []), key=lambda r: r["name"]):
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda r: r["name"]):
        walk(root, 0)
    return lines


def render_text(plan: dict[str, Any]) -> str:
    out = [
        f"Plan for stack {plan['stack']} of {plan['project']} (offline: mock engine, account "
        f"{engine.PLACEHOLDER_ACCOUNT_ID} and looked-up ids are placeholders; "
        f"{engine.COMPUTED} = known after deploy)",
        "",
        f"Resources to create ({sum(1 for r in plan['resources'] if r['type'].startswith('aws:'))}"
        " AWS resources):",
        *resource_tree(plan),
        "",
        "IAM documents:",
    ]
    for label, document in iam_documents(plan):
        out += [f"--- {label}", json.dumps(document, indent=2)]
    sql = provisioning_sql(plan)
    out += ["", "SQL the database-user provisioner runs:"]
    out += [f"  {s}" for s in sql] or ["  (none)"]
    for name, connector in connector_configs(plan).items():
        which = f" of connector {name}" if name else ""
        out += ["", f"Connector config{which} (paste into the xpander UI):"]
        width = max((len(k) for k in connector), default=0)
        out += [f"  {k.ljust(width)}  {v}" for k, v in connector.items()]
    out += ["", "Stack outputs:"]
    shown = ("connectorConfig", "connectors")
    out += [f"  {k}: {json.dumps(v)}" for k, v in plan["outputs"].items() if k not in shown]
    out += ["", "Policy verdicts:"]
    violations = plan["policyViolations"]
    out += [
        f"  [{v['enforcementLevel']}] {v['policy']}: {v['message']} ({v['urn'] or 'stack'})"
        for v in violations
    ] or ["  all policies pass"]
    return "\n".join(out) + "\n"


def mandatory_violations(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in plan["policyViolations"] if v["enforcementLevel"] == "mandatory"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=__doc__.split("\n")[0]
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="dev", help="render Pulumi.<stack>.yaml (default: dev)")
    source.add_argument("--config-file", type=Path, help="render any stack file")
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--json", action="store_true", help="machine-readable plan")
    view.add_argument("--markdown", action="store_true", help="pull-request comment view")
    parser.add_argument(
        "--base",
        type=Path,
        metavar="FILE",
        help="with --markdown: also show what changed since this earlier --json plan",
    )
    parser.add_argument(
        "--account-id",
        default=engine.PLACEHOLDER_ACCOUNT_ID,
        help="account id to build ARNs with (default: a placeholder)",
    )
    args = parser.parse_args(argv)
    if args.base and not args.markdown:
        parser.error("--base needs --markdown")

    stack = args.stack if args.config_file is None else args.config_file.stem.split(".")[-1]
    try:
        plan = build_plan(args.config_file, stack=stack, account_id=args.account_id)
    except SettingsError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return EXIT_SETTINGS
    except FileNotFoundError as err:
        print(f"no such stack file: {err.filename}", file=sys.stderr)
        return EXIT_SETTINGS
    except (pulumi.RunError, ValueError) as err:
        # A value the program refuses once it sees the looked-up facts (say, a security group
        # the existing cluster does not use): its last line is the message that names the key.
        last = str(err).strip().splitlines()[-1]
        print(last.removeprefix("ValueError has risen: "), file=sys.stderr)
        return EXIT_SETTINGS

    if args.json:
        sys.stdout.write(json.dumps(plan, indent=2) + "\n")
    elif args.markdown:
        from tools.plan_markdown import render_markdown  # noqa: PLC0415

        base = json.loads(args.base.read_text(encoding="utf-8")) if args.base else None
        sys.stdout.write(render_markdown(plan, base=base))
    else:
        sys.stdout.write(render_text(plan))
    return EXIT_POLICY if mandatory_violations(plan) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
