"""IamrDatabaseUser: the data-api provider's lifecycle, the psql Job's manifests, and the component.

- The provider's own decisions (diff, check); its lifecycle against real SQL, in Pulumi's
  provider host, is in test_iamr_user_provider.
- The provider survives dill and loads in a fresh interpreter that cannot import `components`.
- The Secret, ConfigMap and Job validate strictly against current Kubernetes schemas and carry the
  password only in the Secret.
- Under Pulumi's mock engine, each provisioner registers the expected children, and the user waits
  for the cluster.
"""

from __future__ import annotations

import base64
import contextvars
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pulumi
import pytest
from google.protobuf import json_format
from kubernetes_validate.utils import all_versions
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import ROOT as ROOT_RESOURCE
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.database_user import IamrDatabaseUser, IamrDatabaseUserArgs, master_password_secret
from components.iamr_user_provider import IamrUserProvider
from model import sql as redshift_sql
from model.job_manifests import (
    JOB_BACKOFF_LIMIT,
    POSTGRES_UID,
    PsqlConnection,
    config_map_manifest,
    dns_label,
    job_manifest,
    kubeconfig,
    master_password,
    secret_manifest,
    sql_hash,
)

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-west-2"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!xpander-redshift-admin"
USER = "IAMR:xpander-redshift-access"
OWNER = "xpander_admin"
PASSWORD_SENTINEL = "Sentinel-Pa55word-7f3c"  # must never leave the Secret

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
def test_a_different_user_cluster_database_or_region_replaces_deleting_first(
    provider: IamrUserProvider, key: str, value: str
) -> None:
    result = provider.diff("id", dict(PROPS), {**PROPS, key: value})

    assert result.changes is True
    assert result.replaces == [key]
    assert result.delete_before_replace is True


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
stub.add_response("execute_statement", {"Id": "q"},
    {"Sql": sql.VERSION_SQL, "ClusterIdentifier": props["clusterIdentifier"],
     "Database": props["database"], "SecretArn": props["secretArn"],
     "StatementName": "xpander-redshift/iamr-user"})
stub.add_response("describe_statement", {"Id": "q", "Status": "FINISHED", "HasResultSet": True})
stub.add_response("get_statement_result",
                  {"Records": [[{"stringValue": "PostgreSQL 8.0.2 on i686, Redshift 1.0.1"}]]})
stub.activate()
provider._client_factory = lambda region: client
module = sys.modules["components.iamr_user_provider"]
redshift = module.Catalog(provider._api(props)).redshift
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
    serialized = serialize_provider(IamrUserProvider(str(ROOT)))

    result = _load_in_fresh_interpreter(serialized, cwd=tmp_path)

    assert result["class"] == "components.iamr_user_provider.IamrUserProvider"
    assert Path(result["module_file"]).resolve() == ROOT / "components" / "iamr_user_provider.py"
    assert result["id"] == f"xpander-redshift/xpander_demo/{USER}"
    assert result["redshift"] is True  # the Data API client, boto3 and model.sql all loaded
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


# --- kubernetes-job manifests: pure dicts ---------------------------------------------------------

SCRIPT = redshift_sql.psql_script(USER, ["public", "sales"], OWNER)
# Every Kubernetes minor version EKS supports today (1.33 on) up to the newest schemas installed.
K8S_VERSIONS = sorted(
    {v.rsplit(".", 1)[0] for v in all_versions() if tuple(map(int, v.split(".")[:2])) >= (1, 33)}
)


def manifests(password: str = PASSWORD_SENTINEL) -> dict[str, dict[str, Any]]:
    digest = sql_hash(SCRIPT)
    return {
        "secret": secret_manifest("iamr-user-master-password", "xpander", password),
        "config_map": config_map_manifest(f"iamr-user-sql-{digest}", "xpander", SCRIPT),
        "job": job_manifest(
            name=dns_label("iamr-user", digest),
            namespace="xpander",
            image="postgres:15-alpine",
            connection=PsqlConnection(
                host="xpander-redshift.abc123.us-west-2.redshift.amazonaws.com",
                port="5439",
                database="xpander_demo",
                user=OWNER,
            ),
            secret_name="iamr-user-master-password",
            config_map_name=f"iamr-user-sql-{digest}",
            timeout_seconds=300,
        ),
    }


def test_k8s_versions_cover_current_eks() -> None:
    assert "1.33" in K8S_VERSIONS
    assert len(K8S_VERSIONS) >= 2


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("kind", ["secret", "config_map", "job"])
def test_manifests_pass_strict_kubernetes_validation(version: str, kind: str) -> None:
    kubernetes_validate.validate(manifests()[kind], version, strict=True)


def test_strict_validation_would_catch_a_misspelt_field() -> None:
    job = manifests()["job"]
    job["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, K8S_VERSIONS[-1], strict=True)


def test_the_password_appears_only_in_the_secrets_data() -> None:
    docs = manifests()
    secret = docs["secret"]

    assert secret["stringData"] == {"password": PASSWORD_SENTINEL}
    without_data = {k: v for k, v in secret.items() if k != "stringData"}
    for doc in (without_data, docs["config_map"], docs["job"]):
        assert PASSWORD_SENTINEL not in json.dumps(doc)


def test_psql_gets_the_password_only_through_a_secret_key_ref() -> None:
    container = manifests()["job"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}

    assert env["PGPASSWORD"] == {
        "name": "PGPASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "iamr-user-master-password", "key": "password"}},
    }
    assert not any("PASSWORD" in e["name"] and "value" in e for e in container["env"])


def test_the_job_runs_the_configmaps_script_with_psql_stopping_on_errors() -> None:
    docs = manifests()
    pod = docs["job"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}

    assert container["image"] == "postgres:15-alpine"
    assert container["command"] == ["psql"]
    assert "ON_ERROR_STOP=1" in container["args"]
    assert container["args"][-2:] == ["-f", "/sql/provision.sql"]
    assert docs["config_map"]["data"] == {"provision.sql": SCRIPT}
    assert {
        "name": "sql",
        "configMap": {"name": docs["config_map"]["metadata"]["name"], "defaultMode": 0o444},
    } in pod["volumes"]
    assert env["PGSSLMODE"] == "require"
    assert (env["PGHOST"], env["PGPORT"], env["PGDATABASE"], env["PGUSER"]) == (
        "xpander-redshift.abc123.us-west-2.redshift.amazonaws.com",
        "5439",
        "xpander_demo",
        OWNER,
    )


def test_the_pod_is_hardened() -> None:
    job = manifests()["job"]
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    security = container["securityContext"]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == POSTGRES_UID != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["restartPolicy"] == "Never"
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_the_job_is_bounded_cleaned_up_and_awaited() -> None:
    job = manifests()["job"]

    assert job["spec"]["activeDeadlineSeconds"] == 300
    assert job["spec"]["backoffLimit"] == JOB_BACKOFF_LIMIT
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    annotations = job["metadata"]["annotations"]
    assert "pulumi.com/skipAwait" not in annotations  # the await is what fails `pulumi up`
    assert annotations["pulumi.com/replaceUnready"] == "true"  # a failed Job re-runs next time


def test_the_job_name_carries_the_sql_hash_so_changed_sql_reruns() -> None:
    other = redshift_sql.psql_script(USER, ["public"], OWNER)

    assert sql_hash(SCRIPT) in manifests()["job"]["metadata"]["name"]
    assert sql_hash(SCRIPT) != sql_hash(other)
    assert sql_hash(SCRIPT) == sql_hash(redshift_sql.psql_script(USER, ["public", "sales"], OWNER))


@pytest.mark.parametrize("base", ["xpander-user", "A_Very.Long Name" * 8, "---", "x" * 63])
def test_names_are_dns_labels_of_at_most_63_characters(base: str) -> None:
    name = dns_label(base, sql_hash(SCRIPT))

    assert len(name) <= 63
    assert name.endswith(sql_hash(SCRIPT))
    kubernetes_validate.validate(
        config_map_manifest(name, "xpander", "x"), K8S_VERSIONS[-1], strict=True
    )
    assert name[0].isalnum() and name == name.lower()


def test_kubeconfig_authenticates_with_aws_eks_get_token() -> None:
    config = kubeconfig(
        "xpander-eks", "https://ABC.gr7.us-west-2.eks.amazonaws.com", "Q0E=", REGION
    )

    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {
        "server": "https://ABC.gr7.us-west-2.eks.amazonaws.com",
        "certificate-authority-data": "Q0E=",
    }
    (user,) = config["users"]
    exec_ = user["user"]["exec"]
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_["command"] == "aws"
    assert exec_["args"][:2] == ["eks", "get-token"]
    assert exec_["args"][2:6] == ["--cluster-name", "xpander-eks", "--region", REGION]
    assert config["current-context"] == config["contexts"][0]["name"]


def test_the_master_password_stays_a_pulumi_secret() -> None:
    plain_invoke_result = pulumi.Output.from_input(json.dumps({"password": PASSWORD_SENTINEL}))

    password = master_password_secret(plain_invoke_result)

    assert _sync_await(password.is_secret()) is True
    assert _sync_await(password.future()) == PASSWORD_SENTINEL


def test_the_master_password_is_read_from_the_managed_secrets_json() -> None:
    assert master_password(json.dumps({"username": OWNER, "password": "pw"})) == "pw"
    with pytest.raises(ValueError, match="managed master secret"):
        master_password("not json")
    with pytest.raises(ValueError, match="managed master secret"):
        master_password(json.dumps({"username": OWNER}))


# --- the component under Pulumi's mock engine ----------------------------------------------------


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    parent: str
    inputs: dict[str, Any]
    dependencies: list[str]
    custom_timeouts: dict[str, str]


class Mocks(pulumi_mocks.Mocks):
    """Resources echo their inputs; the two invokes get realistic answers."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        if args.token == "aws:eks/getCluster:getCluster":
            return {
                "name": args.args["name"],
                "endpoint": "https://ABC.gr7.us-west-2.eks.amazonaws.com",
                "certificateAuthorities": [{"data": "Q0E="}],
            }, []
        if args.token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            secret = {"username": OWNER, "password": PASSWORD_SENTINEL}
            return {"arn": args.args["secretId"], "secretString": json.dumps(secret)}, []
        raise NotImplementedError(args.token)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.registered.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                inputs=json_format.MessageToDict(request.object),
                dependencies=list(request.dependencies),
                custom_timeouts={
                    "create": request.customTimeouts.create,
                    "update": request.customTimeouts.update,
                },
            )
        )
        return response

    def of_type(self, type_token: str) -> list[Registered]:
        return [r for r in self.registered if r.type == type_token]

    def one(self, type_token: str) -> Registered:
        (found,) = self.of_type(type_token)
        return found


class StandInCluster(pulumi.CustomResource):
    """Stands in for aws.redshift.Cluster: the outputs the database user consumes."""

    cluster_identifier: pulumi.Output[str]
    master_password_secret_arn: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    port: pulumi.Output[int]

    def __init__(self, name: str) -> None:
        super().__init__(
            "test:redshift:Cluster",
            name,
            {
                "cluster_identifier": "xpander-redshift",
                "master_password_secret_arn": SECRET_ARN,
                "dns_name": "xpander-redshift.abc123.us-west-2.redshift.amazonaws.com",
                "port": 5439,
            },
        )


def user_args(cluster: StandInCluster, provisioner: str) -> IamrDatabaseUserArgs:
    return IamrDatabaseUserArgs(
        provisioner=provisioner,
        region=REGION,
        cluster_identifier=cluster.cluster_identifier,
        database="xpander_demo",
        user=USER,
        schemas=["public", "sales"],
        owner=OWNER,
        secret_arn=cluster.master_password_secret_arn,
        timeout_seconds=300,
        eks_cluster_name="xpander-eks",
        namespace="xpander",
        cluster_endpoint=cluster.dns_name,
        cluster_port=cluster.port,
        master_username=OWNER,
        psql_image="postgres:15-alpine",
    )


@dataclass
class Deployed:
    monitor: RecordingMonitor
    cluster_urn: str
    outputs: dict[str, Any]


def deploy(provisioner: str) -> Deployed:
    """Build a stand-in cluster and the user under the mock engine, in a context of its own."""

    def run() -> Deployed:
        ROOT_RESOURCE.set(None)
        mocks = Mocks()
        monitor = RecordingMonitor(mocks)
        pulumi_mocks.set_mocks(
            mocks, project="xpander-redshift", stack="test", preview=False, monitor=monitor
        )
        built: dict[str, Any] = {}

        def program() -> None:
            cluster = StandInCluster("cluster")
            built["user"] = IamrDatabaseUser("xpander-user", user_args(cluster, provisioner))
            built["cluster"] = cluster

        _sync_await(run_pulumi_func(program))
        user: IamrDatabaseUser = built["user"]
        outputs = {
            "user_name": _sync_await(user.user_name.future()),
            "sql": _sync_await(user.sql.future()),
            "provisioner": _sync_await(user.provisioner.future()),
        }
        cluster_urn = _sync_await(built["cluster"].urn.future())
        return Deployed(monitor, cluster_urn, outputs)

    result: Deployed = contextvars.Context().run(run)
    return result


@pytest.fixture(scope="module")
def data_api_run() -> Deployed:
    return deploy("data-api")


@pytest.fixture(scope="module")
def kubernetes_job_run() -> Deployed:
    return deploy("kubernetes-job")


DYNAMIC_TYPE = "pulumi-python:dynamic/xpander:IamrUser"
COMPONENT_TYPE = "xpander:redshift:IamrDatabaseUser"
K8S_TYPES = [
    "pulumi:providers:kubernetes",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:batch/v1:Job",
]


def children(run: Deployed) -> list[str]:
    component = run.monitor.one(COMPONENT_TYPE)
    return sorted(r.type for r in run.monitor.registered if r.parent == component.urn)


def test_data_api_registers_one_dynamic_user_under_the_component(data_api_run: Deployed) -> None:
    assert children(data_api_run) == [DYNAMIC_TYPE]
    assert not any(t in K8S_TYPES for t in (r.type for r in data_api_run.monitor.registered))


def test_the_data_api_user_depends_on_the_cluster(data_api_run: Deployed) -> None:
    user = data_api_run.monitor.one(DYNAMIC_TYPE)

    assert data_api_run.cluster_urn in user.dependencies
    assert user.inputs["clusterIdentifier"] == "xpander-redshift"
    assert user.inputs["secretArn"] == SECRET_ARN
    assert user.inputs["schemas"] == ["public", "sales"]
    assert user.inputs["timeoutSeconds"] == 300
    assert "__provider" in user.inputs


def test_the_data_api_component_shows_the_sql_it_will_run(data_api_run: Deployed) -> None:
    assert data_api_run.outputs["sql"] == redshift_sql.data_api_sql(
        USER, ["public", "sales"], OWNER
    )
    assert f'CREATE USER "{USER}" PASSWORD DISABLE;' in data_api_run.outputs["sql"]
    assert data_api_run.outputs["user_name"] == USER
    assert data_api_run.outputs["provisioner"] == "data-api"


def test_kubernetes_job_registers_provider_secret_config_map_and_job(
    kubernetes_job_run: Deployed,
) -> None:
    assert children(kubernetes_job_run) == sorted(K8S_TYPES)
    assert not kubernetes_job_run.monitor.of_type(DYNAMIC_TYPE)
    assert kubernetes_job_run.outputs["sql"] == redshift_sql.psql_script(
        USER, ["public", "sales"], OWNER
    )


def test_the_job_waits_for_the_cluster_secret_and_config_map(kubernetes_job_run: Deployed) -> None:
    monitor = kubernetes_job_run.monitor
    job = monitor.one("kubernetes:batch/v1:Job")

    assert kubernetes_job_run.cluster_urn in job.dependencies
    assert monitor.one("kubernetes:core/v1:Secret").urn in job.dependencies
    assert monitor.one("kubernetes:core/v1:ConfigMap").urn in job.dependencies
    assert job.custom_timeouts["create"] == "420s"  # the Job's own deadline + a margin
    assert "pulumi.com/skipAwait" not in job.inputs["metadata"].get("annotations", {})


def test_the_password_reaches_only_the_secret_and_only_as_a_pulumi_secret(
    kubernetes_job_run: Deployed,
) -> None:
    monitor = kubernetes_job_run.monitor
    secret = monitor.one("kubernetes:core/v1:Secret")

    string_data = secret.inputs["stringData"]  # the engine's wire form of a secret value
    assert string_data[rpc._special_sig_key] == rpc._special_secret_sig
    assert string_data["value"] == {"password": PASSWORD_SENTINEL}
    for other in monitor.registered:
        if other.urn != secret.urn:
            assert PASSWORD_SENTINEL not in json.dumps(other.inputs), other.type


def test_the_kubernetes_provider_uses_the_eks_cluster(kubernetes_job_run: Deployed) -> None:
    provider = kubernetes_job_run.monitor.one("pulumi:providers:kubernetes")
    config = json.loads(provider.inputs["kubeconfig"])

    assert config["clusters"][0]["cluster"]["server"].endswith(".eks.amazonaws.com")
    assert config["users"][0]["user"]["exec"]["args"][3] == "xpander-eks"
    assert provider.inputs["clusterIdentifier"] == "xpander-eks"


def test_kubernetes_children_use_the_eks_provider(kubernetes_job_run: Deployed) -> None:
    monitor = kubernetes_job_run.monitor
    provider = monitor.one("pulumi:providers:kubernetes")
    for type_token in K8S_TYPES[1:]:
        registered = monitor.one(type_token)
        assert registered.parent == monitor.one(COMPONENT_TYPE).urn
    assert provider.urn  # the children reference it (checked by the engine on `pulumi up`)
