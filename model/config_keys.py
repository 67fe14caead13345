"""The settings table: every `xpander-redshift:*` key once, with its type, default, rule and words.

Pulumi.yaml's `config:` block and the README's settings table are rendered from this table
(`python -m tools.project_file`), and the gate (`model.settings`) parses and checks by it, so a
key, its default and its rule are written here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from model import validators as v

PROJECT = "xpander-redshift"

# "object" and "connectors" are structured values that Pulumi's project config schema cannot
# declare (it types arrays of primitives only): they stay out of Pulumi.yaml and the README
# documents them. Both are written as YAML structures or as JSON strings.
ConfigType = Literal["string", "integer", "boolean", "array", "object", "connectors"]
DECLARABLE_TYPES = ("string", "integer", "boolean", "array")


@dataclass(frozen=True)
class ConfigKey:
    """One stack setting as users write it: `xpander-redshift:<name>`."""

    name: str
    type: ConfigType
    description: str
    default: Any = None  # None: required (see `required`) or computed from other settings
    required: bool = False
    default_doc: str | None = None  # how a computed default is described to users
    rule: v.Rule | None = None  # the value's own rule (each item's, for arrays)
    max_items: tuple[int, str] | None = None  # arrays: how many AWS takes, and why
    # A setting of a cluster the stack creates: with an existing cluster only its default is taken.
    new_cluster_only: bool = False
    # Secret material: may be set with --secret, and the stack keeps it secret in outputs and state.
    secret: bool = False

    @property
    def full_name(self) -> str:
        return f"{PROJECT}:{self.name}"

    @property
    def field(self) -> str:
        """The key's name in `Settings` and in Python code: organizationId -> organization_id."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()

    @property
    def declared(self) -> bool:
        """Whether Pulumi.yaml can declare the key's type."""
        return self.type in DECLARABLE_TYPES


USER_PROVISIONERS = ("data-api", "kubernetes-job")
AUDIT_LOG_DESTINATIONS = ("cloudwatch", "s3", "none")

CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "organizationId",
        "string",
        "Your xpander Organization ID: the ExternalId the xpander platform assumes the role with.",
        required=True,
        rule=v.ORGANIZATION_ID,
        secret=True,
    ),
    ConfigKey(
        "eksClusterName",
        "string",
        "EKS cluster running xpander: its security group reaches the port, its pods get the role.",
        required=True,
        rule=v.EKS_CLUSTER_NAME,
    ),
    ConfigKey(
        "privateSubnetIds",
        "array",
        "Private subnets of the EKS nodes, for the Redshift subnet group (guide step 1).",
        default_doc="required unless existingClusterIdentifier",
        rule=v.SUBNET_ID,
        max_items=(20, "a cluster subnet group holds at most 20 subnets"),
    ),
    ConfigKey(
        "clusterIdentifier",
        "string",
        "Redshift cluster identifier; also the ClusterNamePath of the connector.",
        "xpander-redshift",
        rule=v.cluster_identifier_problem,
    ),
    ConfigKey(
        "databaseName",
        "string",
        "Database created in the cluster; also the DatabaseNamePath of the connector.",
        "xpander_demo",
        rule=v.database_name_problem,
    ),
    ConfigKey(
        "masterUsername",
        "string",
        "Admin user of the cluster; its password is generated and kept in Secrets Manager.",
        "xpander_admin",
        rule=v.master_username_problem,
    ),
    ConfigKey(
        "nodeTypes",
        "array",
        "Node types in order of preference; the first one the region offers is used.",
        ("ra3.large", "ra3.xlplus"),
        rule=v.NODE_TYPE,
        new_cluster_only=True,
    ),
    ConfigKey(
        "numberOfNodes",
        "integer",
        "Number of compute nodes; 1 makes a single-node cluster.",
        1,
        rule=v.between(1, v.MAX_NODES),
        new_cluster_only=True,
    ),
    ConfigKey(
        "port",
        "integer",
        "Port the cluster listens on (RA3 and RG: 5431-5455 or 8191-8215).",
        5439,  # its rule depends on the node types: see validators.port_problem,
        new_cluster_only=True,
    ),
    ConfigKey(
        "roleName",
        "string",
        "Name of the IAM role xpander assumes; the database user is IAMR:<roleName>.",
        "xpander-redshift-access",
        rule=v.role_name_problem,
    ),
    ConfigKey(
        "rolePath",
        "string",
        "IAM path of the role (part of its ARN).",
        "/",
        rule=v.role_path_problem,
    ),
    ConfigKey(
        "platformAccountId",
        "string",
        "AWS account of the xpander platform, trusted with ExternalId = organizationId.",
        default_doc="the deploying account",
        rule=v.ACCOUNT,
    ),
    ConfigKey(
        "namespace",
        "string",
        "Kubernetes namespace of the xpander service account.",
        "xpander",
        rule=v.NAMESPACE,
    ),
    ConfigKey(
        "serviceAccount",
        "string",
        "Kubernetes service account that gets the role through EKS Pod Identity.",
        "xpander",
        rule=v.service_account_problem,
    ),
    ConfigKey(
        "catalogNamePath",
        "string",
        "Catalog view the connector reads (CatalogNamePath).",
        "pg_catalog.svv_all_columns",
        rule=v.CATALOG_NAME_PATH,
    ),
    ConfigKey(
        "grantSchemas",
        "array",
        "Schemas whose tables the IAMR user may read (now and in future).",
        ("public",),
        rule=v.schema_problem,
        # Each grant names every schema in one statement, and the Data API takes at most 100 kB
        # of SQL per statement (ExecuteStatement: "Cannot process query string larger than 100kB").
        max_items=(100, "one statement names them all, and a statement must stay under 100 kB"),
    ),
    ConfigKey(
        "vpcId",
        "string",
        "VPC of the Redshift security group.",
        default_doc="the EKS cluster's VPC",
        rule=v.VPC_ID,
        new_cluster_only=True,
    ),
    ConfigKey(
        "sourceSecurityGroupIds",
        "array",
        "Security groups whose members may reach the cluster port (one ingress rule each); set "
        "it for self-managed nodes, custom launch templates or security groups for pods.",
        default_doc="the EKS cluster security group",
        rule=v.SECURITY_GROUP_ID,
        max_items=(60, "a security group holds at most 60 inbound rules (VPC quota)"),
    ),
    ConfigKey(
        "kmsKeyId",
        "string",
        "ARN of a customer managed KMS key for cluster encryption.",
        default_doc="none: the AWS managed key",
        rule=v.KMS_KEY_ARN,
        new_cluster_only=True,
    ),
    ConfigKey(
        "requireSsl",
        "boolean",
        "Refuse connections without TLS (the cluster parameter group's require_ssl).",
        True,
        new_cluster_only=True,
    ),
    ConfigKey(
        "auditLogging",
        "string",
        "Where audit logs (connection, user, user activity) go: cloudwatch, s3 or none.",
        "cloudwatch",
        rule=v.one_of(AUDIT_LOG_DESTINATIONS),
        new_cluster_only=True,
    ),
    ConfigKey(
        "auditLogRetentionDays",
        "integer",
        "Retention of the CloudWatch log groups the stack creates for audit logs.",
        365,
        rule=v.one_of(v.LOG_RETENTION_DAYS),
        new_cluster_only=True,
    ),
    ConfigKey(
        "auditLogBucket",
        "string",
        "With auditLogging = s3: the existing bucket Redshift writes audit logs to.",
        default_doc="none (required with auditLogging = s3)",
        rule=v.bucket_name_problem,
        new_cluster_only=True,
    ),
    ConfigKey(
        "auditLogS3KeyPrefix",
        "string",
        "With auditLogging = s3: the prefix of the log objects.",
        default_doc="none: the bucket's root",
        rule=v.S3_KEY_PREFIX,
        new_cluster_only=True,
    ),
    ConfigKey(
        "enhancedVpcRouting",
        "boolean",
        "Keep COPY/UNLOAD traffic inside the VPC (needs an S3 gateway endpoint or a NAT).",
        True,
        new_cluster_only=True,
    ),
    ConfigKey(
        "automatedSnapshotRetentionDays",
        "integer",
        "Days automated snapshots are kept (1-35).",
        7,
        rule=v.between(1, 35),
        new_cluster_only=True,
    ),
    ConfigKey(
        "allowVersionUpgrade",
        "boolean",
        "Let Redshift apply major version upgrades in the maintenance window.",
        True,
        new_cluster_only=True,
    ),
    ConfigKey(
        "multiAz",
        "boolean",
        "Deploy the cluster in two Availability Zones (RA3, two or more nodes).",
        False,
        new_cluster_only=True,
    ),
    ConfigKey(
        "skipFinalSnapshot",
        "boolean",
        "Delete the cluster without a final snapshot (not for data you want to keep).",
        False,
        new_cluster_only=True,
    ),
    ConfigKey(
        "protect",
        "boolean",
        "Protect the cluster from `pulumi destroy` and replacement.",
        True,
        new_cluster_only=True,
    ),
    ConfigKey(
        "installPodIdentityAgent",
        "boolean",
        "Install the eks-pod-identity-agent add-on (skip if the cluster has it).",
        False,
    ),
    ConfigKey(
        "credentialsDbUsers",
        "array",
        "Named database users the role may get GetClusterCredentials for (not IAMR: users, "
        'which the Data API reaches with GetClusterCredentialsWithIAM); ["*"] is the guide\'s '
        "wildcard.",
        default_doc="none: no GetClusterCredentials",
        rule=v.credentials_db_user_problem,
        max_items=(50, "the role's inline policies share IAM's 10,240-character limit"),
    ),
    ConfigKey(
        "tags",
        "object",
        "Tags for every resource: a mapping of strings (or the same as a JSON object string).",
        {},
    ),
    ConfigKey(
        "userProvisioner",
        "string",
        "How the IAMR user is created: data-api (Redshift Data API) or kubernetes-job (psql, EKS).",
        "data-api",
        rule=v.one_of(USER_PROVISIONERS),
    ),
    ConfigKey(
        "defaultPrivilegesFor",
        "string",
        "User whose future tables the IAMR user can read (ALTER DEFAULT PRIVILEGES FOR USER).",
        default_doc="masterUsername",
        rule=v.database_user_problem,
    ),
    ConfigKey(
        "provisionerTimeoutSeconds",
        "integer",
        "Longest wait for one provisioning SQL run (Data API statement or Job).",
        300,
        rule=v.between(10, 3600),
    ),
    ConfigKey(
        "psqlImage",
        "string",
        "Image of the kubernetes-job provisioner (psql 10+ and /bin/sh); pin it by digest.",
        "postgres:15-alpine",
        rule=v.image_problem,
    ),
    ConfigKey(
        "existingClusterIdentifier",
        "string",
        "Use this existing cluster: no subnet group, security group or cluster is created.",
        default_doc="none: the stack creates the cluster",
        rule=v.cluster_identifier_problem,
    ),
    ConfigKey(
        "existingSecurityGroupId",
        "string",
        "With an existing cluster: add the ingress rules to this security group of it.",
        default_doc="none: no ingress rule is added",
        rule=v.SECURITY_GROUP_ID,
    ),
    ConfigKey(
        "existingAdminSecretArn",
        "string",
        "With an existing cluster: Secrets Manager secret of an admin user for the provisioner.",
        default_doc="none: DbUser = its master user",
        rule=v.SECRET_ARN,
        secret=True,
    ),
    ConfigKey(
        "connectors",
        "connectors",
        "Several connectors on one cluster: a list of {name, roleName, organizationId, "
        "namespace, serviceAccount, grantSchemas} (or the same as a JSON string); omitted "
        "fields take the top-level values.",
        default_doc="none: one connector from the top-level settings",
    ),
)

KEYS_BY_NAME: dict[str, ConfigKey] = {key.name: key for key in CONFIG_KEYS}

# The fields of a `connectors` entry besides its name: each follows the top-level key's rule.
CONNECTOR_FIELDS = ("roleName", "organizationId", "namespace", "serviceAccount", "grantSchemas")
MAX_CONNECTORS = 100
