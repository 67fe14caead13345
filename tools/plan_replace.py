"""Which input changes replace a resource instead of updating it, per resource type.

pulumi-aws wraps the Terraform AWS provider: an input marked `ForceNew` (SDK resources) or
`RequiresReplace` (framework resources) there is a replacement in `pulumi up`. Sources, in
hashicorp/terraform-provider-aws:
- internal/service/redshift/cluster.go: cluster_identifier, cluster_subnet_group_name,
  master_username, snapshot_identifier, snapshot_arn, snapshot_cluster_identifier are ForceNew.
  database_name is not, but Redshift cannot rename the database (`ModifyCluster` has no DBName
  parameter in botocore's redshift model), so a change of it is refused here as well.
- internal/service/redshift/subnet_group.go: name; parameter_group.go: name, family, description.
- internal/service/ec2/vpc_security_group.go: name, name_prefix, description, vpc_id.
- internal/service/ec2/vpc_security_group_ingress_rule.go: security_group_id.
- internal/service/iam/role.go: name, name_prefix, path; role_policy.go: name, name_prefix, role.
- internal/service/eks/pod_identity_association.go: cluster_name, namespace, service_account
  (RequiresReplace); addon.go: cluster_name, addon_name.
- internal/service/logs/group.go: name, name_prefix; redshift/logging.go: cluster_identifier.
The database user's own provider replaces on providers/iamr_user/props.py REPLACE_KEYS.
pulumi-kubernetes replaces any object whose `.metadata.name` or `.metadata.namespace` changes
(pulumi/pulumi-kubernetes provider/pkg/provider/forcenew.go, metadataForceNewProperties): the
`kubernetes-job` provisioner's objects. A key with dots is a path inside an input.
"""

from __future__ import annotations

from collections.abc import Mapping

from providers.iamr_user.props import REPLACE_KEYS

CLUSTER_TYPE = "aws:redshift/cluster:Cluster"

REPLACED_ON_CHANGE: Mapping[str, frozenset[str]] = {
    CLUSTER_TYPE: frozenset(
        {
            "clusterIdentifier",
            "clusterSubnetGroupName",
            "masterUsername",
            "snapshotIdentifier",
            "snapshotArn",
            "snapshotClusterIdentifier",
        }
    ),
    "aws:redshift/subnetGroup:SubnetGroup": frozenset({"name"}),
    "aws:redshift/parameterGroup:ParameterGroup": frozenset({"name", "family", "description"}),
    "aws:redshift/logging:Logging": frozenset({"clusterIdentifier"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset(
        {"name", "namePrefix", "description", "vpcId"}
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": frozenset({"securityGroupId"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": frozenset(
        {"clusterName", "namespace", "serviceAccount"}
    ),
    "aws:eks/addon:Addon": frozenset({"clusterName", "addonName"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix"}),
    "pulumi-python:dynamic/xpander:IamrUser": frozenset(REPLACE_KEYS),
    **{
        kind: frozenset({"metadata.name", "metadata.namespace"})
        for kind in (
            "kubernetes:batch/v1:Job",
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:Secret",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        )
    },
}

# Inputs changed in place, but not quietly: a resize (ModifyCluster NodeType, NumberOfNodes,
# ClusterType: read-only for its duration) or a new port (the cluster restarts).
DISRUPTIVE_IN_PLACE: Mapping[str, frozenset[str]] = {
    CLUSTER_TYPE: frozenset({"nodeType", "numberOfNodes", "clusterType", "port"})
}

# Inputs `pulumi up` cannot change at all: the provider would record a change AWS never makes.
UNCHANGEABLE: Mapping[str, frozenset[str]] = {CLUSTER_TYPE: frozenset({"databaseName"})}


def replacing_inputs(resource_type: str, changed: set[str]) -> tuple[str, ...]:
    """The inputs that replace (or cannot change) the resource, among the changed input paths
    (`name`, `tags.Name`, `subnetIds[0]`): a key matches its own path and every path under it."""
    forcing = REPLACED_ON_CHANGE.get(resource_type, frozenset()) | UNCHANGEABLE.get(
        resource_type, frozenset()
    )
    return tuple(
        sorted(
            key
            for key in forcing
            if any(path == key or path.startswith((f"{key}.", f"{key}[")) for path in changed)
        )
    )


# The setting behind each cluster input that replaces it (or cannot change), and why.
_FORCE_NEW = (
    "Redshift cannot change it on a running cluster (ForceNew in terraform-provider-aws "
    "internal/service/redshift/cluster.go): `pulumi up` would delete the cluster and create a "
    "new, empty one"
)
CLUSTER_INPUT_SETTINGS: Mapping[str, tuple[str, str]] = {
    "clusterIdentifier": ("clusterIdentifier", _FORCE_NEW),
    "masterUsername": ("masterUsername", _FORCE_NEW),
    "clusterSubnetGroupName": (
        "clusterIdentifier",
        "the subnet group is named after clusterIdentifier; " + _FORCE_NEW,
    ),
    "databaseName": (
        "databaseName",
        "Redshift cannot rename a cluster's database (ModifyCluster has no DBName): the role, "
        "the user and the connector would point at a database that does not exist",
    ),
}
