"""The Data API client against botocore's real `redshift-data` model (botocore.stub.Stubber).

moto's redshift-data returns canned rows and has no BatchExecuteStatement, so the exact calls are
checked with Stubber, which validates every request and response against the service model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.stub import Stubber

from clients.data_api import (
    LOST_ANSWER_ERRORS,
    MAX_BATCH_STATEMENTS,
    Backoff,
    ClusterGoneError,
    DataApi,
    DataApiError,
    Limits,
    ResponseLostError,
    StatementFailedError,
    StatementTimeoutError,
    Target,
    bounded_client,
    field_value,
    make_client,
)

REGION = "us-west-2"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!xpander-redshift-admin"
SECRET_TARGET = Target("xpander-redshift", "xpander_demo", secret_arn=SECRET_ARN)
AUTH = {
    "ClusterIdentifier": "xpander-redshift",
    "Database": "xpander_demo",
    "SecretArn": SECRET_ARN,
}
NAME = {"StatementName": "test-statements"}


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "redshift-data",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def api(client: Any, clock: FakeClock, target: Target = SECRET_TARGET, **limits: Any) -> DataApi:
    return DataApi(
        target,
        region=REGION,
        client=client,
        limits=Limits(**limits) if limits else None,
        statement_name=NAME["StatementName"],
        sleep=clock.sleep,
        clock=clock.clock,
        jitter=lambda: 1.0,  # the whole backoff: the sleeps below are the backoffs themselves
    )


def describe(stub: Stubber, statement_id: str, status: str, **extra: Any) -> None:
    stub.add_response(
        "describe_statement", {"Id": statement_id, "Status": status, **extra}, {"Id": statement_id}
    )


def test_a_batch_is_one_call_with_the_secret_and_is_polled_until_finished(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    sqls = ['CREATE USER "IAMR:r" PASSWORD DISABLE', 'GRANT USAGE ON SCHEMA "public" TO "IAMR:r"']
    stub.add_response("batch_execute_statement", {"Id": "b-1"}, {"Sqls": sqls, **AUTH, **NAME})
    describe(stub, "b-1", "SUBMITTED")
    describe(stub, "b-1", "STARTED")
    describe(stub, "b-1", "FINISHED")

    result = api(client, clock).run_batch(sqls)

    assert result["Status"] == "FINISHED"
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff between polls


def test_db_user_authentication_sends_db_user_and_no_secret(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    target = Target("xpander-redshift", "xpander_demo", db_user="xpander_admin")
    expected = {
        "Sql": "SELECT 1",
        "ClusterIdentifier": "xpander-redshift",
        "Database": "xpander_demo",
        "DbUser": "xpander_admin",
        **NAME,
    }
    stub.add_response("execute_statement", {"Id": "s-1"}, expected)
    describe(stub, "s-1", "FINISHED")

    api(client, clock, target).run("SELECT 1")


def test_without_secret_or_db_user_the_callers_iam_identity_is_used(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    target = Target("xpander-redshift", "xpander_demo")
    expected = {
        "Sql": "SELECT 1",
        "ClusterIdentifier": "xpander-redshift",
        "Database": "xpander_demo",
    }
    stub.add_response("execute_statement", {"Id": "s-1"}, {**expected, **NAME})
    describe(stub, "s-1", "FINISHED")

    api(client, clock, target).run("SELECT 1")


def test_a_target_refuses_both_a_secret_and_a_db_user() -> None:
    with pytest.raises(ValueError, match="not both"):
        Target("c", "d", secret_arn=SECRET_ARN, db_user="admin")


def test_scalar_returns_the_single_value_of_the_result(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    sql = "SELECT COUNT(*) FROM pg_user WHERE usename = 'IAMR:r'"
    stub.add_response("execute_statement", {"Id": "q-1"}, {"Sql": sql, **AUTH, **NAME})
    describe(stub, "q-1", "FINISHED", HasResultSet=True)
    stub.add_response(
        "get_statement_result", {"Records": [[{"longValue": 1}]], "TotalNumRows": 1}, {"Id": "q-1"}
    )

    assert api(client, clock).scalar(sql) == 1


def test_rows_follow_next_token_across_result_pages(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    stub.add_response("execute_statement", {"Id": "q-2"}, {"Sql": "SELECT x", **AUTH, **NAME})
    describe(stub, "q-2", "FINISHED", HasResultSet=True)
    stub.add_response(
        "get_statement_result",
        {"Records": [[{"stringValue": "a"}, {"isNull": True}]], "NextToken": "t2"},
        {"Id": "q-2"},
    )
    stub.add_response(
        "get_statement_result",
        {"Records": [[{"stringValue": "b"}, {"booleanValue": True}]]},
        {"Id": "q-2", "NextToken": "t2"},
    )

    assert api(client, clock).rows("SELECT x") == [["a", None], ["b", True]]


def test_scalar_refuses_a_result_that_is_not_one_value(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    stub.add_response("execute_statement", {"Id": "q-3"}, {"Sql": "SELECT x", **AUTH, **NAME})
    describe(stub, "q-3", "FINISHED", HasResultSet=True)
    stub.add_response("get_statement_result", {"Records": []}, {"Id": "q-3"})

    with pytest.raises(DataApiError, match="one row with one column, got 0 row"):
        api(client, clock).scalar("SELECT x")


def test_a_failed_batch_names_the_failing_statement_and_quotes_redshift(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    sqls = [
        'GRANT USAGE ON SCHEMA "public" TO "IAMR:r"',
        'GRANT USAGE ON SCHEMA "sales" TO "IAMR:r"',
        'GRANT SELECT ON ALL TABLES IN SCHEMA "sales" TO "IAMR:r"',
    ]
    redshift_error = 'ERROR: schema "sales" does not exist'
    stub.add_response("batch_execute_statement", {"Id": "b-2"}, {"Sqls": sqls, **AUTH, **NAME})
    describe(
        stub,
        "b-2",
        "FAILED",
        Error=redshift_error,
        SubStatements=[
            {"Id": "b-2:1", "Status": "FINISHED", "QueryString": sqls[0]},
            {"Id": "b-2:2", "Status": "FAILED", "Error": redshift_error, "QueryString": sqls[1]},
            {"Id": "b-2:3", "Status": "ABORTED", "QueryString": sqls[2]},
        ],
    )

    with pytest.raises(StatementFailedError) as failure:
        api(client, clock).run_batch(sqls)

    message = str(failure.value)
    assert redshift_error in message
    assert "b-2" in message
    assert f"statement 2 of 3: {sqls[1]}" in message
    assert (failure.value.position, failure.value.statement) == (2, sqls[1])


def test_a_failed_statement_quotes_redshift_and_the_sql(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    sql = 'CREATE USER "IAMR:r" PASSWORD DISABLE'
    stub.add_response("execute_statement", {"Id": "s-9"}, {"Sql": sql, **AUTH, **NAME})
    describe(stub, "s-9", "FAILED", Error='ERROR: user "IAMR:r" already exists', QueryString=sql)

    with pytest.raises(StatementFailedError, match=r'user "IAMR:r" already exists') as failure:
        api(client, clock).run(sql)
    assert sql in str(failure.value)


def test_an_aborted_statement_without_an_error_says_why_it_may_have_stopped(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    stub.add_response("execute_statement", {"Id": "s-8"}, {"Sql": "SELECT 1", **AUTH, **NAME})
    describe(stub, "s-8", "ABORTED")

    with pytest.raises(StatementFailedError, match="ABORTED: cancelled, or rolled back"):
        api(client, clock).run("SELECT 1")


def test_the_wait_is_bounded_and_names_the_statement(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    stub.add_response("execute_statement", {"Id": "slow-1"}, {"Sql": "SELECT 1", **AUTH, **NAME})
    # Sleeps 0.5+1+2+4+5+5+5+5 = 27.5 s, then the last 2.5 s up to the bound: ten polls in all.
    for _ in range(10):
        describe(stub, "slow-1", "STARTED")
    stub.add_response("cancel_statement", {"Status": True}, {"Id": "slow-1"})

    with pytest.raises(StatementTimeoutError, match="slow-1 still STARTED after 30 s") as timeout:
        api(client, clock, timeout_seconds=30).run("SELECT 1")

    assert timeout.value.statement_id == "slow-1"
    assert sum(clock.sleeps) == pytest.approx(30.0)  # never waits past the bound
    assert max(clock.sleeps) == 5.0  # the backoff is capped
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 2.5]


def test_a_failing_cancel_does_not_hide_the_timeout(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    stub.add_response("execute_statement", {"Id": "slow-2"}, {"Sql": "SELECT 1", **AUTH, **NAME})
    describe(stub, "slow-2", "SUBMITTED")
    describe(stub, "slow-2", "SUBMITTED")
    stub.add_client_error("cancel_statement", "ValidationException", "already finished")

    with pytest.raises(StatementTimeoutError, match="slow-2"):
        api(client, clock, timeout_seconds=0.5).run("SELECT 1")


def test_throttling_is_retried_with_the_same_request(
    client: Any, stub: Stubber, clock: FakeClock
) -> None:
    sqls = ["SELECT 1"]
    request = {"Sqls": sqls, **AUTH, **NAME}
    stub.add_client_error("batch_execute_statement", "ThrottlingException", "Rate exceeded", 400)
    stub.add_client_error("batch_execute_statement", "TooManyRequestsException", "slow down", 429)
    stub.add_response("batch_execute_statement", {"Id": "b-3"}, request)
    stub.add_client_error("describe_statement", "ThrottlingException", "Rate exceeded", 400)
    describe(stub, "b-3", "FINISHED")

    api(client, clock).run_batch(sqls)

    assert clock.sleeps == [1.0, 2.0, 1.0]  # throttle backoff, restarted for each call


def test_throttling_retries_are_bounded(client: Any, stub: Stubber, clock: FakeClock) -> None:
    for _ in range(3):
        stub.add_client_error("execute_statement", "ThrottlingException", "Rate exceeded", 400)

    with pytest.raises(DataApiError, match="still throttled \\(ThrottlingException\\) after 2"):
        api(client, clock, throttle_retries=2).run("SELECT 1")
    assert len(clock.sleeps) == 2


def test_other_errors_are_not_retried(client: Any, stub: Stubber, clock: FakeClock) -> None:
    stub.add_client_error("execute_statement", "ValidationException", "Sql must not be empty", 400)

    with pytest.raises(ClientError, match="Sql must not be empty"):
        api(client, clock).run("SELECT 1")
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        # The Data API's answer for a cluster that is not there (aws/aws-cdk#30536).
        ("ValidationException", "Redshift endpoint doesn't exist in this region."),
        ("ValidationException", "Cluster xpander-redshift not found."),
        ("ResourceNotFoundException", "Cluster xpander-redshift does not exist"),
    ],
)
def test_a_missing_cluster_is_its_own_error_and_not_retried(
    client: Any, stub: Stubber, clock: FakeClock, code: str, message: str
) -> None:
    stub.add_client_error("execute_statement", code, message, 400)

    with pytest.raises(ClusterGoneError, match="'xpander-redshift' not found in us-west-2"):
        api(client, clock).run("SELECT 1")
    assert clock.sleeps == []


def test_a_batch_holds_one_to_forty_statements(client: Any, clock: FakeClock) -> None:
    data_api = api(client, clock)
    with pytest.raises(ValueError, match="1 to 40"):
        data_api.submit_batch(["SELECT 1"] * (MAX_BATCH_STATEMENTS + 1))
    with pytest.raises(ValueError, match="1 to 40"):
        data_api.submit_batch([])
    with pytest.raises(TypeError):
        data_api.submit_batch("SELECT 1")


def test_limits_refuse_a_wait_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="timeout_seconds must be positive"):
        Limits(timeout_seconds=0)


def test_backoff_doubles_up_to_its_cap() -> None:
    delays = Backoff(first=1.0, cap=5.0).delays()
    assert [next(delays) for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_field_values_map_the_data_api_union_to_python() -> None:
    assert field_value({"isNull": True}) is None
    assert field_value({"longValue": 0}) == 0
    assert field_value({"doubleValue": 1.5}) == 1.5
    assert field_value({"booleanValue": False}) is False
    assert field_value({"blobValue": b"\x00"}) == b"\x00"
    with pytest.raises(DataApiError):
        field_value({})


def test_the_client_uses_the_given_region_and_timeouts() -> None:
    client = make_client("eu-central-1", connect_timeout=3, read_timeout=7)

    assert client.meta.region_name == "eu-central-1"  # type: ignore[attr-defined]
    assert client.meta.service_model.service_name == "redshift-data"  # type: ignore[attr-defined]
    config = client.meta.config  # type: ignore[attr-defined]
    assert (config.connect_timeout, config.read_timeout) == (3, 7)
    # One send per call: DataApi decides every re-send, within the operation's time limit.
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}


@pytest.mark.parametrize(
    ("limit", "timeouts"), [(300.0, (10.0, 60.0)), (5.0, (5.0, 5.0)), (0.2, (1.0, 1.0))]
)
def test_a_bounded_client_waits_no_longer_than_the_limit(
    limit: float, timeouts: tuple[float, float]
) -> None:
    config = bounded_client("eu-central-1", limit).meta.config  # type: ignore[attr-defined]

    assert (config.connect_timeout, config.read_timeout) == timeouts
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}


class RecordingClient:
    """A client that answers every call with `error`, and records each send's parameters."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.sends: list[dict[str, Any]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**params: Any) -> dict[str, Any]:
            self.sends.append(dict(params))
            raise self.error

        return call


THROTTLED = ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "Op")


def end_to_end(client: Any, clock: FakeClock, jitter: float, **limits: Any) -> DataApi:
    return DataApi(
        SECRET_TARGET,
        region=REGION,
        client=client,
        limits=Limits(**limits),
        sleep=clock.sleep,
        clock=clock.clock,
        jitter=lambda: jitter,
        end_to_end=True,
    )


def test_throttling_never_sleeps_past_the_time_limit(clock: FakeClock) -> None:
    client = RecordingClient(THROTTLED)

    with pytest.raises(DataApiError, match=r"after 2 retries and the time limit \(2 s"):
        end_to_end(client, clock, 0.75, timeout_seconds=2).run("SELECT 1")
    # 7/8 of 1 s, then 7/8 of 2 s cut to the 1.125 s left; one send each time (no botocore
    # re-sends), and none after the limit.
    assert clock.sleeps == [0.875, 1.125]
    assert len(client.sends) == 3


def test_throttling_backoff_is_jittered_between_half_and_all(clock: FakeClock) -> None:
    client = RecordingClient(THROTTLED)

    with pytest.raises(DataApiError, match=r"still throttled \(ThrottlingException\) after 3"):
        end_to_end(client, clock, 0.0, throttle_retries=3).run("SELECT 1")
    assert clock.sleeps == [0.5, 1.0, 2.0]  # half of 1, 2, 4


def test_a_lost_answer_is_sent_again_with_one_client_token_within_the_limit(
    clock: FakeClock,
) -> None:
    client = RecordingClient(ReadTimeoutError(endpoint_url="https://redshift-data.example/"))

    with pytest.raises(ReadTimeoutError):
        end_to_end(client, clock, 1.0, lost_retries=3).run_batch(["SELECT 1"])
    assert len(client.sends) == 4  # the first send and lost_retries re-sends
    assert len({send["ClientToken"] for send in client.sends}) == 1
    assert clock.sleeps == [0.05, 0.1, 0.2]

    clock.sleeps.clear()
    client = RecordingClient(ReadTimeoutError(endpoint_url="https://redshift-data.example/"))
    limits = {"timeout_seconds": 0.5, "lost": Backoff(first=0.25, cap=5.0), "lost_retries": 3}
    with pytest.raises(ReadTimeoutError):
        end_to_end(client, clock, 1.0, **limits).run("SELECT 1")
    assert clock.sleeps == [0.25, 0.25]  # the second backoff cut to what is left of 0.5 s
    assert len(client.sends) == 3


class LosingClient:
    """A client whose every answer is lost, as botocore reports it after its own retries."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**params: Any) -> dict[str, Any]:
            self.calls.append(operation)
            raise self.error

        return call


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://redshift-data.us-west-2.amazonaws.com/"),
        ConnectionClosedError(endpoint_url="https://redshift-data.us-west-2.amazonaws.com/"),
    ],
)
def test_a_lost_answer_is_passed_on_once_as_botocore_reports_it(
    clock: FakeClock, error: Exception
) -> None:
    # botocore already retried it (standard mode); the verifier reports it as unreachable, and
    # the provisioner explains it (ResponseLostError; tests/test_iamr_user_provider.py).
    client = LosingClient(error)

    with pytest.raises(LOST_ANSWER_ERRORS):
        api(client, clock).run_batch(["SELECT 1"])
    assert client.calls == ["batch_execute_statement"]
    assert clock.sleeps == []


def test_a_lost_answer_says_what_is_known_for_writes_and_for_reads() -> None:
    write = ResponseLostError("Read timeout on endpoint URL", submitting=True)
    read = ResponseLostError("Read timeout on endpoint URL", submitting=False)

    assert "no answer after retries (Read timeout on endpoint URL)" in str(write)
    assert "ran at most once" in str(write) and "either all of it or none of it" in str(write)
    assert "nothing changed, and running again is safe" in str(read)
