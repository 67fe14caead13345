"""Bring your own cluster, and several connectors on one cluster, under the mock engine."""

from __future__ import annotations

import json

import pulumi
import pytest

from tests.stack_helpers import of_type, one, run_stack

EXISTING = "analytics-prod"
ADMIN_SECRET = "arn:aws:secretsmanager:us-west-2:111122223333:secret:analytics-admin-AbCdEf"
NETWORK_AND_CLUSTER = (
    "aws:redshift/subnetGroup:SubnetGroup",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:redshift/cluster:Cluster",
    "xpander:redshift:RedshiftNetwork",
    "xpander:redshift:RedshiftCluster",
)
PER_CONNECTOR = (
    "aws:iam/role:Role",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    "xpander:redshift:IamrDatabaseUser",
)


def user_resource(run, component_name: str):
    """The dynamic IAMR-user resource under the named IamrDatabaseUser component."""
    component = next(r for r in run.resources if r.name == component_name)
    (found,) = [r for r in run.resources if r.parent == component.urn and r.custom]
    return found


def connectors(count: int) -> str:
    return json.dumps(
        [
            {"name": f"c{i}", "roleName": f"xpander-c{i}", "namespace": f"team-{i}"}
            for i in range(count)
        ]
    )


def test_existing_cluster_creates_no_network_or_cluster_and_looks_the_cluster_up():
    run = run_stack(existingClusterIdentifier=EXISTING)
    for type_token in NETWORK_AND_CLUSTER:
        assert not of_type(run, type_token), type_token
    assert not of_type(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    lookups = [args for token, args in run.invokes if token == "aws:redshift/getCluster:getCluster"]
    assert lookups == [{"clusterIdentifier": EXISTING}]
    assert run.outputs["connectorConfig"]["ClusterNamePath"] == EXISTING
    assert run.outputs["clusterEndpoint"] == f"{EXISTING}.<existing-cluster-endpoint>"
    assert run.outputs["clusterPort"] == 5439
    role_policy = next(
        r
        for r in of_type(run, "aws:iam/rolePolicy:RolePolicy")
        if r.inputs["name"] == "RedshiftCredentials"
    )
    assert f":cluster:{EXISTING}" in role_policy.inputs["policy"]


def test_existing_cluster_ingress_only_into_the_named_security_group():
    run = run_stack(
        existingClusterIdentifier=EXISTING, existingSecurityGroupId="sg-0123456789abcdef0"
    )
    rule = one(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["securityGroupId"] == "sg-0123456789abcdef0"
    assert rule.inputs["referencedSecurityGroupId"] == "sg-<eks-cluster-security-group>"
    assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 5439  # the looked-up port
    assert not of_type(run, "aws:ec2/securityGroup:SecurityGroup")


def test_an_existing_security_group_the_cluster_does_not_use_is_refused():
    def lookup(args):
        return {
            "clusterIdentifier": args["clusterIdentifier"],
            "port": 5439,
            "endpoint": "h",
            "vpcSecurityGroupIds": ["sg-0123456789abcdef0"],
            "id": args["clusterIdentifier"],
        }

    with pytest.raises(pulumi.RunError, match="is not a security group of cluster 'analytics-prod"):
        run_stack(
            invokes={"aws:redshift/getCluster:getCluster": lookup},
            existingClusterIdentifier=EXISTING,
            existingSecurityGroupId="sg-0fedcba9876543210",
        )


def test_existing_cluster_user_authenticates_with_the_admin_secret_or_the_master_db_user():
    with_secret = run_stack(existingClusterIdentifier=EXISTING, existingAdminSecretArn=ADMIN_SECRET)
    user = user_resource(with_secret, "xpander-user")
    assert user.inputs["secretArn"] == ADMIN_SECRET
    assert "dbUser" not in user.inputs
    # Without a secret, DbUser is the cluster's own master user as the lookup reports it (the
    # mock engine answers "<existing-master-user>"), whatever masterUsername says.
    without = run_stack(existingClusterIdentifier=EXISTING, masterUsername="analytics_admin")
    user = user_resource(without, "xpander-user")
    assert user.inputs["dbUser"] == "<existing-master-user>"
    assert "secretArn" not in user.inputs


def test_destroying_the_stack_never_touches_an_existing_cluster():
    """Only resources the stack registered are deleted by `pulumi destroy`: none is the cluster."""
    run = run_stack(
        existingClusterIdentifier=EXISTING, existingSecurityGroupId="sg-0123456789abcdef0"
    )
    custom = sorted({r.type for r in run.resources if r.custom})
    assert custom == sorted(
        {
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            user_resource(run, "xpander-user").type,
        }
    )


def test_the_database_user_is_deleted_before_what_it_depends_on():
    """Pulumi deletes in reverse dependency order: the user (DROP USER) goes before the cluster."""
    run = run_stack()
    cluster = one(run, "aws:redshift/cluster:Cluster")
    assert cluster.urn in user_resource(run, "xpander-user").dependencies


# 1: a list of one is not the top-level connector; 12: names c1 and c10, c11 share a prefix. How the
# plan's time grows with the count (1, 10, 50) is `make bench`'s to report (scripts/bench.py).
@pytest.mark.parametrize("count", [1, 2, 5, 12])
def test_n_connectors_make_n_of_each_per_connector_resource_without_name_collisions(count):
    run = run_stack(connectors=connectors(count))
    for type_token in PER_CONNECTOR:
        assert len(of_type(run, type_token)) == count, type_token
    assert len(of_type(run, "aws:iam/rolePolicy:RolePolicy")) == 3 * count
    assert len(of_type(run, "aws:redshift/cluster:Cluster")) == 1
    urns = [r.urn for r in run.resources]
    assert len(urns) == len(set(urns))
    roles = sorted(r.inputs["name"] for r in of_type(run, "aws:iam/role:Role"))
    assert roles == sorted(f"xpander-c{i}" for i in range(count))


def test_each_connector_gets_its_own_outputs_and_trust():
    entries = [
        {
            "name": "sales",
            "roleName": "xpander-sales",
            "organizationId": "org-sales",
            "grantSchemas": ["sales"],
        },
        {"name": "ops", "roleName": "xpander-ops", "namespace": "ops"},
    ]
    run = run_stack(connectors=json.dumps(entries))
    outputs = run.outputs["connectors"]
    assert sorted(outputs) == ["ops", "sales"]
    assert outputs["sales"]["connectorConfig"]["IAM Role ARN"].endswith(":role/xpander-sales")
    assert outputs["sales"]["databaseUser"] == "IAMR:xpander-sales"
    assert outputs["ops"]["organizationId"] == "org-4f1c9a2e7b"
    assert "connectorConfig" not in run.outputs
    trust = {
        r.inputs["name"]: r.inputs["assumeRolePolicy"] for r in of_type(run, "aws:iam/role:Role")
    }
    assert '"sts:ExternalId": "org-sales"' in trust["xpander-sales"]
    assert '"sts:ExternalId": "org-4f1c9a2e7b"' in trust["xpander-ops"]
    sales_user = user_resource(run, "xpander-sales-user")
    assert sales_user.inputs["schemas"] == ["sales"]
    associations = {
        (r.inputs["namespace"], r.inputs["serviceAccount"])
        for r in of_type(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    assert associations == {("xpander", "xpander"), ("ops", "xpander")}


def test_the_pod_identity_agent_is_installed_once_for_all_connectors():
    run = run_stack(connectors=connectors(3), installPodIdentityAgent="true")
    assert len(of_type(run, "aws:eks/addon:Addon")) == 1


def test_the_job_network_policy_takes_an_existing_clusters_own_vpc():
    run = run_stack(
        existingClusterIdentifier=EXISTING,
        existingAdminSecretArn=ADMIN_SECRET,
        userProvisioner="kubernetes-job",
    )
    looked_up = [args for token, args in run.invokes if token == "aws:ec2/getVpc:getVpc"]
    assert looked_up and all(a["id"] == "vpc-<existing-cluster-vpc>" for a in looked_up)
