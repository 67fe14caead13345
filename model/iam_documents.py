"""The xpander role's IAM documents as plain dicts: its trust policy and three permission policies.

Pure functions of the settings and the AWS context, so the plan tool, the policy pack tests and
the IAM linters check exactly what `pulumi up` sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model import arns
from model.aws_facts import DATA_API_CLUSTER_ACTIONS, DATA_API_STATEMENT_ACTIONS
from model.config_keys import ConnectorSettings, Settings

Document = dict[str, Any]

VERSION = "2012-10-17"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
# Pod Identity adds transitive session tags, so every assume of this role also needs TagSession.
ASSUME_ACTIONS = ["sts:AssumeRole", "sts:TagSession"]

DESCRIBE_CLUSTER_ACTIONS = ["redshift:DescribeClusters"]
# GetClusterCredentialsWithIAM maps the caller to IAMR:<role>; it is scoped by dbname only.
IAM_CREDENTIALS_ACTIONS = ["redshift:GetClusterCredentialsWithIAM"]
# GetClusterCredentials names a database user: scoped by dbuser (and dbname when one is passed).
DBUSER_CREDENTIALS_ACTIONS = ["redshift:GetClusterCredentials"]
# Data API actions: on the cluster ARN, and on statement ids ("*" only): model/aws_facts.py.

# A cluster encrypted with a customer managed key: "When you call ExecuteStatement or
# BatchExecuteStatement against a cluster encrypted with a customer managed key, Amazon Redshift
# creates a grant on your behalf by sending a CreateGrant request to AWS KMS" (Amazon Redshift
# Management Guide, "Using AWS KMS with the Amazon Redshift Data API",
# https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-kms.html). A request a service makes on
# the caller's behalf is authorized with the caller's own permissions (IAM User Guide, "Forward
# access sessions"), and under a key policy's default "Enable IAM User Permissions" statement those
# are the role's IAM policies (AWS KMS Developer Guide, "Default key policy"). So the role needs
# kms:CreateGrant on that key, and kms:DescribeKey, which the same page's key policy allows beside
# it. Each only when an AWS service makes the call for the role (never directly, so the role can
# never grant itself or anyone a use of the key):
# - kms:GrantIsForAWSResource true: "only when an AWS service integrated with AWS KMS calls the
#   operation on the user's behalf. This policy condition doesn't allow the user to call these
#   grant operations directly" (AWS KMS Developer Guide, "AWS KMS condition keys"). It exists for
#   CreateGrant, ListGrants and RevokeGrant only, hence a statement of its own.
# - aws:ViaAWSService true for DescribeKey: true exactly when a service calls with the caller's
#   forward access session (IAM User Guide, "AWS global condition context keys").
# Not kms:ViaService: AWS's two pages name different values for Redshift (the Data API page's
# "redshift.amazonaws.com", the KMS guide's table "redshift.<region>.amazonaws.com"), a wrong one
# refuses the first query, and the role may call no other KMS-integrated service that could make
# such a call for it (its only actions: redshift-data, Redshift credentials, DescribeClusters, STS).
CLUSTER_KEY_SIDS = ("DataApiGrantOnClusterKey", "DataApiDescribeClusterKey")


def grant_for_aws_resource() -> dict[str, Any]:
    """The condition on kms:CreateGrant: only a grant an AWS service creates for the caller."""
    return {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def via_aws_service() -> dict[str, Any]:
    """The condition on kms:DescribeKey: only a call an AWS service makes for the caller."""
    return {"Bool": {"aws:ViaAWSService": "true"}}


TRUST_SIDS = ("PodIdentity", "CrossAccountWithExternalId", "SelfAssume")
POLICY_NAMES = ("RedshiftCredentials", "RedshiftDataAPI", "SelfAssumeAndTagSession")


@dataclass(frozen=True)
class RoleDocuments:
    """Everything the role is made of: its ARN, trust policy, and inline policies by name."""

    role_arn: str
    trust_policy: Document
    policies: dict[str, Document]


def trust_policy(
    *, partition: str, account_id: str, platform_account_id: str, external_id: str, role_arn: str
) -> Document:
    """The guide's three trust statements, with a self-assume that works on the very first create.

    The guide names the role's own ARN as principal, which IAM rejects while the role does not exist
    yet ("Invalid principal"). Trusting the account root and requiring `aws:PrincipalArn` to be the
    role's ARN admits exactly the same callers, and survives a delete and re-create of the role.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "PodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": list(ASSUME_ACTIONS),
            },
            {
                "Sid": "CrossAccountWithExternalId",
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root_arn(partition, platform_account_id)},
                "Action": list(ASSUME_ACTIONS),
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            },
            {
                # No ExternalId: the AI gateway re-assumes its own role without one.
                "Sid": "SelfAssume",
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root_arn(partition, account_id)},
                "Action": list(ASSUME_ACTIONS),
                "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn}},
            },
        ],
    }


def redshift_credentials_policy(
    *, cluster_arn: str, dbname_arn: str, dbuser_arns: list[str]
) -> Document:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DescribeCluster",
            "Effect": "Allow",
            "Action": list(DESCRIBE_CLUSTER_ACTIONS),
            "Resource": [cluster_arn],
        },
        {
            "Sid": "CredentialsAsIamIdentity",
            "Effect": "Allow",
            "Action": list(IAM_CREDENTIALS_ACTIONS),
            "Resource": [dbname_arn],
        },
    ]
    # GetClusterCredentials refuses a DbUser with ':', so it can never serve an IAMR: user: the
    # statement exists only for the named users a stack asks for (credentialsDbUsers).
    if dbuser_arns:
        statements.append(
            {
                "Sid": "CredentialsForDatabaseUsers",
                "Effect": "Allow",
                "Action": list(DBUSER_CREDENTIALS_ACTIONS),
                "Resource": [*dbuser_arns, dbname_arn],
            }
        )
    return {"Version": VERSION, "Statement": statements}


def cluster_key_statements(key_arn: str) -> list[dict[str, Any]]:
    """What the Data API needs of the customer managed key that encrypts the cluster (above)."""
    grant_sid, describe_sid = CLUSTER_KEY_SIDS
    return [
        {
            "Sid": grant_sid,
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": [key_arn],
            "Condition": grant_for_aws_resource(),
        },
        {
            "Sid": describe_sid,
            "Effect": "Allow",
            "Action": ["kms:DescribeKey"],
            "Resource": [key_arn],
            "Condition": via_aws_service(),
        },
    ]


def redshift_data_api_policy(*, cluster_arn: str, cluster_key_arn: str | None = None) -> Document:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DataApiOnCluster",
            "Effect": "Allow",
            "Action": list(DATA_API_CLUSTER_ACTIONS),
            "Resource": [cluster_arn],
        },
        {
            "Sid": "DataApiOwnStatements",
            "Effect": "Allow",
            "Action": list(DATA_API_STATEMENT_ACTIONS),
            "Resource": "*",
        },
    ]
    if cluster_key_arn:
        statements += cluster_key_statements(cluster_key_arn)
    return {"Version": VERSION, "Statement": statements}


def cluster_key_arn(
    settings: Settings, ctx: arns.AwsContext, existing_cluster_key: str | None
) -> str | None:
    """The KMS key that encrypts the cluster, for the role's cluster_key_statements.

    A new cluster: kmsKeyId (none: the AWS managed key aws/redshift, whose own key policy allows
    the account's principals through Redshift: AWS KMS Developer Guide, "kms:ViaService"). An
    existing cluster: the key its lookup names at preview and at up (aws.redshift.get_cluster's
    kms_key_id is DescribeClusters' KmsKeyId: terraform-provider-aws
    internal/service/redshift/cluster_data_source.go), so a re-keyed cluster is followed on the
    next `pulumi up`; an unencrypted cluster names none. One encrypted with aws/redshift names that
    key: the statements are then redundant, not wider (telling the two apart would take a
    kms:DescribeKey lookup the deployer and preview roles do not have).
    """
    if not settings.existing_cluster_identifier:
        return settings.kms_key_id
    return arns.kms_key_arn(ctx, existing_cluster_key) if existing_cluster_key else None


def self_assume_policy(*, role_arn: str) -> Document:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "SelfAssumeAndTagSession",
                "Effect": "Allow",
                "Action": list(ASSUME_ACTIONS),
                "Resource": role_arn,
            }
        ],
    }


def role_documents(
    settings: Settings,
    connector: ConnectorSettings | None = None,
    *,
    partition: str,
    account_id: str,
    existing_cluster_key: str | None = None,
) -> RoleDocuments:
    """All documents of one connector's role (default: the top-level connector) in this account.

    `existing_cluster_key`: the KMS key an existing cluster's lookup names (cluster_key_arn)."""
    c = connector or settings.single_connector
    ctx = arns.AwsContext(partition=partition, account_id=account_id, region=settings.region)
    role = arns.role_arn(ctx, settings.role_path, c.role_name)
    cluster = arns.cluster_arn(ctx, settings.cluster_identifier)
    dbname = arns.dbname_arn(ctx, settings.cluster_identifier, settings.database_name)
    dbusers = [
        arns.dbuser_arn(ctx, settings.cluster_identifier, user)
        for user in settings.credentials_db_users
    ]
    return RoleDocuments(
        role_arn=role,
        trust_policy=trust_policy(
            partition=partition,
            account_id=account_id,
            platform_account_id=settings.platform_account_id or account_id,
            external_id=c.organization_id,
            role_arn=role,
        ),
        policies={
            "RedshiftCredentials": redshift_credentials_policy(
                cluster_arn=cluster, dbname_arn=dbname, dbuser_arns=dbusers
            ),
            "RedshiftDataAPI": redshift_data_api_policy(
                cluster_arn=cluster,
                cluster_key_arn=cluster_key_arn(settings, ctx, existing_cluster_key),
            ),
            "SelfAssumeAndTagSession": self_assume_policy(role_arn=role),
        },
    )
