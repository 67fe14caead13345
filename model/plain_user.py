"""The one definition of when an existing IAMR user may be adopted: only when it is plain.

Redshift creates `IAMR:<role>` by itself at the role's first IAM login, so finding the user is
normal; but the IAM role, and every agent that assumes it, inherits whatever the user holds. Both
provisioners ask the catalog the questions of `CHECKS` and, if any answer is yes, change nothing
and say why with these reasons and `ways_forward`: the data-api provider through the Data API
(`components.iamr_catalog`), the kubernetes-job script through psql's `\\gset`
(`model.psql_script`).

Each question is its own query over one catalog, so that no query joins Redshift's leader-node
catalog tables with its system views. PG_USER_INFO and SVL_USER_INFO show their rows to superusers
only: a user whose row the connection cannot see there counts as unsafe (refused, never guessed).
Sources (Redshift Database Developer Guide): CREATE USER ("CREATEUSER ... creates a superuser";
PASSWORD DISABLE), PG_USER_INFO (passwd; how a disabled password shows is not documented, NULL is
taken as none, as in PostgreSQL), SVL_USER_INFO (syslogaccess: RESTRICTED | UNRESTRICTED),
PG_GROUP (grolist: member user ids), SVV_USER_GRANTS (roles granted to users), ALTER USER,
ALTER GROUP, REVOKE ROLE.
"""

# ruff: noqa: S608 -- the only value in these queries is the user, quoted by model.sql.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, overload

from model.sql import quote_identifier, quote_literal

# A Redshift-only view a connection that is not a superuser cannot read (said in ways_forward).
SUPERUSER_ONLY_VIEWS = ("PG_USER_INFO", "SVL_USER_INFO")


@dataclass(frozen=True)
class UnsafeCheck:
    """One thing that makes an existing user unsafe to adopt, and the catalog query that finds it.

    An attribute check reads the user's one row of `source` and names the condition a plain user's
    row meets (`plain`); no row, or more than one, counts as unsafe. A membership check (`names`
    set) lists the groups or roles the user is in; any row is unsafe.
    """

    key: str
    holds: str  # what the user holds, after "existing user X"
    inherits: str  # what the IAM role would inherit from it
    source: str  # the catalog on Redshift
    postgres_source: str | None  # the catalog on PostgreSQL; None: PostgreSQL has no such thing
    match: str  # the WHERE condition for the user, {user} being its quoted literal
    plain: str = ""  # attribute checks: the condition a plain user's row meets
    names: str = ""  # membership checks: the column that names each group or role

    @property
    def variable(self) -> str:
        """The psql variable (and the query's only column) that says whether the check failed."""
        return f"xpander_{self.key}"

    def _source(self, redshift: bool) -> str | None:
        return self.source if redshift else self.postgres_source

    @overload
    def flag_sql(self, user: str, *, redshift: Literal[True] = True) -> str: ...
    @overload
    def flag_sql(self, user: str, *, redshift: bool) -> str | None: ...
    def flag_sql(self, user: str, *, redshift: bool = True) -> str | None:
        """One row, one boolean column named `variable`: true if unsafe (or unreadable)."""
        source = self._source(redshift)
        if source is None:
            return None
        where = self.match.format(user=quote_literal(user))
        if self.names:
            return f"SELECT COUNT(*) > 0 AS {self.variable} FROM {source} WHERE {where}"
        return (
            f"SELECT COUNT(*) <> 1 OR SUM(CASE WHEN {self.plain} THEN 0 ELSE 1 END) > 0"
            f" AS {self.variable} FROM {source} WHERE {where}"
        )

    def names_sql(self, user: str, *, redshift: bool = True) -> str | None:
        """Membership checks: the names of the groups or roles the user is in, one row each."""
        source = self._source(redshift)
        if source is None or not self.names:
            return None
        where = self.match.format(user=quote_literal(user))
        return f"SELECT DISTINCT {self.names} FROM {source} WHERE {where} ORDER BY 1"

    def provider_sql(self, user: str, *, redshift: bool = True) -> str | None:
        """What the data-api provider asks: the names for a membership check, else the flag."""
        if self.names:
            return self.names_sql(user, redshift=redshift)
        return self.flag_sql(user, redshift=redshift)

    def reason(self, names: Sequence[str] = ()) -> str:
        """Why the user is refused, after "existing user X"; `names`: the groups or roles found."""
        named = f" ({', '.join(map(_display_name, names))})" if names else ""
        return f"{self.holds}{named}: the IAM role would inherit {self.inherits}"


CHECKS: tuple[UnsafeCheck, ...] = (
    UnsafeCheck(
        key="superuser",
        holds="is a superuser (CREATEUSER)",
        inherits="every privilege on the whole cluster",
        source="pg_user",
        postgres_source="pg_user",
        match="usename = {user}",
        plain="NOT usesuper",
    ),
    UnsafeCheck(
        key="createdb",
        holds="has CREATEDB",
        inherits="the right to create databases",
        source="pg_user",
        postgres_source="pg_user",
        match="usename = {user}",
        plain="NOT usecreatedb",
    ),
    UnsafeCheck(
        key="password",
        holds="has a password (or this connection, not a superuser, cannot read PG_USER_INFO)",
        inherits="nothing, but whoever knows the password logs in as this user without IAM",
        source="pg_user_info",
        postgres_source="pg_shadow",
        match="usename = {user}",
        plain="passwd IS NULL",
    ),
    UnsafeCheck(
        key="syslog",
        holds="has SYSLOG ACCESS UNRESTRICTED (or this connection cannot read SVL_USER_INFO)",
        inherits="the queries of every user in the system views",
        source="svl_user_info",
        postgres_source=None,
        match="usename = {user}",
        plain="syslogaccess = 'RESTRICTED'",
    ),
    UnsafeCheck(
        key="group",
        holds="is a member of a group",
        inherits="every privilege granted to the group",
        source="pg_group g, pg_user u",
        postgres_source="pg_group g, pg_user u",
        match="u.usename = {user} AND u.usesysid = ANY (g.grolist)",
        names="g.groname",
    ),
    UnsafeCheck(
        key="role",
        holds="has been granted a role",
        inherits="every privilege granted to the role",
        source="svv_user_grants",
        postgres_source=None,
        match="user_name = {user}",
        names="role_name",
    ),
)
CHECK_BY_KEY = {check.key: check for check in CHECKS}


def ways_forward(
    user: str, *, groups: Sequence[str] | None = None, roles: Sequence[str] | None = None
) -> list[str]:
    """What to do about a refused user; `groups`/`roles` None: not known, say it for each."""
    quoted = quote_identifier(user, kind="user")
    plain = [
        f"ALTER USER {quoted} NOCREATEUSER NOCREATEDB PASSWORD DISABLE SYSLOG ACCESS RESTRICTED;"
    ]
    if groups is None:
        plain.append(f"for each of its groups: ALTER GROUP <group> DROP USER {quoted};")
    plain += [f"ALTER GROUP {_display_name(g)} DROP USER {quoted};" for g in groups or ()]
    if roles is None:
        plain.append(f"for each of its roles: REVOKE ROLE <role> FROM {quoted};")
    plain += [f"REVOKE ROLE {_display_name(r)} FROM {quoted};" for r in roles or ()]
    return [
        "Nothing was changed. Ways forward:",
        "  1. make the user plain, then run `pulumi up` again: " + " ".join(plain),
        f"  2. if nothing else uses it, drop it (DROP USER {quoted}) and let the stack create it;",
        "  3. or choose another xpander-redshift:roleName, so that the stack creates a new user.",
        f"Only a superuser can read {' and '.join(SUPERUSER_ONLY_VIEWS)}: provision as the "
        "master user (the default), or the check cannot tell whether the user is plain.",
    ]


def refusal(user: str, found: Mapping[str, Sequence[str]]) -> str:
    """The whole refusal, for `found` = {check key: the groups or roles it names (or none)}."""
    lines = [
        f"Database user {user!r} already exists and is not plain, so this stack will not adopt "
        "it: the IAM role, and every agent that assumes it, would inherit what it holds:",
        *(f"  - it {check.reason(found[check.key])}" for check in CHECKS if check.key in found),
        *ways_forward(user, groups=found.get("group", ()), roles=found.get("role", ())),
    ]
    return "\n".join(lines)


def _display_name(name: str) -> str:
    """A catalog name as it goes into the suggested SQL: double-quoted, quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
