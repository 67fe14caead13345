"""AWS's limits on the values the program builds or hands on, checked by the gate before anything is
registered: at the limit accepted, one past refused naming the key, the limit and its source.

Limits: tag values 256 (botocore eks/iam/logs TagValue), a role trust policy 2,048 and a role's
inline policies 10,240 characters without white space (IAM User Guide, IAM and AWS STS quotas),
EnableLogging's S3KeyPrefix 256 (botocore redshift S3KeyPrefixValue), a KMS key of the cluster's
region and partition, an admin secret of the stack's partition, node types whose range starts at
two nodes, and image references in distribution/reference's grammar.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pulumi
import pytest

from components.network import subnets_in_vpc
from model import aws_limits, iam_documents
from model.settings import SettingsError, parse_settings

BASE: dict[str, Any] = {
    "organizationId": "org-4f1c9a2e7b",
    "eksClusterName": "xpander-dev",
    "privateSubnetIds": ["subnet-0a3f5c7e9b1d24680"],
}


def gate(region: str = "us-west-2", **settings: Any):
    return parse_settings({**BASE, **settings}, region=region)


def refused(region: str = "us-west-2", **settings: Any) -> str:
    with pytest.raises(SettingsError) as err:
        gate(region, **settings)
    return "\n".join(err.value.problems)


# --- tags ----------------------------------------------------------------------------------------


def test_the_pod_identity_name_tag_from_namespace_and_service_account_fits_256() -> None:
    # namespace (a DNS label, <= 63) + "/" + serviceAccount: 63 + 1 + 192 = 256.
    gate(namespace="n" * 63, serviceAccount="s" * 192)
    problem = refused(namespace="n" * 63, serviceAccount="s" * 193)
    assert "namespace/serviceAccount" in problem
    assert "257 characters" in problem and "256" in problem and "TagValue" in problem


def test_a_connectors_pod_identity_tag_is_named_by_its_connector() -> None:
    connectors = [{"name": "sales", "namespace": "n" * 63, "serviceAccount": "s" * 193}]
    problem = refused(connectors=connectors)
    assert "connectors[sales]" in problem and "256" in problem


def test_a_users_own_name_tag_replaces_the_built_one() -> None:
    gate(tags={"Name": "mine"}, namespace="n" * 63, serviceAccount="s" * 193)


# --- IAM documents -------------------------------------------------------------------------------


def test_policy_size_counts_no_white_space() -> None:
    # {"a": "b c"} as the stack sends it: '{"a": "b c"}', 10 characters once spaces are dropped.
    assert aws_limits.policy_size({"a": "b c"}) == len('{"a":"bc"}')


def _trust_size(**settings: Any) -> int:
    s = gate(**settings)
    docs = iam_documents.role_documents(s, partition="aws", account_id="000000000000")
    return aws_limits.policy_size(docs.trust_policy)


def test_the_trust_policy_fits_iams_2048_characters() -> None:
    path = "/" + "p" * 500 + "/"
    overhead = _trust_size(rolePath=path, organizationId="ab") - 2
    at_limit = "o" * (aws_limits.MAX_TRUST_POLICY - overhead)
    assert len(at_limit) <= 1224  # still a valid ExternalId
    gate(rolePath=path, organizationId=at_limit)
    problem = refused(rolePath=path, organizationId=at_limit + "o")
    assert "xpander-redshift:roleName (organizationId, rolePath, platformAccountId)" in problem
    assert (
        "2049 characters" in problem and "2048" in problem and "IAM and AWS STS quotas" in problem
    )


def _inline_size(**settings: Any) -> int:
    s = gate(**settings)
    docs = iam_documents.role_documents(s, partition="aws", account_id="000000000000")
    return sum(aws_limits.policy_size(d) for d in docs.policies.values())


def test_a_roles_inline_policies_fit_iams_10240_characters_together() -> None:
    # 46 users of 64 characters, a 63-character cluster and a 357-character path leave room for
    # one more user of 1-64 characters: that user's length is the last character of the quota.
    cluster, path = "c" * 63, "/" + "p" * 357 + "/"
    users = [f"u{i:02d}" + "x" * 61 for i in range(46)]
    base = _inline_size(clusterIdentifier=cluster, credentialsDbUsers=users, rolePath=path)
    # One more user of n characters adds its ARN, quotes and a comma: n + this many characters.
    one_arn = len(f',"arn:aws:redshift:us-west-2:000000000000:dbuser:{cluster}/"')
    room = aws_limits.MAX_ROLE_INLINE_POLICIES - base - one_arn
    assert 1 <= room <= 64, room
    last = "w" * room
    gate(clusterIdentifier=cluster, credentialsDbUsers=[*users, last], rolePath=path)
    problem = refused(
        clusterIdentifier=cluster, credentialsDbUsers=[*users, last + "w"], rolePath=path
    )
    assert "credentialsDbUsers" in problem and "10241 characters" in problem
    assert "10240" in problem and "IAM and AWS STS quotas" in problem


# --- audit log prefix ----------------------------------------------------------------------------


def test_the_s3_key_prefix_is_at_most_256_of_botocores_characters() -> None:
    s3 = {"auditLogging": "s3", "auditLogBucket": "audit-logs-111122223333"}
    gate(**s3, auditLogS3KeyPrefix="p" * 256)
    problem = refused(**s3, auditLogS3KeyPrefix="p" * 257)
    assert "auditLogS3KeyPrefix" in problem and "256" in problem and "S3KeyPrefixValue" in problem
    gate(**s3, auditLogS3KeyPrefix="Logs/year=2026/redshift@prod:a_b.c+d-e")


# The Management Guide ("Database audit logging", bucket structure) refuses x00-x20, x22, x27,
# x5c and x7f or larger in the prefix; botocore's pattern has no quote, backslash or control
# character either. One of each class, each refused naming the key and the guide.
@pytest.mark.parametrize(
    "prefix",
    [
        "logs/a b",
        "logs\tx",
        "logs/\x00",
        'logs/"x',
        "logs/'x",
        "logs\\x",
        "logs/\x7f",
        "logs/año",
        "logs/\u00a0x",
        "logs/\u2003x",
        "logs/٣",
    ],
)
def test_the_s3_key_prefix_has_none_of_the_characters_the_guide_refuses(prefix: str) -> None:
    s3 = {"auditLogging": "s3", "auditLogBucket": "audit-logs-111122223333"}
    problem = refused(**s3, auditLogS3KeyPrefix=prefix)
    assert "auditLogS3KeyPrefix" in problem and "no spaces" in problem
    assert "Database audit logging" in problem


# --- ARNs of the right place ---------------------------------------------------------------------

KEY = "arn:{p}:kms:{r}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_the_kms_key_must_be_in_the_stacks_region_and_partition() -> None:
    gate(kmsKeyId=KEY.format(p="aws", r="us-west-2"))
    gate("us-gov-west-1", kmsKeyId=KEY.format(p="aws-us-gov", r="us-gov-west-1"))
    for other in (KEY.format(p="aws", r="us-east-1"), KEY.format(p="aws-cn", r="us-west-2")):
        problem = refused(kmsKeyId=other)
        assert "kmsKeyId" in problem and "'us-west-2'" in problem and "'aws'" in problem


def test_the_existing_admin_secret_must_be_in_the_stacks_partition() -> None:
    existing = {"existingClusterIdentifier": "analytics", "privateSubnetIds": []}
    arn = "arn:{p}:secretsmanager:{r}:111122223333:secret:redshift/admin-AbCdEf"
    gate(**existing, existingAdminSecretArn=arn.format(p="aws", r="us-east-1"))
    problem = refused(
        **existing, existingAdminSecretArn=arn.format(p="aws-us-gov", r="us-gov-west-1")
    )
    assert "existingAdminSecretArn" in problem and "partition 'aws'" in problem


# --- node types ----------------------------------------------------------------------------------


@pytest.mark.parametrize("node_type", ["ra3.4xlarge", "ra3.16xlarge", "dc2.8xlarge"])
def test_multi_node_only_types_refuse_a_single_node(node_type: str) -> None:
    problem = refused(nodeTypes=["ra3.xlplus", node_type], numberOfNodes="1")
    assert "numberOfNodes" in problem and node_type in problem and "2 nodes" in problem
    gate(nodeTypes=["ra3.xlplus", node_type], numberOfNodes="2")


@pytest.mark.parametrize("node_type", ["ra3.large", "ra3.xlplus", "dc2.large"])
def test_single_node_types_run_alone(node_type: str) -> None:
    gate(nodeTypes=[node_type], numberOfNodes="1")


# --- image references ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        "postgres:15-alpine",
        "docker.io/library/postgres:15",
        "registry.example.com:5000/team/psql__tools/pg-client:v1.2",
        "localhost/pg",
        "public.ecr.aws/docker/library/postgres@sha256:" + "a" * 64,
        "[::1]:5000/pg:1",
        "a" * 255,
    ],
)
def test_image_references_of_the_distribution_grammar_are_accepted(image: str) -> None:
    gate(userProvisioner="kubernetes-job", psqlImage=image)


@pytest.mark.parametrize(
    "image",
    ["a//b/", "Postgres:15", "pg:", "pg@sha256:abc", "-pg", "pg/", "pg:-tag", "a" * 256, "a..b"],
)
def test_image_references_outside_the_grammar_are_refused(image: str) -> None:
    problem = refused(userProvisioner="kubernetes-job", psqlImage=image)
    assert "xpander-redshift:psqlImage" in problem


# --- Multi-AZ ------------------------------------------------------------------------------------

MULTI_AZ = {"multiAz": "true", "numberOfNodes": "2", "nodeTypes": ["ra3.xlplus"]}


def test_multi_az_needs_subnets_of_two_zones_named_in_the_stack() -> None:
    gate(**MULTI_AZ, privateSubnetIds=["subnet-0a3f5c7e9b1d24680", "subnet-0b4e6d8f0a2c35791"])
    problem = refused(**MULTI_AZ, privateSubnetIds=["subnet-0a3f5c7e9b1d24680"])
    assert "xpander-redshift:privateSubnetIds" in problem and "2 Availability Zones" in problem


def test_multi_az_is_refused_when_the_looked_up_subnets_share_one_zone() -> None:
    """The zones come from aws.ec2.get_subnet at preview: the message names the zones found."""

    def subnet(ident: str, zone: str) -> SimpleNamespace:
        return SimpleNamespace(id=ident, vpc_id="vpc-1", availability_zone=zone)

    one_zone = [subnet("subnet-a", "us-west-2a"), subnet("subnet-b", "us-west-2a")]
    with pytest.raises(pulumi.RunError, match=r"multiAz: .*cover only us-west-2a"):
        subnets_in_vpc(one_zone, "vpc-1", multi_az=True)
    two_zones = [subnet("subnet-a", "us-west-2a"), subnet("subnet-b", "us-west-2b")]
    assert subnets_in_vpc(two_zones, "vpc-1", multi_az=True) == ["subnet-a", "subnet-b"]


def test_an_existing_clusters_roles_leave_room_for_its_kms_key_statements() -> None:
    # Its key is looked up at deploy time: the gate counts the Data API's two statements on a key
    # (1st: CreateGrant, 2nd: DescribeKey, 36-character key id) as if the cluster had one. 46
    # users leave under 200 characters free (the test above): the statements take more.
    cluster, path = "c" * 63, "/" + "p" * 357 + "/"
    users = [f"u{i:02d}" + "x" * 61 for i in range(46)]
    existing = {
        "organizationId": "org-4f1c9a2e7b",
        "eksClusterName": "xpander-dev",
        "existingClusterIdentifier": cluster,
        "credentialsDbUsers": users,
        "rolePath": path,
    }
    new = {**BASE, "clusterIdentifier": cluster, "credentialsDbUsers": users, "rolePath": path}
    without_key = iam_documents.role_documents(
        parse_settings(new, region="us-west-2"), partition="aws", account_id="000000000000"
    )
    room = aws_limits.MAX_ROLE_INLINE_POLICIES - sum(
        aws_limits.policy_size(d) for d in without_key.policies.values()
    )
    key = "arn:aws:kms:us-west-2:000000000000:key/mrk-00000000000000000000000000000000"
    statements = (
        '{"Sid":"DataApiGrantOnClusterKey","Effect":"Allow","Action":["kms:CreateGrant"],'
        f'"Resource":["{key}"],"Condition":{{"Bool":{{"kms:GrantIsForAWSResource":"true"}}}}}},'
        '{"Sid":"DataApiDescribeClusterKey","Effect":"Allow","Action":["kms:DescribeKey"],'
        f'"Resource":["{key}"],"Condition":{{"Bool":{{"aws:ViaAWSService":"true"}}}}}},'
    )
    assert 0 < room < len(statements), (room, len(statements))
    with pytest.raises(SettingsError) as err:
        parse_settings(existing, region="us-west-2")
    problem = "\n".join(err.value.problems)
    assert "credentialsDbUsers" in problem and "10240" in problem
    assert "the existing cluster's KMS key, which its lookup names only at deploy time" in problem
    # Three users fewer fit with the key's statements counted.
    parse_settings({**existing, "credentialsDbUsers": users[:-3]}, region="us-west-2")
