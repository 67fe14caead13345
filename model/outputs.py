"""The stack-outputs contract: output names, the multi-connector shape, the UI's fields, and the
values that stand in for what is not known (yet, or to the reader)."""

from __future__ import annotations

from typing import Any, Final

from model import aws_facts

# Stack output names (`pulumi stack output`). Users, CI and the xpander UI read these: renaming one
# breaks them all, so the program, the tools and the tests take every name from here.
CONNECTOR_CONFIG: Final = "connectorConfig"
CLUSTER_ENDPOINT: Final = "clusterEndpoint"
CLUSTER_PORT: Final = "clusterPort"
ROLE_ARN: Final = "roleArn"
ORGANIZATION_ID: Final = "organizationId"
SECURITY_GROUP_ID: Final = "securityGroupId"
MASTER_PASSWORD_SECRET_ARN: Final = "masterPasswordSecretArn"  # noqa: S105 - a name
SUBNET_GROUP_NAME: Final = "subnetGroupName"
NODE_TYPE: Final = "nodeType"
DATABASE_USER: Final = "databaseUser"
# The static parameters a change left waiting for the cluster's reboot (model/cluster_reboot.py).
PENDING_REBOOT: Final = "pendingReboot"
# With the `connectors` setting, each connector's outputs (CONNECTOR_CONFIG, ROLE_ARN,
# DATABASE_USER, ORGANIZATION_ID) sit under `connectors.<name>`; the cluster's stay at the top.
CONNECTORS: Final = "connectors"
PER_CONNECTOR_OUTPUTS: Final = (CONNECTOR_CONFIG, ROLE_ARN, DATABASE_USER, ORGANIZATION_ID)
SHARED_OUTPUTS: Final = (
    CLUSTER_ENDPOINT,
    CLUSTER_PORT,
    MASTER_PASSWORD_SECRET_ARN,
    SECURITY_GROUP_ID,
    SUBNET_GROUP_NAME,
    NODE_TYPE,
    PENDING_REBOOT,
)

# What each output holds and where it goes in the xpander UI (the README's outputs table is
# rendered from this: `python -m tools.readme_tables`). Every output name above has its row.
OUTPUT_DOCS: Final = (
    (
        CONNECTOR_CONFIG,
        "the connector form's fields, in the form's order (table above)",
        "the Redshift connector form: paste each value into the field of its name",
    ),
    (ROLE_ARN, "ARN of the IAM role xpander assumes (with its path)", "IAM Role ARN"),
    (
        ORGANIZATION_ID,
        "the ExternalId the role's trust policy requires (a secret if set with --secret)",
        "not in the form: it is your xpander Organization ID",
    ),
    (DATABASE_USER, "`IAMR:<roleName>`, the database user the role maps to", "not in the form"),
    (
        CLUSTER_ENDPOINT,
        "the cluster's host name (inside the VPC)",
        "not in the form: `make verify` uses it",
    ),
    (CLUSTER_PORT, "the port the cluster listens on", "not in the form: `make verify` uses it"),
    (
        MASTER_PASSWORD_SECRET_ARN,
        "ARN of the Secrets Manager secret with the admin password (never the password)",
        "not in the form",
    ),
    (SECURITY_GROUP_ID, "the security group the ingress rules are in", "not in the form"),
    (SUBNET_GROUP_NAME, "the cluster's subnet group", "not in the form"),
    (NODE_TYPE, "the node type the region offered first of `nodeTypes`", "not in the form"),
    (
        PENDING_REBOOT,
        "the static parameters (`require_ssl`, ...) a change left waiting for the cluster's "
        "reboot, and the `rebootCommand` that applies them; `parameters: []` when none; null "
        "with an existing cluster (the stack manages no parameter group of it)",
        "not in the form: docs/operations.md, Static parameters need a reboot",
    ),
    (
        CONNECTORS,
        f"with `connectors`: {', '.join(PER_CONNECTOR_OUTPUTS)} of each connector, by its name",
        'each connector\'s own form (`make connector ARGS="--connector NAME"`)',
    ),
)

# What stands in for a value the reader cannot see (model/aws_facts.py, shared with the pack):
COMPUTED: Final = aws_facts.COMPUTED  # known only after deploy (the offline plan, `pulumi preview`)
SECRET: Final = aws_facts.SECRET  # a secret, as `pulumi stack output` prints it
UNKNOWN: Final = "[unknown]"  # an unknown, as the Pulumi CLI prints it
NOT_VALUES: Final = (COMPUTED, SECRET, UNKNOWN)
# The offline plan's account: AWS's documentation account id, never a real one.
PLACEHOLDER_ACCOUNT_ID: Final = "111122223333"
# The offline plan's `--json` says whether its account is that placeholder (then its ARNs are
# examples, not values to paste into the xpander UI).
PLAN_ACCOUNT_IS_PLACEHOLDER: Final = "accountIsPlaceholder"
PLAN_ACCOUNT_ID: Final = "accountId"

# The UI's field names, in the order the form shows them (guide step 8). Changing a name here
# breaks every stack output that users paste into the UI, so the tests pin them.
UI_FIELDS: tuple[str, ...] = (
    "ClusterNamePath",
    "DatabaseNamePath",
    "CatalogNamePath",
    "IAM Role ARN",
    "Region",
    "Auth Method",
)

AUTH_METHOD = "IAM"


def outputs_table() -> str:
    """The README's outputs table."""
    rows = ["| output | what it holds | where it goes in the xpander UI |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {holds} | {ui} |" for name, holds, ui in OUTPUT_DOCS]
    return "\n".join(rows) + "\n"


def connector_config(
    *,
    cluster_identifier: str,
    database_name: str,
    catalog_name_path: str,
    role_arn: str,
    region: str,
) -> dict[str, str]:
    """The `connectorConfig` stack output: exactly the UI's fields, in the UI's order."""
    values = (cluster_identifier, database_name, catalog_name_path, role_arn, region, AUTH_METHOD)
    return dict(zip(UI_FIELDS, values, strict=True))


def stack_outputs(document: dict[str, Any]) -> dict[str, Any]:
    """Stack outputs from `pulumi stack output --json`, or from an offline plan's `--json`."""
    if is_plan(document):
        return dict(document["outputs"])
    return document


def is_plan(document: dict[str, Any]) -> bool:
    """Whether a JSON document is an offline plan (`python -m tools.plan --json`)."""
    return "resources" in document and isinstance(document.get("outputs"), dict)


def plan_account_is_placeholder(document: dict[str, Any]) -> bool:
    """Whether an offline plan's ARNs carry the placeholder account (plans written before the
    plan said so are recognised by the account in their role ARN)."""
    if not is_plan(document):
        return False
    marked = document.get(PLAN_ACCOUNT_IS_PLACEHOLDER)
    if isinstance(marked, bool):
        return marked
    return f":{PLACEHOLDER_ACCOUNT_ID}:" in str(document["outputs"])


class ConnectorNotFoundError(ValueError):
    """The outputs have no connector of that name; the message lists the ones they have."""


def connector_outputs(outputs: dict[str, Any], name: str | None) -> dict[str, Any]:
    """The stack outputs as one connector sees them.

    A stack with `connectors` exports each connector's outputs under `connectors.<name>`; merging
    the chosen one over the shared outputs gives the single-connector shape the tools read.
    """
    connectors = outputs.get(CONNECTORS)
    if name is None:
        if isinstance(connectors, dict) and CONNECTOR_CONFIG not in outputs:
            raise ConnectorNotFoundError(
                f"this stack has several connectors ({', '.join(sorted(connectors))}): "
                "choose one with --connector NAME"
            )
        return outputs
    if not isinstance(connectors, dict) or name not in connectors:
        known = ", ".join(sorted(connectors)) if isinstance(connectors, dict) else "none"
        raise ConnectorNotFoundError(
            f"no connector {name!r} in the stack outputs (connectors: {known})"
        )
    chosen = connectors[name]
    if not isinstance(chosen, dict):
        raise ConnectorNotFoundError(
            f"the stack output {CONNECTORS}.{name} is not an object of outputs: "
            "read the outputs of a stack this project deployed"
        )
    shared = {k: v for k, v in outputs.items() if k != CONNECTORS}
    return {**shared, **chosen}


def connector_configs(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each connector's `connectorConfig` by connector name ("" for the stack's only one).

    With `connectors`, the top-level `connectorConfig` (the primary connector's) is also under
    `connectors.<name>`: each connector is listed once, by its name."""
    connectors = outputs.get(CONNECTORS)
    if not isinstance(connectors, dict):
        if isinstance(outputs.get(CONNECTOR_CONFIG), dict):
            return {"": outputs[CONNECTOR_CONFIG]}
        return {}
    return {
        name: value[CONNECTOR_CONFIG]
        for name, value in connectors.items()
        if isinstance(value, dict) and isinstance(value.get(CONNECTOR_CONFIG), dict)
    }
