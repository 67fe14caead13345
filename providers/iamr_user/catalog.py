"""What the IAMR user has in the database: the catalog questions the data-api provider asks.

Each question is one read-only statement over the Data API (`model.sql` writes them); what the
user holds is read from the ACLs, as granted to the user itself (`SchemaFacts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model import plain_user
from model import sql as redshift_sql

if TYPE_CHECKING:
    from clients.data_api import DataApi

Grant = tuple[redshift_sql.GrantKind, str]  # (kind, schema); "default" is for the current owner
GrantSet = frozenset[Grant]


@dataclass(frozen=True)
class SchemaFacts:
    """What the user holds in one existing schema, at the granularity it can be granted."""

    usage: bool  # USAGE on the schema
    readable: frozenset[str]  # the tables and views it can SELECT
    unreadable: int  # how many it cannot
    defaults: frozenset[str]  # the owners whose default privileges give it SELECT on new tables
    owners: Mapping[str, str] = field(default_factory=dict)  # every table and view: its owner

    def owned_by(self, owners: frozenset[str]) -> frozenset[str]:
        """The tables and views of the schema that one of `owners` owns."""
        return frozenset(table for table, owner in self.owners.items() if owner in owners)


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

    def facts(self, user: str, schemas: Sequence[str]) -> dict[str, SchemaFacts]:
        """Per existing schema of `schemas`: the user's USAGE, readable tables, default grantors,
        as granted to the user itself. Two read-only statements whatever the number of schemas;
        a missing schema is absent from the answer."""
        if not schemas:
            return {}
        usage: dict[str, bool] = {}
        readable: dict[str, set[str]] = {}
        unreadable: dict[str, int] = {}
        owners: dict[str, dict[str, str]] = {}
        for kind, schema, table, acl, owner in self._text_rows(
            redshift_sql.schema_acls_sql(schemas)
        ):
            letters = "".join(
                item.privileges
                for item in redshift_sql.parse_acl(acl)
                if item.grantee == user and item.grantor != user  # not an owner's own rights
            )
            if kind == "schema":
                usage[schema] = "U" in letters
                readable.setdefault(schema, set())
                unreadable.setdefault(schema, 0)
            else:
                owners.setdefault(schema, {})[table] = owner
                if "r" in letters:
                    readable.setdefault(schema, set()).add(table)
                else:
                    unreadable[schema] = unreadable.get(schema, 0) + 1
        defaults: dict[str, set[str]] = {}
        for schema, acl in self._text_rows(redshift_sql.default_acls_sql(schemas)):
            defaults.setdefault(schema, set()).update(
                item.grantor
                for item in redshift_sql.parse_acl(acl)
                if item.grantee == user and "r" in item.privileges
            )
        return {
            schema: SchemaFacts(
                usage=has_usage,
                readable=frozenset(readable.get(schema, ())),
                unreadable=unreadable.get(schema, 0),
                defaults=frozenset(defaults.get(schema, ())),
                owners=owners.get(schema, {}),
            )
            for schema, has_usage in usage.items()
        }

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
