"""The one place ARNs are built: partition-aware, from names the settings already know.

Building ARNs from settings (not from resource outputs) is what lets the role, its policies and the
pod identity association be created while the 5-10 minute cluster create is still running.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AwsContext:
    """Where the stack deploys: partition and account from the invokes, region from settings."""

    partition: str
    account_id: str
    region: str


def account_root_arn(partition: str, account_id: str) -> str:
    return f"arn:{partition}:iam::{account_id}:root"


def role_arn(ctx: AwsContext, role_path: str, role_name: str) -> str:
    # IAM role ARNs carry the path between "role" and the name: role/<path-without-leading-/><name>.
    return f"arn:{ctx.partition}:iam::{ctx.account_id}:role{role_path}{role_name}"


def _redshift(ctx: AwsContext, resource: str) -> str:
    return f"arn:{ctx.partition}:redshift:{ctx.region}:{ctx.account_id}:{resource}"


def cluster_arn(ctx: AwsContext, cluster_identifier: str) -> str:
    return _redshift(ctx, f"cluster:{cluster_identifier}")


def dbname_arn(ctx: AwsContext, cluster_identifier: str, database: str) -> str:
    return _redshift(ctx, f"dbname:{cluster_identifier}/{database}")


def dbuser_arn(ctx: AwsContext, cluster_identifier: str, db_user: str) -> str:
    return _redshift(ctx, f"dbuser:{cluster_identifier}/{db_user}")


def kms_key_arn(ctx: AwsContext, key: str) -> str:
    """A key given as its ARN stays as it is; a bare key id is a key of this account and Region."""
    return (
        key
        if key.startswith("arn:")
        else f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account_id}:key/{key}"
    )
