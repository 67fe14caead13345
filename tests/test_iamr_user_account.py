"""The data-api provisioner runs SQL only with credentials of the stack's account.

Its provider calls AWS with boto3's default credential chain of the process running pulumi, not
with the aws provider's `aws:profile` or assume-role: a shell whose default credentials are the
dev account's must never reach dev's cluster of the same name for a prod stack. Through the
dynamic-provider host over gRPC (tests/test_iamr_user_provider.py), with the Data API emulator
on PostgreSQL and a moto STS on 127.0.0.1 whose caller is of TEST_ACCOUNT: a resource whose
clusterArn names another account is the prod stack run with dev's credentials. "No SQL" is what
the emulator received (every request, reads included) and the catalog compared before and after.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.proto import provider_pb2

from model.resource_types import IAMR_USER_TYPE
from tests.data_api_emulator import DataApiEmulator
from tests.moto_server import TEST_ACCOUNT
from tests.stack_helpers import one, run_stack
from tests.test_iamr_user_ownership import project_host, released
from tests.test_iamr_user_provider import (
    ALL,
    Database,
    Host,
    Resource,
    cluster_arn,
    created,
    db,
    emulator,
    grpc_error,
    host,
    inputs,
    resource,
    updates_in_place_without_sql,
)

__all__ = ["db", "emulator", "host", "inputs", "project_host"]  # the shared fixtures

OTHER_ACCOUNT = "999988887777"  # the stack's account when the credentials are TEST_ACCOUNT's


def test_the_program_gives_the_user_the_clusters_arn_new_or_looked_up() -> None:
    """As the aws provider knows it: the new cluster's `arn` output, or an existing one's lookup
    (the mock engine's lookup answers with the ARN of its account 111122223333)."""
    new = one(run_stack(), IAMR_USER_TYPE)
    assert new.property_dependencies["clusterArn"] == [
        r for r in new.dependencies if r.endswith("aws:redshift/cluster:Cluster::xpander-cluster")
    ]
    existing = one(run_stack(existingClusterIdentifier="analytics"), IAMR_USER_TYPE)
    assert existing.inputs["clusterArn"] == (
        "arn:aws:redshift:us-west-2:111122223333:cluster:analytics"
    )


def in_other_account(user: Resource, inputs: dict[str, Any]) -> None:
    """The same resource, recorded by a stack whose cluster is of OTHER_ACCOUNT."""
    arn = cluster_arn(inputs["clusterIdentifier"], OTHER_ACCOUNT)
    user.inputs = {**user.inputs, "clusterArn": arn}
    user.outs = {**user.outs, "clusterArn": arn}


def assert_refused(error: str) -> None:
    """Our words: both accounts, that no SQL ran, and how to run with the right credentials."""
    assert f"are of account {TEST_ACCOUNT}" in error
    assert f"the stack's cluster is of account {OTHER_ACCOUNT}" in error
    assert "No SQL was run" in error
    assert "AWS_PROFILE" in error and "aws:profile" in error


def test_a_create_with_credentials_of_another_account_fails_and_runs_no_sql(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    before = db.snapshot()
    user = resource(host, inputs, db, "sales")
    in_other_account(user, inputs)

    error = grpc_error(user.up)

    assert_refused(error)
    assert "the user was not created" in error
    assert emulator.calls == []
    assert db.user_row() is None
    assert db.snapshot() == before


def test_refresh_update_and_delete_with_credentials_of_another_account_fail_and_run_no_sql(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales", "raw")
    user = resource(host, inputs, db, "sales")
    user.up()
    in_other_account(user, inputs)
    created_id, state = user.id, dict(user.outs)
    before = db.snapshot()
    emulator.reset()

    refresh = grpc_error(user.refresh)  # not "gone": the engine would forget the user
    assert (user.id, user.outs) == (created_id, state)
    update = grpc_error(lambda: user.up({**user.inputs, "schemas": ["sales", "raw"]}))
    destroy = grpc_error(user.destroy)  # neither dropped nor forgotten
    assert (user.id, user.outs) == (created_id, state)

    for error in (refresh, update, destroy):
        assert_refused(error)
    assert "the user stays in state" in refresh and "the user was not dropped" in destroy
    assert "nothing was granted or revoked" in update
    assert emulator.calls == []
    assert db.snapshot() == before
    assert db.grants("sales", "raw") == {"sales": ALL, "raw": set()}


def test_credentials_of_the_stacks_account_run_as_before(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales")
    assert user.inputs["clusterArn"] == cluster_arn(inputs["clusterIdentifier"], TEST_ACCOUNT)

    user.up()
    user.refresh()
    assert db.grants("sales") == {"sales": ALL}
    assert user.outs["clusterArn"] == user.inputs["clusterArn"]
    assert user.diff(user.inputs).changes == provider_pb2.DiffResponse.DIFF_NONE
    user.destroy()
    assert db.user_row() is None


def test_state_written_before_the_cluster_arn_updates_in_place_with_no_sql(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    """State of the previous main (with `stack`, without clusterArn): an in-place update that
    writes nothing when the grants are unchanged; the user stays the stack's."""
    db.schemas("sales")
    user = resource(host, inputs, db, "sales")
    user.inputs.pop("clusterArn")
    user.up()
    assert "clusterArn" not in user.outs and user.outs["ownership"] == "created"
    news = {**user.inputs, "clusterArn": cluster_arn(user.inputs["clusterIdentifier"])}
    updates_in_place_without_sql(user, news, db, emulator)
    assert user.outs["clusterArn"] == news["clusterArn"] and user.outs["ownership"] == "created"
    user.destroy()
    assert db.user_row() is None


def test_released_state_updates_in_place_with_no_sql_and_its_secret_names_the_account(
    project_host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    """The released provider's state has neither `stack` nor clusterArn: the program's inputs
    are an in-place update that writes nothing; before it, its secretArn names the account."""
    db.schemas("sales", "raw")
    user = released(db, "created", project_host)
    assert "clusterArn" not in user.outs and TEST_ACCOUNT in user.outs["secretArn"]
    user.refresh()  # checked against the secret's account, which is the credentials'
    news = {
        **user.inputs,
        "stack": inputs["stack"],
        "clusterArn": cluster_arn(user.inputs["clusterIdentifier"]),
    }
    updates_in_place_without_sql(user, news, db, emulator)
    assert user.outs["ownership"] == "created" and user.outs["clusterArn"] == news["clusterArn"]
    user.destroy()
    assert db.user_row() is None


def test_old_state_whose_secret_is_of_another_account_is_not_dropped(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    user = created(host, inputs, db, "sales")
    secret = user.outs["secretArn"].replace(TEST_ACCOUNT, OTHER_ACCOUNT)
    user.outs = {k: v for k, v in user.outs.items() if k != "clusterArn"} | {"secretArn": secret}
    before = db.snapshot()
    emulator.reset()

    error = grpc_error(user.destroy)

    assert f"the stack's cluster is of account {OTHER_ACCOUNT} (secretArn {secret})" in error
    assert emulator.calls == []
    assert db.snapshot() == before


def test_old_state_that_names_no_account_keeps_the_user_on_refresh_and_refuses_delete(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    user = created(host, inputs, db, "sales")
    # As an existing cluster's user authenticated as its master user (dbUser, no secretArn)
    # records it, before clusterArn.
    unnamed = {k: v for k, v in user.outs.items() if k not in ("clusterArn", "secretArn")}
    user.outs = {**unnamed, "dbUser": "xpander_admin"}
    created_id, before = user.id, db.snapshot()
    emulator.reset()

    user.refresh()
    assert (user.id, user.outs) == (created_id, {**unnamed, "dbUser": "xpander_admin"})
    assert "names no AWS account" in host.warnings()
    error = grpc_error(user.destroy)

    assert "names no AWS account" in error and "Run `pulumi up`" in error
    assert "the user was not dropped" in error
    assert emulator.calls == []
    assert db.snapshot() == before
