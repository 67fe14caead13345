"""The xpander connector config: the field names and order of the xpander UI's Redshift form."""

from __future__ import annotations

from typing import Any

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
    if "resources" in document and isinstance(document.get("outputs"), dict):
        return dict(document["outputs"])
    return document


class ConnectorNotFoundError(ValueError):
    """The outputs have no connector of that name; the message lists the ones they have."""


def connector_outputs(outputs: dict[str, Any], name: str | None) -> dict[str, Any]:
    """The stack outputs as one connector sees them.

    A stack with `connectors` exports each connector's outputs under `connectors.<name>`; merging
    the chosen one over the shared outputs gives the single-connector shape the tools read.
    """
    connectors = outputs.get("connectors")
    if name is None:
        if isinstance(connectors, dict) and "connectorConfig" not in outputs:
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
    shared = {k: v for k, v in outputs.items() if k != "connectors"}
    return {**shared, **connectors[name]}
