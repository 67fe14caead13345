"""RedshiftCluster: the private, encrypted cluster with a managed master password (guide step 3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from model.tags import resource_tags


def final_snapshot_identifier(cluster_identifier: str) -> str:
    """Name of the snapshot taken when the cluster is deleted (valid for any valid identifier)."""
    return f"{cluster_identifier}-final-snapshot"


@dataclass(frozen=True)
class RedshiftClusterArgs:
    cluster_identifier: str
    database_name: str
    master_username: str
    preferred_node_types: Sequence[str]
    cluster_type: str  # "single-node" | "multi-node"
    number_of_nodes: int
    port: int
    subnet_group_name: pulumi.Input[str]
    security_group_ids: Sequence[pulumi.Input[str]]
    kms_key_id: str | None = None
    skip_final_snapshot: bool = False
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class RedshiftCluster(pulumi.ComponentResource):
    """Never public, always encrypted; the master password lives only in Secrets Manager."""

    cluster_identifier: pulumi.Output[str]
    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    node_type: pulumi.Output[str]
    master_password_secret_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RedshiftClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:RedshiftCluster", name, None, opts)

        # DC2 can no longer be ordered for new clusters; ask AWS which preferred type it offers
        # here instead of hard-coding one (the guide's dc2.large fails at create time).
        orderable = aws.redshift.get_orderable_cluster_output(
            cluster_type=args.cluster_type,
            preferred_node_types=list(args.preferred_node_types),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )

        multi_node = args.cluster_type == "multi-node"
        cluster = aws.redshift.Cluster(
            f"{name}",
            cluster_identifier=args.cluster_identifier,
            database_name=args.database_name,
            master_username=args.master_username,
            manage_master_password=True,
            node_type=orderable.node_type,
            cluster_type=args.cluster_type,
            number_of_nodes=args.number_of_nodes if multi_node else None,
            port=args.port,
            cluster_subnet_group_name=args.subnet_group_name,
            vpc_security_group_ids=list(args.security_group_ids),
            publicly_accessible=False,
            encrypted=True,
            kms_key_id=args.kms_key_id,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=(
                None
                if args.skip_final_snapshot
                else final_snapshot_identifier(args.cluster_identifier)
            ),
            tags=resource_tags(args.tags, args.cluster_identifier),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

        self.cluster_identifier = cluster.cluster_identifier
        self.arn = cluster.arn
        self.endpoint = cluster.dns_name
        self.port = cluster.port
        self.node_type = cluster.node_type
        self.master_password_secret_arn = cluster.master_password_secret_arn
        self.register_outputs(
            {
                "clusterIdentifier": self.cluster_identifier,
                "arn": self.arn,
                "endpoint": self.endpoint,
                "port": self.port,
                "nodeType": self.node_type,
                "masterPasswordSecretArn": self.master_password_secret_arn,
            }
        )
