"""The Redshift Data API client: run SQL on a private cluster through AWS's API and wait for it.

Used by the data-api provisioner of the IAMR user and by the verifier. Every call names its region
explicitly; statements are polled with capped exponential backoff inside a bounded total wait;
throttling is retried a bounded number of times; a FAILED or ABORTED statement becomes a
`StatementFailedError` that quotes Redshift's own message and the statement that failed.
The provisioner's client has botocore's retries off (`make_client`): `DataApi` alone decides every
re-send (throttling and lost answers), with a jittered, capped backoff that never sleeps past the
end-to-end time limit. `sleep`, `clock`, `jitter` and the boto3 client are injectable, so the
tests run without AWS and without waiting.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from clients.aws_client import aws_client

SERVICE = "redshift-data"
MAX_BATCH_STATEMENTS = 40  # BatchExecuteStatement's `Sqls` limit (botocore model: max 40)
DEFAULT_TIMEOUT_SECONDS = 300.0

FINISHED = "FINISHED"
FAILED_STATUSES = frozenset({"FAILED", "ABORTED"})

# Error codes that mean "slow down", not "this request is wrong". The Data API answers a burst
# with ThrottlingException, and with Active*ExceededException while too many statements or
# sessions are still running; both clear up by themselves.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "TooManyRequests",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ActiveStatementsExceededException",
        "ActiveSessionsExceededException",
        "ActiveWaitingRequestsExceededException",
    }
)

# How the Data API says that the cluster is not there (deleted, or never in this region): a
# ValidationException "Redshift endpoint doesn't exist in this region." (seen in
# https://github.com/aws/aws-cdk/issues/30536), or "Cluster <id> not found" (the Redshift API's
# ClusterNotFound wording), or a ResourceNotFoundException naming the cluster.
CLUSTER_GONE_CODES = frozenset(
    {"ValidationException", "ResourceNotFoundException", "ClusterNotFound", "ClusterNotFoundFault"}
)
CLUSTER_GONE_MESSAGE = re.compile(
    r"endpoint doesn't exist|cluster\b.*\bnot found|cluster\b.*\bdoes not exist", re.IGNORECASE
)
# No answer came back: the connection failed, closed or timed out. DataApi re-sends the very same
# request `Limits.lost_retries` times (the provisioner's 3, as botocore's standard mode did), then
# passes it on unchanged (the verifier reports it as an unreachable endpoint; the provisioner
# explains it with ResponseLostError).
LOST_ANSWER_ERRORS = (HTTPClientError, BotoConnectionError)

Value = bool | int | float | str | bytes | None
"""One field of a result row, as the Data API types it (`isNull` becomes None)."""


class RedshiftDataClient(Protocol):
    """The part of boto3's `redshift-data` client this module uses (boto3 clients are untyped)."""

    def execute_statement(self, **params: Any) -> dict[str, Any]: ...
    def batch_execute_statement(self, **params: Any) -> dict[str, Any]: ...
    def describe_statement(self, **params: Any) -> dict[str, Any]: ...
    def get_statement_result(self, **params: Any) -> dict[str, Any]: ...
    def cancel_statement(self, **params: Any) -> dict[str, Any]: ...


class DataApiError(RuntimeError):
    """A Data API call or statement did not succeed."""


class ClusterGoneError(DataApiError):
    """The Data API says the cluster does not exist (deleted, or not in this region)."""


class ResponseLostError(DataApiError):
    """No answer after the retries, said as what is known rather than as its exception.

    `DataApi._call` re-sends the very same request, and for ExecuteStatement and
    BatchExecuteStatement that request carries one ClientToken for all its sends (the service
    model marks it `idempotencyToken`), so the Data API runs it at most once.
    """

    def __init__(self, cause: str, *, submitting: bool) -> None:
        self.submitting = submitting
        if submitting:
            known = (
                "The statements may or may not have run; every retry carried the same "
                "ClientToken, so they ran at most once, and a batch is one transaction: either "
                "all of it or none of it takes effect."
            )
        else:
            known = "Only reads were under way: nothing changed, and running again is safe."
        super().__init__(f"Redshift Data API: no answer after retries ({cause}). {known}")


class StatementFailedError(DataApiError):
    """Redshift reported FAILED or ABORTED; the message quotes its error and the statement."""

    def __init__(
        self,
        *,
        statement_id: str,
        status: str,
        error: str,
        statement: str | None,
        position: int | None,
        count: int,
        created_at: Any = None,
    ) -> None:
        self.created_at = created_at  # the server's clock: when the statement was submitted
        self.statement_id = statement_id
        self.status = status
        self.error = error
        self.statement = statement
        self.position = position  # 1-based position in the batch, when Redshift says which
        where = f"statement {position} of {count}" if position is not None else "statement"
        lines = [f"Redshift Data API statement {statement_id} {status}: {error}"]
        if statement is not None:
            lines.append(f"  {where}: {statement}")
        super().__init__("\n".join(lines))


class StatementTimeoutError(DataApiError):
    """The statement did not finish within the bounded wait (it was then asked to cancel)."""

    def __init__(self, *, statement_id: str, status: str, waited: float, limit: float) -> None:
        self.statement_id = statement_id
        self.status = status
        self.waited = waited
        super().__init__(
            f"Redshift Data API statement {statement_id} still {status} after {waited:.0f} s "
            f"(limit {limit:.0f} s); a cancel was requested. Raise the limit "
            "(xpander-redshift:provisionerTimeoutSeconds) or check the cluster's query queue "
            "(is the cluster paused or resizing?)."
        )


@dataclass(frozen=True)
class Target:
    """Where statements run and as whom.

    `secret_arn`: a Secrets Manager secret with username and password (the cluster's managed
    master secret). `db_user`: temporary credentials for that user (GetClusterCredentials).
    Neither: the caller's own IAM identity (GetClusterCredentialsWithIAM; a role maps to
    `IAMR:<role>`), which is what xpander's agents use.
    """

    cluster_identifier: str
    database: str
    secret_arn: str | None = None
    db_user: str | None = None

    def __post_init__(self) -> None:
        if self.secret_arn and self.db_user:
            raise ValueError("Target: give secret_arn or db_user, not both")

    def request_params(self) -> dict[str, str]:
        params = {"ClusterIdentifier": self.cluster_identifier, "Database": self.database}
        if self.secret_arn:
            params["SecretArn"] = self.secret_arn
        elif self.db_user:
            params["DbUser"] = self.db_user
        return params


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: first, first*2, ... never more than `cap`."""

    first: float
    cap: float

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * 2, self.cap)


@dataclass(frozen=True)
class Limits:
    """How long and how often to wait. The stack passes its provisionerTimeoutSeconds."""

    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    poll: Backoff = Backoff(first=0.5, cap=5.0)
    throttle: Backoff = Backoff(first=1.0, cap=20.0)
    throttle_retries: int = 6
    # Re-sends of a request whose answer was lost (0: pass the error on at once, for a client
    # whose botocore retries still do it, as the verifier's). 50 ms first, as botocore's standard
    # mode for errors other than throttling (non_throttling_base_scale, retries/standard.py).
    lost: Backoff = Backoff(first=0.05, cap=5.0)
    lost_retries: int = 0

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {self.timeout_seconds}")
        if self.throttle_retries < 0:
            raise ValueError(f"throttle_retries must be >= 0, got {self.throttle_retries}")
        if self.lost_retries < 0:
            raise ValueError(f"lost_retries must be >= 0, got {self.lost_retries}")


def make_client(
    region: str, *, connect_timeout: float = 10.0, read_timeout: float = 60.0
) -> RedshiftDataClient:
    """A boto3 `redshift-data` client for `region`, with timeouts so a dead network cannot hang us.

    botocore's retries are off (one send per call: `total_max_attempts` counts the first send,
    botocore/config.py; botocore/args.py turns `max_attempts` N into N + 1 sends, so the old
    `max_attempts: 3` was four sends, each retry after botocore's own random backoff of up to
    2**attempt s, botocore/retries/standard.py ExponentialBackoff). `DataApi._call` re-sends
    instead, within the operation's time limit (Limits.throttle_retries, Limits.lost_retries).
    """
    client: RedshiftDataClient = aws_client(
        SERVICE,
        region,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return client


def bounded_client(region: str, timeout_seconds: float) -> RedshiftDataClient:
    """`make_client` whose one send can last no longer than `timeout_seconds` (the operation's
    whole limit; at least 1 s, so a short limit still reaches AWS): a call made late in an
    operation may still end past its limit by at most one connect plus one read."""
    bound = max(1.0, timeout_seconds)
    return make_client(region, connect_timeout=min(10.0, bound), read_timeout=min(60.0, bound))


def field_value(field: Mapping[str, Any]) -> Value:
    """The Python value of one Data API `Field` (a union: exactly one key is set)."""
    if field.get("isNull"):
        return None
    for key in ("booleanValue", "longValue", "doubleValue", "stringValue", "blobValue"):
        if key in field:
            value: Value = field[key]
            return value
    raise DataApiError(f"unexpected Data API field {dict(field)!r}")


class DataApi:
    """Runs statements on one `Target` and waits for them, within `Limits`."""

    def __init__(
        self,
        target: Target,
        *,
        region: str,
        client: RedshiftDataClient | None = None,
        limits: Limits | None = None,
        statement_name: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        end_to_end: bool = False,
    ) -> None:
        self.target = target
        self.region = region
        self.limits = limits or Limits()
        self.statement_name = statement_name
        self._client = client if client is not None else make_client(region)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter  # [0, 1): a retry sleeps between half and all of its backoff
        # end_to_end: the limit bounds everything this object does (waits, throttling, re-sends),
        # as the provisioner's provisionerTimeoutSeconds does for each operation.
        self._deadline = clock() + self.limits.timeout_seconds if end_to_end else None
        self.first_created_at: Any = None  # the server's CreatedAt of the first statement seen

    # --- running statements ----------------------------------------------------------------------

    def run(self, sql: str) -> dict[str, Any]:
        """Run one statement and wait; returns its final DescribeStatement answer."""
        statement_id = self.submit(sql)
        return self.wait(statement_id, [sql])

    def run_batch(self, sqls: Sequence[str], *, client_token: str | None = None) -> dict[str, Any]:
        """Run statements as one transaction (BatchExecuteStatement) and wait for all of them.

        With `client_token`, every send carries it (throttling re-sends too), so the Data API runs
        the batch at most once and answers a re-send with the statement it already has; a lost
        answer is then re-sent until the time limit (the answer names that same statement).
        """
        if client_token is None:
            statement_id = self.submit_batch(sqls)
        else:
            statement_id = self._submit_idempotent(sqls, client_token)
        return self.wait(statement_id, sqls)

    def _submit_idempotent(self, sqls: Sequence[str], client_token: str) -> str:
        delays = self.limits.poll.delays()
        while True:
            try:
                return self.submit_batch(sqls, client_token=client_token)
            except LOST_ANSWER_ERRORS:
                remaining = self._remaining(self.limits.timeout_seconds)
                if remaining <= 0:
                    raise
                self._sleep(min(next(delays), remaining))

    def rows(self, sql: str) -> list[list[Value]]:
        """Run one query and return every row (all result pages)."""
        description = self.run(sql)
        if not description.get("HasResultSet", False):
            raise DataApiError(f"statement {description['Id']} returned no result set: {sql}")
        return self.result_rows(description["Id"])

    def scalar(self, sql: str) -> Value:
        """Run a query that returns one row with one column, and return that value."""
        rows = self.rows(sql)
        if len(rows) != 1 or len(rows[0]) != 1:
            shape = f"{len(rows)} row(s)" + (f" of {len(rows[0])} column(s)" if rows else "")
            raise DataApiError(f"expected one row with one column, got {shape}: {sql}")
        return rows[0][0]

    # --- the individual calls --------------------------------------------------------------------

    def submit(self, sql: str) -> str:
        """ExecuteStatement; returns the statement id without waiting."""
        response = self._call("execute_statement", Sql=sql, **self._request_params())
        statement_id: str = response["Id"]
        return statement_id

    def submit_batch(self, sqls: Sequence[str], *, client_token: str | None = None) -> str:
        """BatchExecuteStatement (one transaction); returns the statement id without waiting."""
        if isinstance(sqls, str):
            raise TypeError("submit_batch takes a list of statements, not one string")
        if not 1 <= len(sqls) <= MAX_BATCH_STATEMENTS:
            raise ValueError(
                f"a batch holds 1 to {MAX_BATCH_STATEMENTS} statements, got {len(sqls)}"
            )
        token = {"ClientToken": client_token} if client_token else {}
        response = self._call(
            "batch_execute_statement", Sqls=list(sqls), **token, **self._request_params()
        )
        statement_id: str = response["Id"]
        return statement_id

    def wait(self, statement_id: str, statements: Sequence[str]) -> dict[str, Any]:
        """Poll DescribeStatement until FINISHED; raise on FAILED/ABORTED or past the time limit."""
        start = self._clock()
        deadline = start + self._remaining(self.limits.timeout_seconds)
        delays = self.limits.poll.delays()
        while True:
            description = self._call("describe_statement", Id=statement_id)
            status = description.get("Status", "")
            if self.first_created_at is None and description.get("CreatedAt") is not None:
                self.first_created_at = description["CreatedAt"]
            if status == FINISHED:
                return description
            if status in FAILED_STATUSES:
                raise failure_from_description(description, statements)
            remaining = deadline - self._clock()
            if remaining <= 0:
                self.cancel(statement_id)
                # A cancel can arrive after the commit: the statement's last word decides.
                with contextlib.suppress(ClientError, BotoCoreError, DataApiError):
                    description = self._client.describe_statement(Id=statement_id)
                    if description.get("Status") == FINISHED:
                        return description
                raise StatementTimeoutError(
                    statement_id=statement_id,
                    status=status or "UNKNOWN",
                    waited=self._clock() - start,
                    limit=self.limits.timeout_seconds,
                )
            self._sleep(min(next(delays), remaining))

    def result_rows(self, statement_id: str) -> list[list[Value]]:
        """GetStatementResult, following NextToken; each row as a list of Python values."""
        rows: list[list[Value]] = []
        params: dict[str, Any] = {"Id": statement_id}
        while True:
            page = self._call("get_statement_result", **params)
            rows += [[field_value(f) for f in record] for record in page.get("Records", [])]
            token = page.get("NextToken")
            if not token:
                return rows
            params = {"Id": statement_id, "NextToken": token}

    def cancel(self, statement_id: str) -> None:
        """Best effort: a statement we stopped waiting for should not go on running."""
        with contextlib.suppress(ClientError, BotoCoreError, DataApiError):
            self._call("cancel_statement", Id=statement_id)

    # --- plumbing --------------------------------------------------------------------------------

    def _request_params(self) -> dict[str, str]:
        params = self.target.request_params()
        if self.statement_name:
            params["StatementName"] = self.statement_name
        return params

    def _remaining(self, limit: float) -> float:
        """`limit`, or what is left of the end-to-end time limit if that is less."""
        if self._deadline is None:
            return limit
        return min(limit, self._deadline - self._clock())

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One API call, sent again while AWS throttles us (at most `throttle_retries` times) or
        its answer is lost (at most `lost_retries` times), never past the end-to-end time limit.

        Every send of a submission carries the same ClientToken (the caller's, or one made here
        when this call may re-send it), so the Data API runs it at most once."""
        method: Callable[..., dict[str, Any]] = getattr(self._client, operation)
        limits = self.limits
        if limits.lost_retries and operation in ("execute_statement", "batch_execute_statement"):
            params.setdefault("ClientToken", str(uuid.uuid4()))
        throttle_delays, lost_delays = limits.throttle.delays(), limits.lost.delays()
        throttled = lost = 0
        while True:
            try:
                return method(**params)
            except LOST_ANSWER_ERRORS:
                remaining = self._remaining(float("inf"))
                if lost == limits.lost_retries or remaining <= 0:
                    raise
                lost += 1
                self._pause(next(lost_delays), remaining)
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if cluster_gone(err):
                    cluster = self.target.cluster_identifier
                    raise ClusterGoneError(
                        f"Redshift cluster {cluster!r} not found in {self.region}: "
                        f"{err.response.get('Error', {}).get('Message', code)}"
                    ) from err  # the verifier reads AWS's own error from __cause__
                if code not in THROTTLING_CODES:
                    raise
                remaining = self._remaining(float("inf"))
                if throttled == limits.throttle_retries or remaining <= 0:
                    raise DataApiError(
                        f"Redshift Data API {operation} in {self.region} still throttled "
                        f"({code}) after {throttled} retries"
                        + (
                            f" and the time limit ({limits.timeout_seconds:.0f} s, "
                            "xpander-redshift:provisionerTimeoutSeconds)"
                            if remaining <= 0
                            else ""
                        )
                        + "; try again later"
                    ) from err
                throttled += 1
                self._pause(next(throttle_delays), remaining)

    def _pause(self, backoff: float, remaining: float) -> None:
        """Sleep between half and all of `backoff` (jitter spreads the re-sends of many callers),
        never past what is left of the time limit."""
        self._sleep(min(backoff * (0.5 + 0.5 * self._jitter()), remaining))


def cluster_gone(err: ClientError) -> bool:
    """Whether a Data API error says the cluster is not there (see CLUSTER_GONE_CODES)."""
    error = err.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    return code in CLUSTER_GONE_CODES and bool(CLUSTER_GONE_MESSAGE.search(message))


def failure_from_description(
    description: Mapping[str, Any], statements: Sequence[str]
) -> StatementFailedError:
    """Build the error for a FAILED/ABORTED statement, naming the failing one of a batch.

    For a batch, DescribeStatement's SubStatements (ids `<id>:1`, `<id>:2`, ...) say which
    statement failed; the others are typically ABORTED because the transaction rolled back.
    """
    statement_id = str(description.get("Id", "?"))
    status = str(description.get("Status", "FAILED"))
    error = str(description.get("Error") or "")
    statement: str | None = None
    position: int | None = None
    subs: list[Mapping[str, Any]] = list(description.get("SubStatements") or [])
    culprit = next((s for s in subs if s.get("Status") == "FAILED"), None) or next(
        (s for s in subs if s.get("Error")), None
    )
    if culprit is not None:
        position = _sub_position(culprit, subs)
        error = str(culprit.get("Error") or error)
        statement = culprit.get("QueryString") or _nth(statements, position)
    elif not subs:
        statement = description.get("QueryString") or (statements[0] if statements else None)
    if not error:
        error = (
            "cancelled, or rolled back because another statement of its transaction failed"
            if status == "ABORTED"
            else "no error message from Redshift"
        )
    return StatementFailedError(
        statement_id=statement_id,
        status=status,
        error=error,
        statement=statement,
        position=position,
        count=max(len(statements), len(subs), 1),
        created_at=description.get("CreatedAt"),
    )


def _sub_position(sub: Mapping[str, Any], subs: Sequence[Mapping[str, Any]]) -> int:
    suffix = str(sub.get("Id", "")).rpartition(":")[2]
    return int(suffix) if suffix.isdigit() else list(subs).index(sub) + 1


def _nth(statements: Sequence[str], position: int) -> str | None:
    return statements[position - 1] if 0 < position <= len(statements) else None
