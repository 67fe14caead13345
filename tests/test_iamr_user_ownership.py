"""Issue 19, driven as the engine drives the provider (host over gRPC, Data API emulator over
PostgreSQL 15, the catalog read afterwards): adoption keeps exactly what was there, a revoke that
never ran is never reported as done, and the stack never forgets a user it made.

Each test here failed on the provider before issue 19 (recorded in the issue's report).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from pulumi.runtime.proto import provider_pb2

from tests.data_api_emulator import DataApiEmulator, Fault
from tests.test_iamr_user_provider import (
    ALL,
    PROVIDER_KEY,
    SUCCESS_LIMIT_S,
    Database,
    Host,
    Resource,
    as_role,
    created,
    db,
    emulator,
    grpc_error,
    host,
    inputs,
    provider_host,
    resource,
)

__all__ = ["db", "emulator", "host", "inputs"]  # the fixtures, shared with the provider tests

ROOT = Path(__file__).resolve().parent.parent
RELEASED_STATE = ROOT / "tests" / "golden" / "released-iamr-user-state.json"


def grant(db: Database, *statements: str) -> None:
    """Run hand grants; `{u}` is the user's quoted name."""
    user = sql.Identifier(db.user).as_string(None)
    db.run(*(s.replace("{u}", user) for s in statements))


def readable(db: Database, table: str) -> bool:
    with db.connect() as conn:
        row = conn.execute("SELECT has_table_privilege(%s, %s, 'SELECT')", [db.user, table])
        answer = row.fetchone()
    return bool(answer and answer[0])


def adopted(db: Database, host: Host, inputs: dict[str, Any], *schemas: str) -> Resource:
    """A plain user that exists before the stack, adopted with `schemas`."""
    grant(db, "CREATE ROLE {u} LOGIN")
    user = resource(host, inputs, db, *schemas)
    user.up()
    assert user.outs["ownership"] == "adopted"
    return user


# --- 1. adoption keeps exactly what was there --------------------------------------------------


def test_a_table_granted_by_hand_in_a_managed_schema_is_kept_and_its_neighbour_revoked(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales")
    db.run("CREATE TABLE sales.t2 (id int)")
    grant(db, "CREATE ROLE {u} LOGIN")
    grant(db, "GRANT USAGE ON SCHEMA sales TO {u}", "GRANT SELECT ON sales.t TO {u}")
    user = resource(host, inputs, db, "sales")

    user.up()
    assert user.outs["ownership"] == "adopted" and readable(db, "sales.t2")
    user.destroy()

    assert db.user_row() is not None
    assert readable(db, "sales.t") and not readable(db, "sales.t2")  # per table, not schema-wide
    assert db.grants("sales")["sales"] == {"usage"}  # its USAGE kept, the default privileges gone


def test_a_schema_added_later_is_read_before_the_first_grant_and_kept_when_removed(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales", "raw")
    user = adopted(db, host, inputs, "sales")
    grant(db, "GRANT USAGE ON SCHEMA raw TO {u}", "GRANT SELECT ON raw.t TO {u}")

    user.up({**user.inputs, "schemas": ["sales", "raw"]})
    user.up({**user.inputs, "schemas": ["sales"]})

    assert db.grants("raw")["raw"] == {"usage", "select"}  # what it held before: never revoked
    user.destroy()
    assert db.grants("raw", "sales") == {"raw": {"usage", "select"}, "sales": set()}


def test_a_kept_grant_survives_a_schema_removed_re_added_and_removed_again(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales", "raw")
    grant(db, "CREATE ROLE {u} LOGIN", "GRANT USAGE ON SCHEMA raw TO {u}")
    user = resource(host, inputs, db, "sales", "raw")
    user.up()

    for schemas in (["sales"], ["sales", "raw"], ["sales"]):
        user.up({**user.inputs, "schemas": schemas})

    assert db.grants("raw")["raw"] == {"usage"}
    user.destroy()
    assert db.grants("raw")["raw"] == {"usage"}


def test_a_schema_empty_at_adoption_keeps_no_select_so_later_tables_are_revoked(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.run(sql.SQL("CREATE SCHEMA raw AUTHORIZATION {}").format(sql.Identifier(db.owner)))
    user = adopted(db, host, inputs, "raw")
    with db.connect() as conn:  # the owner creates a table: default privileges make it readable
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(db.owner)))
        conn.execute("CREATE TABLE raw.later (id int)")
    assert readable(db, "raw.later")

    user.destroy()

    assert not readable(db, "raw.later")
    assert db.user_row() is not None


# --- 2. a write is done only when the database shows all of it ---------------------------------


def test_a_revoke_that_never_ran_fails_and_the_next_up_removes_what_is_left(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales", "raw")
    user = resource(host, inputs, db, "sales", "raw", timeoutSeconds=1)
    user.up()
    emulator.inject(Fault("BatchExecuteStatement", "drop", times=1000))

    error = grpc_error(lambda: user.up({**user.inputs, "schemas": ["sales"]}))

    assert "does not show all of it" in error and "botocore" not in error
    assert db.grants("raw")["raw"] == ALL  # never ran, never reported as done
    emulator.reset()
    user.refresh()  # reads every schema the state says the stack granted in
    assert user.outs["grants"]["raw"] == ["usage", "select", "default"]
    user.up({**user.inputs, "schemas": ["sales"]})
    assert db.grants("raw")["raw"] == set()
    user.destroy()  # nothing "this stack did not grant" is left to refuse over
    assert db.user_row() is None


# --- 3. the stack never forgets that it created its own user -----------------------------------


def test_a_create_whose_answer_was_lost_and_retries_throttled_stays_created(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    # It must succeed: a limit far above the backoffs keeps a loaded machine from failing it.
    user = resource(host, inputs, db, "sales", timeoutSeconds=SUCCESS_LIMIT_S)
    emulator.inject(Fault("BatchExecuteStatement", "lose"))
    emulator.inject(Fault("BatchExecuteStatement", "throttle"))

    user.up()

    assert user.outs["ownership"] == "created"
    assert len([e for e in emulator.executions if e[0].startswith("CREATE USER")]) == 1
    # Lost, throttled, answered: three sends, each once (botocore re-sends none), one token.
    creates = [p for op, p in emulator.calls if op == "BatchExecuteStatement"]
    creates = [p for p in creates if p["Sqls"][0].startswith("CREATE USER")]
    assert len(creates) == 3 and len({p["ClientToken"] for p in creates}) == 1
    user.destroy()
    assert db.user_row() is None


def test_a_cancel_that_arrives_after_the_commit_is_a_created_user(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales", timeoutSeconds=1)
    emulator.inject(Fault("BatchExecuteStatement", "late"))

    user.up()

    assert user.outs["ownership"] == "created" and db.grants("sales") == {"sales": ALL}
    user.destroy()
    assert db.user_row() is None


def test_a_created_user_the_engine_never_recorded_is_found_by_its_statement(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales")
    user.id, user.outs = "", {}  # the create's answer never reached the engine's state

    user.up()

    assert user.outs["ownership"] == "created"  # the Data API's statement says so, not a guess
    user.destroy()
    assert db.user_row() is None


def test_a_create_that_ran_but_whose_outcome_could_not_be_read_is_created_at_the_next_up(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales", timeoutSeconds=1)

    def network_goes(sqls: list[str]) -> None:  # the batch runs; every answer after it is lost
        emulator.before_run = None
        emulator.faults.append(Fault("ExecuteStatement", "drop", times=10_000))

    emulator.inject(Fault("BatchExecuteStatement", "lose", times=10_000))
    emulator.before_run = network_goes

    error = grpc_error(user.up)

    assert "ran at most once" in error and "the same token asks the Data API" in error
    assert db.grants("sales") == {"sales": ALL}  # it did run
    emulator.reset()  # the network is back
    user.up()  # the next `pulumi up` asks the Data API, by the same token, and finds its create
    assert user.outs["ownership"] == "created"
    assert len([e for e in emulator.executions if e[0].startswith("CREATE USER")]) == 0
    user.destroy()
    assert db.user_row() is None


def test_a_user_made_by_someone_else_during_the_create_is_refused_at_that_create(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales")

    def another_stack(sqls: list[str]) -> None:
        if sqls[0].startswith("CREATE USER"):
            emulator.before_run = None
            db.run(sql.SQL("CREATE USER {}").format(sql.Identifier(db.user)))

    emulator.before_run = another_stack

    error = grpc_error(user.up)

    assert "by someone else while this stack was creating it" in error
    assert "Two stacks must not manage one user" in error and "roleName" in error
    assert db.grants("sales") == {"sales": set()}  # its batch changed nothing


def test_a_second_stack_with_identical_inputs_adopts_the_user_the_first_one_created(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    """Two stacks whose inputs differ only in the stack's name: each ClientToken names its stack,
    so the second does not take the first one's CREATE USER statement for its own."""
    db.schemas("sales")
    first = resource(host, inputs, db, "sales", stack="xpander-redshift/prod")
    first.up()
    second = resource(host, inputs, db, "sales", stack="xpander-redshift/prod-copy")

    second.up()

    assert first.outs["ownership"] == "created"
    assert second.outs["ownership"] == "adopted"
    second.destroy()  # an adopted user is never dropped
    assert db.user_row() is not None and db.grants("sales") == {"sales": ALL}
    first.destroy()
    assert db.user_row() is None


# --- lower harm ------------------------------------------------------------------------------


def test_attribute_drift_shows_at_refresh_and_in_the_diff_and_destroy_keeps_the_user(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales")
    db.run(sql.SQL("ALTER ROLE {} CREATEDB").format(sql.Identifier(db.user)))

    user.refresh()

    assert user.outs["drift"] and "CREATEDB" in " ".join(user.outs["drift"])
    assert "is no longer plain" in host.warnings() and "`pulumi destroy` will refuse" in (
        host.warnings()
    )
    assert user.diff(user.inputs).changes == provider_pb2.DiffResponse.DIFF_SOME
    error = grpc_error(user.destroy)
    assert "no longer plain" in error and "nothing was changed" in error.lower()
    assert db.user_row() == (False, True, False)


def test_throttling_is_bounded_by_the_timeout_and_said_in_our_words(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales", timeoutSeconds=1)
    emulator.inject(Fault("ExecuteStatement", "throttle", times=10_000))

    error = grpc_error(user.up)

    assert "still throttled" in error and "time limit (1 s" in error
    assert "provisionerTimeoutSeconds" in error and "botocore" not in error
    # The limit bounds the re-sends: backoffs of at least 0.5 s, then 1 s, each cut to what is
    # left of 1 s, leave room for three sends at most. botocore's own retries, which sent each
    # call four times with their own backoff past the limit, are off.
    sends = [p for op, p in emulator.calls if op == "ExecuteStatement"]
    assert 1 <= len(sends) <= 3
    assert len({p["ClientToken"] for p in sends}) == 1  # one call, sent again as it was


def test_a_drop_blocked_by_a_function_privilege_says_how_to_hand_over(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales")
    db.run(
        "CREATE FUNCTION sales.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "REVOKE EXECUTE ON FUNCTION sales.f() FROM PUBLIC",
    )
    grant(db, "GRANT EXECUTE ON FUNCTION sales.f() TO {u}")
    before = db.snapshot()

    error = grpc_error(user.destroy)

    assert "could not be dropped" in error and "nothing was changed" in error
    assert "Hand each over or revoke it" in error and "REVOKE ALL ON FUNCTION" in error
    assert "botocore" not in error
    assert db.snapshot() == before


# --- switching userProvisioner on a live stack (issue 24) -------------------------------------


def under_the_job(data_api: dict[str, Any]) -> dict[str, Any]:
    """The same user's inputs as the program registers them with userProvisioner kubernetes-job."""
    return {
        **{k: v for k, v in data_api.items() if k not in ("secretArn", "dbUser")},
        "provisioner": "kubernetes-job",
    }


def test_switching_to_the_job_keeps_the_user_and_switching_back_resumes_its_ownership(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    user = created(host, inputs, db, "sales")
    data_api = dict(user.inputs)
    emulator.reset()

    user.up(under_the_job(data_api))  # what the program registers now

    assert emulator.calls == []  # a record only: no SQL, not even a read
    assert user.outs["ownership"] == "created"
    assert db.grants("sales") == {"sales": ALL}  # the user the Job now adopts is untouched
    user.refresh()
    assert user.diff(user.inputs).changes == provider_pb2.DiffResponse.DIFF_NONE

    user.up(data_api)  # and back: the record still says this stack created it
    assert user.outs["ownership"] == "created"
    user.destroy()
    assert db.user_row() is None


def test_a_stack_destroyed_under_the_job_provisioner_drops_nothing(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    user = created(host, inputs, db, "sales")
    user.up(under_the_job(user.inputs))

    user.destroy()

    assert db.user_row() is not None and db.grants("sales") == {"sales": ALL}
    assert "a Job cannot run on destroy" in host.warnings()


# --- state written by the released provider ----------------------------------------------------


@pytest.fixture(scope="module")
def project_host(
    emulator: DataApiEmulator, sts_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Host]:
    """A host in the project's directory, as Pulumi runs it: the released provider's pickled
    loader falls back to the working directory when its own checkout is gone."""
    with provider_host(emulator, sts_url, tmp_path_factory.mktemp("released"), cwd=ROOT) as running:
        yield running


def released(db: Database, which: str, host: Host) -> Resource:
    """The released code's state of `which`, renamed to this test's database, and its effects
    replayed on it (the very batches the released provider sent)."""
    state = json.loads(RELEASED_STATE.read_text())
    record = state[which]
    names = record.get("names", state["names"])
    text = json.dumps(record)
    for key in ("database", "user", "owner"):
        text = text.replace(names[key], getattr(db, {"database": "name"}.get(key, key)))
    record = json.loads(text)
    db.run(
        *record["setup"],
        *(s.replace("PASSWORD DISABLE", "PASSWORD NULL") for b in record["batches"] for s in b),
    )
    provider = {PROVIDER_KEY: state["provider"]}
    return Resource(
        host, {**record["inputs"], **provider}, record["id"], {**record["outs"], **provider}
    )


def test_a_created_user_in_released_state_refreshes_converges_and_is_dropped(
    project_host: Host, db: Database
) -> None:
    db.schemas("sales", "raw")
    user = released(db, "created", project_host)

    user.refresh()
    assert user.outs["ownership"] == "created"
    assert user.diff(user.inputs).changes == provider_pb2.DiffResponse.DIFF_NONE
    user.up({**user.inputs, "schemas": ["sales"]})
    assert db.grants("sales", "raw") == {"sales": ALL, "raw": set()}
    user.destroy()
    assert db.user_row() is None


def test_an_adopted_user_in_released_state_keeps_what_the_old_record_kept(
    project_host: Host, db: Database
) -> None:
    db.schemas("sales", "raw")
    user = released(db, "adopted", project_host)

    user.refresh()
    user.up()
    user.destroy()

    assert db.user_row() is not None
    assert db.grants("sales", "raw") == {"sales": {"usage", "select"}, "raw": {"usage"}}


# --- review of issue 19: default privileges held at adoption keep what they give ---------------


def test_default_privileges_held_for_another_owner_keep_the_tables_it_creates_later(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales")
    other = f"etl_{db.owner}"
    db.run(
        sql.SQL("CREATE USER {}").format(sql.Identifier(other)),
        sql.SQL("GRANT CREATE, USAGE ON SCHEMA sales TO {}").format(sql.Identifier(other)),
    )
    grant(
        db,
        "CREATE ROLE {u} LOGIN",
        "GRANT USAGE ON SCHEMA sales TO {u}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {sql.Identifier(other).as_string(None)} "
        "IN SCHEMA sales GRANT SELECT ON TABLES TO {u}",
    )
    user = resource(host, inputs, db, "sales")
    user.up()
    assert user.outs["ownership"] == "adopted"
    as_role(db, other, "CREATE TABLE sales.loads (id int)")  # readable by its own privileges
    as_role(db, db.owner, "CREATE TABLE sales.later (id int)")  # readable by the stack's

    user.destroy()

    assert readable(db, "sales.loads")  # what its own default privileges gave it stays
    assert not readable(db, "sales.later") and not readable(db, "sales.t")
    assert db.grants("sales")["sales"] == {"usage"}


def test_own_default_privileges_in_a_schema_added_later_keep_later_tables_only(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales", "raw")  # raw.t exists, unreadable, when the user is adopted
    grant(
        db,
        "CREATE ROLE {u} LOGIN",
        "GRANT USAGE ON SCHEMA raw TO {u}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {sql.Identifier(db.owner).as_string(None)} "
        "IN SCHEMA raw GRANT SELECT ON TABLES TO {u}",
    )
    user = resource(host, inputs, db, "sales")
    user.up()
    user.up({**user.inputs, "schemas": ["sales", "raw"]})  # the stack grants SELECT on raw.t
    as_role(db, db.owner, "CREATE TABLE raw.later (id int)")

    user.up({**user.inputs, "schemas": ["sales"]})

    assert readable(db, "raw.later")  # its own default privileges gave it: kept
    assert not readable(db, "raw.t")  # the stack's grant: revoked
    assert db.grants("raw")["raw"] == {"usage", "default"}
    user.destroy()
    assert readable(db, "raw.later") and not readable(db, "raw.t")


def test_per_table_revokes_quote_any_table_name_the_catalog_holds(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales")
    odd = ['We"ird', "ünïcode", "UPPER", "a, b", 'x" FROM PUBLIC; DROP TABLE sales.t; --']
    odd += ["new\nline", "tab\there", "del\x7f"]  # legal in PostgreSQL's quoted identifiers
    for name in odd:
        db.run(sql.SQL("CREATE TABLE sales.{} (id int)").format(sql.Identifier(name)))
    grant(db, "CREATE ROLE {u} LOGIN", "GRANT USAGE ON SCHEMA sales TO {u}")
    grant(db, "GRANT SELECT ON sales.t TO {u}")  # kept: so the revoke names each other table
    user = resource(host, inputs, db, "sales")
    user.up()

    user.destroy()

    assert readable(db, "sales.t")
    for name in odd:
        assert not readable(db, sql.Identifier("sales", name).as_string(None)), name


def test_a_user_made_by_hand_after_this_stack_dropped_its_own_is_adopted_not_created(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales")
    db.run("CREATE TABLE sales.t2 (id int)")
    user = resource(host, inputs, db, "sales")
    user.up()
    user.destroy()  # the stack's own user is dropped
    grant(db, "CREATE ROLE {u} LOGIN", "GRANT USAGE ON SCHEMA sales TO {u}")
    grant(db, "GRANT SELECT ON sales.t TO {u}")  # a DBA's user of the same name, within the day

    user.up()

    assert user.outs["ownership"] == "adopted"  # the earlier create made another user
    user.destroy()
    assert db.user_row() is not None  # the DBA's user is never dropped
    assert readable(db, "sales.t") and not readable(db, "sales.t2")


def test_a_user_this_stack_made_again_after_its_destroy_stays_created_when_unrecorded(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales")
    user.destroy()
    user.up()  # made again by this stack (the token chain moves past the first create)
    user.id, user.outs = "", {}  # that create's answer never reached the engine's state

    user.up()

    assert user.outs["ownership"] == "created"
    user.destroy()
    assert db.user_row() is None
