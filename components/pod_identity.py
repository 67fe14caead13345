"""PodIdentityBinding: the xpander service account gets the role via EKS Pod Identity (step 7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from model.tags import resource_tags

POD_IDENTITY_AGENT_ADDON = "eks-pod-identity-agent"


@dataclass(frozen=True)
class PodIdentityBindingArgs:
    eks_cluster_name: str
    namespace: str
    service_account: str
    role_arn: pulumi.Input[str]
    install_agent: bool = False
    # Where the add-on was registered before, when it moved here from another binding.
    agent_aliases: Sequence[pulumi.Alias] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class PodIdentityBinding(pulumi.ComponentResource):
    """One association (namespace, service account) -> role; the agent add-on only when asked."""

    association_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PodIdentityBindingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:PodIdentityBinding", name, None, opts)
        depends_on: list[pulumi.Resource] = []
        if args.install_agent:
            depends_on.append(
                aws.eks.Addon(
                    f"{name}-agent",
                    cluster_name=args.eks_cluster_name,
                    addon_name=POD_IDENTITY_AGENT_ADDON,
                    # Keep the agent on the cluster if this stack goes: other workloads may use it.
                    preserve=True,
                    tags=resource_tags(args.tags, POD_IDENTITY_AGENT_ADDON),
                    opts=pulumi.ResourceOptions(
                        parent=self, aliases=list(args.agent_aliases) or None
                    ),
                )
            )

        association = aws.eks.PodIdentityAssociation(
            f"{name}",
            cluster_name=args.eks_cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            role_arn=args.role_arn,
            tags=resource_tags(args.tags, f"{args.namespace}/{args.service_account}"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )

        self.association_id = association.association_id
        self.register_outputs({"associationId": self.association_id})
