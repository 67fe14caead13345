"""The deploying identity's grant on an existing cluster's customer managed key (issue 21).

The `data-api` database user runs ExecuteStatement as the deploying identity, and on a cluster
encrypted with a customer managed key "Amazon Redshift creates a grant on your behalf by sending a
CreateGrant request to AWS KMS" (Amazon Redshift Management Guide, "Using AWS KMS with the Amazon
Redshift Data API"). The statements expected are written out, not built.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from model import deployer_policy as dp
from model.config_keys import Settings
from tests.stack_helpers import EXAMPLE_SETTINGS

ACCOUNT = "444455556666"
KMS_ARN = "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EXISTING = dataclasses.replace(
    EXAMPLE_SETTINGS, existing_cluster_identifier="analytics", private_subnet_ids=()
)
REGION_KEYS = "arn:aws:kms:us-west-2:*:key/*"


def kms_statements(settings: Settings, role: str = dp.DEPLOY) -> list[dict[str, Any]]:
    return [
        s
        for doc in dp.documents(settings, ACCOUNT, role)
        for s in doc["Statement"]
        if any(a.startswith("kms:") for a in s["Action"])
    ]


def test_an_existing_clusters_data_api_user_gets_only_service_made_grants_on_its_regions_keys():
    # Redshift creates a grant on the cluster's key as the caller of ExecuteStatement (Amazon
    # Redshift Management Guide, "Using AWS KMS with the Amazon Redshift Data API"); the key is
    # known only to the lookup at deploy time.
    assert kms_statements(EXISTING) == [
        {
            "Sid": "ExistingClusterKeyDescribe",
            "Effect": "Allow",
            "Action": ["kms:DescribeKey"],
            "Resource": [REGION_KEYS],
            "Condition": {"Bool": {"aws:ViaAWSService": "true"}},
        },
        {
            "Sid": "ExistingClusterKeyGrant",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": [REGION_KEYS],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


@pytest.mark.parametrize(
    ("settings", "role"),
    [
        (EXISTING, dp.PREVIEW),  # the preview reads no database user
        (dataclasses.replace(EXISTING, user_provisioner="kubernetes-job"), dp.DEPLOY),  # psql
    ],
    ids=["preview", "kubernetes-job"],
)
def test_no_data_api_call_no_grant_on_an_existing_cluster_s_key(settings, role):
    assert kms_statements(settings, role) == []


def test_a_new_cluster_s_key_grant_stays_the_unconditioned_one_on_kms_key_id():
    # CreateCluster's dependent actions already give CreateGrant and DescribeKey on kmsKeyId.
    [statement] = kms_statements(dataclasses.replace(EXAMPLE_SETTINGS, kms_key_id=KMS_ARN))
    assert statement["Resource"] == [KMS_ARN]
    assert {"kms:CreateGrant", "kms:DescribeKey"} <= set(statement["Action"])
    assert "Condition" not in statement
