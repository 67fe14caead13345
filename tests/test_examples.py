"""The stack files in examples/ are acceptance tests: each renders under the offline plan with exit
status 0 (valid settings, no mandatory policy violated) and shows what it is the example of.
Expected values are the literals written in the example files."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools import plan as plan_tool

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHECKED = {"minimal", "prod", "existing-cluster", "connectors", "govcloud"}
CLUSTER = "aws:redshift/cluster:Cluster"
NETWORK_AND_CLUSTER = (
    "aws:redshift/subnetGroup:SubnetGroup",
    "aws:ec2/securityGroup:SecurityGroup",
    CLUSTER,
)


def example(name: str) -> Path:
    return EXAMPLES / f"Pulumi.{name}.yaml"


@functools.cache
def rendered(name: str) -> tuple[int, dict[str, Any]]:
    """`python -m tools.plan --config-file examples/Pulumi.<name>.yaml --json`: status and plan."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = plan_tool.main(["--config-file", str(example(name)), "--json"])
    return status, json.loads(out.getvalue() or "null")


def plan_of(name: str) -> dict[str, Any]:
    status, plan = rendered(name)
    assert status == 0
    return plan


def of_type(plan: dict[str, Any], type_token: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_token]


def test_every_example_has_its_own_check():
    found = {p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in EXAMPLES.glob("*.yaml")}
    assert found == CHECKED


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_example_renders_with_exit_status_0(name):
    status, plan = rendered(name)
    assert status == 0
    assert plan["stack"] == name
    assert plan["policyViolations"] == []


def test_minimal_takes_the_defaults():
    plan = plan_of("minimal")
    (cluster,) = of_type(plan, CLUSTER)
    assert cluster["protect"] is True
    assert cluster["inputs"]["clusterIdentifier"] == "xpander-redshift"
    assert cluster["inputs"]["clusterType"] == "single-node"
    assert cluster["inputs"]["nodeType"] == "ra3.large"
    assert cluster["inputs"]["finalSnapshotIdentifier"] == "xpander-redshift-final-snapshot"
    assert plan["outputs"]["databaseUser"] == "IAMR:xpander-redshift-access"
    assert plan["outputs"]["connectorConfig"]["Region"] == "us-east-1"


def test_prod_is_a_two_node_cluster_with_its_own_key_port_path_and_tags():
    plan = plan_of("prod")
    (cluster,) = of_type(plan, CLUSTER)
    inputs = cluster["inputs"]
    assert (inputs["clusterType"], inputs["numberOfNodes"]) == ("multi-node", 2)
    assert inputs["nodeType"] == "ra3.xlplus"
    assert inputs["port"] == 5441
    assert inputs["kmsKeyId"].endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert inputs["encrypted"] == "true"  # pulumi-aws 7 declares it a string
    assert inputs["publiclyAccessible"] is False
    assert inputs["finalSnapshotIdentifier"] == "xpander-prod-final-snapshot"
    assert cluster["protect"] is True
    assert inputs["tags"]["cost-center"] == "4711"
    (role,) = of_type(plan, "aws:iam/role:Role")
    assert role["inputs"]["path"] == "/xpander/"
    assert plan["outputs"]["connectorConfig"]["IAM Role ARN"].endswith(
        ":role/xpander/xpander-redshift-prod"
    )
    (user,) = of_type(plan, "pulumi-python:dynamic/xpander:IamrUser")
    assert user["inputs"]["schemas"] == ["public", "sales"]


def test_existing_cluster_creates_no_cluster_and_opens_only_the_named_group():
    plan = plan_of("existing-cluster")
    for type_token in NETWORK_AND_CLUSTER:
        assert of_type(plan, type_token) == [], type_token
    (ingress,) = of_type(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert ingress["inputs"]["securityGroupId"] == "sg-0abc1234def567890"
    assert plan["outputs"]["connectorConfig"]["ClusterNamePath"] == "analytics-main"
    assert plan["outputs"]["masterPasswordSecretArn"].endswith(
        ":secret:redshift/analytics-main/admin-AbCdEf"
    )


def test_connectors_get_one_role_identity_and_user_each_on_one_cluster():
    plan = plan_of("connectors")
    assert len(of_type(plan, CLUSTER)) == 1
    roles = {r["inputs"]["name"] for r in of_type(plan, "aws:iam/role:Role")}
    assert roles == {
        "xpander-redshift-sales",
        "xpander-redshift-support",
        "xpander-redshift-partner",
    }
    bindings = {
        (r["inputs"]["namespace"], r["inputs"]["serviceAccount"])
        for r in of_type(plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    assert bindings == {
        ("xpander", "sales-agent"),
        ("xpander", "support-agent"),
        ("partner", "xpander"),
    }
    users = {
        r["inputs"]["user"]: r["inputs"]["schemas"]
        for r in of_type(plan, "pulumi-python:dynamic/xpander:IamrUser")
    }
    assert users == {
        "IAMR:xpander-redshift-sales": ["sales"],
        "IAMR:xpander-redshift-support": ["support", "public"],
        "IAMR:xpander-redshift-partner": ["shared"],
    }
    per_connector = plan["outputs"]["connectors"]
    assert set(per_connector) == {"sales", "support", "partner"}
    assert per_connector["partner"]["organizationId"] == "org-77aa88bb99"
    assert per_connector["sales"]["organizationId"] == "org-4f1c9a2e7b"  # the top-level value


def test_govcloud_arns_use_the_aws_us_gov_partition():
    plan = plan_of("govcloud")
    text = json.dumps({"resources": plan["resources"], "outputs": plan["outputs"]})
    partitions = set(re.findall(r"\barn:([a-z-]+):", text))
    assert partitions == {"aws-us-gov"}
    assert plan["outputs"]["connectorConfig"]["IAM Role ARN"].startswith("arn:aws-us-gov:iam::")
