"""The data-api provider's own decisions, and the provider as Pulumi stores it.

- The provider's own decisions (diff, check); its lifecycle against real SQL, in Pulumi's
  provider host, is in test_iamr_user_provider.py.
- The provider survives dill and loads in a fresh interpreter that cannot import `components`.
- Manifests: test_job_manifests.py; the component under the shared engine:
  test_database_user_component.py.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.pulumi_sdk import SERIALIZE_PROVIDER
from providers.iamr_user.provider import IamrUserProvider

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_FILE = ROOT / "providers" / "iamr_user" / "provider.py"
# What the released provider (main at f25887e) wrote to state: its pickled provider, and the
# inputs and outputs of a created and an adopted user (tests/test_iamr_user_provider.py drives it).
RELEASED_STATE = ROOT / "tests" / "golden" / "released-iamr-user-state.json"
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


# --- the data-api provider's own decisions (on real SQL: test_iamr_user_provider) -----------


@pytest.fixture
def provider() -> IamrUserProvider:
    return IamrUserProvider(str(ROOT))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("user", "IAMR:other-role"),
        ("clusterIdentifier", "other-cluster"),
        ("database", "other_db"),
        ("region", "eu-west-1"),
    ],
)
def test_a_different_user_cluster_database_or_region_replaces_creating_first(
    provider: IamrUserProvider, key: str, value: str
) -> None:
    result = provider.diff("id", dict(PROPS), {**PROPS, key: value})

    assert result.changes is True
    assert result.replaces == [key]
    # The new user exists before the old one is dropped: the connector is never without one.
    assert result.delete_before_replace is False


def test_a_schema_change_is_an_update_not_a_replacement(provider: IamrUserProvider) -> None:
    result = provider.diff("id", dict(PROPS), {**PROPS, "schemas": ["public", "sales"]})

    assert (result.changes, result.replaces, result.delete_before_replace) == (True, [], False)


def test_no_change_is_no_diff_even_if_the_serialized_provider_differs(
    provider: IamrUserProvider,
) -> None:
    olds = {**PROPS, "__provider": "old", "schemas": ["public"]}
    news = {**PROPS, "__provider": "new", "schemas": ("public",)}

    assert provider.diff("id", olds, news).changes is False


def test_grants_that_differ_from_the_inputs_after_a_refresh_are_a_change(
    provider: IamrUserProvider,
) -> None:
    granted = {"public": ["usage", "select", "default"]}
    revoked = {"public": ["select", "default"]}  # what read saw after a hand revoke

    same = provider.diff("id", {**PROPS, "grants": granted}, dict(PROPS))
    drifted = provider.diff("id", {**PROPS, "grants": revoked}, dict(PROPS))

    assert (same.changes, drifted.changes, drifted.replaces) == (False, True, [])


def test_state_without_grants_from_an_older_version_is_no_change(
    provider: IamrUserProvider,
) -> None:
    assert provider.diff("id", dict(PROPS), dict(PROPS)).changes is False


def test_check_reports_names_that_cannot_be_quoted(provider: IamrUserProvider) -> None:
    news = {**PROPS, "user": 'IAMR:"x"', "schemas": ["public", "Sales"]}

    result = provider.check({}, news)

    assert [f.property for f in result.failures] == ["user", "schemas"]
    assert "quotes" in result.failures[0].reason


# --- the provider as Pulumi stores it: dill, loaded in a fresh provider process -------------------

_LOAD_AND_RUN = """
import base64, json, sys
for package in ("components", "providers"):
    try:
        __import__(package)
    except ImportError:
        pass
    else:
        sys.exit(f"{package} is importable before loading: this test proves nothing")

import boto3, dill
from botocore.stub import ANY, Stubber

provider = dill.loads(base64.b64decode(sys.argv[1]))
props = json.loads(sys.argv[2])
from model import sql  # importable now: the loader put the root on sys.path

client = boto3.client("redshift-data", region_name=props["region"],
                      aws_access_key_id="t", aws_secret_access_key="t")
stub = Stubber(client)
stub.add_response("execute_statement", {"Id": "q"},
    {"Sql": sql.VERSION_SQL, "ClusterIdentifier": props["clusterIdentifier"],
     "Database": props["database"], "SecretArn": props["secretArn"],
     "StatementName": "xpander-redshift/iamr-user",
     "ClientToken": ANY})  # the provider's own, one for all of the call's sends
stub.add_response("describe_statement", {"Id": "q", "Status": "FINISHED", "HasResultSet": True})
stub.add_response("get_statement_result",
                  {"Records": [[{"stringValue": "PostgreSQL 8.0.2 on i686, Redshift 1.0.1"}]]})
stub.activate()
provider._client_factory = lambda region: client
module = sys.modules["providers.iamr_user.provider"]
redshift = module.Catalog(provider._api(module.IamrUserProps.from_dict(props))).redshift
stub.assert_no_pending_responses()
print(json.dumps({
    "class": type(provider).__module__ + "." + type(provider).__qualname__,
    "module_file": module.__file__,
    "id": module.resource_id(props),
    "redshift": redshift,
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
    serialized = SERIALIZE_PROVIDER.get()(IamrUserProvider(str(ROOT)))

    result = _load_in_fresh_interpreter(serialized, cwd=tmp_path)

    assert result["class"] == "providers.iamr_user.provider.IamrUserProvider"
    assert Path(result["module_file"]).resolve() == PROVIDER_FILE
    assert result["id"] == f"xpander-redshift/xpander_demo/{USER}"
    assert result["redshift"] is True  # the Data API client, boto3 and model.sql all loaded
    assert result["diff_replaces"] == ["user"]


def test_a_provider_from_another_checkout_falls_back_to_the_working_directory() -> None:
    serialized = SERIALIZE_PROVIDER.get()(IamrUserProvider("/nonexistent/other-checkout"))

    result = _load_in_fresh_interpreter(serialized, cwd=ROOT)

    assert Path(result["module_file"]).resolve() == PROVIDER_FILE


def test_the_serialized_provider_carries_no_test_seams() -> None:
    seam_marker = "a-test-only-factory"

    def factory(region: str) -> Any:
        raise AssertionError(seam_marker)

    serialized = SERIALIZE_PROVIDER.get()(IamrUserProvider(str(ROOT), client_factory=factory))

    assert seam_marker.encode() not in base64.b64decode(serialized)


def test_the_provider_in_state_written_by_the_released_code_loads_through_the_old_module_path() -> (
    None
):
    """The released loader imports `components.iamr_user_provider`: the shim hands it the new class.

    Its pickled project root does not exist here, so it falls back to the working directory, as
    Pulumi's provider host runs in the project's directory.
    """
    released = json.loads(RELEASED_STATE.read_text())

    result = _load_in_fresh_interpreter(released["provider"], cwd=ROOT)

    assert result["class"] == "providers.iamr_user.provider.IamrUserProvider"
    assert Path(result["module_file"]).resolve() == PROVIDER_FILE
    assert result["redshift"] is True and result["diff_replaces"] == ["user"]
