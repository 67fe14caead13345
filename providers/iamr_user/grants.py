"""The accounting of grants: what the stack holds, what an adopted user held before, what to revoke.

Pure functions of `SchemaFacts` (what the catalog shows, granted to the user itself) and of the
adoption record. The rules (docs/database-user.md):
- What an adopted user held in a schema is recorded at the granularity it was granted (USAGE,
  SELECT per table, default privileges per owner) before the stack's first grant there, for every
  schema the stack ever grants in, and is never revoked. The record only grows.
- Default privileges an adopted user held for an owner keep their fruit: a table that owner
  creates later is readable through them, so it is never revoked; only that owner's tables the
  user could not read at adoption (`withheld`) are the stack's to revoke.
- Where a schema-wide revoke would take a table the record keeps, the revoke names each table.
- State's `grants` says what the stack holds in every schema it ever granted in, so a leftover in
  a schema no longer configured shows (and the next update revokes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model import sql as redshift_sql
from providers.iamr_user.catalog import SchemaFacts

# {schema: {"usage": bool, "select": [table, ...], "default": [owner, ...]}}
ADOPTION_RECORD = "adoptionRecord"
OLDER_RECORD = "grantsBeforeAdoption"  # {schema: [kind]}: written by versions before the record
EVERY_TABLE = "*"  # an older record's "select": which tables is unknown, so none is ever revoked


@dataclass(frozen=True)
class Kept:
    """What an adopted user held in one schema before the stack's first grant there."""

    usage: bool = False
    tables: frozenset[str] = frozenset()
    owners: frozenset[str] = frozenset()  # default SELECT on the tables each owner creates
    withheld: frozenset[str] = frozenset()  # those owners' tables it could not read at adoption

    def keeps(self, table: str, owner: str = "") -> bool:
        """Whether SELECT on `table` (owned by `owner`) is the user's own: held at adoption, or
        given by default privileges it held then (a table its owner created since)."""
        if EVERY_TABLE in self.tables or table in self.tables:
            return True
        return owner in self.owners and table not in self.withheld

    def state(self) -> dict[str, Any]:
        found = {"usage": self.usage, "select": sorted(self.tables), "default": sorted(self.owners)}
        if self.withheld:
            found["withheld"] = sorted(self.withheld)
        return found


Record = dict[str, Kept]


def kept_from(facts: SchemaFacts | None) -> Kept:
    """The record of a schema as the catalog shows it now (nothing, for a missing schema)."""
    if facts is None:
        return Kept()
    return Kept(
        usage=facts.usage,
        tables=facts.readable,
        owners=facts.defaults,
        withheld=facts.owned_by(facts.defaults) - facts.readable,
    )


def parse_record(state: Mapping[str, Any]) -> Record:
    """The adoption record in state; one written by an older version is read conservatively."""
    record: Record = {}
    value = state.get(ADOPTION_RECORD)
    if isinstance(value, Mapping):
        for schema, kept in value.items():
            if isinstance(kept, Mapping):
                record[str(schema)] = Kept(
                    usage=bool(kept.get("usage")),
                    tables=frozenset(str(t) for t in kept.get("select") or ()),
                    owners=frozenset(str(o) for o in kept.get("default") or ()),
                    withheld=frozenset(str(t) for t in kept.get("withheld") or ()),
                )
        return record
    older = state.get(OLDER_RECORD)
    if isinstance(older, Mapping):
        owner = str(state.get("owner", ""))
        for schema, value_kinds in older.items():
            kinds = list(value_kinds or ())
            record[str(schema)] = Kept(
                usage="usage" in kinds,
                tables=frozenset({EVERY_TABLE}) if "select" in kinds else frozenset(),
                owners=frozenset({owner}) if "default" in kinds and owner else frozenset(),
            )
    return record


def record_state(record: Mapping[str, Kept]) -> dict[str, Any]:
    return {schema: record[schema].state() for schema in sorted(record)}


def held(facts: SchemaFacts, *, configured: bool, owner: str, kept: Kept) -> list[str]:
    """The stack's grants in one schema as state shows them (kinds in model.sql's order).

    In a configured schema: USAGE; SELECT if every table is readable; the owner's default
    privileges. In a schema no longer configured, only what the record does not keep: leftovers.
    """
    if configured:
        found = {
            "usage": facts.usage,
            "select": facts.unreadable == 0,
            "default": owner in facts.defaults,
        }
    else:
        found = {
            "usage": facts.usage and not kept.usage,
            "select": bool(_taken(facts, kept)),
            "default": owner in facts.defaults and owner not in kept.owners,
        }
    return [kind for kind in redshift_sql.GRANT_KINDS if found[kind]]


def grants_state(
    facts: Mapping[str, SchemaFacts], configured: Sequence[str], owner: str, record: Record
) -> dict[str, list[str]]:
    """State's `grants`: every schema read, with what the stack holds there (none: left out)."""
    state: dict[str, list[str]] = {}
    for schema in sorted(facts):
        kinds = held(
            facts[schema],
            configured=schema in configured,
            owner=owner,
            kept=record.get(schema, Kept()),
        )
        if kinds:
            state[schema] = kinds
    return state


def wanted_state(schemas: Iterable[str], *, defaults: bool = True) -> dict[str, list[str]]:
    kinds = list(redshift_sql.GRANT_KINDS if defaults else ("usage", "select"))
    return {schema: list(kinds) for schema in sorted(schemas)}


@dataclass
class Revocation:
    """What to revoke, by statement: default privileges of `owner`, SELECT schema-wide, SELECT
    per table (where the record keeps another table of the schema), USAGE."""

    owner: str
    defaults: list[str] = field(default_factory=list)
    all_tables: list[str] = field(default_factory=list)
    tables: list[tuple[str, str]] = field(default_factory=list)
    usage: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.defaults or self.all_tables or self.tables or self.usage)

    def sql(self, user: str) -> list[str]:
        head = redshift_sql.revokes_sql(
            user, self.owner, {"default": self.defaults, "select": self.all_tables}
        )
        tail = redshift_sql.revokes_sql(user, self.owner, {"usage": self.usage})
        return [*head, *redshift_sql.revoke_tables_sql(user, self.tables), *tail]

    def gone(self, facts: Mapping[str, SchemaFacts]) -> bool:
        """Whether the catalog shows every revoked grant gone (a missing schema took them)."""
        for schema, f in facts.items():
            if schema in self.defaults and self.owner in f.defaults:
                return False
            if schema in self.usage and f.usage:
                return False
            if schema in self.all_tables and f.readable:
                return False
        return not any(t in facts[s].readable for s, t in self.tables if s in facts)

    def schemas(self) -> list[str]:
        found = [*self.defaults, *self.all_tables, *(s for s, _ in self.tables), *self.usage]
        return list(dict.fromkeys(found))


def revocation(
    facts: Mapping[str, SchemaFacts],
    schemas: Iterable[str],
    owner: str,
    record: Record,
    *,
    kinds: Sequence[str] = redshift_sql.GRANT_KINDS,
) -> Revocation:
    """Revoke the stack's grants of `kinds` in `schemas` (those that exist), keeping the record."""
    out = Revocation(owner)
    for schema in schemas:
        f = facts.get(schema)
        if f is None:
            continue
        kept = record.get(schema, Kept())
        if "default" in kinds and owner in f.defaults and owner not in kept.owners:
            out.defaults.append(schema)
        if "select" in kinds:
            take = _taken(f, kept)
            if take and len(take) == len(f.readable):  # nothing readable is kept: schema-wide
                out.all_tables.append(schema)
            else:
                out.tables += [(schema, t) for t in take]
        if "usage" in kinds and f.usage and not kept.usage:
            out.usage.append(schema)
    return out


def _taken(facts: SchemaFacts, kept: Kept) -> list[str]:
    """The readable tables of a schema whose SELECT is the stack's, not kept by the record."""
    return sorted(t for t in facts.readable if not kept.keeps(t, facts.owners.get(t, "")))
