"""Whose AWS account a dynamic provider's calls reach: one rule and one wording for both providers.

Pulumi's dynamic providers (providers/iamr_user, providers/static_parameters) call AWS with boto3's
default credential chain of the process running pulumi (AWS_PROFILE, the environment, an instance
or OIDC role), not with the aws provider's `aws:profile` or assume-role. A stack run from a shell
whose default credentials are another account's would reach that account's resource of the same
name. Each provider therefore takes the stack's cluster ARN (pulumi-aws Cluster.arn, as the aws
provider's credentials know it) as input `clusterArn` and compares the account it names with the
account that answers: the cluster's own ARN (StaticParameters) or the caller's identity (IamrUser).
Pure: no pulumi, no boto3.
"""

from __future__ import annotations

from typing import Any

CLUSTER_ARN = "clusterArn"  # the input both providers take


def region_and_account(arn: Any) -> tuple[str, str] | None:
    """(region, account) of an ARN `arn:<partition>:<service>:<region>:<account>:...`; None when
    `arn` is not one (absent, unknown, or without an account)."""
    parts = arn.split(":") if isinstance(arn, str) else []
    return (parts[3], parts[4]) if len(parts) > 5 and parts[0] == "arn" and parts[4] else None


def account_of(arn: Any) -> str | None:
    """The account an ARN names (None when `arn` is not one)."""
    found = region_and_account(arn)
    return found[1] if found else None


def not_the_providers_credentials(expected_account: str, nothing_done: str) -> str:
    """Why another account answered, what did not happen, and how to run with the right one."""
    return (
        "the AWS credentials of the process running pulumi (boto3's default chain: AWS_PROFILE, "
        "the environment, an instance or OIDC role) are not those of the aws provider "
        f"(aws:profile, or an assume-role of its own). {nothing_done} Run pulumi with credentials "
        f"of account {expected_account}: set AWS_PROFILE to the profile the stack's aws:profile "
        "names, or assume the deploy role in the shell that runs pulumi."
    )


def wrong_caller(
    caller_arn: str, caller_account: str, key: str, expected_arn: str, nothing_done: str
) -> str:
    """sts:GetCallerIdentity names another account than the stack's ARN (its input `key`)."""
    expected = account_of(expected_arn) or "?"
    return (
        f"The AWS credentials this provider calls with are of account {caller_account} "
        f"({caller_arn}), but the stack's cluster is of account {expected} ({key} "
        f"{expected_arn}): " + not_the_providers_credentials(expected, nothing_done)
    )
