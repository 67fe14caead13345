"""XpanderAccessRole: the IAM role xpander assumes and its three inline policies (steps 4-5)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from model.iam_documents import POLICY_NAMES, RoleDocuments
from model.tags import resource_tags

# A chained session (the gateway's self-assume) lasts at most one hour whatever this says.
MAX_SESSION_SECONDS = 3600


def policy_json(documents: pulumi.Output[RoleDocuments], name: str) -> pulumi.Output[str]:
    return documents.apply(lambda d: json.dumps(d.policies[name]))


@dataclass(frozen=True)
class XpanderAccessRoleArgs:
    role_name: str
    role_path: str
    # Built from settings, the account and the partition: known before any resource exists.
    documents: pulumi.Output[RoleDocuments]
    tags: Mapping[str, str] = field(default_factory=dict)
    # The trust policy carries the ExternalId: a secret in state when organizationId is one.
    trust_is_secret: bool = False


class XpanderAccessRole(pulumi.ComponentResource):
    """The role with an explicit name and path, so its ARN is known before it is created."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: XpanderAccessRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:XpanderAccessRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        trust = args.documents.apply(lambda d: json.dumps(d.trust_policy))
        if args.trust_is_secret:
            trust = pulumi.Output.secret(trust)
        # Only aws.iam.RolePolicy manages this role's policies: inline_policies and
        # managed_policy_arns are left unset so the Role never fights the RolePolicy resources.
        role = aws.iam.Role(
            f"{name}",
            name=args.role_name,
            path=args.role_path,
            description="xpander agents: Redshift Data API with IAM authentication",
            assume_role_policy=trust,
            max_session_duration=MAX_SESSION_SECONDS,
            tags=resource_tags(args.tags, args.role_name),
            opts=child,
        )
        for policy_name in POLICY_NAMES:
            aws.iam.RolePolicy(
                f"{name}-{policy_name}",
                name=policy_name,
                role=role.name,
                policy=policy_json(args.documents, policy_name),
                opts=child,
            )

        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"roleArn": self.role_arn, "roleName": self.role_name})
