"""RedshiftNetwork: where the cluster lives and who may reach it (guide steps 1 and 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from model import cluster_baseline as baseline
from model.config_keys import KEYS_BY_NAME
from model.tags import resource_tags
from model.validators import multi_az_zones_problem

MIN_ZONES = 2  # Security Hub Redshift.16: a subnet group spans at least two zones


_SUBNETS = KEYS_BY_NAME["privateSubnetIds"].full_name  # the setting the messages name


def subnets_in_vpc(
    subnets: Sequence[Any], expected_vpc: str, *, multi_az: bool = False
) -> list[str]:
    """The subnet ids, once each is known to be in the cluster's VPC; a warning for one zone.

    A subnet group in another VPC than the security group fails only at cluster create, minutes
    in; a subnet group in one Availability Zone is what Security Hub's Redshift.16 reports.
    RunError: the engine prints the message alone, without a Python traceback.
    """
    stray = [s for s in subnets if s.vpc_id != expected_vpc]
    if stray:
        raise pulumi.RunError(
            f"{_SUBNETS}: "
            + "; ".join(f"subnet {s.id} is in VPC {s.vpc_id}" for s in stray)
            + f", not in {expected_vpc} (the EKS cluster's VPC, or vpcId): name private subnets "
            "of that VPC"
        )
    zones = sorted({s.availability_zone for s in subnets})
    if multi_az and (broken := multi_az_zones_problem(zones)):
        raise pulumi.RunError(f"{KEYS_BY_NAME['multiAz'].full_name}: {broken}")
    if len(zones) < MIN_ZONES:
        pulumi.log.warn(
            f"{_SUBNETS}: all subnets are in one Availability Zone "
            f"({', '.join(zones)}); add a subnet of another zone so the cluster can be relocated "
            "or made Multi-AZ (AWS Security Hub control Redshift.16)"
        )
    return [s.id for s in subnets]


def ingress_from(
    name: str,
    *,
    security_group_id: pulumi.Input[str],
    source_security_group_id: pulumi.Input[str],
    port: pulumi.Input[int],
    tags: Mapping[str, str],
    description: str,
    parent: pulumi.Resource,
) -> aws.vpc.SecurityGroupIngressRule:
    """One rule that opens the cluster: its port, TCP, from one security group, never a CIDR."""
    return aws.vpc.SecurityGroupIngressRule(
        name,
        security_group_id=security_group_id,
        referenced_security_group_id=source_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def ingress_rules(
    name: str,
    *,
    security_group_id: pulumi.Input[str],
    sources: Sequence[str],
    eks_cluster_security_group_id: pulumi.Input[str],
    port: pulumi.Input[int],
    tags: Mapping[str, str],
    tag_name: str,
    parent: pulumi.Resource,
) -> None:
    """One rule per source group; with none given, the EKS cluster security group's one rule.

    Each given group's rule is named after the group, so adding or removing one never touches
    the others' rules.
    """
    named: list[tuple[str, pulumi.Input[str], str]] = (
        [
            (source, source, "Redshift port from a group of sourceSecurityGroupIds")
            for source in sources
        ]
        if sources
        else [
            (
                "eks",
                eks_cluster_security_group_id,
                "Redshift port from the EKS cluster security group",
            )
        ]
    )
    for suffix, source, description in named:
        ingress_from(
            f"{name}-ingress-from-{suffix}",
            security_group_id=security_group_id,
            source_security_group_id=source,
            port=port,
            tags=resource_tags(tags, f"{tag_name}-from-{suffix}"),
            description=description,
            parent=parent,
        )


@dataclass(frozen=True)
class RedshiftNetworkArgs:
    base_name: str  # the cluster identifier; AWS names derive from it
    subnet_ids: Sequence[str]
    vpc_id: pulumi.Input[str]
    port: int
    # The EKS cluster security group: the source when `source_security_group_ids` is empty.
    eks_cluster_security_group_id: pulumi.Input[str]
    source_security_group_ids: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    multi_az: bool = False  # the subnets must then cover two Availability Zones


class RedshiftNetwork(pulumi.ComponentResource):
    """A subnet group in the EKS nodes' private subnets and a security group open only to EKS."""

    subnet_group_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: RedshiftNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:RedshiftNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)

        # Looked up at preview, so a subnet of another VPC fails before anything is created.
        subnets = [aws.ec2.get_subnet_output(id=subnet, opts=invoke) for subnet in args.subnet_ids]
        checked_subnet_ids = pulumi.Output.all(args.vpc_id, *subnets).apply(
            lambda found: subnets_in_vpc(found[1:], found[0], multi_az=args.multi_az)
        )
        subnet_group = aws.redshift.SubnetGroup(
            f"{name}-subnets",
            name=baseline.subnet_group_name(args.base_name),
            description="xpander Redshift private subnets",
            subnet_ids=checked_subnet_ids,
            tags=resource_tags(args.tags, baseline.subnet_group_name(args.base_name)),
            opts=child,
        )

        # No inline rules: ingress is a separate rule resource, and with no egress rule the
        # provider removes AWS's default allow-all egress (the cluster only answers connections).
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=baseline.security_group_name(args.base_name),
            description="Redshift SG - EKS cluster access only",
            vpc_id=args.vpc_id,
            tags=resource_tags(args.tags, baseline.security_group_name(args.base_name)),
            opts=child,
        )

        ingress_rules(
            name,
            security_group_id=security_group.id,
            sources=args.source_security_group_ids,
            eks_cluster_security_group_id=args.eks_cluster_security_group_id,
            port=args.port,
            tags=args.tags,
            tag_name=args.base_name,
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
    eks_cluster_security_group_id: pulumi.Input[str]
    source_security_group_ids: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class ExistingClusterAccess(pulumi.ComponentResource):
    """For a cluster the stack does not own: only ingress rules, only into the group named."""

    def __init__(
        self, name: str, args: ExistingClusterAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:ExistingClusterAccess", name, None, opts)
        ingress_rules(
            name,
            security_group_id=args.security_group_id,
            sources=args.source_security_group_ids,
            eks_cluster_security_group_id=args.eks_cluster_security_group_id,
            port=args.port,
            tags=args.tags,
            tag_name=name,
            parent=self,
        )
        self.register_outputs({})
