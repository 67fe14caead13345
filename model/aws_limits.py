"""AWS's limits on the values the program builds from several settings, checked by the gate.

Each key's own rule (`model.validators`) checks a value alone; these check what the program hands
to an AWS API after combining settings: the names it derives, the tags it adds, the role's policy
documents, ARNs that must be in the stack's region or partition. Each rule names the
key, the limit and where AWS states it (the botocore service model in the venv, or the AWS
documentation named). They run on the gate's `Settings`, before any resource is registered.
Kubernetes names the kubernetes-job provisioner builds are made valid by construction
(`model.job_manifests.dns_label`); namespace and serviceAccount are checked by their own rules.
"""

from __future__ import annotations

import json
import re
from typing import Any

from model import cluster_baseline as baseline
from model import iam_documents, partitions
from model.config_keys import ConnectorSettings, Settings
from model.config_values import problem
from model.outputs import SECRET
from model.tags import resource_tags
from model.validators import is_tag_text

# Tag values: at most 256 characters (botocore: eks/iam/logs `TagValue`/`tagValueType` max 256;
# the AWS tagging quota for every service the stack tags).
MAX_TAG_VALUE = 256
# EC2 tag keys: "a maximum of 127 Unicode characters" (botocore ec2 `Tag` Key documentation; the
# model declares no length); IAM, Redshift, CloudWatch Logs and EKS take 128 (tag_problem).
MAX_EC2_TAG_KEY = 127
# IAM and AWS STS quotas (IAM User Guide, "IAM and AWS STS quotas"): IAM does not count white
# space. A role's inline policies together: 10,240 characters; a role trust policy: 2,048
# characters by default (adjustable to 4,096 in Service Quotas; the stack keeps to the default).
MAX_ROLE_INLINE_POLICIES = 10240
MAX_TRUST_POLICY = 2048
# Any 12 digits: an account id's length is all that counts for a document's size.
SIZE_ACCOUNT_ID = "000000000000"
# An existing cluster's KMS key is named by its lookup only at deploy time, and adds the Data API's
# grant statements to each role (model/iam_documents.py cluster_key_statements): counted as if it
# had one, with the longest key id, 36 characters (a key id is a UUID, a multi-Region key's `mrk-`
# and 32 hex digits: AWS KMS Developer Guide, "Key identifiers (KeyId)").
SIZE_EXISTING_CLUSTER_KEY = "mrk-" + "0" * 32
_WHITE_SPACE = re.compile(r"\s")


def policy_size(document: dict[str, Any]) -> int:
    """A policy's size as IAM counts it: the JSON the stack sends, white space not counted."""
    return len(_WHITE_SPACE.sub("", json.dumps(document)))


def _tag_values(s: Settings) -> list[tuple[str, str]]:
    """(where, value) of each Name tag value the stack builds, with the settings it comes from."""
    ident = s.cluster_identifier
    names: list[tuple[str, str]] = []
    if not s.existing_cluster_identifier:
        names += [
            ("clusterIdentifier", n)
            for n in (ident, baseline.subnet_group_name(ident), baseline.security_group_name(ident))
        ]
        names.append(("clusterIdentifier", baseline.parameter_group_name(ident)))
        names += [
            ("clusterIdentifier", baseline.audit_log_group_name(ident, t))
            for t in baseline.AUDIT_LOG_TYPES
        ]
        names += [
            ("clusterIdentifier, sourceSecurityGroupIds", f"{ident}-from-{g}")
            for g in s.source_security_group_ids
        ]
    for c in s.all_connectors:
        where = "namespace/serviceAccount" if not s.connectors else f"connectors[{c.name}]"
        names.append((f"{where} (the pod identity association's Name tag)", _pod_tag(c)))
        names.append(
            ("roleName" if not s.connectors else f"connectors[{c.name}].roleName", c.role_name)
        )
    return names


def _pod_tag(c: ConnectorSettings) -> str:
    return f"{c.namespace}/{c.service_account}"


def tag_problems(s: Settings) -> list[str]:
    """Every tag value the stack sends, the Name it adds included, at most 256 characters."""
    if "Name" in s.tags:  # the user's own Name replaces the stack's (checked by its own rule)
        return []
    found = []
    for where, name in _tag_values(s):
        value = resource_tags(s.tags, name)["Name"]
        if len(value) > MAX_TAG_VALUE:
            found.append(
                problem(
                    where,
                    value,
                    f"becomes a Name tag of {len(value)} characters; AWS takes at most "
                    f"{MAX_TAG_VALUE} (botocore eks/iam/logs TagValue max 256): shorten it",
                )
            )
        elif not is_tag_text(value):
            found.append(
                problem(
                    where,
                    value,
                    "becomes a Name tag, and IAM and CloudWatch Logs tag values are only letters, "
                    "digits, spaces and _ . : / = + - @ (botocore iam tagValueType pattern "
                    "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*): drop the other characters, or set "
                    "tags.Name",
                )
            )
    return found


def _tags_ec2(s: Settings) -> bool:
    """Whether the stack tags EC2 resources: a new cluster's security group and ingress rules,
    or the ingress rules it adds to an existing cluster's existingSecurityGroupId."""
    return not s.existing_cluster_identifier or bool(s.existing_security_group_id)


def tag_key_problems(s: Settings) -> list[str]:
    """The stack's tag keys as every service it tags takes them.

    EC2 keys are at most 127 characters. IAM tag keys are case-insensitive: CreateRole refuses
    two keys that differ only in case ("Duplicate tag keys found. Please note that Tag keys are
    case insensitive."; IAM User Guide, "Tags for AWS Identity and Access Management resources",
    case sensitivity), so neither two such keys of `tags` nor a `name` beside the stack's Name.
    """
    found = []
    if _tags_ec2(s):
        found += [
            problem(
                "tags",
                key,
                f"is a tag key of {len(key)} characters; EC2 takes at most {MAX_EC2_TAG_KEY} "
                "(botocore ec2 Tag Key: a maximum of 127 Unicode characters), and the stack "
                "tags EC2 resources (security group, ingress rules): shorten it",
            )
            for key in s.tags
            if len(key) > MAX_EC2_TAG_KEY
        ]
    seen: dict[str, str] = {}
    for key in resource_tags(s.tags, "name"):  # the user's keys and the stack's Name
        first = seen.setdefault(key.lower(), key)
        if first != key:
            why = (
                "the stack adds a Name tag to every resource; name yours Name to replace it"
                if "Name" in (first, key) and "Name" not in s.tags
                else "keep one of them"
            )
            found.append(
                problem(
                    "tags",
                    [first, key],
                    "IAM tag keys are case-insensitive, so the role would carry one key twice "
                    "(IAM CreateRole: 'Duplicate tag keys found'; IAM User Guide, tags, case "
                    f"sensitivity): {why}",
                )
            )
    return found


def derived_name_problems(s: Settings) -> list[str]:
    """The names a new cluster's resources take from clusterIdentifier, by their API's rules."""
    if s.existing_cluster_identifier:
        return []
    ident, found = s.cluster_identifier, []
    group = baseline.security_group_name(ident)
    if group.lower().startswith("sg-"):
        found.append(
            problem(
                "clusterIdentifier",
                ident,
                f"names the security group {group!r}, and EC2 refuses a group name starting with "
                "'sg-' (botocore ec2 CreateSecurityGroup GroupName: \"Can't start with sg-\"): "
                "choose an identifier that does not start with sg-",
            )
        )
    subnets = baseline.subnet_group_name(ident)
    if subnets.lower() == "default":
        found.append(
            problem(
                "clusterIdentifier",
                ident,
                f"names the cluster subnet group {subnets!r}, and Redshift refuses that name "
                '(botocore redshift CreateClusterSubnetGroup ClusterSubnetGroupName: "Must not '
                'be Default", stored in lower case): choose another identifier',
            )
        )
    return found


def role_policy_problems(s: Settings) -> list[str]:
    """Each connector's trust policy and inline policies within IAM's size quotas."""
    partition = partitions.partition_of(s.region).name
    found = []
    for c in s.all_connectors:
        docs = iam_documents.role_documents(
            s,
            c,
            partition=partition,
            account_id=SIZE_ACCOUNT_ID,
            existing_cluster_key=SIZE_EXISTING_CLUSTER_KEY,
        )
        where = "roleName" if not s.connectors else f"connectors[{c.name}]"
        if c.organization_id != SECRET:  # a secret the offline plan cannot read: `up` checks
            trust = policy_size(docs.trust_policy)
            if trust > MAX_TRUST_POLICY:
                found.append(
                    problem(
                        f"{where} (organizationId, rolePath, platformAccountId)",
                        c.role_name,
                        f"makes a trust policy of {trust} characters; IAM's quota is "
                        f"{MAX_TRUST_POLICY} (IAM and AWS STS quotas, role trust policy length, "
                        "white space not counted): shorten organizationId or rolePath",
                    )
                )
        inline = sum(policy_size(d) for d in docs.policies.values())
        key_note = (
            " (with the statements for the existing cluster's KMS key, which its lookup names "
            "only at deploy time)"
            if s.existing_cluster_identifier
            else ""
        )
        if inline > MAX_ROLE_INLINE_POLICIES:
            found.append(
                problem(
                    f"{where} (credentialsDbUsers, rolePath, clusterIdentifier)",
                    c.role_name,
                    f"makes inline policies of {inline} characters together{key_note}; IAM's "
                    f"quota is {MAX_ROLE_INLINE_POLICIES} (IAM and AWS STS quotas, role policy "
                    "size, white space not counted): name fewer credentialsDbUsers",
                )
            )
    return found


def _arn_parts(arn: str) -> tuple[str, str] | None:
    parts = arn.split(":")
    return (parts[1], parts[3]) if len(parts) > 5 and parts[0] == "arn" else None


def arn_place_problems(s: Settings) -> list[str]:
    """kmsKeyId in the stack's partition and region; existingAdminSecretArn in its partition.

    CreateCluster's KmsKeyId: the key must be in the cluster's Region (Amazon Redshift Management
    Guide, "Amazon Redshift database encryption"); no API reaches across partitions.
    """
    partition = partitions.partition_of(s.region).name
    found = []
    key = s.kms_key_id
    if key and (parts := _arn_parts(key)) and parts != (partition, s.region):
        found.append(
            problem(
                "kmsKeyId",
                key,
                f"must be a key in the stack's partition {partition!r} and region {s.region!r}: "
                "Redshift encrypts a cluster only with a key of its own Region (Amazon Redshift "
                "Management Guide, database encryption)",
            )
        )
    secret = s.existing_admin_secret_arn
    if secret and secret != SECRET and (parts := _arn_parts(secret)) and parts[0] != partition:
        found.append(
            problem(
                "existingAdminSecretArn",
                secret,
                f"must be a secret in the stack's partition {partition!r}: the Data API and "
                "Secrets Manager do not reach across partitions",
            )
        )
    return found


def audit_bucket_region_problem(bucket: str, bucket_region: str, region: str) -> str | None:
    """The audit-log bucket, looked up at preview, in the cluster's Region: EnableLogging's
    BucketName "Must be in the same region as the cluster" (botocore redshift EnableLogging)."""
    if bucket_region == region:
        return None
    return problem(
        "auditLogBucket",
        bucket,
        f"is a bucket of {bucket_region}, not of the stack's region {region}; EnableLogging "
        "takes only a bucket in the cluster's Region (botocore redshift EnableLogging "
        f'BucketName: "Must be in the same region as the cluster"): name a bucket of {region}',
    )


def limit_problems(s: Settings) -> list[str]:
    """Every limit above: the gate's last check, once the settings are combined."""
    return [
        *derived_name_problems(s),
        *tag_problems(s),
        *tag_key_problems(s),
        *role_policy_problems(s),
        *arn_place_problems(s),
    ]
