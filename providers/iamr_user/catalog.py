"""What the IAMR user has in the database: the catalog questions the data-api provider asks.

Each question is one read-only statement over the Data API (`model.sql` writes them). Grants are
compared as sets of (kind, schema); state keeps them as {schema: [kind, ...]}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from model import plain_user
from model import sql as redshift_sql

if TYPE_CHECKING:
    from clients.data_api import DataApi

Grant = tuple[redshift_sql.GrantKind, str]  # (kind, schema); "default" is for the current owner
GrantSet = frozenset[Grant]


class Catalog:
    """The read-only questions the provider asks, over one DataApi; each is one statement."""

    def __init__(self, api: DataApi) -> None:
        self.api = api
        self._redshift: bool | None = None

    @property
    def redshift(self) -> bool:
        if self._redshift is None:
            self._redshift = redshift_sql.is_redshift(
                str(self.api.scalar(redshift_sql.VERSION_SQL))
            )
        return self._redshift

    def _column(self, sql: str) -> list[str]:
        return [str(row[0]) for row in self.api.rows(sql)]

    def _text_rows(self, sql: str) -> list[list[str]]:
        """Rows of text columns; NULL becomes ''."""
        return [
            ["" if value is None else str(value) for value in row] for row in self.api.rows(sql)
        ]

    def existing_users(self, users: Sequence[str]) -> set[str]:
        return set(self._column(redshift_sql.existing_users_sql(users)))

    def existing_schemas(self, schemas: Sequence[str]) -> set[str]:
        return set(self._column(redshift_sql.existing_schemas_sql(schemas))) if schemas else set()

    def external_schemas(self, schemas: Sequence[str]) -> set[str]:
        if not schemas or not self.redshift:  # PostgreSQL has no Spectrum schemas
            return set()
        return set(self._column(redshift_sql.external_schemas_sql(schemas)))

    def unsafe(self, user: str) -> dict[str, list[str]]:
        """What makes the existing `user` unsafe to adopt (model.plain_user's checks, one query
        each): {check key: the groups or roles it names, else []}; empty if the user is plain."""
        found: dict[str, list[str]] = {}
        for check in plain_user.CHECKS:
            query = check.provider_sql(user, redshift=self.redshift)
            if query is None:  # PostgreSQL has no such thing
                continue
            if check.names:
                if names := self._column(query):
                    found[check.key] = names
            elif self.api.scalar(query):
                found[check.key] = []
        return found

    def grants(
        self, user: str, schemas: Sequence[str], owner: str, owner_exists: bool = True
    ) -> GrantSet:
        """The grants of the kinds the stack manages that exist now in `schemas` (all existing)."""
        if not schemas:
            return frozenset()
        found: set[Grant] = set()
        for schema, usage, unreadable in self.api.rows(redshift_sql.granted_sql(user, schemas)):
            if usage:
                found.add(("usage", str(schema)))
            if not unreadable:
                found.add(("select", str(schema)))
        if owner_exists:
            for schema, acl in self._text_rows(redshift_sql.default_acls_sql(schemas)):
                if any(
                    item.grantee == user and item.grantor == owner and "r" in item.privileges
                    for item in redshift_sql.parse_acl(acl)
                ):
                    found.add(("default", schema))
        return frozenset(found)

    def owned_objects(self, user: str) -> list[str]:
        rows = self._text_rows(redshift_sql.owned_objects_sql(user))
        return [f"{kind} {name}" for kind, name in rows]

    def other_privileges(self, user: str, owner: str, ours: GrantSet) -> list[str]:
        """Privileges the user holds (or granted) beyond `ours`, which the same batch revokes."""
        found: list[str] = []
        for kind, schema, name, acl in self._text_rows(redshift_sql.acl_mentions_sql(user)):
            for item in redshift_sql.parse_acl(acl):
                if user not in (item.grantee, item.grantor):
                    continue
                privileges = item.privileges.replace("*", "")  # grant options
                if item.grantee == user:
                    privileges = privileges.replace(
                        _revoked_letter(kind, schema, owner, item, ours), ""
                    )
                if privileges:
                    holder = (
                        "held" if item.grantee == user else f"granted to {item.grantee or 'PUBLIC'}"
                    )
                    label = ".".join(str(part) for part in (schema, name) if part)
                    found.append(f"{kind} {label}: {privileges} ({holder})")
        return found


def _revoked_letter(
    kind: str, schema: str, owner: str, item: redshift_sql.AclItem, ours: GrantSet
) -> str:
    """The ACL letter that revoking `ours` removes from this item ('' when it removes none)."""
    if kind == "schema" and ("usage", schema) in ours:
        return "U"
    if kind == "table" and ("select", schema) in ours:
        return "r"
    if kind == "default privileges" and ("default", schema) in ours and item.grantor == owner:
        return "r"
    return ""


def all_grants(schemas: Sequence[str], *, defaults: bool = True) -> GrantSet:
    kinds = redshift_sql.GRANT_KINDS if defaults else ("usage", "select")
    return frozenset((kind, schema) for schema in schemas for kind in kinds)


def grant_plan(grants: GrantSet, order: Sequence[str]) -> dict[redshift_sql.GrantKind, list[str]]:
    """The schemas of each kind, in configuration order (then any others, sorted)."""
    rank = {schema: position for position, schema in enumerate(order)}
    plan: dict[redshift_sql.GrantKind, list[str]] = {}
    for kind in redshift_sql.GRANT_KINDS:
        schemas = [schema for k, schema in grants if k == kind]
        plan[kind] = sorted(schemas, key=lambda s: (rank.get(s, len(rank)), s))
    return plan


def grants_state(grants: GrantSet) -> dict[str, list[str]]:
    """As state keeps it: {schema: [kind, ...]}, so a preview shows which grant of which schema."""
    state: dict[str, list[str]] = {}
    for kind in redshift_sql.GRANT_KINDS:
        for k, schema in sorted(grants):
            if k == kind:
                state.setdefault(schema, []).append(kind)
    return dict(sorted(state.items()))


def parse_grants(value: Any) -> GrantSet:
    if not isinstance(value, Mapping):
        return frozenset()
    return frozenset(
        (kind, str(schema))
        for schema, kinds in value.items()
        for kind in redshift_sql.GRANT_KINDS
        if kind in (kinds or [])
    )
