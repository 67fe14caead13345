"""The program under Pulumi's mock engine: what it registers, how it is wired, what it exports."""

from __future__ import annotations

import pulumi
import pytest

from model.outputs import COMPUTED, PLACEHOLDER_ACCOUNT_ID, SECRET, UI_FIELDS
from tests.stack_helpers import DEV_CONFIG, document, of_type, one, run_stack
from tools.engine import PlannedResource, run_program

ROLE_ARN = f"arn:aws:iam::{PLACEHOLDER_ACCOUNT_ID}:role/xpander-redshift-access"
EKS_SG = "sg-<eks-cluster-security-group>"


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def ancestors_and_dependencies(run, resource: PlannedResource) -> set[str]:
    """Every URN this resource waits for, directly or through what it waits for."""
    by_urn = {r.urn: r for r in run.resources}
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        todo.extend(by_urn[urn].dependencies if urn in by_urn else [])
    return seen


def test_one_component_per_concern_and_every_child_parented_to_its_component(dev):
    components = {r.type: r for r in dev.resources if not r.custom}
    assert set(components) >= {
        "xpander:redshift:XpanderRedshift",
        "xpander:redshift:RedshiftNetwork",
        "xpander:redshift:RedshiftCluster",
        "xpander:redshift:XpanderAccessRole",
        "xpander:redshift:PodIdentityBinding",
    }
    parent_of = {
        "aws:redshift/subnetGroup:SubnetGroup": "RedshiftNetwork",
        "aws:ec2/securityGroup:SecurityGroup": "RedshiftNetwork",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "RedshiftNetwork",
        "aws:redshift/cluster:Cluster": "RedshiftCluster",
        "aws:iam/role:Role": "XpanderAccessRole",
        "aws:iam/rolePolicy:RolePolicy": "XpanderAccessRole",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation": "PodIdentityBinding",
    }
    for type_token, component in parent_of.items():
        for resource in of_type(dev, type_token):
            expected = components[f"xpander:redshift:{component}"].urn
            assert resource.parent == expected, resource.name
    for component in components.values():
        if component.type != "xpander:redshift:XpanderRedshift":
            assert component.parent == components["xpander:redshift:XpanderRedshift"].urn


def test_subnet_group_uses_the_private_subnets(dev):
    group = one(dev, "aws:redshift/subnetGroup:SubnetGroup")
    assert group.inputs["name"] == "xpander-redshift"
    # Pulumi.dev.yaml's privateSubnetIds (a YAML list, handed on as a list).
    assert group.inputs["subnetIds"] == ["subnet-0a3f5c7e9b1d24680", "subnet-0b4e6d8f0a2c35791"]


def test_security_group_has_no_inline_rules_and_lives_in_the_eks_vpc(dev):
    group = one(dev, "aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == "vpc-<eks-cluster-vpc>"
    assert "ingress" not in group.inputs and "egress" not in group.inputs


def test_the_given_vpc_wins_over_the_eks_clusters():
    run = run_stack(vpcId="vpc-0123456789abcdef0")
    assert (
        one(run, "aws:ec2/securityGroup:SecurityGroup").inputs["vpcId"] == "vpc-0123456789abcdef0"
    )


def test_ingress_is_the_cluster_port_from_the_eks_cluster_security_group_only(dev):
    (rule,) = of_type(dev, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["ipProtocol"] == "tcp"
    assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 5439
    assert rule.inputs["referencedSecurityGroupId"] == EKS_SG
    assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)
    assert not of_type(dev, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


def test_ingress_follows_the_configured_port():
    run = run_stack(port="8192")
    rule = one(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 8192
    assert one(run, "aws:redshift/cluster:Cluster").inputs["port"] == 8192


def test_cluster_is_private_encrypted_with_a_managed_master_password(dev):
    cluster = one(dev, "aws:redshift/cluster:Cluster")
    inputs = cluster.inputs
    assert inputs["publiclyAccessible"] is False
    assert inputs["encrypted"] == "true"  # pulumi-aws 7 declares it a string
    assert inputs["manageMasterPassword"] is True
    assert "masterPassword" not in inputs and "masterPasswordWo" not in inputs
    assert inputs["clusterIdentifier"] == "xpander-redshift"
    assert inputs["databaseName"] == "xpander_demo"
    assert inputs["masterUsername"] == "xpander_admin"
    assert inputs["clusterType"] == "single-node"
    assert "numberOfNodes" not in inputs
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"] == "xpander-redshift-final-snapshot"
    assert cluster.protect is True
    assert inputs["vpcSecurityGroupIds"] == [COMPUTED]
    assert inputs["clusterSubnetGroupName"] == "xpander-redshift"


def test_cluster_options_follow_the_settings():
    key = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    run = run_stack(skipFinalSnapshot="true", protect="false", numberOfNodes="3", kmsKeyId=key)
    cluster = one(run, "aws:redshift/cluster:Cluster")
    assert cluster.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in cluster.inputs
    assert cluster.protect is False
    assert (cluster.inputs["clusterType"], cluster.inputs["numberOfNodes"]) == ("multi-node", 3)
    assert cluster.inputs["kmsKeyId"] == key


def test_node_type_is_what_the_region_offers_from_the_preference_list():
    asked = {}

    def orderable(args):
        asked.update(args)
        return {"nodeType": "ra3.xlplus", "clusterType": args["clusterType"], "id": "x"}

    run = run_stack(
        invokes={"aws:redshift/getOrderableCluster:getOrderableCluster": orderable},
        nodeTypes='["ra3.large", "ra3.xlplus"]',
    )
    assert asked == {
        "clusterType": "single-node",
        "preferredNodeTypes": ["ra3.large", "ra3.xlplus"],
    }
    assert one(run, "aws:redshift/cluster:Cluster").inputs["nodeType"] == "ra3.xlplus"
    assert run.outputs["nodeType"] == "ra3.xlplus"


def test_role_has_its_explicit_name_path_and_the_trust_policy(dev):
    role = one(dev, "aws:iam/role:Role")
    assert role.inputs["name"] == "xpander-redshift-access"
    assert role.inputs["path"] == "/"
    trust = document(role, "assumeRolePolicy")
    assert [s["Sid"] for s in trust["Statement"]] == [
        "PodIdentity",
        "CrossAccountWithExternalId",
        "SelfAssume",
    ]
    assert trust["Statement"][2]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == ROLE_ARN
    # One way of managing the role's policies: RolePolicy resources only.
    assert "inlinePolicies" not in role.inputs and "managedPolicyArns" not in role.inputs


def test_three_inline_policies_attach_to_the_role_by_name(dev):
    policies = {p.inputs["name"]: p for p in of_type(dev, "aws:iam/rolePolicy:RolePolicy")}
    assert sorted(policies) == ["RedshiftCredentials", "RedshiftDataAPI", "SelfAssumeAndTagSession"]
    role = one(dev, "aws:iam/role:Role")
    for policy in policies.values():
        assert policy.inputs["role"] == "xpander-redshift-access"
        assert role.urn in policy.dependencies
    statement = document(policies["SelfAssumeAndTagSession"], "policy")["Statement"][0]
    assert statement["Resource"] == ROLE_ARN


def test_role_policies_and_pod_identity_do_not_wait_for_the_cluster(dev):
    cluster_urns = {r.urn for r in dev.resources if r.type.startswith("aws:redshift/cluster")}
    for type_token in (
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    ):
        for resource in of_type(dev, type_token):
            assert not cluster_urns & ancestors_and_dependencies(dev, resource), resource.name


def test_pod_identity_association_binds_the_service_account_to_the_role(dev):
    association = one(dev, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["clusterName"] == "xpander-dev"
    assert association.inputs["namespace"] == "xpander"
    assert association.inputs["serviceAccount"] == "xpander"
    assert association.inputs["roleArn"] == COMPUTED  # the role's ARN output
    assert one(dev, "aws:iam/role:Role").urn in association.dependencies
    assert not of_type(dev, "aws:eks/addon:Addon")


def test_pod_identity_agent_is_installed_only_when_asked():
    run = run_stack(installPodIdentityAgent="true", namespace="agents", serviceAccount="gateway")
    addon = one(run, "aws:eks/addon:Addon")
    assert addon.inputs["addonName"] == "eks-pod-identity-agent"
    assert addon.inputs["clusterName"] == "xpander-dev"
    association = one(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert addon.urn in association.dependencies
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "agents",
        "gateway",
    )


def test_connector_config_has_exactly_the_ui_fields(dev):
    config = dev.outputs["connectorConfig"]
    assert list(config) == list(UI_FIELDS)
    assert config == {
        "ClusterNamePath": "xpander-redshift",
        "DatabaseNamePath": "xpander_demo",
        "CatalogNamePath": "pg_catalog.svv_all_columns",
        "IAM Role ARN": ROLE_ARN,
        "Region": "us-west-2",
        "Auth Method": "IAM",
    }


def test_stack_outputs_everything_the_ui_and_the_verifier_need(dev):
    assert {
        "connectorConfig",
        "clusterEndpoint",
        "clusterPort",
        "roleArn",
        "databaseUser",
        "masterPasswordSecretArn",
        "securityGroupId",
        "subnetGroupName",
    } <= set(dev.outputs)
    assert dev.outputs["databaseUser"] == "IAMR:xpander-redshift-access"
    assert dev.outputs["clusterEndpoint"] == COMPUTED
    assert dev.outputs["clusterPort"] == 5439


def test_arns_use_the_partition_and_account_from_the_invokes(dev):
    tokens = [token for token, _ in dev.invokes]
    assert "aws:index/getPartition:getPartition" in tokens
    assert "aws:index/getCallerIdentity:getCallerIdentity" in tokens
    gov = run_stack(
        invokes={
            "aws:index/getPartition:getPartition": lambda a: {"partition": "aws-us-gov", "id": "x"}
        },
        **{"aws:region": "us-gov-west-1"},
    )
    trust = one(gov, "aws:iam/role:Role").inputs["assumeRolePolicy"]
    assert "arn:aws-us-gov:iam::" in trust and "arn:aws:" not in trust


def test_tags_reach_every_taggable_resource():
    run = run_stack(tags='{"team": "data"}')
    taggable = [r for r in run.resources if r.custom and "tags" in r.inputs]
    assert len(taggable) >= 5
    assert all(r.inputs["tags"]["team"] == "data" for r in taggable)


def test_invalid_settings_stop_the_program_before_any_resource():
    config = {**DEV_CONFIG, "xpander-redshift:clusterIdentifier": "Bad--Name"}
    with pytest.raises(pulumi.RunError, match="xpander-redshift:clusterIdentifier"):
        run_program(config)


def password_fields(value, path=""):
    """(path, value) of every field whose name mentions a password, anywhere in a document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if "password" in key.lower():
                yield f"{path}.{key}", item
            yield from password_fields(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from password_fields(item, f"{path}[{index}]")


def test_no_password_reaches_a_resource_input_or_output_in_plain_text(dev):
    found = list(
        password_fields({"resources": [r.inputs for r in dev.resources], "outputs": dev.outputs})
    )
    assert found, "the cluster's manageMasterPassword at least is expected"
    for path, value in found:
        # a switch, the secret's ARN (not the secret), or a value the engine keeps secret
        assert value is True or value in (COMPUTED, SECRET) or str(value).startswith("arn:"), path
