"""XpanderRedshift: the whole guide as one component; the only place that knows every part.

Wiring rule: ARNs known from settings (role, cluster, dbname) are built from the settings, the
account and the partition, so the role, its policies and the pod identity association are created
while the cluster is; only the database user waits for the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam_documents
from components.access_role import XpanderAccessRole, XpanderAccessRoleArgs
from components.cluster import RedshiftCluster, RedshiftClusterArgs
from components.connector import connector_config
from components.network import RedshiftNetwork, RedshiftNetworkArgs
from components.pod_identity import PodIdentityBinding, PodIdentityBindingArgs
from components.settings import Settings


@dataclass(frozen=True)
class XpanderRedshiftArgs:
    settings: Settings


class XpanderRedshift(pulumi.ComponentResource):
    """Network, cluster, role, pod identity, database user, and the xpander connector config."""

    connector_config: pulumi.Output[dict[str, str]]
    stack_outputs: dict[str, Any]

    def __init__(
        self, name: str, args: XpanderRedshiftArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:XpanderRedshift", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)

        partition = aws.get_partition_output(opts=invoke).partition
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        eks = aws.eks.get_cluster_output(name=s.eks_cluster_name, opts=invoke)
        documents = pulumi.Output.all(partition, account_id).apply(
            lambda pa: iam_documents.role_documents(s, partition=pa[0], account_id=pa[1])
        )

        network = RedshiftNetwork(
            f"{name}-network",
            RedshiftNetworkArgs(
                base_name=s.cluster_identifier,
                subnet_ids=s.private_subnet_ids,
                vpc_id=s.vpc_id or eks.vpc_config.vpc_id,
                port=s.port,
                source_security_group_id=eks.vpc_config.cluster_security_group_id,
                tags=s.tags,
            ),
            opts=child,
        )
        cluster = RedshiftCluster(
            f"{name}-cluster",
            RedshiftClusterArgs(
                cluster_identifier=s.cluster_identifier,
                database_name=s.database_name,
                master_username=s.master_username,
                preferred_node_types=s.node_types,
                cluster_type=s.cluster_type,
                number_of_nodes=s.number_of_nodes,
                port=s.port,
                subnet_group_name=network.subnet_group_name,
                security_group_ids=[network.security_group_id],
                kms_key_id=s.kms_key_id,
                skip_final_snapshot=s.skip_final_snapshot,
                protect=s.protect,
                tags=s.tags,
            ),
            opts=child,
        )
        role = XpanderAccessRole(
            f"{name}-role",
            XpanderAccessRoleArgs(
                role_name=s.role_name, role_path=s.role_path, documents=documents, tags=s.tags
            ),
            opts=child,
        )
        PodIdentityBinding(
            f"{name}-pod-identity",
            PodIdentityBindingArgs(
                eks_cluster_name=s.eks_cluster_name,
                namespace=s.namespace,
                service_account=s.service_account,
                role_arn=role.role_arn,
                install_agent=s.install_pod_identity_agent,
                tags=s.tags,
            ),
            opts=child,
        )

        role_arn = documents.apply(lambda d: d.role_arn)
        self.connector_config = role_arn.apply(
            lambda arn: connector_config(
                cluster_identifier=s.cluster_identifier,
                database_name=s.database_name,
                catalog_name_path=s.catalog_name_path,
                role_arn=arn,
                region=s.region,
            )
        )
        self.stack_outputs = {
            "connectorConfig": self.connector_config,
            "clusterEndpoint": cluster.endpoint,
            "clusterPort": cluster.port,
            "roleArn": role.role_arn,
            "databaseUser": s.database_user,
            "organizationId": s.organization_id,
            "masterPasswordSecretArn": cluster.master_password_secret_arn,
            "securityGroupId": network.security_group_id,
            "subnetGroupName": network.subnet_group_name,
            "nodeType": cluster.node_type,
        }
        self.register_outputs(self.stack_outputs)
