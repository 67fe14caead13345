"""IamrDatabaseUser under the shared mock engine (tools.engine): what each provisioner registers.

The component runs alone on a stand-in cluster (tests/programs/iamr_database_user.py), and inside
the whole stack (`run_stack`), with the invokes answered by the engine's placeholders or, where a
test needs real-looking values, by its own.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pulumi

from components.database_user import master_password_secret
from components.pulumi_sdk import sync_await
from model.outputs import SECRET
from tests.stack_helpers import one, run_stack
from tools.engine import PlannedResource, ProgramRun, run_program

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "tests" / "programs" / "iamr_database_user.py"
USER = "IAMR:xpander-redshift-access"
OWNER = "xpander_admin"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!xpander-redshift-admin"
PASSWORD_SENTINEL = "Sentinel-Pa55word-7f3c"  # must never leave the Secret

INVOKES: dict[str, Any] = {
    "aws:secretsmanager/getSecretVersion:getSecretVersion": lambda a: {
        "arn": a["secretId"],
        "secretString": json.dumps({"username": OWNER, "password": PASSWORD_SENTINEL}),
    },
    "aws:ec2/getVpc:getVpc": lambda a: {
        "id": a["id"],
        "cidrBlock": "10.20.0.0/16",
        "cidrBlockAssociations": [{"cidrBlock": "10.20.0.0/16"}, {"cidrBlock": "100.64.0.0/16"}],
    },
}

DYNAMIC_TYPE = "pulumi-python:dynamic/xpander:IamrUser"
COMPONENT_TYPE = "xpander:redshift:IamrDatabaseUser"
JOB_TYPE = "kubernetes:batch/v1:Job"
SECRET_TYPE = "kubernetes:core/v1:Secret"
CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap"
POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_TYPES = ["pulumi:providers:kubernetes", SECRET_TYPE, CONFIG_MAP_TYPE, POLICY_TYPE, JOB_TYPE]


@cache
def component_run(provisioner: str) -> ProgramRun:
    return run_program({"test:provisioner": provisioner}, program=PROGRAM, extra_invokes=INVOKES)


def children(run: ProgramRun) -> list[str]:
    component = one(run, COMPONENT_TYPE)
    return sorted(r.type for r in run.resources if r.parent == component.urn)


def cluster(run: ProgramRun) -> PlannedResource:
    return one(run, "test:redshift:Cluster")


# --- data-api ------------------------------------------------------------------------------------


def test_data_api_registers_one_dynamic_user_under_the_component() -> None:
    run = component_run("data-api")

    assert children(run) == [DYNAMIC_TYPE]
    assert not [r for r in run.resources if r.type in K8S_TYPES]


def test_the_data_api_user_depends_on_the_cluster() -> None:
    run = component_run("data-api")
    user = one(run, DYNAMIC_TYPE)

    assert cluster(run).urn in user.dependencies
    assert user.inputs["clusterIdentifier"] == "xpander-redshift"
    assert user.inputs["secretArn"] == SECRET_ARN
    assert user.inputs["schemas"] == ["public", "sales"]
    assert user.inputs["timeoutSeconds"] == 300
    assert "__provider" in user.inputs


def test_the_data_api_component_shows_its_sql_and_leaves_no_cleanup() -> None:
    outputs = component_run("data-api").outputs

    assert f'CREATE USER "{USER}" PASSWORD DISABLE;' in outputs["sql"]
    assert (outputs["userName"], outputs["provisioner"]) == (USER, "data-api")
    assert outputs["cleanupSql"] is None  # the provider's delete undoes its own work


# --- kubernetes-job ------------------------------------------------------------------------------


def test_kubernetes_job_registers_provider_secret_config_map_policy_and_job() -> None:
    run = component_run("kubernetes-job")

    assert children(run) == sorted([*K8S_TYPES, DYNAMIC_TYPE])
    # The data-api resource stays, as a record that runs no SQL: switching provisioners on a live
    # stack updates it (same URN) instead of deleting it, which would drop a created user.
    record = one(run, DYNAMIC_TYPE)
    assert record.inputs["provisioner"] == "kubernetes-job"
    assert record.urn.endswith("::xpander-user-iamr-user")
    assert "secretArn" not in record.inputs and "dbUser" not in record.inputs
    script = one(run, CONFIG_MAP_TYPE).inputs["data"]["provision.sql"]
    assert run.outputs["sql"] == script
    assert f'CREATE USER "{USER}" PASSWORD DISABLE;' in script


def test_the_job_waits_for_the_cluster_secret_config_map_and_network_policy() -> None:
    run = component_run("kubernetes-job")
    job = one(run, JOB_TYPE)

    assert cluster(run).urn in job.dependencies
    for type_token in (SECRET_TYPE, CONFIG_MAP_TYPE, POLICY_TYPE):
        assert one(run, type_token).urn in job.dependencies, type_token
    assert job.custom_timeouts == {"create": "420s", "update": "420s"}  # the deadline + a margin
    assert "pulumi.com/skipAwait" not in job.inputs["metadata"].get("annotations", {})


def test_the_password_reaches_only_the_secret_and_only_as_a_pulumi_secret() -> None:
    run = component_run("kubernetes-job")
    secret = one(run, SECRET_TYPE)

    assert secret.inputs["stringData"] == SECRET  # the engine's wire form was a secret
    assert PASSWORD_SENTINEL not in json.dumps([r.inputs for r in run.resources])
    assert PASSWORD_SENTINEL not in json.dumps(run.outputs)
    (container,) = one(run, JOB_TYPE).inputs["spec"]["template"]["spec"]["containers"]
    assert "PGPASSWORD" not in {e["name"] for e in container["env"]}
    volumes = one(run, JOB_TYPE).inputs["spec"]["template"]["spec"]["volumes"]
    mounted = [v["secret"]["secretName"] for v in volumes if "secret" in v]
    assert mounted == [secret.inputs["metadata"]["name"]]


def test_the_network_policy_fences_the_jobs_pods_to_dns_and_the_vpc_on_the_cluster_port() -> None:
    run = component_run("kubernetes-job")
    policy = one(run, POLICY_TYPE).inputs["spec"]
    pod_labels = one(run, JOB_TYPE).inputs["spec"]["template"]["metadata"]["labels"]

    assert ("aws:ec2/getVpc:getVpc", {"id": "vpc-0123456789abcdef0", "region": "us-west-2"}) in [
        (token, args) for token, args in run.invokes
    ]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert (policy["policyTypes"], policy["ingress"]) == (["Ingress", "Egress"], [])
    assert policy["egress"][1] == {
        "to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}, {"ipBlock": {"cidr": "100.64.0.0/16"}}],
        "ports": [{"protocol": "TCP", "port": 5439}],
    }


def test_the_kubernetes_provider_uses_the_eks_cluster() -> None:
    provider = one(component_run("kubernetes-job"), "pulumi:providers:kubernetes")
    config = json.loads(provider.inputs["kubeconfig"])

    assert config["users"][0]["user"]["exec"]["args"][3] == "xpander-eks"
    assert provider.inputs["clusterIdentifier"] == "xpander-eks"


def test_kubernetes_job_offers_the_sql_that_destroy_leaves_to_run() -> None:
    cleanup = component_run("kubernetes-job").outputs["cleanupSql"]

    assert f'REVOKE USAGE ON SCHEMA "public", "sales" FROM "{USER}";' in cleanup
    assert f'\n-- DROP USER "{USER}";\n' in cleanup  # commented out: only for a created user


def test_the_master_password_stays_a_pulumi_secret() -> None:
    plain_invoke_result = pulumi.Output.from_input(json.dumps({"password": PASSWORD_SENTINEL}))

    password = master_password_secret(plain_invoke_result)

    assert sync_await(password.is_secret()) is True
    assert sync_await(password.future()) == PASSWORD_SENTINEL


# --- inside the stack ----------------------------------------------------------------------------


def test_the_stack_fences_the_job_to_the_eks_clusters_vpc_or_the_configured_one() -> None:
    by_default = run_stack(userProvisioner="kubernetes-job")
    configured = run_stack(userProvisioner="kubernetes-job", vpcId="vpc-0fedcba9876543210")

    def vpc_lookups(run: ProgramRun) -> list[Any]:
        return [args["id"] for token, args in run.invokes if token == "aws:ec2/getVpc:getVpc"]

    assert vpc_lookups(by_default) == ["vpc-<eks-cluster-vpc>"]
    assert vpc_lookups(configured) == ["vpc-0fedcba9876543210"]
    assert one(by_default, POLICY_TYPE).inputs["spec"]["egress"][1]["to"] == [
        {"ipBlock": {"cidr": "<vpc-cidr>"}}
    ]


def test_an_image_pinned_by_digest_reaches_the_job_unchanged() -> None:
    pinned = "postgres:15-alpine@sha256:" + "0123456789abcdef" * 4
    run = run_stack(userProvisioner="kubernetes-job", psqlImage=pinned)

    (container,) = one(run, JOB_TYPE).inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == pinned
