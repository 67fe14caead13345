"""What the data-api provisioner runs on create, as the offline plan shows it.

The kubernetes-job provisioner's counterpart is `model.psql_script`; both take their statements
from `model.sql` and the plain-user checks from `model.plain_user`.
"""

from __future__ import annotations

from collections.abc import Sequence

from model import sql
from model.plain_user import CHECKS


def data_api_sql(user: str, schemas: Sequence[str], owner: str) -> str:
    """What the data-api provisioner runs on create against Redshift, as the plan shows it."""
    header = [
        "-- Read-only checks first; if one fails, nothing changes: the schemas and the owner",
        "-- exist, no schema is external (Spectrum), and the user is absent or plain:",
        *(f"--   {check.provider_sql(user)}" for check in CHECKS),
        "-- A plain existing user is adopted (and never dropped); any other is refused.",
        "-- Then one BatchExecuteStatement (one transaction); CREATE USER only if it is absent:",
    ]
    statements = sql.provisioning_statements(user, schemas, owner, user_exists=False)
    return "".join(f"{line}\n" for line in header) + "".join(f"{s};\n" for s in statements)
