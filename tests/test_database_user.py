"""IamrDatabaseUser: the data-api provider's lifecycle (manifests: test_job_manifests.py; the
component under the shared engine: test_database_user_component.py).

- The provider's create/read/diff/update/delete are called directly with a Stubber'd client
  (botocore's real `redshift-data` model), asserting the exact calls and SQL.
- The provider survives dill and loads in a fresh interpreter that cannot import `components`.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pulumi.dynamic.dynamic import serialize_provider

from components.iamr_user_provider import STATEMENT_NAME, IamrUserProvider
from model import sql as redshift_sql

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-west-2"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!xpander-redshift-admin"
USER = "IAMR:xpander-redshift-access"
OWNER = "xpander_admin"

PROPS: dict[str, Any] = {
    "region": REGION,
    "clusterIdentifier": "xpander-redshift",
    "database": "xpander_demo",
    "user": USER,
    "schemas": ["public"],
    "owner": OWNER,
    "secretArn": SECRET_ARN,
    "timeoutSeconds": 300,
}
AUTH = {
    "ClusterIdentifier": "xpander-redshift",
    "Database": "xpander_demo",
    "SecretArn": SECRET_ARN,
    "StatementName": STATEMENT_NAME,
}


# --- the data-api provider against a stubbed client ----------------------------------------------


class StubbedDataApi:
    """Queues the Data API conversation the provider is expected to have, call by call."""

    def __init__(self, stubber: Stubber) -> None:
        self.stubber = stubber
        self.count = 0

    def _id(self) -> str:
        self.count += 1
        return f"stmt-{self.count}"

    def user_check(self, exists: bool, user: str = USER) -> None:
        statement_id = self._id()
        sql = redshift_sql.user_exists_sql(user)
        self.stubber.add_response("execute_statement", {"Id": statement_id}, {"Sql": sql, **AUTH})
        self.stubber.add_response(
            "describe_statement",
            {"Id": statement_id, "Status": "FINISHED", "HasResultSet": True},
            {"Id": statement_id},
        )
        self.stubber.add_response(
            "get_statement_result",
            {"Records": [[{"longValue": int(exists)}]]},
            {"Id": statement_id},
        )

    def batch(self, sqls: list[str], *, fails_at: int | None = None) -> None:
        statement_id = self._id()
        self.stubber.add_response(
            "batch_execute_statement", {"Id": statement_id}, {"Sqls": sqls, **AUTH}
        )
        if fails_at is None:
            done: dict[str, Any] = {"Id": statement_id, "Status": "FINISHED"}
        else:
            error = f"ERROR: failure injected at {fails_at}"
            done = {
                "Id": statement_id,
                "Status": "FAILED",
                "Error": error,
                "SubStatements": [
                    {"Id": f"{statement_id}:{fails_at}", "Status": "FAILED", "Error": error}
                ],
            }
        self.stubber.add_response("describe_statement", done, {"Id": statement_id})


@dataclass
class Harness:
    provider: IamrUserProvider
    expect: StubbedDataApi
    regions: list[str] = field(default_factory=list)


@pytest.fixture
def harness() -> Iterator[Harness]:
    client = boto3.client(
        "redshift-data",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    regions: list[str] = []

    def factory(region: str) -> Any:
        regions.append(region)
        return client

    with Stubber(client) as stubber:
        provider = IamrUserProvider(str(ROOT), client_factory=factory, sleep=lambda _: None)
        yield Harness(provider, StubbedDataApi(stubber), regions)
        stubber.assert_no_pending_responses()


def test_create_checks_for_the_user_then_creates_and_grants_in_one_batch(
    harness: Harness,
) -> None:
    harness.expect.user_check(exists=False)
    harness.expect.batch(
        redshift_sql.provisioning_statements(USER, ["public"], OWNER, user_exists=False)
    )

    result = harness.provider.create(dict(PROPS))

    assert result.id == f"xpander-redshift/xpander_demo/{USER}"
    assert result.outs == PROPS
    assert harness.regions == [REGION]  # the region is passed explicitly, never guessed


def test_create_on_an_existing_user_only_grants(harness: Harness) -> None:
    harness.expect.user_check(exists=True)
    harness.expect.batch(redshift_sql.grant_statements(USER, ["public"], OWNER))

    harness.provider.create(dict(PROPS))


def test_create_fails_with_redshifts_error_when_the_batch_fails(harness: Harness) -> None:
    harness.expect.user_check(exists=False)
    sqls = redshift_sql.provisioning_statements(USER, ["public"], OWNER, user_exists=False)
    harness.expect.batch(sqls, fails_at=2)

    with pytest.raises(RuntimeError, match="failure injected at 2") as failure:
        harness.provider.create(dict(PROPS))
    assert sqls[1] in str(failure.value)  # the failing statement, from our list


def test_more_than_forty_statements_take_several_batches(harness: Harness) -> None:
    schemas = [f"s{i}" for i in range(14)]  # 1 CREATE USER + 14 x 3 grants = 43 statements
    sqls = redshift_sql.provisioning_statements(USER, schemas, OWNER, user_exists=False)
    harness.expect.user_check(exists=False)
    harness.expect.batch(sqls[:40])
    harness.expect.batch(sqls[40:])

    harness.provider.create({**PROPS, "schemas": schemas})


def test_read_keeps_an_existing_user(harness: Harness) -> None:
    harness.expect.user_check(exists=True)

    result = harness.provider.read("the-id", {**PROPS, "__provider": "serialized"})

    assert (result.id, result.outs) == ("the-id", PROPS)


def test_read_reports_a_dropped_user_as_gone_so_pulumi_recreates_it(harness: Harness) -> None:
    harness.expect.user_check(exists=False)

    result = harness.provider.read("the-id", dict(PROPS))

    assert (result.id, result.outs) == ("", {})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("user", "IAMR:other-role"),
        ("clusterIdentifier", "other-cluster"),
        ("database", "other_db"),
        ("region", "eu-west-1"),
    ],
)
def test_a_different_user_cluster_database_or_region_replaces_deleting_first(
    harness: Harness, key: str, value: str
) -> None:
    result = harness.provider.diff("id", dict(PROPS), {**PROPS, key: value})

    assert result.changes is True
    assert result.replaces == [key]
    assert result.delete_before_replace is True


def test_a_schema_change_is_an_update_not_a_replacement(harness: Harness) -> None:
    result = harness.provider.diff("id", dict(PROPS), {**PROPS, "schemas": ["public", "sales"]})

    assert (result.changes, result.replaces, result.delete_before_replace) == (True, [], False)


def test_no_change_is_no_diff_even_if_the_serialized_provider_differs(harness: Harness) -> None:
    olds = {**PROPS, "__provider": "old", "schemas": ["public"]}
    news = {**PROPS, "__provider": "new", "schemas": ("public",)}

    assert harness.provider.diff("id", olds, news).changes is False


def test_update_grants_and_revokes_only_the_difference(harness: Harness) -> None:
    olds = {**PROPS, "schemas": ["public", "sales"]}
    news = {**PROPS, "schemas": ["public", "marketing"]}
    harness.expect.user_check(exists=True)
    harness.expect.batch(
        [
            *redshift_sql.revoke_statements(USER, ["sales"], OWNER),
            *redshift_sql.grant_statements(USER, ["marketing"], OWNER),
        ]
    )

    result = harness.provider.update("id", olds, news)

    assert result.outs == news


def test_update_without_a_grant_change_runs_no_sql(harness: Harness) -> None:
    olds = {**PROPS, "schemas": ["public", "sales"], "timeoutSeconds": 300}
    news = {**PROPS, "schemas": ["sales", "public"], "timeoutSeconds": 600}

    harness.provider.update("id", olds, news)  # the Stubber fails on any call


def test_update_of_the_owner_moves_every_default_privilege(harness: Harness) -> None:
    news = {**PROPS, "owner": "etl_user"}
    harness.expect.user_check(exists=True)
    harness.expect.batch(
        [
            *redshift_sql.revoke_statements(USER, ["public"], OWNER),
            *redshift_sql.grant_statements(USER, ["public"], "etl_user"),
        ]
    )

    harness.provider.update("id", dict(PROPS), news)


def test_update_recreates_a_user_dropped_behind_pulumis_back(harness: Harness) -> None:
    news = {**PROPS, "schemas": ["public", "sales"]}
    harness.expect.user_check(exists=False)
    harness.expect.batch(
        redshift_sql.provisioning_statements(USER, ["public", "sales"], OWNER, user_exists=False)
    )

    harness.provider.update("id", dict(PROPS), news)


def test_delete_revokes_and_drops_the_user(harness: Harness) -> None:
    harness.expect.user_check(exists=True)
    harness.expect.batch(redshift_sql.deprovisioning_statements(USER, ["public"], OWNER))

    harness.provider.delete("id", dict(PROPS))


def test_delete_of_a_user_that_is_already_gone_succeeds(harness: Harness) -> None:
    harness.expect.user_check(exists=False)

    harness.provider.delete("id", dict(PROPS))


def test_check_reports_names_that_cannot_be_quoted(harness: Harness) -> None:
    news = {**PROPS, "user": 'IAMR:"x"', "schemas": ["public", "Sales"]}

    result = harness.provider.check({}, news)

    assert [f.property for f in result.failures] == ["user", "schemas"]
    assert "quotes" in result.failures[0].reason


# --- the provider as Pulumi stores it: dill, loaded in a fresh provider process -------------------

_LOAD_AND_RUN = """
import base64, json, sys
try:
    import components
except ImportError:
    pass
else:
    sys.exit("components is importable before loading: this test proves nothing")

import boto3, dill
from botocore.stub import Stubber

provider = dill.loads(base64.b64decode(sys.argv[1]))
props = json.loads(sys.argv[2])
from model import sql  # importable now: the loader put the root on sys.path

client = boto3.client("redshift-data", region_name=props["region"],
                      aws_access_key_id="t", aws_secret_access_key="t")
stub = Stubber(client)
stub.add_response("execute_statement", {"Id": "q"})
stub.add_response("describe_statement", {"Id": "q", "Status": "FINISHED", "HasResultSet": True})
stub.add_response("get_statement_result", {"Records": [[{"longValue": 0}]]})
stub.add_response("batch_execute_statement", {"Id": "b"},
    {"Sqls": sql.provisioning_statements(props["user"], props["schemas"], props["owner"],
                                         user_exists=False),
     "ClusterIdentifier": props["clusterIdentifier"], "Database": props["database"],
     "SecretArn": props["secretArn"], "StatementName": "xpander-redshift/iamr-user"})
stub.add_response("describe_statement", {"Id": "b", "Status": "FINISHED"})
stub.activate()
provider._client_factory = lambda region: client
created = provider.create(props)
stub.assert_no_pending_responses()
print(json.dumps({
    "class": type(provider).__module__ + "." + type(provider).__qualname__,
    "module_file": sys.modules["components.iamr_user_provider"].__file__,
    "id": created.id,
    "diff_replaces": provider.diff("x", props, {**props, "user": "IAMR:y"}).replaces,
}))
"""


def _load_in_fresh_interpreter(serialized: str, cwd: Path) -> dict[str, Any]:
    # -I: no PYTHONPATH, no user site, and not even the working directory on sys.path.
    done = subprocess.run(
        [sys.executable, "-I", "-c", _LOAD_AND_RUN, serialized, json.dumps(PROPS)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_provider_pickled_by_pulumi_runs_in_a_process_that_cannot_import_components(
    tmp_path: Path,
) -> None:
    serialized = serialize_provider(IamrUserProvider(str(ROOT)))

    result = _load_in_fresh_interpreter(serialized, cwd=tmp_path)

    assert result["class"] == "components.iamr_user_provider.IamrUserProvider"
    assert Path(result["module_file"]).resolve() == ROOT / "components" / "iamr_user_provider.py"
    assert result["id"] == f"xpander-redshift/xpander_demo/{USER}"
    assert result["diff_replaces"] == ["user"]


def test_a_provider_from_another_checkout_falls_back_to_the_working_directory() -> None:
    serialized = serialize_provider(IamrUserProvider("/nonexistent/other-checkout"))

    result = _load_in_fresh_interpreter(serialized, cwd=ROOT)

    assert Path(result["module_file"]).resolve() == ROOT / "components" / "iamr_user_provider.py"


def test_the_serialized_provider_carries_no_test_seams() -> None:
    seam_marker = "a-test-only-factory"

    def factory(region: str) -> Any:
        raise AssertionError(seam_marker)

    serialized = serialize_provider(IamrUserProvider(str(ROOT), client_factory=factory))

    assert seam_marker.encode() not in base64.b64decode(serialized)
