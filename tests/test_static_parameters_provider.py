"""The StaticParameters provider: `pulumi up` says which change needs a reboot, and reboots only
when opted in and safe.

- Through Pulumi's own dynamic-provider host (`python -m pulumi.dynamic`, started in an empty
  directory) over gRPC, with the inputs the program registers (the real serialized `__provider`),
  against a moto server on 127.0.0.1 (AWS_ENDPOINT_URL_REDSHIFT). moto has no RebootCluster and
  always reports a cluster's parameter group `in-sync`: these tests prove the diff, the notice,
  the outputs, and that nothing calls RebootCluster without the opt-in (moto would refuse it).
- The reboot itself, in-process with botocore's Stubber: every request and answer is checked
  against botocore's redshift model, and any call not queued fails the test, so "exactly one
  RebootCluster" and "no RebootCluster" are what the Stubber saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from botocore.stub import Stubber
from pulumi.runtime.proto import provider_pb2

from clients.aws_account import AccountCheckError
from model.resource_types import IAMR_USER_TYPE, STATIC_PARAMETERS_TYPE
from providers.static_parameters.provider import RebootError, StaticParametersProvider
from tests.moto_server import TEST_ACCOUNT, reset
from tests.stack_helpers import of_type, one, run_stack
from tests.test_iamr_user_provider import (
    CALL_TIMEOUT,
    _props,
    _struct,
    dynamic_provider_host,
    grpc_error,
    program_inputs,
)

ROOT = Path(__file__).resolve().parent.parent
NAME = "xpander-cluster-static-parameters"
URN = f"urn:pulumi:test::xpander-redshift::{STATIC_PARAMETERS_TYPE}::{NAME}"
CLUSTER, GROUP, REGION = "xpander-redshift", "xpander-redshift-params", "us-west-2"
COMMAND = "aws redshift reboot-cluster --cluster-identifier xpander-redshift --region us-west-2"
ACCOUNT = TEST_ACCOUNT  # the test credentials' account (the host's STS, CallerOf below)
OTHER_ACCOUNT = "999988887777"
CLUSTER_ARN = f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:{CLUSTER}"
NAMESPACE_ARN = f"arn:aws:redshift:{REGION}:{ACCOUNT}:namespace:4a7c1d0e-5f5b-4c1e-9a55-2f0c5d1e"


def registered(**settings: str) -> dict[str, Any]:
    """The StaticParameters inputs the dev stack registers (with `settings` of its own), with
    the cluster's ARN as `pulumi up` knows it (the offline plan leaves it unknown)."""
    inputs = program_inputs(STATIC_PARAMETERS_TYPE, **settings)
    assert "clusterArn" in inputs  # the cluster's output, unknown offline
    return {**inputs, "clusterArn": CLUSTER_ARN}


def test_the_program_registers_the_static_parameters_and_only_those():
    inputs = registered()
    assert inputs["clusterIdentifier"] == CLUSTER
    assert inputs["parameterGroupName"] == GROUP
    assert inputs["parameters"] == {"require_ssl": "true", "enable_user_activity_logging": "true"}
    assert inputs["rebootAfterChange"] is False
    assert registered(requireSsl="false")["parameters"]["require_ssl"] == "false"
    assert registered(rebootForStaticParameters="true")["rebootAfterChange"] is True


def test_a_change_of_no_static_parameter_leaves_the_resources_inputs_as_they_were():
    """Snapshot retention, routing and tags are no parameters: nothing to reboot for."""
    base = registered()
    other = registered(
        automatedSnapshotRetentionDays="14", enhancedVpcRouting="false", tags='{"team": "data"}'
    )
    assert other == base


def test_the_database_users_sql_waits_for_the_static_parameters_and_so_for_any_reboot():
    """The IamrUser's cluster is the StaticParameters' output: the engine runs its SQL only after
    that resource's update, reboot and wait included."""
    run = run_stack()
    static = one(run, STATIC_PARAMETERS_TYPE)
    user = one(run, IAMR_USER_TYPE)
    assert user.property_dependencies["clusterIdentifier"] == [static.urn]


def test_an_existing_cluster_gets_no_static_parameters_and_no_pending_reboot_output():
    """The stack sets no parameter of a cluster it did not create: nothing of it to reboot."""
    run = run_stack(existingClusterIdentifier="analytics")
    assert of_type(run, STATIC_PARAMETERS_TYPE) == []
    assert run.outputs.get("pendingReboot") is None


# --- the host, over gRPC, against moto ------------------------------------------------------------


@pytest.fixture
def aws(moto_url: str) -> str:
    """The session's moto (tests/conftest.py), reset, with the stack's parameter group and a
    cluster created with it: each test starts from that state alone."""
    reset(moto_url)
    client = boto3.client(
        "redshift",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_cluster_parameter_group(
        ParameterGroupName=GROUP, ParameterGroupFamily="redshift-2.0", Description="x"
    )
    client.create_cluster(
        ClusterIdentifier=CLUSTER,
        NodeType="ra3.large",
        MasterUsername="xpander_admin",
        MasterUserPassword="Moto-only-1",
        ClusterParameterGroupName=GROUP,
    )
    return moto_url


class StderrSince:
    """The host's stderr from where it stood when a test began: what that test's calls wrote."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size

    def read_text(self) -> str:
        with self.path.open("rb") as said:
            said.seek(self.start)
            return said.read().decode()


@pytest.fixture(scope="module")
def _module_host(
    moto_url: str, sts_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Path]]:
    """One host for the module's tests (its start costs seconds of CPU; it keeps no state between
    calls: each call unpickles the provider from its inputs); its STS answers for TEST_ACCOUNT,
    the account of CLUSTER_ARN."""
    endpoints = {"AWS_ENDPOINT_URL_REDSHIFT": moto_url, "AWS_ENDPOINT_URL_STS": sts_url}
    with dynamic_provider_host(endpoints, tmp_path_factory.mktemp("host")) as running:
        yield running.stub, running.stderr


@pytest.fixture
def host(_module_host: tuple[Any, Path], aws: str) -> tuple[Any, StderrSince]:
    """The module's host, over a freshly seeded moto, and what it writes to stderr from now."""
    stub, stderr = _module_host
    return stub, StderrSince(stderr)


def diff(stub: Any, outs: dict[str, Any], news: dict[str, Any]) -> Any:
    return stub.Diff(
        provider_pb2.DiffRequest(id="x", urn=URN, olds=_struct(outs), news=_struct(news)),
        timeout=CALL_TIMEOUT,
    )


def update(stub: Any, outs: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    answer = stub.Update(
        provider_pb2.UpdateRequest(id="x", urn=URN, olds=_struct(outs), news=_struct(news)),
        timeout=CALL_TIMEOUT,
    )
    return _props(answer.properties)


def create(stub: Any, news: dict[str, Any]) -> dict[str, Any]:
    answer = stub.Create(
        provider_pb2.CreateRequest(urn=URN, properties=_struct(news)), timeout=CALL_TIMEOUT
    )
    assert answer.id == f"{CLUSTER}/{GROUP}"
    return _props(answer.properties)


def test_a_cluster_created_with_the_group_has_nothing_pending(host):
    stub, stderr = host
    outs = create(stub, registered())
    assert outs["pendingReboot"] == []
    assert "rebootCommand" not in outs
    assert diff(stub, outs, registered()).changes == provider_pb2.DiffResponse.DIFF_NONE
    assert "Needs a reboot" not in stderr.read_text()


def test_a_require_ssl_change_is_an_update_that_names_it_and_gives_the_reboot_command(host):
    """Without the opt-in: the preview's diff and the update say it, the outputs keep it, and
    no RebootCluster is sent (moto has none: the update would fail)."""
    stub, stderr = host
    outs = create(stub, registered())
    news = registered(requireSsl="false")
    answer = diff(stub, outs, news)
    assert answer.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(answer.replaces) == []
    said = stderr.read_text()
    assert "warning: Needs a reboot: require_ssl of cluster 'xpander-redshift'" in said
    assert "enable_user_activity_logging" not in said
    assert COMMAND in said
    assert "xpander-redshift:rebootForStaticParameters true" in said

    outs = update(stub, outs, news)
    assert outs["pendingReboot"] == ["require_ssl"]
    assert outs["rebootCommand"] == COMMAND


def test_what_waits_for_a_reboot_is_said_again_until_the_group_is_in_sync(host):
    """The next preview repeats it, as recorded (not as a new change: the cluster may have
    rebooted since); the next up asks AWS, and moto's `in-sync` (a cluster rebooted by hand
    meanwhile) clears it; after that the diff is empty."""
    stub, stderr = host
    news = registered(requireSsl="false")
    pending = update(stub, create(stub, registered()), news)
    # moto reads `in-sync` right after the change: the update says it cannot tell why.
    assert (
        "require_ssl of cluster 'xpander-redshift' changed in this run, yet its parameter group "
        "'xpander-redshift-params' reads 'in-sync'" in stderr.read_text()
    )
    before = stderr.read_text().count("Needs a reboot")
    assert diff(stub, pending, news).changes == provider_pb2.DiffResponse.DIFF_SOME
    said = stderr.read_text()
    assert said.count("Needs a reboot") == before  # nothing changed in this run
    assert (
        "Still waiting for a reboot, as the last `pulumi up` recorded: require_ssl of cluster "
        "'xpander-redshift'. `pulumi up` first asks DescribeClusters: if the cluster has rebooted "
        "since (its parameter group `in-sync`), it records them as applied and reboots nothing; "
        f"otherwise reboot it at a quiet moment: {COMMAND}" in said
    )

    applied = update(stub, pending, news)
    assert applied["pendingReboot"] == []
    assert "rebootCommand" not in applied
    assert diff(stub, applied, news).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_credentials_of_another_account_fail_create_refresh_and_update(host):
    """The stack's cluster is OTHER_ACCOUNT's and the credentials are not: each call fails before
    DescribeClusters, naming both accounts (moto gives no ClusterNamespaceArn, so without the
    caller's account nothing would tell the same-named cluster from the stack's)."""
    stub, _ = host
    elsewhere = CLUSTER_ARN.replace(ACCOUNT, OTHER_ACCOUNT)
    recorded = {**create(stub, registered()), "clusterArn": elsewhere}
    news = {
        **registered(requireSsl="false", rebootForStaticParameters="true"),
        "clusterArn": elsewhere,
    }
    calls = {
        "create": lambda: create(stub, news),
        "refresh": lambda: stub.Read(
            provider_pb2.ReadRequest(
                id="x",
                urn=URN,
                properties=_struct({**recorded, "pendingReboot": ["require_ssl"]}),
                inputs=_struct(news),
            ),
            timeout=CALL_TIMEOUT,
        ),
        "update": lambda: update(stub, recorded, news),
    }
    for name, call in calls.items():
        said = grpc_error(call)
        assert f"are of account {ACCOUNT}" in said, name
        assert f"the stack's cluster is of account {OTHER_ACCOUNT}" in said, name
        assert "nothing was rebooted" in said and "AWS_PROFILE" in said, name


def test_refresh_clears_what_waited_once_the_group_is_in_sync_and_destroy_touches_nothing(
    host, aws
):
    stub, _ = host
    news = registered(requireSsl="false")
    pending = update(stub, create(stub, registered()), news)
    assert pending["pendingReboot"] == ["require_ssl"]
    answer = stub.Read(
        provider_pb2.ReadRequest(
            id="x", urn=URN, properties=_struct(pending), inputs=_struct(news)
        ),
        timeout=CALL_TIMEOUT,
    )
    assert answer.id == "x"
    assert _props(answer.properties)["pendingReboot"] == []
    stub.Delete(
        provider_pb2.DeleteRequest(id="x", urn=URN, properties=_struct(pending)),
        timeout=CALL_TIMEOUT,
    )
    described = boto3.client(
        "redshift",
        region_name=REGION,
        endpoint_url=aws,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).describe_clusters(ClusterIdentifier=CLUSTER)
    assert described["Clusters"][0]["ClusterStatus"] == "available"


def test_another_cluster_is_a_new_resource_and_turning_the_opt_in_on_is_no_reboot_notice(host):
    stub, stderr = host
    outs = create(stub, registered())
    moved = {
        **registered(),
        "clusterIdentifier": "another-cluster",
        "parameterGroupName": "another-cluster-params",
    }
    assert list(diff(stub, outs, moved).replaces) == ["clusterIdentifier"]
    opted_in = registered(rebootForStaticParameters="true")
    assert diff(stub, outs, opted_in).changes == provider_pb2.DiffResponse.DIFF_SOME
    assert update(stub, outs, opted_in)["pendingReboot"] == []
    assert "Needs a reboot" not in stderr.read_text()


# --- the opt-in reboot, against botocore's Stubber ------------------------------------------------


def cluster(status: str, group: str, pending: dict[str, Any] | None = None) -> dict[str, Any]:
    """A DescribeClusters answer (checked against botocore's model by the Stubber)."""
    return {
        "Clusters": [
            {
                "ClusterIdentifier": CLUSTER,
                "ClusterNamespaceArn": NAMESPACE_ARN,
                "ClusterStatus": status,
                "ClusterParameterGroups": [
                    {"ParameterGroupName": GROUP, "ParameterApplyStatus": group}
                ],
                "PendingModifiedValues": pending or {},
            }
        ]
    }


class Clock:
    """The provider's clock and sleep: time passes only when it sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class CallerOf:
    """sts:GetCallerIdentity for credentials of `account`, its answer shaped as botocore's sts
    model says (UserId, Account, Arn)."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.calls = 0

    def get_caller_identity(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        arn = f"arn:aws:iam::{self.account}:user/deployer"
        return {"UserId": "AIDAEXAMPLE", "Account": self.account, "Arn": arn}


@pytest.fixture
def stubbed() -> Iterator[tuple[StaticParametersProvider, Stubber]]:
    client = boto3.client(
        "redshift",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    clock = Clock()
    caller = CallerOf(ACCOUNT)
    provider = StaticParametersProvider(
        client_factory=lambda region: client,
        sts_factory=lambda region: caller,
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    with Stubber(client) as stubber:
        yield provider, stubber
        stubber.assert_no_pending_responses()


DESCRIBE = {"ClusterIdentifier": CLUSTER}
OLD = {
    "region": REGION,
    "clusterIdentifier": CLUSTER,
    "parameterGroupName": GROUP,
    "parameters": {"require_ssl": "true", "enable_user_activity_logging": "true"},
    "rebootAfterChange": True,
    "timeoutSeconds": 600,
    "clusterArn": CLUSTER_ARN,
    "pendingReboot": [],
}
NEW = {**OLD, "parameters": {"require_ssl": "false", "enable_user_activity_logging": "true"}}
NEW.pop("pendingReboot")


def test_opted_in_a_pending_reboot_reboots_exactly_once_and_waits_until_in_sync(stubbed):
    provider, stubber = stubbed
    stubber.add_response("describe_clusters", cluster("available", "pending-reboot"), DESCRIBE)
    stubber.add_response("reboot_cluster", {"Cluster": {"ClusterStatus": "rebooting"}}, DESCRIBE)
    stubber.add_response("describe_clusters", cluster("rebooting", "pending-reboot"), DESCRIBE)
    stubber.add_response("describe_clusters", cluster("available", "pending-reboot"), DESCRIBE)
    stubber.add_response("describe_clusters", cluster("available", "in-sync"), DESCRIBE)
    outs = provider.update("x", dict(OLD), dict(NEW)).outs
    assert outs is not None and outs["pendingReboot"] == []
    # The re-run: nothing changed, nothing pending: no diff, so no update and no AWS call.
    assert provider.diff("x", outs, dict(NEW)).changes is False


def test_opted_out_a_pending_reboot_never_reboots(stubbed):
    """A cluster as safe to reboot as it gets; no RebootCluster is queued, so a call would fail."""
    provider, stubber = stubbed
    stubber.add_response("describe_clusters", cluster("available", "pending-reboot"), DESCRIBE)
    outs = provider.update("x", dict(OLD), {**NEW, "rebootAfterChange": False}).outs
    assert outs is not None and outs["pendingReboot"] == ["require_ssl"]
    assert outs["rebootCommand"] == COMMAND


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (cluster("modifying", "pending-reboot"), "its status is 'modifying', not 'available'"),
        (cluster("paused", "pending-reboot"), "its status is 'paused', not 'available'"),
        (
            cluster("available", "apply-deferred"),
            "its parameter group 'xpander-redshift-params' is 'apply-deferred', not "
            "'pending-reboot'",
        ),
        (
            cluster("available", "pending-reboot", {"NodeType": "ra3.xlplus"}),
            "other modifications wait for its next reboot (PendingModifiedValues: NodeType)",
        ),
    ],
)
def test_opted_in_a_cluster_that_is_not_safe_to_reboot_is_not_rebooted_and_says_why(
    stubbed, capsys, answer, why
):
    provider, stubber = stubbed
    stubber.add_response("describe_clusters", answer, DESCRIBE)
    outs = provider.update("x", dict(OLD), dict(NEW)).outs
    assert outs is not None and outs["pendingReboot"] == ["require_ssl"]
    said = capsys.readouterr().err
    assert (
        "Not rebooting cluster 'xpander-redshift' (xpander-redshift:rebootForStaticParameters): "
        f"{why}" in said
    )
    assert COMMAND in said


@pytest.mark.parametrize("availability", ["Maintenance", "Modifying", "Unavailable", "Failed"])
def test_opted_in_a_cluster_in_maintenance_is_not_rebooted(stubbed, capsys, availability):
    """`available` with maintenance (or a modification) under way: ClusterAvailabilityStatus."""
    provider, stubber = stubbed
    answer = cluster("available", "pending-reboot")
    answer["Clusters"][0]["ClusterAvailabilityStatus"] = availability
    stubber.add_response("describe_clusters", answer, DESCRIBE)
    outs = provider.update("x", dict(OLD), dict(NEW)).outs
    assert outs is not None and outs["pendingReboot"] == ["require_ssl"]
    said = capsys.readouterr().err
    assert f"its availability for queries is {availability!r}, not 'Available'" in said
    assert COMMAND in said


@pytest.mark.parametrize("restore", ["starting", "restoring"])
def test_opted_in_a_cluster_still_restoring_from_a_snapshot_is_not_rebooted(
    stubbed, capsys, restore
):
    """An adopted cluster restored from a snapshot reads `available` while its data streams in."""
    provider, stubber = stubbed
    answer = cluster("available", "pending-reboot")
    answer["Clusters"][0]["RestoreStatus"] = {"Status": restore}
    stubber.add_response("describe_clusters", answer, DESCRIBE)
    outs = provider.update("x", dict(OLD), dict(NEW)).outs
    assert outs is not None and outs["pendingReboot"] == ["require_ssl"]
    assert f"its restore from a snapshot is {restore!r}" in capsys.readouterr().err


def in_account(answer: dict[str, Any], account: str | None) -> dict[str, Any]:
    """The same DescribeClusters answer for a cluster of `account` (None: no namespace ARN)."""
    described = dict(answer["Clusters"][0])
    described.pop("ClusterNamespaceArn")
    if account:
        described["ClusterNamespaceArn"] = NAMESPACE_ARN.replace(ACCOUNT, account)
    return {"Clusters": [described]}


def test_a_cluster_of_the_same_name_in_another_account_is_never_rebooted(stubbed):
    """pulumi's credentials for boto3 (AWS_PROFILE, environment) are not the aws provider's
    (aws:profile of the stack): the dev account's cluster of the same name answers."""
    provider, stubber = stubbed
    elsewhere = in_account(cluster("available", "pending-reboot"), "999988887777")
    stubber.add_response("describe_clusters", elsewhere, DESCRIBE)
    with pytest.raises(RebootError) as failed:
        provider.update("x", dict(OLD), dict(NEW))
    said = str(failed.value)
    assert "of account 999988887777 in us-west-2, but the stack's cluster is of account " in said
    assert "111122223333 in us-west-2" in said and "Nothing was rebooted" in said
    # Nor is its answer taken for the stack's cluster when the resource is first recorded.
    stubber.add_response("describe_clusters", elsewhere, DESCRIBE)
    with pytest.raises(RebootError, match="of account 999988887777"):
        provider.create({k: v for k, v in OLD.items() if k != "pendingReboot"})


def test_opted_in_credentials_of_another_account_ask_nothing_and_reboot_nothing():
    """No DescribeClusters or RebootCluster is queued: a call to Redshift would fail the Stubber;
    the caller's account is asked once for the provider's process."""
    client = boto3.client(
        "redshift", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    caller = CallerOf(OTHER_ACCOUNT)
    provider = StaticParametersProvider(
        client_factory=lambda region: client, sts_factory=lambda region: caller
    )
    with Stubber(client) as stubber:
        for _ in range(2):
            with pytest.raises(RuntimeError) as failed:
                provider.update("x", dict(OLD), dict(NEW))
            said = str(failed.value)
            assert f"are of account {OTHER_ACCOUNT}" in said
            assert f"the stack's cluster is of account {ACCOUNT}" in said
            assert "nothing was rebooted" in said
        stubber.assert_no_pending_responses()
    assert caller.calls == 1


def test_opted_in_a_cluster_whose_account_is_not_said_is_not_rebooted(stubbed, capsys):
    provider, stubber = stubbed
    unsaid = in_account(cluster("available", "pending-reboot"), None)
    stubber.add_response("describe_clusters", unsaid, DESCRIBE)
    outs = provider.update("x", dict(OLD), dict(NEW)).outs
    assert outs is not None and outs["pendingReboot"] == ["require_ssl"]
    said = capsys.readouterr().err
    assert "Not rebooting cluster 'xpander-redshift'" in said
    assert "DescribeClusters gives no ClusterNamespaceArn" in said


def test_a_wait_that_times_out_fails_clearly_and_the_re_run_does_not_reboot_again(stubbed, capsys):
    provider, stubber = stubbed
    stubber.add_response("describe_clusters", cluster("available", "pending-reboot"), DESCRIBE)
    stubber.add_response("reboot_cluster", {"Cluster": {"ClusterStatus": "rebooting"}}, DESCRIBE)
    for _ in range(31):  # 600 s at one DescribeClusters every 20 s, and the last look
        stubber.add_response("describe_clusters", cluster("rebooting", "pending-reboot"), DESCRIBE)
    with pytest.raises(RebootError) as failed:
        provider.update("x", dict(OLD), dict(NEW))
    assert "did not report 'available' with its parameter group" in str(failed.value)
    assert "within 600 s (last seen: status 'rebooting'" in str(failed.value)
    assert "Do not reboot it again by hand" in str(failed.value)
    assert "records the change as applied" not in str(failed.value)  # the re-run does not yet
    # The engine kept the old state: the re-run updates from it again. The reboot has finished
    # meanwhile: no second RebootCluster (none is queued), and the change stays named until the
    # next up sees the group in sync with nothing changed.
    stubber.add_response("describe_clusters", cluster("available", "in-sync"), DESCRIBE)
    capsys.readouterr()
    outs = provider.update("x", dict(OLD), dict(NEW)).outs
    assert outs is not None and outs["pendingReboot"] == ["require_ssl"]
    said = capsys.readouterr().err  # ... and says why, and how to look before rebooting by hand
    assert "either the cluster already runs the new values" in said
    assert "describe-clusters --cluster-identifier xpander-redshift --region us-west-2" in said
    stubber.add_response("describe_clusters", cluster("available", "in-sync"), DESCRIBE)
    assert provider.update("x", outs, dict(NEW)).outs["pendingReboot"] == []  # type: ignore[index]


def test_a_failed_look_after_the_reboot_says_the_reboot_was_sent(stubbed):
    """RebootCluster went out; the wait's DescribeClusters is refused: the error must not read
    as if nothing happened (a permission problem, 'run up again'), but say the cluster reboots."""
    provider, stubber = stubbed
    stubber.add_response("describe_clusters", cluster("available", "pending-reboot"), DESCRIBE)
    stubber.add_response("reboot_cluster", {"Cluster": {"ClusterStatus": "rebooting"}}, DESCRIBE)
    stubber.add_client_error("describe_clusters", "UnauthorizedOperation", "Denied", 400)
    with pytest.raises(RebootError) as failed:
        provider.update("x", dict(OLD), dict(NEW))
    said = str(failed.value)
    assert "RebootCluster was sent for cluster 'xpander-redshift'" in said
    assert "Redshift DescribeClusters was refused: UnauthorizedOperation: Denied" in said
    assert "Do not reboot it again by hand" in said


def test_refresh_of_a_cluster_gone_keeps_the_record_and_says_so(stubbed, capsys):
    """A refresh after the cluster was deleted outside the stack: the cluster's own refresh
    drops it; this resource's must not fail the whole refresh."""
    provider, stubber = stubbed
    stubber.add_client_error(
        "describe_clusters", "ClusterNotFound", "Cluster xpander-redshift not found.", 404
    )
    recorded = {**NEW, "pendingReboot": ["require_ssl"], "rebootCommand": COMMAND}
    answer = provider.read("x", dict(recorded))
    assert answer.id == "x" and answer.outs == recorded
    assert "DescribeClusters does not find cluster 'xpander-redshift'" in capsys.readouterr().err


def test_create_never_reboots_and_names_every_static_parameter_of_a_cluster_not_in_sync(
    stubbed, capsys
):
    """An adopted cluster that only now moved to the stack's group: its first `up` says so."""
    provider, stubber = stubbed
    stubber.add_response("describe_clusters", cluster("available", "pending-reboot"), DESCRIBE)
    news = {k: v for k, v in OLD.items() if k != "pendingReboot"}
    # A map's order is not kept on the wire: the baseline's order is.
    news["parameters"] = {"enable_user_activity_logging": "true", "require_ssl": "true"}
    outs = provider.create(news).outs
    assert outs is not None
    assert outs["pendingReboot"] == ["require_ssl", "enable_user_activity_logging"]
    assert "Needs a reboot: require_ssl, enable_user_activity_logging" in capsys.readouterr().err


def test_opted_in_the_preview_says_up_will_reboot_when_safe(capsys):
    """diff asks no AWS: the notice says what the opt-in will do."""
    answer = StaticParametersProvider().diff("x", dict(OLD), dict(NEW))
    assert answer.changes is True
    assert answer.replaces == []
    said = capsys.readouterr().err
    assert "warning: Needs a reboot: require_ssl of cluster 'xpander-redshift'" in said
    assert "with xpander-redshift:rebootForStaticParameters on, `pulumi up` reboots it" in said


def test_a_refused_call_is_said_in_our_words(stubbed):
    provider, stubber = stubbed
    stubber.add_response("describe_clusters", cluster("available", "pending-reboot"), DESCRIBE)
    stubber.add_client_error(
        "reboot_cluster", "InvalidClusterState", "The cluster is being modified", 400
    )
    with pytest.raises(RebootError) as failed:
        provider.update("x", dict(OLD), dict(NEW))
    assert "Redshift RebootCluster was refused: InvalidClusterState" in str(failed.value)
    # botocore retries a RebootCluster whose answer was lost; AWS refuses the retry, the cluster
    # rebooting from the first: the words must not read as 'nothing happened'.
    assert "the cluster may be rebooting from this run's own request" in str(failed.value)
    assert "describe-clusters --cluster-identifier xpander-redshift" in str(failed.value)
    assert "Check the deploying identity's permissions" not in str(failed.value)


# --- what else runs in the same `up` as the reboot -----------------------------------------------

LOGGING = "aws:redshift/logging:Logging"
JOB = "kubernetes:batch/v1:Job"


@pytest.mark.parametrize(
    "settings",
    [{}, {"auditLogging": "s3", "auditLogBucket": "audit-logs-111122223333"}],
    ids=["cloudwatch", "s3"],
)
def test_the_reboot_waits_for_the_audit_logging_change_of_the_same_up(settings):
    """EnableLogging / DisableLogging on the cluster must not run while the opt-in reboots it."""
    run = run_stack(**settings)
    static = one(run, STATIC_PARAMETERS_TYPE)
    assert one(run, LOGGING).urn in static.dependencies


def test_the_kubernetes_jobs_sql_waits_for_the_static_parameters_and_so_for_any_reboot():
    """The Job's psql connects to the cluster's endpoint: not while the opt-in reboots it."""
    run = run_stack(userProvisioner="kubernetes-job")
    static = one(run, STATIC_PARAMETERS_TYPE)
    job = one(run, JOB)
    assert static.urn in job.property_dependencies["spec"]  # its psql's host


def test_the_host_advertises_no_provider_preview_so_a_preview_echoes_the_inputs(host):
    """The database users' cluster input is this resource's output. The engine's Create and
    Update, in a preview, hand the inputs back as outputs (so that cluster stays known and the
    users' diff sees no new cluster) only for a provider that does not support previews: the
    dynamic host must answer Handshake unimplemented and Configure without supportsPreview
    (pulumi/pulumi sdk/go/common/resource/plugin/provider_plugin.go, Create and Update)."""
    stub, _ = host
    answer = stub.Configure(provider_pb2.ConfigureRequest(args=_struct({})), timeout=CALL_TIMEOUT)
    assert answer.supportsPreview is False
    with pytest.raises(grpc.RpcError) as refused:
        stub.Handshake(provider_pb2.ProviderHandshakeRequest(), timeout=CALL_TIMEOUT)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED


class StsDown:
    """sts:GetCallerIdentity with no answer (botocore's EndpointConnectionError)."""

    def get_caller_identity(self, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

        raise EndpointConnectionError(endpoint_url=f"https://sts.{REGION}.amazonaws.com/")


def test_a_failed_account_check_names_sts_not_redshift_and_reboots_nothing():
    """STS throttled or unreachable: the words name STS's call; no Redshift call is made (the
    Stubber has none queued)."""
    client = boto3.client(
        "redshift", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
    for caller, said in [
        (sts, "STS GetCallerIdentity in us-west-2 was refused: Throttling: Rate exceeded."),
        (StsDown(), "No answer from STS GetCallerIdentity in us-west-2 (Could not connect to"),
    ]:
        provider = StaticParametersProvider(
            client_factory=lambda region: client, sts_factory=lambda region, c=caller: c
        )
        with Stubber(client) as redshift, Stubber(sts) as sts_stub:
            sts_stub.add_client_error("get_caller_identity", "Throttling", "Rate exceeded", 400)
            with pytest.raises(AccountCheckError) as failed:
                provider.update("x", dict(OLD), dict(NEW))
            redshift.assert_no_pending_responses()
        assert "Redshift" not in str(failed.value)
        assert said in str(failed.value)


def test_a_refresh_answered_for_another_accounts_cluster_says_so_not_that_it_is_gone(
    stubbed, capsys
):
    """Only an empty answer or ClusterNotFound is 'not found': a same-named cluster of another
    account is refused in the words of other_owner, as update and create refuse it."""
    provider, stubber = stubbed
    elsewhere = in_account(cluster("available", "in-sync"), "999988887777")
    stubber.add_response("describe_clusters", elsewhere, DESCRIBE)
    recorded = {**NEW, "pendingReboot": ["require_ssl"], "rebootCommand": COMMAND}
    with pytest.raises(RebootError, match="of account 999988887777"):
        provider.read("x", dict(recorded))
    assert "does not find cluster" not in capsys.readouterr().err
