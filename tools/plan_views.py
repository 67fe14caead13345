"""What the plan's views show, read from the plan JSON: IAM documents, SQL, connector configs, and
the plain-text view `python -m tools.plan` prints.

Pure functions of the `--json` document; the markdown view (tools/plan_markdown.py) reads the same
extractions, so the two views never disagree.
"""

from __future__ import annotations

import json
from typing import Any

from model.data_api_sql import data_api_sql
from model.job_manifests import SQL_FILE
from model.outputs import (
    COMPUTED,
    CONNECTOR_CONFIG,
    CONNECTORS,
    PLACEHOLDER_ACCOUNT_ID,
    PLAN_ACCOUNT_ID,
    PLAN_ACCOUNT_IS_PLACEHOLDER,
    SECRET,
    connector_configs,
)
from model.resource_types import CONFIG_MAP_TYPE, IAMR_USER_TYPE
from providers.iamr_user.props import KEYS

Plan = dict[str, Any]

# The input of each IAM resource type that holds a policy document.
IAM_DOCUMENT_INPUTS = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
}
# Outputs the views show in a section of their own, not in the list of other outputs.
CONNECTOR_OUTPUTS = (CONNECTOR_CONFIG, CONNECTORS)


def short_type(type_token: str) -> str:
    """`aws:iam/role:Role` -> `aws.iam.Role`; component tokens stay as they are."""
    parts = type_token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}.{parts[1].split('/')[0]}.{parts[2]}"
    return type_token


def plan_account(plan: Plan) -> tuple[str, bool]:
    """The plan's account id and whether it is the placeholder (plans without the marks are)."""
    account = str(plan.get(PLAN_ACCOUNT_ID, PLACEHOLDER_ACCOUNT_ID))
    return account, bool(plan.get(PLAN_ACCOUNT_IS_PLACEHOLDER, True))


def iam_documents(plan: Plan) -> list[tuple[str, Any]]:
    """(resource name, parsed document) for every IAM document in the plan, in plan order."""
    found = []
    for resource in plan["resources"]:
        key = IAM_DOCUMENT_INPUTS.get(resource["type"])
        text = resource["inputs"].get(key) if key else None
        if isinstance(text, str) and text != COMPUTED:
            label = resource["inputs"].get("name", resource["name"])
            if resource["type"] == "aws:iam/role:Role":
                label = f"{label} (trust policy)"
            elif isinstance(role := resource["inputs"].get("role"), str):
                label = f"{role}: {label}"
            # A document built from a secret setting is a secret itself: shown as the placeholder.
            found.append((label, text if text == SECRET else json.loads(text)))
    return found


def plan_connector_configs(plan: Plan) -> dict[str, dict[str, Any]]:
    """Each connector's `connectorConfig` in the plan's outputs, by connector name."""
    return connector_configs(plan["outputs"])


def provisioning_sql(plan: Plan) -> list[str]:
    """The SQL each database-user provisioner will run, rebuilt by the very functions it calls."""
    statements: list[str] = []
    for resource in plan["resources"]:
        inputs = resource["inputs"]
        if resource["type"] == IAMR_USER_TYPE and not inputs.get(KEYS["provisioner"]):
            statements.append(f"-- {resource['name']} (Data API):")
            user, schemas, owner = (inputs[KEYS[k]] for k in ("user", "schemas", "owner"))
            sql = data_api_sql(user, schemas, owner)
            statements += sql.splitlines()
        elif resource["type"] == CONFIG_MAP_TYPE:
            script = (inputs.get("data") or {}).get(SQL_FILE)
            if isinstance(script, str):
                statements.append(f"-- {resource['name']} (psql Job script):")
                statements += script.splitlines()
    return statements


def resource_tree(plan: Plan) -> list[str]:
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


def render_text(plan: Plan) -> str:
    account, placeholder = plan_account(plan)
    which = " and looked-up ids are" if placeholder else "; looked-up ids are"
    out = [
        f"Plan for stack {plan['stack']} of {plan['project']} (offline: mock engine, account "
        f"{account}{which} placeholders; {COMPUTED} = known after deploy)",
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
    # A placeholder account's ARNs are examples: say so where the fields are shown.
    paste = (
        "its account is a placeholder: after deploy, paste what `make connector` prints"
        if placeholder
        else "paste into the xpander UI"
    )
    for name, connector in plan_connector_configs(plan).items():
        which = f" of connector {name}" if name else ""
        out += ["", f"Connector config{which} ({paste}):"]
        width = max((len(k) for k in connector), default=0)
        out += [f"  {k.ljust(width)}  {v}" for k, v in connector.items()]
    out += ["", "Stack outputs:"]
    out += [
        f"  {k}: {json.dumps(v)}" for k, v in plan["outputs"].items() if k not in CONNECTOR_OUTPUTS
    ]
    out += ["", "Policy verdicts:"]
    violations = plan["policyViolations"]
    out += [
        f"  [{v['enforcementLevel']}] {v['policy']}: {v['message']} ({v['urn'] or 'stack'})"
        for v in violations
    ] or ["  all policies pass"]
    return "\n".join(out) + "\n"


def mandatory_violations(plan: Plan) -> list[dict[str, Any]]:
    return [v for v in plan["policyViolations"] if v["enforcementLevel"] == "mandatory"]
