"""Crafted stacks for KMS grants from a role pods can assume (issue 21), judged org-wide with the
other cases by `tests/test_policy_org_wide.py`.

The stack's own grant on a customer managed key is CreateGrant with kms:GrantIsForAWSResource true:
"only when an AWS service integrated with AWS KMS calls the operation on the user's behalf. This
policy condition doesn't allow the user to call these grant operations directly" (AWS KMS Developer
Guide, "AWS KMS condition keys"). A CreateGrant the role may call itself lets it give itself, or
anyone, Decrypt with the key: `assumable-roles-cannot-escalate`.
"""

from __future__ import annotations

from typing import Any

from policies import stack_view as types
from tests.policy_stacks import ACCOUNT, Resource, allow, base, case, with_xpander_policy

ESCALATE = "assumable-roles-cannot-escalate"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/0000aaaa-00aa-00aa-00aa-000000000000"


def grant(resource: Any = KEY, **condition: Any) -> dict[str, Any]:
    extra = {"Condition": condition} if condition else {}
    return allow("kms:CreateGrant", resource, **extra)


def on_encrypted_cluster(*statements: dict[str, Any]) -> list[Resource]:
    """The stack with its cluster encrypted with KEY, and the xpander role's extra statements."""
    stack = with_xpander_policy(*statements) if statements else base()
    [cluster] = [r for r in stack if r["type"] == types.CLUSTER]
    cluster["inputs"]["kmsKeyId"] = KEY
    return stack


# --- what the stack itself grants, and other ways a service asks for the grant: allowed -----------


@case("kms-the-stacks-own-grant-on-the-cluster-key", set())
def _own_grant() -> list[Resource]:
    return on_encrypted_cluster(
        grant(Bool={"kms:GrantIsForAWSResource": "true"}),
        allow("kms:DescribeKey", KEY, Condition={"Bool": {"aws:ViaAWSService": "true"}}),
    )


@case("kms-grant-for-aws-resources-on-every-key", set())
def _service_grants_anywhere() -> list[Resource]:
    # Wide, but only what a service creates for the role: no grant of its own choosing.
    return on_encrypted_cluster(grant("*", Bool={"kms:GrantIsForAWSResource": True}))


@case("kms-grant-only-via-redshift", set())
def _via_redshift() -> list[Resource]:
    return on_encrypted_cluster(
        grant(StringEquals={"kms:ViaService": "redshift.us-west-2.amazonaws.com"})
    )


@case("kms-grant-on-every-key-taken-away-by-a-deny", set())
def _denied() -> list[Resource]:
    return on_encrypted_cluster(
        grant("*"), {"Effect": "Deny", "Action": "kms:CreateGrant", "Resource": "*"}
    )


@case("kms-grant-on-another-key-of-an-unencrypted-stack", set())
def _describe_only() -> list[Resource]:
    return with_xpander_policy(allow("kms:DescribeKey", OTHER_KEY))


# --- a grant the role may create itself: refused -----------------------------------------------


@case("kms-create-grant-on-every-key", {ESCALATE})
def _every_key() -> list[Resource]:
    return with_xpander_policy(grant("*"))


@case("kms-create-grant-on-the-cluster-key", {ESCALATE})
def _cluster_key() -> list[Resource]:
    return on_encrypted_cluster(grant(KEY))


@case("kms-star-on-every-key-of-the-account", {ESCALATE})
def _kms_star() -> list[Resource]:
    return with_xpander_policy(allow("kms:*", f"arn:aws:kms:*:{ACCOUNT}:key/*"))


@case("kms-grant-for-aws-resource-if-exists", {ESCALATE})
def _if_exists() -> list[Resource]:
    # Passes when the key is missing, as it may be on a call the role makes itself.
    return on_encrypted_cluster(grant(BoolIfExists={"kms:GrantIsForAWSResource": "true"}))


@case("kms-grant-when-not-for-aws-resource", {ESCALATE})
def _not_for_aws() -> list[Resource]:
    return on_encrypted_cluster(grant(Bool={"kms:GrantIsForAWSResource": "false"}))


@case("kms-grant-on-the-cluster-key-by-a-condition-on-something-else", {ESCALATE})
def _other_condition() -> list[Resource]:
    # A condition the role may meet (its own account) does not make the grant a service's.
    return on_encrypted_cluster(grant(KEY, StringEquals={"kms:CallerAccount": ACCOUNT}))
