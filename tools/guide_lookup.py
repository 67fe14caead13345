"""AWS lookups for the import ids of a guide-built deployment that are not names.

Each call is one documented read (botocore's service models): EC2 DescribeSecurityGroups and
DescribeSecurityGroupRules, EKS DescribeCluster and ListPodIdentityAssociations, Redshift
DescribeClusters. Nothing is changed. A lookup that finds nothing, or more than one, fails naming
what it looked for: no placeholder is ever written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.verify_aws import aws_config


class GuideLookupError(Exception):
    """A lookup found nothing, several things, or AWS refused: the message says which."""


@dataclass(frozen=True)
class EksFacts:
    vpc_id: str
    cluster_security_group_id: str


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    description: str
    vpc_id: str


ClientFactory = Callable[[str], Any]


class GuideLookup:
    """The reads, over clients from `clients(service)`."""

    def __init__(self, clients: ClientFactory) -> None:
        self._clients = clients

    def _call(self, service: str, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._clients(service), operation)(**params)
        except ClientError as err:
            error = err.response.get("Error", {})
            raise GuideLookupError(
                f"{service} {operation}: {error.get('Code', 'error')}: {error.get('Message', '')}"
            ) from None
        except BotoCoreError as err:
            raise GuideLookupError(f"{service} {operation}: {err}") from None

    def eks_cluster(self, name: str) -> EksFacts:
        config = self._call("eks", "describe_cluster", name=name)["cluster"]["resourcesVpcConfig"]
        return EksFacts(config["vpcId"], config["clusterSecurityGroupId"])

    def security_group(self, name: str, vpc_id: str) -> SecurityGroup:
        groups = self._call(
            "ec2",
            "describe_security_groups",
            Filters=[
                {"Name": "group-name", "Values": [name]},
                {"Name": "vpc-id", "Values": [vpc_id]},
            ],
        )["SecurityGroups"]
        if len(groups) != 1:
            raise GuideLookupError(
                f"{len(groups)} security groups named {name!r} in {vpc_id}: "
                "expected the guide's one"
            )
        group = groups[0]
        return SecurityGroup(group["GroupId"], group.get("Description", ""), group["VpcId"])

    def ingress_rule_id(self, group_id: str, protocol: str, port: int, source: str) -> str:
        """The group's rule that lets `source`'s members reach `port` (the guide's step 2)."""
        rules = self._call(
            "ec2",
            "describe_security_group_rules",
            Filters=[{"Name": "group-id", "Values": [group_id]}],
        )["SecurityGroupRules"]
        found = [
            rule["SecurityGroupRuleId"]
            for rule in rules
            if not rule.get("IsEgress")
            and rule.get("IpProtocol") == protocol
            and rule.get("FromPort") == port
            and rule.get("ToPort") == port
            and rule.get("ReferencedGroupInfo", {}).get("GroupId") == source
        ]
        if len(found) != 1:
            raise GuideLookupError(
                f"{len(found)} ingress rules of {group_id} for {protocol} port {port} from "
                f"{source}: expected the guide's one"
            )
        return str(found[0])

    def association_id(self, cluster: str, namespace: str, service_account: str) -> str:
        found = self._call(
            "eks",
            "list_pod_identity_associations",
            clusterName=cluster,
            namespace=namespace,
            serviceAccount=service_account,
        )["associations"]
        if len(found) != 1:
            raise GuideLookupError(
                f"{len(found)} pod identity associations for {namespace}/{service_account} in "
                f"EKS cluster {cluster}: expected the guide's one"
            )
        return str(found[0]["associationId"])

    def cluster_facts(self, identifier: str) -> dict[str, Any]:
        """The cluster's inputs that decide whether adopting it replaces it, as the plan names
        them (pulumi-aws's Cluster inputs)."""
        (cluster,) = self._call("redshift", "describe_clusters", ClusterIdentifier=identifier)[
            "Clusters"
        ]
        nodes = int(cluster.get("NumberOfNodes", 1))
        facts: dict[str, Any] = {
            "clusterIdentifier": cluster["ClusterIdentifier"],
            "databaseName": cluster.get("DBName"),
            "masterUsername": cluster.get("MasterUsername"),
            "nodeType": cluster.get("NodeType"),
            "clusterType": "single-node" if nodes == 1 else "multi-node",
            "port": cluster.get("Endpoint", {}).get("Port"),
            "clusterSubnetGroupName": cluster.get("ClusterSubnetGroupName"),
            "publiclyAccessible": cluster.get("PubliclyAccessible"),
            "encrypted": "true" if cluster.get("Encrypted") else "false",
        }
        if nodes > 1:
            facts["numberOfNodes"] = nodes
        return {k: v for k, v in facts.items() if v is not None}


def boto3_lookup(region: str | None) -> GuideLookup:
    """Lookups with the usual AWS credentials and endpoint (AWS_PROFILE, AWS_ENDPOINT_URL), in
    the stack's region (`aws:region`; else AWS_REGION or the profile's), each call bounded
    (tools/verify_aws.py aws_config)."""
    import boto3  # noqa: PLC0415 - only --lookup needs it

    session = boto3.session.Session(region_name=region)
    config = aws_config()
    made: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if service not in made:
            made[service] = session.client(service, config=config)
        return made[service]

    return GuideLookup(clients)
