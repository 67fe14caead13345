"""The data-api provider's writes: one batch (one transaction) under a ClientToken, confirmed.

Every batch carries a ClientToken derived from the resource's identity and its statements
(`client_token`): a re-send, or a later `pulumi up` with the same inputs, names the same statement,
which the Data API answers with instead of running it again (its DescribeStatement says how it
ended). A statement under the token that predates the operation (server clock) decides only if the
database still shows its effect; otherwise the token moves past it, so an earlier failure or a
user since dropped never blocks a new run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from model import sql as redshift_sql
from providers.iamr_user import messages
from providers.iamr_user.catalog import Catalog, SchemaFacts
from providers.iamr_user.grants import Revocation
from providers.iamr_user.messages import ProvisionerError, RefusedChangeError
from providers.iamr_user.props import IamrUserProps

if TYPE_CHECKING:
    from clients.data_api import DataApi

MAX_TOKEN_LINKS = 4  # earlier statements under one token chain that a write looks past


def client_token(identity: str, statements: Sequence[str], link: str = "") -> str:
    """The ClientToken of a batch: the same resource and statements give the same token (so a
    re-send, or a later `pulumi up`, names the same statement); `link` moves past an earlier
    statement under that token which no longer decides anything. At most 64 characters."""
    digest = hashlib.sha256("\n".join([identity, link, *statements]).encode()).hexdigest()
    return digest[:64]


@dataclass
class Operation:
    """One create/read/update/delete: its props, and the catalog over one DataApi whose time
    limit (provisionerTimeoutSeconds) bounds the whole operation."""

    props: IamrUserProps[str]
    catalog: Catalog

    @property
    def api(self) -> DataApi:
        return self.catalog.api

    @property
    def user(self) -> str:
        return self.props.user

    def stale(self, created_at: Any) -> bool:
        """Whether a statement was submitted before this operation began (server clock)."""
        first = self.api.first_created_at
        return created_at is not None and first is not None and created_at < first


def create_user(op: Operation) -> str:
    """CREATE USER and every grant, in one batch; the user did not exist when looked for.
    Returns the id of the statement that created it ('' if only the catalog showed it)."""
    from clients.data_api import StatementFailedError  # noqa: PLC0415

    statements = _creation(op.props)
    try:
        return write(
            op,
            statements,
            what="creates the user",
            confirmed=lambda: _creation_shows(op),
        )
    except StatementFailedError:
        if op.user in op.catalog.existing_users([op.user]):
            raise RefusedChangeError(
                messages.created_concurrently(op.user, str(op.props.database))
            ) from None
        raise


def made_by_this_stack(op: Operation) -> str | None:
    """The id of the finished create of this user by this resource that made the user there now,
    or None: the Data API holds none (not ours).

    The create batch of these inputs is sent again with its own ClientToken: the Data API
    answers with the statement it already ran (an earlier `pulumi up` whose answer was lost:
    ours), or runs it now, where CREATE USER fails on the existing user and the transaction
    changes nothing (not ours). An earlier create whose user this stack's destroy dropped since
    (its tombstone) made another user than the one there now: the chain moves past it.
    """
    from clients.data_api import LOST_ANSWER_ERRORS, StatementFailedError  # noqa: PLC0415

    statements, link = _creation(op.props), ""
    for _ in range(MAX_TOKEN_LINKS):
        token = client_token(op.props.token_identity, statements, link)
        try:
            description = op.api.run_batch(statements, client_token=token)
        except StatementFailedError as failed:
            if op.stale(failed.created_at):
                link = failed.statement_id  # an earlier failed attempt: look past it
                continue
            return None
        except LOST_ANSWER_ERRORS as err:
            raise ProvisionerError(
                messages.unknown_outcome("asks whether this stack created the user", str(err))
            ) from None
        statement_id = str(description["Id"])
        if op.stale(description.get("CreatedAt")) and _tombstone(op, statement_id):
            link = statement_id  # that user was dropped by this stack's destroy: not this one
            continue
        return statement_id
    return None


def leave_tombstone(op: Operation, created_by: str) -> None:
    """After this stack's destroy dropped the user `created_by` made: say so under a ClientToken,
    so that a user made later by someone else is never taken for that statement's."""
    try:
        left = _tombstone(op, created_by)
    except ProvisionerError:
        left = False
    if not left:
        pulumi.log.warn(messages.no_tombstone(op.user))


def _tombstone(op: Operation, created_by: str) -> bool:
    """Whether the tombstone of `created_by` is there; once the user is gone, the same call puts
    it there.

    It is `user_absent_sql` under a token derived from `created_by`: it finishes only while the
    user is gone, so asking about it while the user exists runs it, it fails and changes nothing.
    """
    from clients.data_api import LOST_ANSWER_ERRORS, StatementFailedError  # noqa: PLC0415

    absent, link = [redshift_sql.user_absent_sql(op.user)], ""
    for _ in range(MAX_TOKEN_LINKS):
        token = client_token(op.props.token_identity, absent, f"dropped {created_by} {link}")
        try:
            op.api.run_batch(absent, client_token=token)
        except StatementFailedError as failed:
            if op.stale(failed.created_at):
                link = failed.statement_id  # an earlier question, asked while the user existed
                continue
            return False
        except LOST_ANSWER_ERRORS as err:
            raise ProvisionerError(
                messages.unknown_outcome("asks whether this stack dropped the user", str(err))
            ) from None
        return True
    return False


def grant(
    op: Operation,
    schemas: Sequence[str],
    *,
    facts: Mapping[str, SchemaFacts] | None = None,
    revoke: Revocation | None = None,
    owner_exists: bool = True,
) -> None:
    """Revoke `revoke` and grant what is missing in `schemas`, in one batch if any."""
    user, owner = op.user, op.props.owner
    if facts is None:
        facts = op.catalog.facts(user, schemas)
    plan = _missing(facts, schemas, owner, owner_exists)
    statements = [
        *(revoke.sql(user) if revoke else []),
        *redshift_sql.grants_sql(user, owner, plan),
    ]
    if not statements:
        return

    def confirmed() -> bool:
        now = op.catalog.facts(user, _unique([*schemas, *(revoke.schemas() if revoke else [])]))
        return not any(_missing(now, schemas, owner, owner_exists).values()) and (
            revoke is None or revoke.gone(now)
        )

    write(op, statements, what="changes its grants", confirmed=confirmed)


def write(
    op: Operation, statements: Sequence[str], *, what: str, confirmed: Callable[[], bool]
) -> str:
    """Run `statements` as one BatchExecuteStatement (one transaction), under a ClientToken.

    FINISHED is done. A statement under the token that predates this operation (an earlier
    run's) decides only if the database still shows its effect; otherwise the token moves on
    past it. Without a final answer within the time limit, the database must show all of it
    (every grant to add present, every grant to remove gone), or the error says what is known.
    """
    from clients.data_api import (  # noqa: PLC0415
        LOST_ANSWER_ERRORS,
        MAX_BATCH_STATEMENTS,
        StatementFailedError,
        StatementTimeoutError,
    )

    if len(statements) > MAX_BATCH_STATEMENTS:  # at most 4 revokes + 3 grants + the user
        raise AssertionError(f"{len(statements)} statements do not fit one batch")
    link = ""
    for _ in range(MAX_TOKEN_LINKS):
        token = client_token(op.props.token_identity, statements, link)
        try:
            description = op.api.run_batch(statements, client_token=token)
        except StatementFailedError as failed:
            if op.stale(failed.created_at):
                link = failed.statement_id
                continue
            raise
        except (*LOST_ANSWER_ERRORS, StatementTimeoutError) as err:
            if _settled(confirmed):
                pulumi.log.warn(
                    f"No final answer for the batch that {what} ({err}); the database shows "
                    "all of it, so it took effect."
                )
                return ""
            raise ProvisionerError(messages.unknown_outcome(what, str(err))) from None
        if op.stale(description.get("CreatedAt")) and not _settled(confirmed):
            link = str(description["Id"])  # an earlier run's, undone since: run anew
            continue
        return str(description["Id"])
    raise ProvisionerError(
        f"The batch that {what} names {MAX_TOKEN_LINKS} earlier statements of this stack "
        "that no longer decide anything; nothing was changed. Run `pulumi up` again later."
    )


def _settled(done: Callable[[], object]) -> bool:
    """Whether the database shows the effect; no answer to the question counts as no."""
    from clients.data_api import LOST_ANSWER_ERRORS, DataApiError  # noqa: PLC0415

    try:
        return bool(done())
    except (DataApiError, *LOST_ANSWER_ERRORS):
        return False


def _creation(p: IamrUserProps[str]) -> list[str]:
    """The batch that creates the user: always the same for the same inputs (its token too)."""
    return [
        redshift_sql.create_user_sql(p.user),
        *redshift_sql.grants_sql(p.user, p.owner, redshift_sql.every_kind(list(p.schemas))),
    ]


def _creation_shows(op: Operation) -> bool:
    if op.user not in op.catalog.existing_users([op.user]):
        return False
    facts = op.catalog.facts(op.user, op.props.schemas)
    return not any(_missing(facts, op.props.schemas, op.props.owner, True).values())


def _missing(
    facts: Mapping[str, SchemaFacts], schemas: Sequence[str], owner: str, owner_exists: bool
) -> dict[redshift_sql.GrantKind, list[str]]:
    """The grants to make in `schemas` (existing ones), by kind, in configuration order."""
    plan: dict[redshift_sql.GrantKind, list[str]] = {"usage": [], "select": [], "default": []}
    for schema in schemas:
        f = facts.get(schema)
        if f is None:
            continue
        if not f.usage:
            plan["usage"].append(schema)
        if f.unreadable:
            plan["select"].append(schema)
        if owner_exists and owner not in f.defaults:
            plan["default"].append(schema)
    return plan


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
