"""The xpander connector config: the field names and order of the xpander UI's Redshift form."""

from __future__ import annotations

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
