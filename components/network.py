"""RedshiftNetwork: where the cluster lives and who may reach it (guide steps 1 and 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from model.tags import resource_tags


def ingress_from_eks(
    name: str,
    *,
    security_group_id: pulumi.Input[str],
    source_security_group_id: pulumi.Input[str],
    port: pulumi.Input[int],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.vpc.SecurityGroupIngressRule:
    """The one rule that opens the cluster: its port, TCP, from the EKS cluster security group."""
    return aws.vpc.SecurityGroupIngressRule(
        name,
        security_group_id=security_group_id,
        referenced_security_group_id=source_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description="Redshift port from the EKS cluster security group",
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class RedshiftNetworkArgs:
    base_name: str  # the cluster identifier; AWS names derive from it
    subnet_ids: Sequence[str]
    vpc_id: pulumi.Input[str]
    port: int
    # The EKS cluster security group: the only source allowed to reach the cluster port.
    source_security_group_id: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)


class RedshiftNetwork(pulumi.ComponentResource):
    """A subnet group in the EKS nodes' private subnets and a security group open only to EKS."""

    subnet_group_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: RedshiftNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:RedshiftNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        subnet_group = aws.redshift.SubnetGroup(
            f"{name}-subnets",
            name=args.base_name,
            description="xpander Redshift private subnets",
            subnet_ids=list(args.subnet_ids),
            tags=resource_tags(args.tags, args.base_name),
            opts=child,
        )

        # No inline rules: ingress is a separate rule resource, and with no egress rule the
        # provider removes AWS's default allow-all egress (the cluster only answers connections).
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=f"{args.base_name}-sg",
            description="Redshift SG - EKS cluster access only",
            vpc_id=args.vpc_id,
            tags=resource_tags(args.tags, f"{args.base_name}-sg"),
            opts=child,
        )

        ingress_from_eks(
            f"{name}-ingress-from-eks",
            security_group_id=security_group.id,
            source_security_group_id=args.source_security_group_id,
            port=args.port,
            tags=resource_tags(args.tags, f"{args.base_name}-from-eks"),
            parent=self,
        )

        self.subnet_group_name = subnet_group.name
        self.security_group_id = security_group.id
        self.register_outputs(
            {"subnetGroupName": self.subnet_group_name, "securityGroupId": self.security_group_id}
        )


@dataclass(frozen=True)
class ExistingClusterAccessArgs:
    security_group_id: pulumi.Input[str]  # a group of the existing cluster, named by the user
    port: pulumi.Input[int]  # the existing cluster's port
    source_security_group_id: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)


class ExistingClusterAccess(pulumi.ComponentResource):
    """For a cluster the stack does not own: only the ingress rule, only into the group named."""

    def __init__(
        self, name: str, args: ExistingClusterAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:ExistingClusterAccess", name, None, opts)
        ingress_from_eks(
            f"{name}-ingress-from-eks",
            security_group_id=args.security_group_id,
            source_security_group_id=args.source_security_group_id,
            port=args.port,
            tags=resource_tags(args.tags, f"{name}-from-eks"),
            parent=self,
        )
        self.register_outputs({})
