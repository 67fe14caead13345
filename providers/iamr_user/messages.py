"""What the data-api provider says when it refuses, fails or keeps something: in our words.

Each message says what failed, what is known about the database's state, and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from model import sql as redshift_sql


class RefusedChangeError(RuntimeError):
    """Refused before any change; the message says what is unsafe or missing, and what to do."""


class ProvisionerError(RuntimeError):
    """A call or statement failed; the message says what is known and what to do."""


class AccountUnknownError(ProvisionerError):
    """The state names no account to check the credentials against: nothing was called."""


def account_unknown(user: str, nothing_done: str) -> str:
    return (
        f"The state of database user {user!r} names no AWS account (it was written before the "
        "stack recorded its cluster's ARN, clusterArn, and has no secretArn), so the account "
        f"this provider's credentials reach cannot be checked against the stack's. {nothing_done} "
        "Run `pulumi up` with the user still configured first: it records clusterArn in an "
        "in-place update that runs no SQL when the grants are unchanged."
    )


def _keep_or_retry(user: str) -> str:
    return (
        "Then run `pulumi destroy` again; or, to keep the user, remove it from the stack without "
        f"touching the database: `pulumi state delete <urn of the IamrUser for {user}>`."
    )


def still_in_use(user: str, owned: Sequence[str], others: Sequence[str]) -> str:
    quoted = redshift_sql.quote_identifier(user, kind="user")
    lines = [
        f"Database user {user!r} was created by this stack but is not dropped: nothing was changed."
    ]
    if owned:
        lines += [
            "It owns: " + ", ".join(owned) + ".",
            "Hand each over (Redshift has no REASSIGN OWNED): ALTER TABLE <schema>.<table> OWNER "
            "TO <user>; ALTER SCHEMA <schema> OWNER TO <user>; or drop what is no longer needed.",
        ]
    if others:
        lines += [
            "It holds privileges this stack did not grant: " + "; ".join(others) + ".",
            f"Revoke them (e.g. REVOKE ALL ON <table> FROM {quoted}) if they are not needed.",
        ]
    lines.append(_keep_or_retry(user))
    return "\n".join(lines)


def drop_failed(user: str, database: str, error: str) -> str:
    """DROP USER failed inside the batch: what blocks it is outside what this provider reads."""
    quoted = redshift_sql.quote_identifier(user, kind="user")
    return "\n".join(
        [
            f"Database user {user!r} was created by this stack but could not be dropped; the "
            "batch is one transaction, so nothing was changed (its grants are still there).",
            f"Redshift says: {error}",
            f"In database {database!r} it owns nothing and holds nothing else, so what blocks it "
            "is elsewhere: objects it owns or privileges it holds in another database of the "
            "cluster, or privileges on functions, procedures or languages "
            "(the SVV_RELATION_PRIVILEGES and SVV_FUNCTION_PRIVILEGES views, filtered on "
            f"identity_name {redshift_sql.quote_literal(user)}, in each database).",
            "Hand each over or revoke it: ALTER TABLE ... OWNER TO <user>; ALTER SCHEMA ... OWNER "
            f"TO <user>; REVOKE ALL ON FUNCTION ... FROM {quoted}; REVOKE ALL ON DATABASE ... "
            f"FROM {quoted}.",
            _keep_or_retry(user),
        ]
    )


def not_plain_any_more(user: str, reasons: Sequence[str]) -> str:
    return "\n".join(
        [
            f"Database user {user!r} was created by this stack but is not dropped: it is no "
            "longer plain, so something outside this stack now relies on it. Nothing was changed.",
            *(f"  - it {reason}" for reason in reasons),
            "Make it plain again (ALTER USER ... NOCREATEDB NOCREATEUSER PASSWORD DISABLE; "
            "ALTER GROUP ... DROP USER ...) and destroy again, or drop it by hand.",
            _keep_or_retry(user),
        ]
    )


def drift_warning(user: str, reasons: Sequence[str]) -> str:
    return (
        f"Database user {user!r}, created by this stack, is no longer plain: it "
        + "; it ".join(reasons)
        + ". `pulumi up` does not change user attributes (it reports this until the user is "
        "plain again); `pulumi destroy` will refuse to drop it until then. Make it plain with "
        "ALTER USER / ALTER GROUP, or drop it by hand."
    )


def created_concurrently(user: str, database: str) -> str:
    return (
        f"Database user {user!r} was created in database {database!r} by someone else while this "
        "stack was creating it (another stack with the same roleName, or the role's first IAM "
        "login): this stack's CREATE USER failed, and nothing was changed. Two stacks must not "
        "manage one user: give this connector another roleName. If this stack is meant to adopt "
        "the user (it then keeps it, and what it holds now, on destroy), run `pulumi up` again."
    )


def adopted_maybe_ours(user: str) -> str:
    return (
        f"Database user {user!r} exists and the Data API has no statement of this stack that "
        "created it, so it is adopted: `pulumi destroy` keeps it and what it holds now. If an "
        "earlier `pulumi up` of this stack was interrupted while creating it more than a day ago, "
        "or with other settings, this stack made it: drop it by hand when it is no longer needed. "
        "If another stack manages this user, two stacks must not: give this connector another "
        "roleName."
    )


def no_tombstone(user: str) -> str:
    return (
        f"Database user {user!r} was dropped, but the Data API did not confirm the note that this "
        "stack dropped it. If someone creates a user of that name within the next day, a "
        "`pulumi up` of this stack may take it for its own: drop or rename such a user first."
    )


def unknown_outcome(what: str, cause: str) -> str:
    return (
        f"Redshift Data API: no final answer for the batch that {what} ({cause}). It carried a "
        "ClientToken derived from this resource and its statements, so it ran at most once, and "
        "it is one transaction: all of it or none took effect. The database does not show all of "
        "it yet. Run `pulumi up` again: the same token asks the Data API for that statement "
        "instead of running it again."
    )


def call_refused(operation: str, code: str, message: str) -> str:
    hint = {
        "AccessDeniedException": (
            "The identity running Pulumi needs the Data API actions on the cluster and "
            "DescribeStatement/GetStatementResult/CancelStatement on * (plus "
            "secretsmanager:GetSecretValue on the admin secret, or "
            "redshift:GetClusterCredentials for dbUser): see `make deployer-policy`."
        ),
        "ValidationException": (
            "Check the cluster identifier, database and admin secret the stack passes."
        ),
        "ExpiredTokenException": "Refresh the AWS credentials and run again.",
    }.get(code, "Run again; if it persists, check the cluster's status and the AWS Health page.")
    return (
        f"Redshift Data API refused {operation} ({code}: {message}). A refused call runs no "
        f"SQL, and every write is one transaction, so nothing is half-done. {hint}"
    )


def no_aws_answer(cause: str) -> str:
    return (
        f"Could not call the Redshift Data API: {cause}. No SQL ran from this call. Check the "
        "AWS credentials and region Pulumi runs with, then run again."
    )
