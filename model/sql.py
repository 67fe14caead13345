"""Quoting and the idempotent SQL that provisions and removes the IAMR database user on Redshift.

Pure functions: the Data API provisioner, the psql Job, the offline plan and the tests all build
their SQL here, so every name is validated and quoted in exactly one place.
"""

# ruff: noqa: S608 -- this is the one place that builds SQL; every name in it went through
# quote_identifier or quote_literal, which validate before they quote.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

# Redshift-only: PostgreSQL spells it PASSWORD NULL. Read at call time so that the tests, and only
# the tests, can swap it to run the very same statements against PostgreSQL.
PASSWORD_CLAUSE = "PASSWORD DISABLE"  # noqa: S105 (the absence of a password, not one)
MAX_IDENTIFIER_BYTES = 127

NameKind = Literal["schema", "user"]
"""What a name names. Redshift keeps the case of a quoted user name, but folds schema names."""

# A grant to PUBLIC reaches every user, and `"public"` quoted still means PUBLIC where a user is
# expected; PostgreSQL reserves NONE as well.
_RESERVED_USER_NAMES = frozenset({"public", "none"})
_FORBIDDEN_CHARACTERS = frozenset({'"', "'", "\\"})
_FIRST_PRINTABLE, _LAST_PRINTABLE, _LAST_ASCII = 0x20, 0x7E, 0x7F


class SqlNameError(ValueError):
    """A name that cannot safely become a Redshift identifier or string literal."""


def _character_problem(name: str) -> str | None:
    """The rules every name and literal obeys, whatever it names."""
    if not name:
        return "A name must not be empty."
    size = len(name.encode("utf-8", errors="surrogatepass"))  # lone surrogates: refused below
    if size > MAX_IDENTIFIER_BYTES:
        return (
            f"A name must be at most {MAX_IDENTIFIER_BYTES} bytes (UTF-8); this one is {size} "
            "(Redshift Database Developer Guide, Names and identifiers)."
        )
    for character in name:
        problem = _refused_character(character)
        if problem is not None:
            return problem
    if name != name.strip(" "):
        return "A name must not start or end with a space: Redshift would keep it in the name."
    return None


def _refused_character(character: str) -> str | None:
    code = ord(character)
    if code > _LAST_ASCII:
        return (
            f"Only printable ASCII is allowed; {character!r} (U+{code:04X}) is not ASCII, "
            "and Redshift compares names byte by byte."
        )
    if code < _FIRST_PRINTABLE or code > _LAST_PRINTABLE:
        return f"Control characters are not allowed; found {character!r}."
    if character in _FORBIDDEN_CHARACTERS:
        return (
            f"The character {character!r} is not allowed: quotes and backslashes are never "
            "needed in these names, and Redshift reads a backslash in a string literal "
            "differently from PostgreSQL."
        )
    return None


def identifier_problem(name: str, *, kind: NameKind = "schema") -> str | None:
    """None if `name` is acceptable as a `kind` name, else one sentence naming the broken rule."""
    problem = _character_problem(name)
    if problem is not None:
        return problem
    if name.startswith("pg_"):
        return "Names starting with 'pg_' are reserved for the system's own schemas and users."
    if kind == "schema" and name != name.lower():
        return (
            "Schema names must be lower case: Redshift folds identifiers to lower case unless "
            "enable_case_sensitive_identifier is on, so this name would not name the schema "
            f"you meant; write it as {name.lower()!r}."
        )
    if kind == "user" and name.lower() in _RESERVED_USER_NAMES:
        return f"{name!r} is reserved and cannot be a user name (a grant to PUBLIC reaches all)."
    return None


def _require(name: str, kind: NameKind) -> str:
    problem = identifier_problem(name, kind=kind)
    if problem is not None:
        raise SqlNameError(f"{name!r} is not a valid Redshift {kind} name. {problem}")
    return name


def quote_identifier(name: str, *, kind: NameKind = "schema") -> str:
    """Validate `name` as a `kind` name and double-quote it (always quoted, so `:` and `-` work)."""
    return '"' + _require(name, kind).replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Validate `value` by the character rules for names and single-quote it.

    Literals are never case-folded, so upper case is fine here (user names keep their case).
    """
    problem = _character_problem(value)
    if problem is not None:
        raise SqlNameError(f"{value!r} is not a valid Redshift string literal. {problem}")
    return _string_literal(value)


def _string_literal(text: str) -> str:
    # Only for text built here from validated names, so it holds no backslash and no single quote;
    # the doubling is a second line of defence, the refusal a guard against a future caller.
    if "\\" in text:
        raise SqlNameError(f"{text!r} contains a backslash, which Redshift reads as an escape.")
    return "'" + text.replace("'", "''") + "'"


def _user(name: str) -> str:
    return quote_identifier(name, kind="user")


def _schemas(schemas: Sequence[str]) -> list[str]:
    """The quoted schemas, in the given order; a repeated schema is a configuration mistake."""
    if isinstance(schemas, str):
        raise SqlNameError(f"{schemas!r} is one schema name; pass a list of schema names.")
    seen: set[str] = set()
    for schema in schemas:
        if schema in seen:
            raise SqlNameError(f"{schema!r} is listed twice; each schema may appear only once.")
        seen.add(schema)
    return [quote_identifier(schema, kind="schema") for schema in schemas]


def create_user_sql(user: str) -> str:
    """Redshift has no CREATE USER IF NOT EXISTS: callers check existing_users_sql first."""
    return f"CREATE USER {_user(user)} {PASSWORD_CLAUSE}"


def drop_user_sql(user: str) -> str:
    return f"DROP USER {_user(user)}"


def user_absent_sql(user: str) -> str:
    """A read-only statement that FINISHES only while `user` does not exist: with the user there,
    it divides by zero and fails (Redshift and PostgreSQL both refuse integer division by zero).
    The data-api provider's tombstone: proof, under a ClientToken, that its destroy dropped it."""
    return (
        f"SELECT 1 / (1 - COUNT(*)) FROM pg_user WHERE usename = {quote_literal(_user(user)[1:-1])}"
    )


# --- grants: one statement per kind, naming every schema -----------------------------------------

GrantKind = Literal["usage", "select", "default"]
GRANT_KINDS: tuple[GrantKind, ...] = ("usage", "select", "default")
"""What the user gets in each schema: USAGE on it, SELECT on its tables, and SELECT on the tables
its owner creates later (default privileges)."""

GrantPlan = Mapping[GrantKind, Sequence[str]]
"""The schemas each kind of grant applies to (a kind may name none)."""


def every_kind(schemas: Sequence[str]) -> dict[GrantKind, Sequence[str]]:
    return dict.fromkeys(GRANT_KINDS, schemas)


def grants_sql(user: str, owner: str, plan: GrantPlan) -> list[str]:
    """At most three statements whatever the number of schemas, so that any number fits one batch.

    Redshift's GRANT takes `USAGE ON SCHEMA schema_name [, ...]` and `ON ALL TABLES IN SCHEMA
    schema_name [, ...]`, and ALTER DEFAULT PRIVILEGES takes `IN SCHEMA schema_name [, ...]`
    (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html,
    https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_DEFAULT_PRIVILEGES.html); PostgreSQL
    accepts the same lists. A kind with no schema gives no statement.
    """
    grantee = _user(user)
    statements: list[str] = []
    if plan.get("usage"):
        statements.append(f"GRANT USAGE ON SCHEMA {_schema_list(plan['usage'])} TO {grantee}")
    if plan.get("select"):
        statements.append(
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {_schema_list(plan['select'])} TO {grantee}"
        )
    if plan.get("default"):
        statements.append(
            f"ALTER DEFAULT PRIVILEGES FOR USER {_user(owner)} IN SCHEMA "
            f"{_schema_list(plan['default'])} GRANT SELECT ON TABLES TO {grantee}"
        )
    return statements


def revokes_sql(user: str, owner: str, plan: GrantPlan) -> list[str]:
    """The exact inverse of grants_sql, default privileges first."""
    grantee = _user(user)
    statements: list[str] = []
    if plan.get("default"):
        statements.append(
            f"ALTER DEFAULT PRIVILEGES FOR USER {_user(owner)} IN SCHEMA "
            f"{_schema_list(plan['default'])} REVOKE SELECT ON TABLES FROM {grantee}"
        )
    if plan.get("select"):
        statements.append(
            f"REVOKE SELECT ON ALL TABLES IN SCHEMA {_schema_list(plan['select'])} FROM {grantee}"
        )
    if plan.get("usage"):
        statements.append(f"REVOKE USAGE ON SCHEMA {_schema_list(plan['usage'])} FROM {grantee}")
    return statements


def quote_catalog_name(name: str) -> str:
    """Double-quote a name read back from the catalog (a table's): any case, quotes doubled.

    Such names were never configured, so the configuration's rules do not apply: a quoted
    identifier holds any character but NUL once its double quotes are doubled (PostgreSQL, "SQL
    Syntax: Identifiers"; Redshift, "Names and identifiers", allows printable UTF-8 only), so a
    table its owner named with a newline or a tab is revoked like any other, never a crash.
    """
    if not name or "\0" in name:
        raise SqlNameError(f"{name!r} cannot be quoted as an identifier.")
    return '"' + name.replace('"', '""') + '"'


def revoke_tables_sql(user: str, tables: Sequence[tuple[str, str]]) -> list[str]:
    """REVOKE SELECT on each (schema, table), one statement: used where a schema-wide revoke
    would also take a grant the user held before the stack adopted it. REVOKE takes a list of
    tables (https://docs.aws.amazon.com/redshift/latest/dg/r_REVOKE.html)."""
    if not tables:
        return []
    names = ", ".join(
        f"{quote_catalog_name(schema)}.{quote_catalog_name(table)}" for schema, table in tables
    )
    return [f"REVOKE SELECT ON {names} FROM {_user(user)}"]


def _schema_list(schemas: Sequence[str]) -> str:
    return ", ".join(_schemas(schemas))


def grant_statements(user: str, schemas: Sequence[str], owner: str) -> list[str]:
    """Read access to every schema: its current tables, and the tables `owner` creates later."""
    _user(owner)
    return grants_sql(user, owner, every_kind(schemas))


def revoke_statements(user: str, schemas: Sequence[str], owner: str) -> list[str]:
    """The exact inverse of grant_statements, default privileges first."""
    _user(owner)
    return revokes_sql(user, owner, every_kind(schemas))


def provisioning_statements(
    user: str, schemas: Sequence[str], owner: str, *, user_exists: bool
) -> list[str]:
    """The user (unless it exists) and its grants; safe to run again with user_exists=True."""
    grants = grant_statements(user, schemas, owner)
    return grants if user_exists else [create_user_sql(user), *grants]


def deprovisioning_statements(user: str, schemas: Sequence[str], owner: str) -> list[str]:
    """Everything provisioning granted, then the user; DROP USER fails while any grant remains."""
    return [*revoke_statements(user, schemas, owner), drop_user_sql(user)]


# --- reading the catalog: what exists, what is granted, who owns what ----------------------------
# Only catalog tables and functions that Redshift and PostgreSQL share (pg_user, pg_group,
# pg_namespace, pg_class, pg_default_acl, pg_proc, pg_database, their ACLs, and
# array_to_string), except where a fact exists on Redshift only: those queries are marked.

VERSION_SQL = "SELECT version()"
_REDSHIFT_VERSION_MARK = (
    "Redshift"  # Redshift's version(): "PostgreSQL 8.0.2 on ..., Redshift 1.0.N"
)
TABLE_KINDS = "('r', 'v', 'm', 'p', 'f')"  # what GRANT ... ON ALL TABLES reaches: tables and views


def is_redshift(version: str) -> bool:
    return _REDSHIFT_VERSION_MARK in version


def _literal_list(names: Sequence[str]) -> str:
    return ", ".join(quote_literal(name) for name in names)


def existing_users_sql(users: Sequence[str]) -> str:
    """The names of `users` that exist, one row each."""
    names = _literal_list([_require(user, "user") for user in users])
    return f"SELECT usename FROM pg_user WHERE usename IN ({names})"


def existing_schemas_sql(schemas: Sequence[str]) -> str:
    _schemas(schemas)
    return f"SELECT nspname FROM pg_namespace WHERE nspname IN ({_literal_list(schemas)})"


def external_schemas_sql(schemas: Sequence[str]) -> str:
    """Redshift only: which of `schemas` are external (Spectrum) schemas."""
    _schemas(schemas)
    return (
        "SELECT schemaname FROM svv_external_schemas "
        f"WHERE schemaname IN ({_literal_list(schemas)})"
    )


def schema_acls_sql(schemas: Sequence[str]) -> str:
    """(kind, schema, table, ACL text, table owner) of each schema of `schemas` and of every table
    and view in them. The ACLs say what was granted to the user itself, which is what the stack
    grants and revokes; has_*_privilege would also count grants to PUBLIC and to groups. The
    owner tells a table that someone's default privileges for the user made readable."""
    _schemas(schemas)
    names = _literal_list(schemas)
    return (
        "SELECT 'schema', nspname, '', COALESCE(array_to_string(nspacl, ','), ''), '' "
        f"FROM pg_namespace WHERE nspname IN ({names}) "
        "UNION ALL SELECT 'table', n.nspname, c.relname, "
        "COALESCE(array_to_string(c.relacl, ','), ''), COALESCE(u.usename, '') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_user u ON u.usesysid = c.relowner "
        f"WHERE n.nspname IN ({names}) AND c.relkind IN {TABLE_KINDS} ORDER BY 1, 2, 3"
    )


KEPT_MARK = "xpander-redshift: kept:"  # how the psql Job logs a grant held before adoption


def held_grants_sql(user: str, schemas: Sequence[str]) -> str:
    """For the psql Job: one row per grant the user holds now in `schemas` (USAGE per schema,
    SELECT per table), each as the GRANT statement that restores it, after KEPT_MARK. Run before
    the Job's first grant on an adopted user, its rows are the adoption record the cleanup SQL
    keeps. (has_*_privilege also counts grants through PUBLIC or a group: restoring those as the
    user's own grants gives it nothing it could not already do.)"""
    _schemas(schemas)
    name = quote_literal(_require(user, "user"))
    grantee = _string_literal(_user(user))
    mark = _string_literal(KEPT_MARK + " ")
    names = _literal_list(schemas)
    return (
        f"SELECT {mark} || 'GRANT USAGE ON SCHEMA ' || quote_ident(nspname) || ' TO ' || "
        f"{grantee} || ';' AS xpander_kept FROM pg_namespace WHERE nspname IN ({names}) "
        f"AND has_schema_privilege({name}, nspname, 'USAGE') "
        f"UNION ALL SELECT {mark} || 'GRANT SELECT ON ' || quote_ident(n.nspname) || '.' || "
        f"quote_ident(c.relname) || ' TO ' || {grantee} || ';' FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname IN ({names}) AND c.relkind IN {TABLE_KINDS} "
        f"AND has_table_privilege({name}, quote_ident(n.nspname) || '.' || quote_ident(c.relname),"
        " 'SELECT') ORDER BY 1"
    )


def default_acls_sql(schemas: Sequence[str]) -> str:
    """(schema, its default ACL on tables as text) for `schemas`; the owner is each item's grantor.

    The owner's column is pg_default_acl.defacluser on Redshift and defaclrole on PostgreSQL, so
    the query names neither: an ACL item reads `grantee=privileges/grantor`, and the grantor of a
    default privilege is the user it is defined for.
    """
    _schemas(schemas)
    return (
        "SELECT n.nspname, array_to_string(d.defaclacl, ',') FROM pg_default_acl d "
        "JOIN pg_namespace n ON n.oid = d.defaclnamespace "
        f"WHERE d.defaclobjtype = 'r' AND n.nspname IN ({_literal_list(schemas)})"
    )


def owned_objects_sql(user: str) -> str:
    """(kind, name) of every schema, table, view and function the user owns, and its databases."""
    owner = (
        f"(SELECT usesysid FROM pg_user WHERE usename = {quote_literal(_require(user, 'user'))})"
    )
    return (
        f"SELECT 'schema', nspname FROM pg_namespace WHERE nspowner = {owner} "
        "UNION ALL SELECT CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END, "
        "n.nspname || '.' || c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relowner = {owner} AND c.relkind IN {TABLE_KINDS} "
        "UNION ALL SELECT 'function', n.nspname || '.' || p.proname FROM pg_proc p "
        f"JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proowner = {owner} "
        f"UNION ALL SELECT 'database', datname FROM pg_database WHERE datdba = {owner} "
        "ORDER BY 1, 2"
    )


def acl_mentions_sql(user: str) -> str:
    """(kind, schema, name, ACL text) of every schema, table, default ACL and database whose ACL
    mentions the user's name; `parse_acl` then keeps the items that really name it."""
    pattern = quote_literal("%" + _require(user, "user") + "%")
    return (
        "SELECT 'schema', nspname, '', array_to_string(nspacl, ',') FROM pg_namespace "
        f"WHERE array_to_string(nspacl, ',') LIKE {pattern} "
        "UNION ALL SELECT 'table', n.nspname, c.relname, array_to_string(c.relacl, ',') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE array_to_string(c.relacl, ',') LIKE {pattern} "
        "UNION ALL SELECT 'default privileges', n.nspname, '', "
        "array_to_string(d.defaclacl, ',') "
        "FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace "
        f"WHERE array_to_string(d.defaclacl, ',') LIKE {pattern} "
        "UNION ALL SELECT 'database', '', datname, array_to_string(datacl, ',') FROM pg_database "
        f"WHERE array_to_string(datacl, ',') LIKE {pattern} ORDER BY 1, 2, 3"
    )


@dataclass(frozen=True)
class AclItem:
    """One `grantee=privileges/grantor` item; an empty grantee is PUBLIC."""

    grantee: str
    privileges: str
    grantor: str


def parse_acl(text: str | None) -> list[AclItem]:
    """The items of an ACL as array_to_string(acl, ',') prints it, on Redshift and PostgreSQL.

    A name is printed in double quotes (inner quotes doubled) unless it is all letters, digits
    and underscores, so names with ',', '=' or '/' stay intact. Redshift prints a group grantee
    as `group name`; such an item never names our user, and is kept as printed.
    """
    items: list[AclItem] = []
    source, position = text or "", 0
    while position < len(source):
        grantee, position = _acl_name(source, position, stop="=")
        if source[position : position + 1] in (",", ""):  # Redshift quotes a whole group item
            items += parse_acl(grantee)
            position += 1
            continue
        privileges_end = source.find("/", position)
        if source[position] != "=" or privileges_end < 0:
            raise ValueError(f"unreadable ACL item at {position} in {source!r}")
        privileges = source[position + 1 : privileges_end]
        grantor, position = _acl_name(source, privileges_end + 1, stop=",")
        items.append(AclItem(grantee, privileges, grantor))
        position += 1  # the separator
    return items


def _acl_name(text: str, position: int, *, stop: str) -> tuple[str, int]:
    """A possibly quoted name starting at `position`, and where it ends."""
    if text[position : position + 1] != '"':
        end = text.find(stop, position)
        end = len(text) if end < 0 else end
        return text[position:end], end
    name: list[str] = []
    position += 1
    while position < len(text):
        character = text[position]
        if character == '"':
            if text[position + 1 : position + 2] == '"':
                name.append('"')
                position += 2
                continue
            return "".join(name), position + 1
        name.append(character)
        position += 1
    raise ValueError(f"unterminated quoted name in ACL {text!r}")
