"""docs/security-baseline.md's table of the deployer's permissions: the stored derivation, rendered.

Each row is one resource type or lookup the program may register, with the IAM actions its provider
code calls in each phase and the provider file (and commit) they were read from
(`model.provider_calls`). The pasteable policy for one stack is `python -m tools.deployer_policy`
(`model.deployer_policy`); this table is how it was derived.
"""

from __future__ import annotations

from collections.abc import Sequence

from model import provider_calls as pc
from model.provider_calls import Call

PHASES = (pc.LOOKUP, pc.CREATE, pc.READ, pc.UPDATE, pc.DELETE)
_REPO_FILES = ("clients/", "components/", "providers/")


def _source(source: str) -> str:
    if source in pc.SOURCES:
        return f"`{source}` @ {pc.SOURCES[source][:10]}"
    if source.startswith(_REPO_FILES):
        return f"this repository's `{source}`"
    return source


def _actions(calls: Sequence[Call]) -> str:
    parts = []
    for phase in PHASES:
        actions = sorted({c.action for c in calls if c.phase == phase})
        if actions:
            parts.append(f"{phase}: " + ", ".join(f"`{a}`" for a in actions))
    return "; ".join(parts)


def _row(what: str, calls: Sequence[Call]) -> str:
    sources = ", ".join(_source(s) for s in dict.fromkeys(c.source for c in calls))
    return f"| {what} | {_actions(calls)} | {sources} |"


EXTRA: tuple[tuple[str, tuple[Call, ...]], ...] = (
    ("managed master password (new cluster)", pc.MANAGED_PASSWORD_DEPENDENT),
    ("kmsKeyId (new cluster)", pc.KMS_KEY_DEPENDENT),
    ("an account's first cluster", pc.SERVICE_LINKED_ROLE),
    ("auditLogging s3", pc.S3_AUDIT_LOGGING),
    ("rebootForStaticParameters", pc.REBOOT_FOR_STATIC_PARAMETERS),
    ("existing cluster, data-api, no existingAdminSecretArn", pc.DB_USER_CREDENTIALS),
    (
        "existingAdminSecretArn encrypted with a customer-managed key (only through Secrets "
        "Manager, only for that secret)",
        pc.SECRET_KEY_DECRYPT,
    ),
    (
        "existing cluster, data-api: its customer managed key (only grants and DescribeKey an AWS "
        "service makes)",
        pc.EXISTING_CLUSTER_KEY,
    ),
)


def permissions_markdown() -> str:
    """Every resource type, lookup and dependent need, with its actions and where they come from."""
    rows = ["| registered / needed for | actions by phase | read from |", "| --- | --- | --- |"]
    for token, calls in pc.RESOURCE_CALLS.items():
        rows.append(_row(f"`{token}`", calls))
    for token, calls in pc.INVOKE_CALLS.items():
        if calls:
            rows.append(_row(f"lookup `{token}`", calls))
    for what, calls in EXTRA:
        rows.append(_row(what, calls))
    return "\n".join(rows) + "\n"
