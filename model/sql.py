"""Quoting and the idempotent SQL that provisions and removes the IAMR database user on Redshift.

Pure functions: the Data API provisioner, the psql Job, the offline plan and the tests all build
their SQL here, so every name is validated and quoted in exactly one place.
"""

# ruff: noqa: S608 -- this is the one place that builds SQL; every name in it went through
# quote_identifier or quote_literal, which validate before they quote.

from __future__ import annotations

from collections.abc import Sequence
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
        return f"A name must be at most {MAX_IDENTIFIER_BYTES} bytes (UTF-8); this one is {size}."
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


def user_exists_sql(user: str) -> str:
    """A SELECT returning one row with one column: 1 if the user exists, else 0."""
    return f"SELECT COUNT(*) FROM pg_user WHERE usename = {quote_literal(_require(user, 'user'))}"


def create_user_sql(user: str) -> str:
    """Redshift has no CREATE USER IF NOT EXISTS: callers check user_exists_sql first."""
    return f"CREATE USER {_user(user)} {PASSWORD_CLAUSE}"


def grant_statements(user: str, schemas: Sequence[str], owner: str) -> list[str]:
    """Read access to each schema: its current tables, and the tables `owner` creates later."""
    grantee, grantor = _user(user), _user(owner)
    statements: list[str] = []
    for schema in _schemas(schemas):
        statements += [
            f"GRANT USAGE ON SCHEMA {schema} TO {grantee}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {grantee}",
            f"ALTER DEFAULT PRIVILEGES FOR USER {grantor} IN SCHEMA {schema} "
            f"GRANT SELECT ON TABLES TO {grantee}",
        ]
    return statements


def revoke_statements(user: str, schemas: Sequence[str], owner: str) -> list[str]:
    """The exact inverse of grant_statements, default privileges first."""
    grantee, grantor = _user(user), _user(owner)
    statements: list[str] = []
    for schema in _schemas(schemas):
        statements += [
            f"ALTER DEFAULT PRIVILEGES FOR USER {grantor} IN SCHEMA {schema} "
            f"REVOKE SELECT ON TABLES FROM {grantee}",
            f"REVOKE SELECT ON ALL TABLES IN SCHEMA {schema} FROM {grantee}",
            f"REVOKE USAGE ON SCHEMA {schema} FROM {grantee}",
        ]
    return statements


def provisioning_statements(
    user: str, schemas: Sequence[str], owner: str, *, user_exists: bool
) -> list[str]:
    """The user (unless it exists) and its grants; safe to run again with user_exists=True."""
    grants = grant_statements(user, schemas, owner)
    return grants if user_exists else [create_user_sql(user), *grants]


def deprovisioning_statements(user: str, schemas: Sequence[str], owner: str) -> list[str]:
    """Everything provisioning granted, then the user; DROP USER fails while any grant remains."""
    return [*revoke_statements(user, schemas, owner), f"DROP USER {_user(user)}"]


def data_api_sql(user: str, schemas: Sequence[str], owner: str) -> str:
    """What the data-api provisioner runs on create, as the plan shows it."""
    statements = provisioning_statements(user, schemas, owner, user_exists=False)
    header = (
        "-- One BatchExecuteStatement (one transaction). CREATE USER only if this returns 0:\n"
        f"--   {user_exists_sql(user)}\n"
    )
    return header + "".join(f"{statement};\n" for statement in statements)
