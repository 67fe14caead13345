"""The IAMR user's SQL: exact text, names, and its effect on a real PostgreSQL 15 and real psql.

Only the Redshift-only PASSWORD DISABLE clause is swapped (for PostgreSQL's PASSWORD NULL), and only
here, through `redshift_sql.PASSWORD_CLAUSE`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg import errors, sql
from sqlglot import TokenType
from sqlglot.dialects.postgres import Postgres

from model import sql as redshift_sql
from model.plain_user import CHECK_BY_KEY, refusal, ways_forward
from model.psql_script import cleanup_sql, psql_script
from model.sql import (
    KEPT_MARK,
    MAX_IDENTIFIER_BYTES,
    AclItem,
    SqlNameError,
    create_user_sql,
    deprovisioning_statements,
    existing_users_sql,
    grant_statements,
    grants_sql,
    held_grants_sql,
    identifier_problem,
    is_redshift,
    parse_acl,
    provisioning_statements,
    quote_identifier,
    quote_literal,
    revoke_statements,
    revokes_sql,
)
from tests.pg_server import PostgresServer

Connection = psycopg.Connection[tuple[Any, ...]]

USER = "IAMR:xpander-redshift-access"
MASTER_USER = "awsuser"
PG_NAME_BYTES = 63  # PostgreSQL truncates identifiers to NAMEDATALEN - 1; Redshift allows 127


# --- exact text for the default names --------------------------------------------------------


def test_provisioning_a_new_user_creates_it_then_grants_read_on_the_schema() -> None:
    assert provisioning_statements(USER, ["public"], MASTER_USER, user_exists=False) == [
        'CREATE USER "IAMR:xpander-redshift-access" PASSWORD DISABLE',
        'GRANT USAGE ON SCHEMA "public" TO "IAMR:xpander-redshift-access"',
        'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "IAMR:xpander-redshift-access"',
        'ALTER DEFAULT PRIVILEGES FOR USER "awsuser" IN SCHEMA "public" '
        'GRANT SELECT ON TABLES TO "IAMR:xpander-redshift-access"',
    ]


def test_provisioning_an_existing_user_only_grants() -> None:
    statements = provisioning_statements(USER, ["public"], MASTER_USER, user_exists=True)

    assert statements == grant_statements(USER, ["public"], MASTER_USER)
    assert not any(statement.startswith("CREATE") for statement in statements)


def test_existing_users_sql_lists_the_users_found_in_pg_user() -> None:
    assert existing_users_sql([USER, MASTER_USER]) == (
        "SELECT usename FROM pg_user WHERE usename IN ('IAMR:xpander-redshift-access', 'awsuser')"
    )


def test_grants_name_every_schema_in_one_statement_per_kind_in_the_given_order() -> None:
    assert grant_statements("reader", ["sales", "raw data"], "etl") == [
        'GRANT USAGE ON SCHEMA "sales", "raw data" TO "reader"',
        'GRANT SELECT ON ALL TABLES IN SCHEMA "sales", "raw data" TO "reader"',
        'ALTER DEFAULT PRIVILEGES FOR USER "etl" IN SCHEMA "sales", "raw data" '
        'GRANT SELECT ON TABLES TO "reader"',
    ]


def test_any_number_of_schemas_fits_one_batch() -> None:
    schemas = [f"s{i}" for i in range(200)]

    statements = provisioning_statements(USER, schemas, MASTER_USER, user_exists=False)

    assert len(statements) == 4  # CREATE USER + one statement per kind of grant
    assert len(deprovisioning_statements(USER, schemas, MASTER_USER)) == 4


def test_grants_and_revokes_of_some_kinds_name_only_their_schemas() -> None:
    plan = {"usage": ["raw"], "select": [], "default": ["raw", "sales"]}

    assert grants_sql("reader", "etl", plan) == [
        'GRANT USAGE ON SCHEMA "raw" TO "reader"',
        'ALTER DEFAULT PRIVILEGES FOR USER "etl" IN SCHEMA "raw", "sales" '
        'GRANT SELECT ON TABLES TO "reader"',
    ]
    assert revokes_sql("reader", "etl", plan) == [
        'ALTER DEFAULT PRIVILEGES FOR USER "etl" IN SCHEMA "raw", "sales" '
        'REVOKE SELECT ON TABLES FROM "reader"',
        'REVOKE USAGE ON SCHEMA "raw" FROM "reader"',
    ]
    assert grants_sql("reader", "etl", {}) == []


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (None, []),
        ("", []),
        ('"IAMR:x"=r/xpander_admin', [AclItem("IAMR:x", "r", "xpander_admin")]),
        (
            "=U/postgres,bob=arwdDxt/postgres",
            [AclItem("", "U", "postgres"), AclItem("bob", "arwdDxt", "postgres")],
        ),
        ('"a,b=c/d"=r*/"x""y"', [AclItem("a,b=c/d", "r*", 'x"y')]),
        # Redshift's documented example (PG_DEFAULT_ACL): a group item printed in quotes.
        (
            'user1=r/admin,"group group1=a/admin",user2=w/admin',
            [
                AclItem("user1", "r", "admin"),
                AclItem("group group1", "a", "admin"),
                AclItem("user2", "w", "admin"),
            ],
        ),
    ],
)
def test_acl_text_is_read_back_into_grantee_privileges_and_grantor(
    text: str | None, items: list[AclItem]
) -> None:
    assert parse_acl(text) == items


def test_redshift_is_told_apart_by_its_version_string() -> None:
    # Redshift's VERSION(): https://docs.aws.amazon.com/redshift/latest/dg/r_VERSION.html
    assert is_redshift(
        "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 "
        "(Red Hat 3.4.2-6.fc3), Redshift 1.0.12103"
    )
    assert not is_redshift("PostgreSQL 15.8 (Debian 15.8-1.pgdg120+1) on x86_64-pc-linux-gnu")


def test_redshift_only_catalogs_are_read_only_on_redshift() -> None:
    def on(redshift: bool) -> dict[str, str | None]:
        return {
            key: check.provider_sql(USER, redshift=redshift) for key, check in CHECK_BY_KEY.items()
        }

    redshift, postgres = on(True), on(False)

    assert "FROM pg_user_info " in str(redshift["password"])
    assert "FROM svl_user_info " in str(redshift["syslog"])
    assert "FROM svv_user_grants " in str(redshift["role"])
    assert "FROM pg_shadow " in str(postgres["password"])
    assert postgres["syslog"] is None and postgres["role"] is None  # PostgreSQL has neither
    assert (
        redshift["group"]
        == postgres["group"]
        == (
            "SELECT DISTINCT g.groname FROM pg_group g, pg_user u"  # noqa: S608 - expected text
            f" WHERE u.usename = '{USER}' AND u.usesysid = ANY (g.grolist) ORDER BY 1"
        )
    )


def test_the_ways_forward_name_the_groups_and_roles_found_or_say_each_when_unknown() -> None:
    U = USER  # noqa: N806 - short, to keep the expected text readable
    make_plain = (
        f'  1. make the user plain, then run `pulumi up` again: ALTER USER "{U}" NOCREATEUSER '
        "NOCREATEDB PASSWORD DISABLE SYSLOG ACCESS RESTRICTED;"
    )
    rest = [
        f'  2. if nothing else uses it, drop it (DROP USER "{U}") and let the stack create it;',
        "  3. or choose another xpander-redshift:roleName, so that the stack creates a new user.",
        "Only a superuser can read PG_USER_INFO and SVL_USER_INFO: provision as the master user "
        "(the default), or the check cannot tell whether the user is plain.",
    ]
    assert ways_forward(USER, groups=["analysts"], roles=['sys:"dba"']) == [
        "Nothing was changed. Ways forward:",
        make_plain + f' ALTER GROUP "analysts" DROP USER "{U}";'
        f' REVOKE ROLE "sys:""dba""" FROM "{U}";',
        *rest,
    ]
    assert ways_forward(USER, groups=[], roles=[])[1] == make_plain
    assert ways_forward(USER)[1] == (
        make_plain + f' for each of its groups: ALTER GROUP <group> DROP USER "{U}";'
        f' for each of its roles: REVOKE ROLE <role> FROM "{U}";'
    )


def test_the_refusal_names_the_user_each_reason_with_its_groups_and_the_ways_forward() -> None:
    message = refusal(USER, {"role": ["analysts"], "createdb": []}).splitlines()

    assert message[:4] == [
        f"Database user {USER!r} already exists and is not plain, so this stack will not adopt it: "
        "the IAM role, and every agent that assumes it, would inherit what it holds:",
        "  - it has CREATEDB: the IAM role would inherit the right to create databases",
        '  - it has been granted a role ("analysts"): the IAM role would inherit every privilege '
        "granted to the role",
        "Nothing was changed. Ways forward:",
    ]
    assert message[4].endswith(
        f'SYSLOG ACCESS RESTRICTED; REVOKE ROLE "analysts" FROM "{USER}";'
    )  # no group found: no ALTER GROUP


def test_deprovisioning_revokes_default_privileges_first_and_drops_the_user_last() -> None:
    assert deprovisioning_statements(USER, ["public"], MASTER_USER) == [
        'ALTER DEFAULT PRIVILEGES FOR USER "awsuser" IN SCHEMA "public" '
        'REVOKE SELECT ON TABLES FROM "IAMR:xpander-redshift-access"',
        'REVOKE SELECT ON ALL TABLES IN SCHEMA "public" FROM "IAMR:xpander-redshift-access"',
        'REVOKE USAGE ON SCHEMA "public" FROM "IAMR:xpander-redshift-access"',
        'DROP USER "IAMR:xpander-redshift-access"',
    ]
    revokes = revoke_statements(USER, ["public"], MASTER_USER)
    assert revokes == deprovisioning_statements(USER, ["public"], MASTER_USER)[:-1]


def test_psql_script_refuses_unsafe_users_creates_or_adopts_and_grants_in_one_transaction() -> None:
    U = USER  # noqa: N806 - short, to keep the expected text readable
    assert psql_script(USER, ["public"], MASTER_USER) == (
        "-- Generated by xpander-redshift (model/psql_script.py); safe to run again.\n"
        "\\set ON_ERROR_STOP on\n"
        "BEGIN;\n"
        f"SELECT COUNT(*) > 0 AS xpander_exists FROM pg_user WHERE usename = '{U}'\n"
        "\\gset\n"
        "\\if :xpander_exists\n"
        "\\set xpander_refused false\n"
        f"SELECT COUNT(*) <> 1 OR SUM(CASE WHEN NOT usesuper THEN 0 ELSE 1 END) > 0 AS xpander_superuser FROM pg_user WHERE usename = '{U}'\n"  # noqa: E501
        "\\gset\n"
        "\\if :xpander_superuser\n"
        f"\\echo 'xpander-redshift: REFUSED: existing user \"{U}\" is a superuser (CREATEUSER): the IAM role would inherit every privilege on the whole cluster'\n"  # noqa: E501
        "\\set xpander_refused true\n"
        "\\endif\n"
        f"SELECT COUNT(*) <> 1 OR SUM(CASE WHEN NOT usecreatedb THEN 0 ELSE 1 END) > 0 AS xpander_createdb FROM pg_user WHERE usename = '{U}'\n"  # noqa: E501
        "\\gset\n"
        "\\if :xpander_createdb\n"
        f"\\echo 'xpander-redshift: REFUSED: existing user \"{U}\" has CREATEDB: the IAM role would inherit the right to create databases'\n"  # noqa: E501
        "\\set xpander_refused true\n"
        "\\endif\n"
        f"SELECT COUNT(*) <> 1 OR SUM(CASE WHEN passwd IS NULL THEN 0 ELSE 1 END) > 0 AS xpander_password FROM pg_user_info WHERE usename = '{U}'\n"  # noqa: E501
        "\\gset\n"
        "\\if :xpander_password\n"
        f"\\echo 'xpander-redshift: REFUSED: existing user \"{U}\" has a password (or this connection, not a superuser, cannot read PG_USER_INFO): the IAM role would inherit nothing, but whoever knows the password logs in as this user without IAM'\n"  # noqa: E501
        "\\set xpander_refused true\n"
        "\\endif\n"
        f"SELECT COUNT(*) <> 1 OR SUM(CASE WHEN syslogaccess = 'RESTRICTED' THEN 0 ELSE 1 END) > 0 AS xpander_syslog FROM svl_user_info WHERE usename = '{U}'\n"  # noqa: E501
        "\\gset\n"
        "\\if :xpander_syslog\n"
        f"\\echo 'xpander-redshift: REFUSED: existing user \"{U}\" has SYSLOG ACCESS UNRESTRICTED (or this connection cannot read SVL_USER_INFO): the IAM role would inherit the queries of every user in the system views'\n"  # noqa: E501
        "\\set xpander_refused true\n"
        "\\endif\n"
        f"SELECT COUNT(*) > 0 AS xpander_group FROM pg_group g, pg_user u WHERE u.usename = '{U}' AND u.usesysid = ANY (g.grolist)\n"  # noqa: E501
        "\\gset\n"
        "\\if :xpander_group\n"
        f"\\echo 'xpander-redshift: REFUSED: existing user \"{U}\" is a member of a group: the IAM role would inherit every privilege granted to the group'\n"  # noqa: E501
        "\\set xpander_refused true\n"
        f"SELECT DISTINCT g.groname FROM pg_group g, pg_user u WHERE u.usename = '{U}' AND u.usesysid = ANY (g.grolist) ORDER BY 1;\n"  # noqa: E501
        "\\endif\n"
        f"SELECT COUNT(*) > 0 AS xpander_role FROM svv_user_grants WHERE user_name = '{U}'\n"
        "\\gset\n"
        "\\if :xpander_role\n"
        f"\\echo 'xpander-redshift: REFUSED: existing user \"{U}\" has been granted a role: the IAM role would inherit every privilege granted to the role'\n"  # noqa: E501
        "\\set xpander_refused true\n"
        f"SELECT DISTINCT role_name FROM svv_user_grants WHERE user_name = '{U}' ORDER BY 1;\n"
        "\\endif\n"
        "\\if :xpander_refused\n"
        "\\echo 'xpander-redshift: REFUSED: Nothing was changed. Ways forward:'\n"
        f'\\echo \'xpander-redshift: REFUSED:   1. make the user plain, then run `pulumi up` again: ALTER USER "{U}" NOCREATEUSER NOCREATEDB PASSWORD DISABLE SYSLOG ACCESS RESTRICTED; for each of its groups: ALTER GROUP <group> DROP USER "{U}"; for each of its roles: REVOKE ROLE <role> FROM "{U}";\'\n'  # noqa: E501
        f"\\echo 'xpander-redshift: REFUSED:   2. if nothing else uses it, drop it (DROP USER \"{U}\") and let the stack create it;'\n"  # noqa: E501
        "\\echo 'xpander-redshift: REFUSED:   3. or choose another xpander-redshift:roleName, so that the stack creates a new user.'\n"  # noqa: E501
        "\\echo 'xpander-redshift: REFUSED: Only a superuser can read PG_USER_INFO and SVL_USER_INFO: provision as the master user (the default), or the check cannot tell whether the user is plain.'\n"  # noqa: E501
        "ROLLBACK;\n"
        "SELECT CAST('xpander-redshift: REFUSED, see above' AS INTEGER);\n"
        "\\endif\n"
        f"\\echo 'xpander-redshift: user exists and is plain, adopted: \"{U}\"'\n"
        "\\echo 'xpander-redshift: held before adoption (the adoption record; cleanup.sql keeps these lines):'\n"  # noqa: E501
        f"{held_grants_sql(USER, ['public'])};\n"
        "\\else\n"
        f'CREATE USER "{U}" PASSWORD DISABLE;\n'
        f"\\echo 'xpander-redshift: created user: \"{U}\"'\n"
        "\\endif\n"
        f'GRANT USAGE ON SCHEMA "public" TO "{U}";\n'
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "{U}";\n'
        f'ALTER DEFAULT PRIVILEGES FOR USER "awsuser" IN SCHEMA "public" GRANT SELECT ON TABLES TO "{U}";\n'  # noqa: E501
        "COMMIT;\n"
        f"\\echo 'xpander-redshift: granted read on 1 schema(s) to \"{U}\"'\n"
    )


def test_a_schema_listed_twice_is_refused() -> None:
    with pytest.raises(SqlNameError, match=r"'sales' is listed twice"):
        grant_statements(USER, ["sales", "public", "sales"], MASTER_USER)


def test_a_bare_string_is_refused_as_the_schema_list() -> None:
    with pytest.raises(SqlNameError, match="pass a list"):
        provisioning_statements(USER, "public", MASTER_USER, user_exists=False)


def test_user_names_keep_their_case_but_schema_names_must_be_lower_case() -> None:
    # Redshift preserves the case of a quoted user name whatever enable_case_sensitive_identifier
    # says, and IAM role names may be mixed case; schema names are folded to lower case.
    assert identifier_problem("IAMR:Xpander-Access", kind="user") is None
    assert (
        create_user_sql("IAMR:Xpander-Access")
        == 'CREATE USER "IAMR:Xpander-Access" PASSWORD DISABLE'
    )
    problem = identifier_problem("Sales")
    assert problem is not None
    assert "lower case" in problem
    assert "'sales'" in problem


@pytest.mark.parametrize("name", ["public", "PUBLIC", "none"])
def test_reserved_role_names_cannot_be_the_user(name: str) -> None:
    with pytest.raises(SqlNameError, match="reserved"):
        create_user_sql(name)


def test_public_is_a_fine_schema_name_but_pg_names_are_refused() -> None:
    assert identifier_problem("public") is None
    assert "reserved" in (identifier_problem("pg_catalog") or "")
    assert "reserved" in (identifier_problem("pg_x", kind="user") or "")


def test_the_owner_is_validated_as_a_user_name() -> None:
    with pytest.raises(SqlNameError, match=r"'public' is not a valid Redshift user name"):
        grant_statements(USER, ["sales"], "public")


# --- names: every accepted name is one quoted identifier, every refused one a clear error -------

PRINTABLE_ASCII = "".join(chr(code) for code in range(0x20, 0x7F))
NAME_CHARACTERS = PRINTABLE_ASCII.translate(str.maketrans("", "", "\"'\\"))
LOWER_NAME_CHARACTERS = NAME_CHARACTERS.translate(
    str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
)
IAM_ROLE_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-"


def accepted_names(kind: redshift_sql.NameKind) -> st.SearchStrategy[str]:
    alphabet = NAME_CHARACTERS if kind == "user" else LOWER_NAME_CHARACTERS
    names = st.text(alphabet, min_size=1, max_size=MAX_IDENTIFIER_BYTES)
    if kind == "user":
        names = names | st.text(IAM_ROLE_CHARACTERS, min_size=1, max_size=64).map("IAMR:{}".format)
    return names.filter(lambda name: identifier_problem(name, kind=kind) is None)


def shape(statement: str) -> tuple[str, list[str]]:
    """The statement as sqlglot's PostgreSQL tokenizer sees it: keywords, and the quoted names."""
    words, names = [], []
    for token in Postgres().tokenize(statement):
        if token.token_type in (TokenType.IDENTIFIER, TokenType.STRING):
            words.append("<name>" if token.token_type == TokenType.IDENTIFIER else "<text>")
            names.append(token.text)
        else:
            words.append(token.text)
    return " ".join(words), names


@settings(max_examples=150, deadline=None)
@given(user=accepted_names("user"), schema=accepted_names("schema"), owner=accepted_names("user"))
def test_every_accepted_name_stays_one_quoted_name_in_every_statement(
    user: str, schema: str, owner: str
) -> None:
    assume(schema != "x")  # the second schema below
    schemas = [schema, "x"]
    statements = [
        existing_users_sql([user]),
        *provisioning_statements(user, schemas, owner, user_exists=False),
        *deprovisioning_statements(user, schemas, owner),
    ]

    shapes = [shape(statement) for statement in statements]

    assert shapes == [
        ("SELECT usename FROM pg_user WHERE usename IN ( <text> )", [user]),
        ("CREATE USER <name> PASSWORD DISABLE", [user]),
        ("GRANT USAGE ON SCHEMA <name> , <name> TO <name>", [*schemas, user]),
        ("GRANT SELECT ON ALL TABLES IN SCHEMA <name> , <name> TO <name>", [*schemas, user]),
        (
            "ALTER DEFAULT PRIVILEGES FOR USER <name> IN SCHEMA <name> , <name> "
            "GRANT SELECT ON TABLES TO <name>",
            [owner, *schemas, user],
        ),
        (
            "ALTER DEFAULT PRIVILEGES FOR USER <name> IN SCHEMA <name> , <name> "
            "REVOKE SELECT ON TABLES FROM <name>",
            [owner, *schemas, user],
        ),
        ("REVOKE SELECT ON ALL TABLES IN SCHEMA <name> , <name> FROM <name>", [*schemas, user]),
        ("REVOKE USAGE ON SCHEMA <name> , <name> FROM <name>", [*schemas, user]),
        ("DROP USER <name>", [user]),
    ]


def with_one(
    characters: st.SearchStrategy[str], around: str = LOWER_NAME_CHARACTERS
) -> st.SearchStrategy[str]:
    """A short, otherwise acceptable name with one character drawn from `characters` inside it."""
    part = st.text(around, max_size=40)
    return st.builds(lambda head, bad, tail: f"x{head}{bad}{tail}x", part, characters, part)


REFUSED_NAMES = {
    "empty": (st.just(""), "must not be empty"),
    "too long": (
        st.text(LOWER_NAME_CHARACTERS, min_size=MAX_IDENTIFIER_BYTES + 1, max_size=300),
        f"at most {MAX_IDENTIFIER_BYTES} bytes",
    ),
    "multi-byte, though 127 characters": (
        with_one(st.characters(min_codepoint=0x80, exclude_categories=["Cs"])).map(
            lambda name: name.ljust(MAX_IDENTIFIER_BYTES, "x")
        ),
        f"at most {MAX_IDENTIFIER_BYTES} bytes",
    ),
    "non-ASCII": (
        with_one(st.characters(min_codepoint=0x80, exclude_categories=["Cs"])),
        "is not ASCII",
    ),
    "quote or backslash": (with_one(st.sampled_from("\"'\\")), "quotes and backslashes"),
    "control character": (
        with_one(st.sampled_from([chr(code) for code in [*range(0x20), 0x7F]])),
        "Control characters",
    ),
    "leading or trailing space": (
        st.builds(
            lambda core, leading: f" {core}" if leading else f"{core} ",
            st.text("abc:-_ ", max_size=20),
            st.booleans(),
        ),
        "start or end with a space",
    ),
}


@pytest.mark.parametrize("kind", ["user", "schema"])
@pytest.mark.parametrize("rule", REFUSED_NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_refused_name_is_refused_with_its_value_and_rule(
    kind: redshift_sql.NameKind, rule: str, data: st.DataObject
) -> None:
    strategy, rule_text = REFUSED_NAMES[rule]
    name = data.draw(strategy)

    with pytest.raises(SqlNameError) as refused:
        quote_identifier(name, kind=kind)

    assert repr(name) in str(refused.value)
    assert rule_text in str(refused.value)
    assert rule_text in (identifier_problem(name, kind=kind) or "")


@settings(max_examples=40, deadline=None)
@given(name=with_one(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
def test_every_schema_name_with_upper_case_is_refused_with_the_lower_case_spelling(
    name: str,
) -> None:
    with pytest.raises(SqlNameError) as refused:
        quote_identifier(name, kind="schema")

    assert repr(name) in str(refused.value)
    assert "lower case" in str(refused.value)
    assert repr(name.lower()) in str(refused.value)


@settings(max_examples=25, deadline=None)
@given(value=with_one(st.sampled_from("\"'\\\n")))
def test_literals_refuse_quotes_backslashes_and_control_characters(value: str) -> None:
    with pytest.raises(SqlNameError, match="not a valid Redshift string literal"):
        quote_literal(value)


# --- on a real PostgreSQL 15 -----------------------------------------------------------------


@contextlib.contextmanager
def postgresql_password_clause() -> Iterator[None]:
    """PostgreSQL has no PASSWORD DISABLE; PASSWORD NULL likewise leaves the user no password."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redshift_sql, "PASSWORD_CLAUSE", "PASSWORD NULL")
        yield


@dataclass(frozen=True)
class Database:
    server: PostgresServer
    name: str

    def connect(self, user: str | None = None) -> Connection:
        return self.server.connect(user=user, dbname=self.name)

    def dsn(self) -> str:
        return self.server.dsn(dbname=self.name)


@contextlib.contextmanager
def fresh_database(server: PostgresServer) -> Iterator[Database]:
    """A new database; afterwards it, and every role created meanwhile (roles are global), go."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with server.connect() as admin:
        roles_before = {row[0] for row in admin.execute("SELECT rolname FROM pg_roles")}
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield Database(server, name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            for (role,) in admin.execute("SELECT rolname FROM pg_roles").fetchall():
                if role not in roles_before:
                    admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[Database]:
    with fresh_database(postgres) as fresh, postgresql_password_clause():
        yield fresh


def execute_one(conn: Connection, statement: str) -> None:
    """Run `statement` over the extended protocol, where the server refuses two commands in one."""
    conn.execute(statement, binary=True)


def provision(conn: Connection, user: str, schemas: Sequence[str], owner: str) -> None:
    """What the Data API provisioner does: ask whether the user exists, then one transaction."""
    with conn.transaction():
        found = conn.execute(existing_users_sql([user])).fetchall()
        statements = provisioning_statements(user, schemas, owner, user_exists=bool(found))
        for statement in statements:
            execute_one(conn, statement)


def deprovision(conn: Connection, user: str, schemas: Sequence[str], owner: str) -> None:
    with conn.transaction():
        for statement in deprovisioning_statements(user, schemas, owner):
            execute_one(conn, statement)


def seed(conn: Connection, schemas: Sequence[str], owner: str = MASTER_USER) -> None:
    """The owner, the schemas it writes to, and one table in each from before provisioning."""
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(owner)))
    for schema in schemas:
        name = sql.Identifier(schema)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        conn.execute(
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(name, sql.Identifier(owner))
        )
        create_table(conn, owner, schema, "before", value=1)


def create_table(conn: Connection, role: str, schema: str, table: str, *, value: int) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        name = sql.Identifier(schema, table)
        conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(name))
        conn.execute(sql.SQL("INSERT INTO {} VALUES ({})").format(name, value))


def catalog_state(conn: Connection, user: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything provisioning may touch: roles, schema and table ACLs, default ACLs, privileges."""
    queries = {
        "roles": "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,"
        " rolconnlimit, rolpassword, rolvaliduntil FROM pg_authid ORDER BY rolname",
        "schema_acls": "SELECT nspname, nspacl::text FROM pg_namespace ORDER BY nspname",
        "table_acls": "SELECT n.nspname, c.relname, c.relacl::text FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname !~ '^(pg_|information_schema)' ORDER BY 1, 2",
        "default_acls": "SELECT defaclrole::regrole::text, defaclnamespace::regnamespace::text,"
        " defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3",
        "user_can_select": "SELECT c.oid::regclass::text,"
        " CASE WHEN r.oid IS NULL THEN NULL ELSE has_table_privilege(r.oid, c.oid, 'SELECT') END"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_roles r ON r.rolname = %(user)s"
        " WHERE c.relkind = 'r' AND n.nspname !~ '^(pg_|information_schema)' ORDER BY 1",
    }
    return {key: conn.execute(query, {"user": user}).fetchall() for key, query in queries.items()}


def read(database: Database, user: str, schema: str, table: str) -> list[tuple[Any, ...]]:
    with database.connect(user=user) as conn:
        return conn.execute(
            sql.SQL("SELECT id FROM {}").format(sql.Identifier(schema, table))
        ).fetchall()


SCHEMAS = ["sales:eu", "raw data-2", "public"]


@pytest.mark.postgres
def test_provisioning_twice_changes_nothing_the_second_time(database: Database) -> None:
    with database.connect() as conn:
        seed(conn, SCHEMAS)
        before = catalog_state(conn, USER)

        provision(conn, USER, SCHEMAS, MASTER_USER)
        after_first = catalog_state(conn, USER)
        provision(conn, USER, SCHEMAS, MASTER_USER)
        after_second = catalog_state(conn, USER)

    assert after_first != before  # the snapshot sees what provisioning does...
    assert after_second == after_first  # ...and the second run does nothing


@pytest.mark.postgres
def test_the_user_reads_tables_from_before_and_the_owners_tables_from_after(
    database: Database,
) -> None:
    with database.connect() as conn:
        seed(conn, SCHEMAS)
        provision(conn, USER, SCHEMAS, MASTER_USER)
        for schema in SCHEMAS:
            create_table(conn, MASTER_USER, schema, "after", value=2)

    for schema in SCHEMAS:
        assert read(database, USER, schema, "before") == [(1,)]
        assert read(database, USER, schema, "after") == [(2,)]


@pytest.mark.postgres
def test_the_user_cannot_read_later_tables_of_someone_other_than_the_owner(
    database: Database,
) -> None:
    with database.connect() as conn:
        seed(conn, ["sales"])
        provision(conn, USER, ["sales"], MASTER_USER)
        conn.execute('CREATE ROLE "etl-other"; GRANT USAGE, CREATE ON SCHEMA sales TO "etl-other"')
        create_table(conn, "etl-other", "sales", "elsewhere", value=3)

    with pytest.raises(errors.InsufficientPrivilege):
        read(database, USER, "sales", "elsewhere")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        'INSERT INTO "sales:eu".before VALUES (9)',
        'UPDATE "sales:eu".before SET id = 9',
        'DELETE FROM "sales:eu".before',
        'CREATE TABLE "sales:eu".mine (id int)',
        'CREATE TABLE "raw data-2".mine (id int)',
        "CREATE SCHEMA mine",
    ],
)
def test_the_user_cannot_write_or_create(database: Database, statement: str) -> None:
    with database.connect() as conn:
        seed(conn, SCHEMAS)
        provision(conn, USER, SCHEMAS, MASTER_USER)

    with database.connect(user=USER) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


TRACES_OF_THE_USER = {
    "the user": "SELECT count(*) FROM pg_roles WHERE oid = %(oid)s OR rolname = %(name)s",
    "table grants": "SELECT count(*) FROM pg_class, aclexplode(relacl) a WHERE a.grantee = %(oid)s",
    "schema grants": "SELECT count(*) FROM pg_namespace, aclexplode(nspacl) a"
    " WHERE a.grantee = %(oid)s",
    "default privileges": "SELECT count(*) FROM pg_default_acl, aclexplode(defaclacl) a"
    " WHERE a.grantee = %(oid)s",
    "pg_default_acl entries": "SELECT count(*) FROM pg_default_acl",
    "dependencies": "SELECT count(*) FROM pg_shdepend WHERE refobjid = %(oid)s",
    "information_schema grants": "SELECT count(*) FROM information_schema.table_privileges"
    " WHERE grantee = %(name)s",
}


def traces_of(conn: Connection, user: str, oid: int) -> dict[str, int]:
    params = {"oid": oid, "name": user}
    return {
        trace: int((conn.execute(query, params).fetchone() or (-1,))[0])
        for trace, query in TRACES_OF_THE_USER.items()
    }


@pytest.mark.postgres
def test_deprovisioning_leaves_no_user_no_grant_and_no_default_privilege(
    database: Database,
) -> None:
    with database.connect() as conn:
        seed(conn, SCHEMAS)
        provision(conn, USER, SCHEMAS, MASTER_USER)
        for schema in SCHEMAS:
            create_table(conn, MASTER_USER, schema, "after", value=2)
        row = conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [USER]).fetchone()
        assert row is not None
        provisioned = traces_of(conn, USER, row[0])

        deprovision(conn, USER, SCHEMAS, MASTER_USER)
        deprovisioned = traces_of(conn, USER, row[0])

    assert all(provisioned.values()), provisioned  # every check sees the provisioned user...
    assert deprovisioned == dict.fromkeys(TRACES_OF_THE_USER, 0)  # ...and nothing of it after


@pytest.mark.postgres
def test_one_statement_per_item_is_enforced_by_the_server(database: Database) -> None:
    # The guard the property test relies on: the extended protocol refuses a second command.
    with (
        database.connect() as conn,
        pytest.raises(psycopg.errors.SyntaxError, match="multiple commands"),
    ):
        execute_one(conn, "SELECT 1; SELECT 2")


@pytest.fixture(scope="module")
def names_database(postgres: PostgresServer) -> Iterator[Database]:
    with fresh_database(postgres) as fresh:
        yield fresh


def pg_name(name: str) -> str:
    return name.encode()[:PG_NAME_BYTES].decode()


@pytest.mark.postgres
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=accepted_names("user"), schema=accepted_names("schema"), owner=accepted_names("user"))
def test_every_accepted_name_creates_and_grants_exactly_that_user_in_postgresql(
    names_database: Database, user: str, schema: str, owner: str
) -> None:
    names = {"user": pg_name(user), "schema": pg_name(schema), "owner": pg_name(owner)}
    assume(names["user"] != names["owner"])
    with names_database.connect() as conn, postgresql_password_clause():
        existing = {row[0] for row in conn.execute("SELECT rolname FROM pg_roles")}
        assume(not existing & {names["user"], names["owner"]})
        with conn.transaction(force_rollback=True):
            # Set up with psycopg's own quoting, independent of the code under test.
            conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(owner)))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            roles_before = count_roles(conn)

            for statement in provisioning_statements(user, [schema], owner, user_exists=False):
                execute_one(conn, statement)
            granted = conn.execute(
                "SELECT has_schema_privilege(%(user)s, %(schema)s, 'USAGE'),"
                " (SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a"
                "   WHERE d.defaclrole = to_regrole(quote_ident(%(owner)s))"
                "   AND d.defaclnamespace = to_regnamespace(quote_ident(%(schema)s))"
                "   AND a.grantee = to_regrole(quote_ident(%(user)s))"
                "   AND a.privilege_type = 'SELECT')",
                names,
            ).fetchone()
            roles_provisioned = count_roles(conn)
            for statement in deprovisioning_statements(user, [schema], owner):
                execute_one(conn, statement)
            roles_deprovisioned = count_roles(conn)

    assert granted == (True, 1)
    assert (roles_provisioned, roles_deprovisioned) == (roles_before + 1, roles_before)


def count_roles(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) FROM pg_roles").fetchone()
    return int(row[0]) if row else -1


# --- the psql script, with the real psql client ----------------------------------------------


def psql_program(server: PostgresServer) -> str:
    return shutil.which("psql") or str(server.bindir / "psql")


def run_psql(
    database: Database, script: str, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """As the Kubernetes Job runs it: `psql -v ON_ERROR_STOP=1 -f script.sql` (-X: no ~/.psqlrc)."""
    path = tmp_path / f"script-{uuid.uuid4().hex[:8]}.sql"
    path.write_text(script)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    return subprocess.run(
        [
            psql_program(database.server),
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            *args,
            "-d",
            database.dsn(),
            "-f",
            str(path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


# Redshift's catalog views that PostgreSQL lacks, in a schema of their own on the database's
# search_path (so provisioning's GRANT ... IN SCHEMA never touches them). A test marks a user's
# SYSLOG ACCESS or a Redshift role grant by inserting a row; PG_USER_INFO reads PostgreSQL's own
# pg_shadow, where a user without a password has passwd NULL, as on Redshift.
REDSHIFT_CATALOG_SHIM = """
CREATE SCHEMA redshift_catalog;
CREATE TABLE redshift_catalog.unrestricted_syslog (usename name);
CREATE VIEW redshift_catalog.pg_user_info AS SELECT usename, usesysid, passwd FROM pg_shadow;
CREATE VIEW redshift_catalog.svl_user_info AS
  SELECT u.usename::text, CASE WHEN s.usename IS NULL THEN 'RESTRICTED' ELSE 'UNRESTRICTED' END
    AS syslogaccess
  FROM pg_user u LEFT JOIN redshift_catalog.unrestricted_syslog s ON s.usename = u.usename;
CREATE TABLE redshift_catalog.svv_user_grants (user_name text, role_name text);
"""


def add_redshift_catalog(database: Database) -> None:
    with database.connect() as conn:
        conn.execute(REDSHIFT_CATALOG_SHIM)
        conn.execute(
            sql.SQL('ALTER DATABASE {} SET search_path = "$user", public, redshift_catalog').format(
                sql.Identifier(database.name)
            )
        )


@pytest.fixture
def psql_database(database: Database) -> Database:
    add_redshift_catalog(database)
    return database


@pytest.mark.postgres
def test_psql_script_run_twice_creates_then_adopts_and_changes_nothing(
    psql_database: Database, tmp_path: Path
) -> None:
    database = psql_database
    with database.connect() as conn:
        seed(conn, SCHEMAS)
        before = catalog_state(conn, USER)
        script = psql_script(USER, SCHEMAS, MASTER_USER)

        first = run_psql(database, script, tmp_path)
        after_first = catalog_state(conn, USER)
        second = run_psql(database, script, tmp_path)
        after_second = catalog_state(conn, USER)

    assert (first.returncode, first.stderr) == (0, "")
    assert (second.returncode, second.stderr) == (0, "")
    assert f'xpander-redshift: created user: "{USER}"' in first.stdout
    assert f'xpander-redshift: user exists and is plain, adopted: "{USER}"' in second.stdout
    assert "CREATE ROLE" in first.stdout and "CREATE ROLE" not in second.stdout
    assert after_first != before
    assert after_second == after_first
    for schema in SCHEMAS:
        assert read(database, USER, schema, "before") == [(1,)]


@pytest.mark.postgres
def test_psql_script_adopts_a_plain_existing_user_and_only_grants(
    psql_database: Database, tmp_path: Path
) -> None:
    database = psql_database
    with database.connect() as conn:
        seed(conn, ["sales"])
        conn.execute(sql.SQL("CREATE USER {}").format(sql.Identifier(USER)))
        result = run_psql(database, psql_script(USER, ["sales"], MASTER_USER), tmp_path)
        roles = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [USER]).fetchone()

    assert (result.returncode, result.stderr) == (0, "")
    assert "adopted" in result.stdout and "CREATE ROLE" not in result.stdout
    assert roles == (1,)
    assert read(database, USER, "sales", "before") == [(1,)]


@pytest.mark.postgres
def test_the_psql_job_logs_what_an_adopted_user_held_and_the_cleanup_keeps_exactly_that(
    psql_database: Database, tmp_path: Path
) -> None:
    """Issue 19 for the kubernetes-job provisioner: the Job's log is the adoption record (USAGE,
    SELECT per table), and the cleanup SQL with those lines pasted keeps them, per table."""
    database = psql_database
    user = sql.Identifier(USER)
    with database.connect() as conn:
        seed(conn, ["sales"])
        conn.execute('CREATE TABLE sales."other" (id int)')
        conn.execute(sql.SQL("CREATE USER {}").format(user))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA sales TO {}").format(user))
        conn.execute(sql.SQL('GRANT SELECT ON sales."before" TO {}').format(user))

    job = run_psql(database, psql_script(USER, ["sales"], MASTER_USER), tmp_path)
    kept = [
        line.strip().removeprefix(KEPT_MARK).strip()
        for line in job.stdout.splitlines()
        if line.strip().startswith(KEPT_MARK)
    ]
    assert (job.returncode, job.stderr) == (0, "")
    assert kept == [  # expected text, hand-written: quote_ident's output for these names
        f'GRANT SELECT ON sales.before TO "{USER}";',
        f'GRANT USAGE ON SCHEMA sales TO "{USER}";',
    ]
    cleanup = cleanup_sql(USER, ["sales"], MASTER_USER).replace(
        "COMMIT;", "\n".join(kept) + "\nCOMMIT;"
    )
    done = run_psql(database, cleanup, tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    with database.connect() as conn:
        held = conn.execute(
            "SELECT has_schema_privilege(%(u)s, 'sales', 'USAGE'),"
            " has_table_privilege(%(u)s, 'sales.before', 'SELECT'),"
            " has_table_privilege(%(u)s, 'sales.other', 'SELECT')",
            {"u": USER},
        ).fetchone()
    assert held == (True, True, False)


UNSAFE_USERS = {
    # what makes the existing user unsafe: (SQL that makes it so, the reason the log names)
    "superuser": ("ALTER USER {user} SUPERUSER", "is a superuser (CREATEUSER)"),
    "createdb": ("ALTER USER {user} CREATEDB", "has CREATEDB"),
    "password": ("ALTER USER {user} PASSWORD 'Hunter2-Hunter2'", "has a password"),
    "group": ("CREATE ROLE analysts; GRANT analysts TO {user}", "is a member of a group"),
    "syslog": (
        "INSERT INTO redshift_catalog.unrestricted_syslog VALUES ({literal})",
        "has SYSLOG ACCESS UNRESTRICTED",
    ),
    "role": (
        "INSERT INTO redshift_catalog.svv_user_grants VALUES ({literal}, 'sys:dba')",
        "has been granted a role",
    ),
}


NAMED_IN_THE_LOG = {"group": "analysts", "role": "sys:dba"}


@pytest.mark.postgres
@pytest.mark.parametrize("unsafe", sorted(UNSAFE_USERS))
def test_psql_script_refuses_an_unsafe_existing_user_and_changes_nothing(
    psql_database: Database, tmp_path: Path, unsafe: str
) -> None:
    database = psql_database
    make_unsafe, reason = UNSAFE_USERS[unsafe]
    with database.connect() as conn:
        seed(conn, ["sales"])
        conn.execute(sql.SQL("CREATE USER {}").format(sql.Identifier(USER)))
        conn.execute(
            sql.SQL(make_unsafe).format(user=sql.Identifier(USER), literal=sql.Literal(USER))
        )
        before = catalog_state(conn, USER)
        result = run_psql(database, psql_script(USER, ["sales"], MASTER_USER), tmp_path)
        after = catalog_state(conn, USER)

    assert result.returncode == 3  # psql's status for a failed statement under ON_ERROR_STOP
    assert f'xpander-redshift: REFUSED: existing user "{USER}" {reason}' in result.stdout
    if unsafe in NAMED_IN_THE_LOG:  # the groups and roles, as psql prints a query's rows
        assert f"\n {NAMED_IN_THE_LOG[unsafe]}\n(1 row)" in result.stdout, result.stdout
    assert "Nothing was changed" in result.stdout
    assert "adopted" not in result.stdout and "GRANT" not in result.stdout
    assert after == before


@pytest.mark.postgres
def test_psql_script_names_every_reason_to_refuse(psql_database: Database, tmp_path: Path) -> None:
    database = psql_database
    with database.connect() as conn:
        seed(conn, ["sales"])
        conn.execute(
            sql.SQL("CREATE USER {} CREATEDB PASSWORD 'Hunter2-Hunter2'").format(
                sql.Identifier(USER)
            )
        )
        result = run_psql(database, psql_script(USER, ["sales"], MASTER_USER), tmp_path)

    refused = [line for line in result.stdout.splitlines() if "REFUSED: existing user" in line]
    assert len(refused) == 2, result.stdout
    assert "has CREATEDB" in refused[0] and "has a password" in refused[1]


@pytest.mark.postgres
def test_psql_script_refuses_when_the_connection_cannot_read_the_users_attributes(
    database: Database, tmp_path: Path
) -> None:
    # PG_USER_INFO shows superusers every user and others none: an empty answer is not "plain".
    with database.connect() as conn:
        add_redshift_catalog(database)
        conn.execute(
            "CREATE OR REPLACE VIEW redshift_catalog.pg_user_info AS"
            " SELECT usename, usesysid, passwd FROM pg_shadow WHERE false"
        )
        seed(conn, ["sales"])
        conn.execute(sql.SQL("CREATE USER {}").format(sql.Identifier(USER)))
        result = run_psql(database, psql_script(USER, ["sales"], MASTER_USER), tmp_path)

    assert result.returncode == 3
    assert "cannot read PG_USER_INFO" in result.stdout


@pytest.mark.postgres
def test_cleanup_sql_revokes_every_grant_and_leaves_the_user(
    psql_database: Database, tmp_path: Path
) -> None:
    database = psql_database
    with database.connect() as conn:
        seed(conn, SCHEMAS)
        provisioned = run_psql(database, psql_script(USER, SCHEMAS, MASTER_USER), tmp_path)
        cleaned = run_psql(database, cleanup_sql(USER, SCHEMAS, MASTER_USER), tmp_path)
        row = conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [USER]).fetchone()
        assert row is not None
        traces = traces_of(conn, USER, row[0])
        # The commented-out DROP USER now succeeds: nothing depends on the user any more.
        conn.execute(sql.SQL("DROP USER {}").format(sql.Identifier(USER)))

    assert (provisioned.returncode, cleaned.returncode, cleaned.stderr) == (0, 0, "")
    assert traces == {**dict.fromkeys(TRACES_OF_THE_USER, 0), "the user": 1}


@pytest.mark.postgres
def test_psql_does_not_expand_variables_inside_the_quoted_names(
    psql_database: Database, tmp_path: Path
) -> None:
    database = psql_database
    user, schema, variable = "IAMR:xpander", "raw:xpander", ["-v", "xpander=INJECTED"]
    with database.connect() as conn:
        seed(conn, [schema])

        expanded = run_psql(database, "\\echo :xpander\n", tmp_path, *variable)
        result = run_psql(database, psql_script(user, [schema], MASTER_USER), tmp_path, *variable)
        roles = [
            row[0]
            for row in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'IAMR%'")
        ]

    assert expanded.stdout.strip() == "INJECTED"  # the variable is live, outside quotes
    assert (result.returncode, result.stderr) == (0, "")
    assert roles == [user]
    assert read(database, user, schema, "before") == [(1,)]


@pytest.mark.postgres
def test_psql_stops_at_a_failing_statement_and_leaves_no_user(
    psql_database: Database, tmp_path: Path
) -> None:
    database = psql_database
    with database.connect() as conn:
        seed(conn, ["sales"])
        result = run_psql(database, psql_script(USER, ["sales", "missing"], MASTER_USER), tmp_path)
        users = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [USER]).fetchone()

    assert result.returncode == 3
    assert 'schema "missing" does not exist' in result.stderr
    assert users == (0,)  # the CREATE USER ran inside the transaction that failed
