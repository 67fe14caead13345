"""Each setting AWS or Kubernetes bounds: at the limit accepted, one past refused by the gate in a
line that names the key, the limit and where it is stated. The limits are written here as the
sources state them (botocore's service models in the venv, the Kubernetes and S3 naming rules,
the Redshift guides), not read from the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from model.settings import SettingsError, parse_settings

BASE: dict[str, Any] = {
    "organizationId": "org-4f1c9a2e7b",
    "eksClusterName": "xpander-dev",
    "privateSubnetIds": ["subnet-0a3f5c7e9b1d24680"],
}
S3 = {"auditLogging": "s3", "auditLogBucket": "audit-logs"}
OWN_NAME = {"tags": {"Name": "xpander"}}  # keeps the built Name tags out of a key's own limit


def subnets(count: int) -> list[str]:
    return [f"subnet-{i:017x}" for i in range(count)]


def groups(count: int) -> list[str]:
    return [f"sg-{i:017x}" for i in range(count)]


# (key, settings at the limit, settings one past it, the limit as the line states it, source)
LIMITS: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    (
        "clusterIdentifier",
        {"clusterIdentifier": "c" * 63},
        {"clusterIdentifier": "c" * 64},
        "1-63",
        "botocore redshift CreateCluster ClusterIdentifier",
    ),
    (
        "databaseName",
        {"databaseName": "d" * 64},
        {"databaseName": "d" * 65},
        "1-64",
        "botocore redshift CreateCluster DBName",
    ),
    (
        "masterUsername",
        {"masterUsername": "m" * 127},
        {"masterUsername": "m" * 128},
        "127 bytes",
        "Names and identifiers",
    ),
    (
        "roleName",
        {"roleName": "r" * 64},
        {"roleName": "r" * 65},
        "1-64",
        "botocore iam roleNameType",
    ),
    (
        "rolePath",
        {"rolePath": "/" + "p" * 510 + "/"},
        {"rolePath": "/" + "p" * 511 + "/"},
        "512",
        "botocore iam pathType",
    ),
    (
        "namespace",
        {"namespace": "n" * 63},
        {"namespace": "n" * 64},
        "1-63",
        "RFC 1123 label",
    ),
    (
        "serviceAccount",
        {"serviceAccount": "s" * 253, **OWN_NAME},
        {"serviceAccount": "s" * 254, **OWN_NAME},
        "253",
        "RFC 1123 subdomain",
    ),
    (
        "eksClusterName",
        {"eksClusterName": "e" * 100},
        {"eksClusterName": "e" * 101},
        "1-100",
        "botocore eks ClusterName",
    ),
    (
        "organizationId",
        {"organizationId": "o" * 1224},
        {"organizationId": "o" * 1225},
        "2-1224",
        "botocore sts externalIdType",
    ),
    (
        "tags.k",
        {"tags": {"k": "v" * 256}},
        {"tags": {"k": "v" * 257}},
        "256",
        "botocore iam tagValueType",
    ),
    (
        "tags",
        {"tags": {f"k{i}": "v" for i in range(49)}},
        {"tags": {f"k{i}": "v" for i in range(50)}},
        "50 tags a resource",
        "botocore iam tagListType",
    ),
    (
        "numberOfNodes",
        {"numberOfNodes": 100, "nodeTypes": ["ra3.16xlarge"]},
        {"numberOfNodes": 101, "nodeTypes": ["ra3.16xlarge"]},
        "between 1 and 100",
        "botocore redshift CreateCluster NumberOfNodes",
    ),
    (
        "numberOfNodes",
        {"numberOfNodes": 16, "nodeTypes": ["ra3.large"]},
        {"numberOfNodes": 17, "nodeTypes": ["ra3.large"]},
        "at most 16 nodes",
        "node type details",
    ),
    (
        "automatedSnapshotRetentionDays",
        {"automatedSnapshotRetentionDays": 35},
        {"automatedSnapshotRetentionDays": 36},
        "between 1 and 35",
        "botocore redshift CreateCluster AutomatedSnapshotRetentionPeriod",
    ),
    ("port", {"port": 5455}, {"port": 5456}, "5431-5455", "botocore redshift CreateCluster Port"),
    ("port", {"port": 8215}, {"port": 8216}, "8191-8215", "botocore redshift CreateCluster Port"),
    (
        "port",
        {"port": 65535, "nodeTypes": ["dc2.large"]},
        {"port": 65536, "nodeTypes": ["dc2.large"]},
        "1150 and 65535",
        "botocore redshift CreateCluster Port",
    ),
    (
        "port",
        {"port": 1150, "nodeTypes": ["dc2.large"]},
        {"port": 1149, "nodeTypes": ["dc2.large"]},
        "1150 and 65535",
        "botocore redshift CreateCluster Port",
    ),
    (
        "privateSubnetIds",
        {"privateSubnetIds": subnets(20)},
        {"privateSubnetIds": subnets(21)},
        "at most 20",
        "botocore redshift CreateClusterSubnetGroup SubnetIds",
    ),
    (
        "sourceSecurityGroupIds",
        {"sourceSecurityGroupIds": groups(60)},
        {"sourceSecurityGroupIds": groups(61)},
        "at most 60",
        "Amazon VPC quotas",
    ),
    (
        "credentialsDbUsers",
        {"credentialsDbUsers": ["u" * 64]},
        {"credentialsDbUsers": ["u" * 65]},
        "1-64",
        "botocore redshift GetClusterCredentials DbUser",
    ),
    (
        "grantSchemas",
        {"grantSchemas": ["s" * 127]},
        {"grantSchemas": ["s" * 128]},
        "127 bytes",
        "Names and identifiers",
    ),
    (
        "auditLogBucket",
        {**S3, "auditLogBucket": "b" * 63},
        {**S3, "auditLogBucket": "b" * 64},
        "3-63",
        "S3 User Guide, bucket naming rules",
    ),
    (
        "auditLogS3KeyPrefix",
        {**S3, "auditLogS3KeyPrefix": "p" * 256},
        {**S3, "auditLogS3KeyPrefix": "p" * 257},
        "at most 256",
        "botocore redshift S3KeyPrefixValue",
    ),
    (
        "auditLogRetentionDays",
        {"auditLogRetentionDays": 3653},
        {"auditLogRetentionDays": 3654},
        "3653",
        "botocore logs PutRetentionPolicy retentionInDays",
    ),
    (
        "psqlImage",
        {"psqlImage": "i" * 255 + ":15"},
        {"psqlImage": "i" * 256 + ":15"},
        "at most 255",
        "distribution/reference",
    ),
    (
        "psqlImage",
        {"psqlImage": "postgres:" + "t" * 128},
        {"psqlImage": "postgres:" + "t" * 129},
        "at most 128",
        "distribution/reference",
    ),
]


def gate(**settings: Any) -> Any:
    return parse_settings({**BASE, **settings}, region="us-west-2")


@pytest.mark.parametrize(
    ("key", "at_limit", "past_limit", "limit", "source"),
    LIMITS,
    ids=[f"{key}-{limit}" for key, _, _, limit, _ in LIMITS],
)
def test_at_the_limit_accepted_one_past_refused_naming_key_limit_and_source(
    key: str, at_limit: dict[str, Any], past_limit: dict[str, Any], limit: str, source: str
) -> None:
    gate(**at_limit)
    with pytest.raises(SettingsError) as err:
        gate(**past_limit)
    assert len(err.value.problems) == 1, err.value.problems
    line = err.value.problems[0]
    assert line.startswith(f"xpander-redshift:{key} = "), line
    assert limit in line and source in line, line


# Rules without a number: refused naming the key and the source.
RULES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("tags.aws:team", {"tags": {"awsteam": "x"}}, {"tags": {"aws:team": "x"}}, "aws:"),
    ("tags.AWS:team", {"tags": {"AWS-team": "x"}}, {"tags": {"AWS:team": "x"}}, "aws:"),
    (
        "kmsKeyId",
        {"kmsKeyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd"},
        {"kmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd"},
        "Management Guide, database encryption",
    ),
]


@pytest.mark.parametrize(("key", "accepted", "refused", "source"), RULES)
def test_a_rule_without_a_number_names_key_and_source(
    key: str, accepted: dict[str, Any], refused: dict[str, Any], source: str
) -> None:
    gate(**accepted)
    with pytest.raises(SettingsError) as err:
        gate(**refused)
    line = err.value.problems[0]
    assert line.startswith(f"xpander-redshift:{key} = "), line
    assert source in line, line
