"""Every setting declared once: the typed `Settings`, each field carrying its key's metadata.

A field declared with `setting(...)` is the key `xpander-redshift:<camelCaseName>`: its Python type
is the key's type (a `Literal` for a choice of values), and its description, default, rule and
flags sit beside it. The settings table (`CONFIG_KEYS`) is read off the class at import, and
Pulumi.yaml's `config:` block and the README's settings table are rendered from that table
(`python -m tools.project_file`); the gate (`model.settings`) parses and checks by it. Adding a
setting is one field here (and its line in the README, rendered from it).

A field that is not a key says so with `derived(...)`; a field that is neither, or a type the
table cannot map, fails the import with a `DeclarationError` naming the field.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, dataclass_transform, get_args, get_origin, get_type_hints

from model import validators as v
from model.aws_facts import MANAGED_STORAGE_PORT_RANGES, ranges_text

PROJECT = "xpander-redshift"

# "object" and "connectors" are structured values that Pulumi's project config schema cannot
# declare (it types arrays of primitives only): they stay out of Pulumi.yaml and the README
# documents them. Both are written as YAML structures or as JSON strings.
ConfigType = Literal["string", "integer", "boolean", "array", "object", "connectors"]
DECLARABLE_TYPES = ("string", "integer", "boolean", "array")

UserProvisioner = Literal["data-api", "kubernetes-job"]
AuditLogging = Literal["cloudwatch", "s3", "none"]
USER_PROVISIONERS: tuple[UserProvisioner, ...] = get_args(UserProvisioner)
DATA_API, KUBERNETES_JOB = USER_PROVISIONERS  # each provisioner's name, in the Literal's order
AUDIT_LOG_DESTINATIONS: tuple[AuditLogging, ...] = get_args(AuditLogging)
MAX_CONNECTORS = 100


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
    field: str = ""  # the field of `Settings` that holds it: organizationId -> organization_id

    @property
    def full_name(self) -> str:
        return f"{PROJECT}:{self.name}"

    @property
    def declared(self) -> bool:
        """Whether Pulumi.yaml can declare the key's type."""
        return self.type in DECLARABLE_TYPES


class DeclarationError(TypeError):
    """A field of the declaration the settings table cannot be read from; raised at import."""


_KEY = "config_key"  # a field's metadata: the key's words (a ConfigKey without name and type)
_DERIVED = "derived"  # a field's metadata: why the field is not a key
SECRET_FLAG = "_is_secret"  # noqa: S105 - a name. Settings.<field>_is_secret: whether a secret key came as a secret


def setting(
    description: str,
    default: Any = None,
    /,
    *,
    required: bool = False,
    default_doc: str | None = None,
    rule: v.Rule | None = None,
    max_items: tuple[int, str] | None = None,
    new_cluster_only: bool = False,
    secret: bool = False,
) -> Any:
    """A field that is the key of its name; its type comes from the field's annotation.

    `default` is the key's default, not the field's: the gate gives every field its value.
    """
    words = ConfigKey(
        "", "string", description, default, required, default_doc, rule, max_items,
        new_cluster_only, secret,
    )  # fmt: skip
    return dataclasses.field(metadata={_KEY: words})


def derived(why: str, *, default: Any = dataclasses.MISSING) -> Any:
    """A field the gate computes (or takes from outside this project's keys): not a key."""
    return dataclasses.field(default=default, metadata={_DERIVED: why})


_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(setting, derived))
def declaration(cls: type[_T]) -> type[_T]:
    """A frozen dataclass whose fields are `setting(...)`s and `derived(...)`s."""
    return dataclass(frozen=True)(cls)


def key_name(field: str) -> str:
    """A field's key: organization_id -> organizationId."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_SCALARS: dict[Any, ConfigType] = {str: "string", int: "integer", bool: "boolean"}


def _config_type(hint: Any, where: str) -> tuple[ConfigType, tuple[Any, ...]]:
    """The key type a field's annotation declares, and the values a `Literal` allows."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is types.UnionType and len(args) == 2 and type(None) in args:
        return _config_type(next(a for a in args if a is not type(None)), where)
    if hint in _SCALARS:
        return _SCALARS[hint], ()
    if origin is Literal and all(isinstance(a, str) for a in args):
        return "string", args
    if origin is tuple and args == (str, ...):
        return "array", ()
    if origin is Mapping and args == (str, str):
        return "object", ()
    if origin is tuple and len(args) == 2 and args[1] is ... and dataclasses.is_dataclass(args[0]):
        return "connectors", ()
    raise DeclarationError(
        f"{where}: type {hint} is not a setting's type: use str, int, bool, a Literal of strings, "
        "tuple[str, ...], Mapping[str, str] or a tuple of connectors (either may be `| None`)"
    )


def _key(field: dataclasses.Field[Any], hint: Any, where: str) -> ConfigKey:
    words: ConfigKey = field.metadata[_KEY]
    kind, choices = _config_type(hint, where)
    key = dataclasses.replace(
        words,
        name=key_name(field.name),
        type=kind,
        field=field.name,
        rule=words.rule or (v.one_of(choices) if choices else None),
    )
    optional = get_origin(hint) is types.UnionType
    if key.required and (key.default is not None or optional):
        raise DeclarationError(f"{where}: a required setting has no default and is never None")
    if optional and key.default is not None:
        raise DeclarationError(f"{where}: `| None` means unset by default: drop the default")
    if key.default is None and not key.required and not key.default_doc:
        raise DeclarationError(f"{where}: without a default, say what it is (default_doc=...)")
    if key.default is not None:
        items = key.default if kind == "array" else (key.default,)
        broken = [str(b) for item in items if key.rule and (b := key.rule(item))]
        if broken:
            raise DeclarationError(f"{where}: the default {key.default!r} {'; '.join(broken)}")
    return key


def declared_keys(cls: type) -> tuple[ConfigKey, ...]:
    """The settings table of a declaration: its keys in field order (checked; see the module)."""
    hints = get_type_hints(cls)
    keys = []
    for field in dataclasses.fields(cls):
        where = f"{cls.__name__}.{field.name}"
        if _KEY in field.metadata:
            keys.append(_key(field, hints[field.name], where))
        elif _DERIVED not in field.metadata:
            raise DeclarationError(
                f"{where}: declares no key: make it `setting(...)` (the key "
                f"{PROJECT}:{key_name(field.name)}) or `derived(...)` (computed by the gate)"
            )
    flags = {f.name for f in dataclasses.fields(cls) if f.name.endswith(SECRET_FLAG)}
    secret = {key.field + SECRET_FLAG for key in keys if key.secret}
    if flags != secret:
        raise DeclarationError(
            f"{cls.__name__}: each key with secret=True has a flag `<field>{SECRET_FLAG}: bool = "
            f"derived(...)` (whether it came as a secret), and only those: "
            f"missing {sorted(secret - flags)}, unexpected {sorted(flags - secret)}"
        )
    return tuple(keys)


def connector_fields(connector: type) -> tuple[str, ...]:
    """The fields a `connectors` entry may set: the connector's fields that are not derived."""
    return tuple(f.name for f in dataclasses.fields(connector) if _DERIVED not in f.metadata)


def connector_keys(
    connector: type, keys: tuple[ConfigKey, ...], settings: type
) -> tuple[ConfigKey, ...]:
    """The keys of the connector's fields: each is a setting of the same name and type."""
    by_field = {key.field: key for key in keys}
    hints, setting_hints = get_type_hints(connector), get_type_hints(settings)
    for name in connector_fields(connector):
        if name not in by_field or hints[name] != setting_hints[name]:
            raise DeclarationError(
                f"{connector.__name__}.{name}: a connector field is a setting of the same name "
                f"and type ({settings.__name__}.{name}), or `derived(...)`"
            )
    return tuple(by_field[name] for name in connector_fields(connector))


def iamr_user(role_name: str) -> str:
    """The database user IAM authentication maps a role to (Redshift's `IAMR:` convention)."""
    return f"IAMR:{role_name}"


@declaration
class ConnectorSettings:
    """One xpander connector: its own role, policies, database user and pod identity association.

    Each field but the derived ones is a setting an entry of `connectors` may set (the top-level
    value where it does not), by the setting's rule.
    """

    name: str = derived("the entry's own name, for its resources and outputs")
    role_name: str
    organization_id: str
    namespace: str
    service_account: str
    grant_schemas: tuple[str, ...]
    organization_id_is_secret: bool = derived(
        "set with --secret, as organizationId or in connectors: kept secret", default=False
    )
    former_name: str | None = derived(
        "the entry's formerName: its name before a rename, its resources' aliases", default=None
    )

    @property
    def database_user(self) -> str:
        return iamr_user(self.role_name)


# A connector's name before a rename (an entry's own, like `name`): no top-level key.
FORMER_NAME = "formerName"
_ENTRY_FIELDS = ", ".join(
    ["name", *map(key_name, connector_fields(ConnectorSettings)), FORMER_NAME]
)


@declaration
class Settings:
    """The validated stack settings, derived defaults filled in. Only the gate builds one."""

    region: str = derived("aws:region, the AWS provider's own setting")
    organization_id: str = setting(
        "Your xpander Organization ID: the ExternalId the xpander platform assumes the role with.",
        required=True,
        rule=v.ORGANIZATION_ID,
        secret=True,
    )
    eks_cluster_name: str = setting(
        "EKS cluster running xpander: its security group reaches the port, its pods get the role.",
        required=True,
        rule=v.EKS_CLUSTER_NAME,
    )
    private_subnet_ids: tuple[str, ...] = setting(
        "Private subnets of the EKS nodes, for the Redshift subnet group (guide step 1).",
        default_doc="required unless existingClusterIdentifier",
        rule=v.SUBNET_ID,
        max_items=(
            20,
            "a cluster subnet group holds at most 20 subnets (botocore redshift "
            "CreateClusterSubnetGroup SubnetIds)",
        ),
        new_cluster_only=True,
    )
    # With existingClusterIdentifier the gate puts that cluster's identifier here.
    cluster_identifier: str = setting(
        "Redshift cluster identifier; also the ClusterNamePath of the connector.",
        "xpander-redshift",
        rule=v.cluster_identifier_problem,
        new_cluster_only=True,
    )
    database_name: str = setting(
        "Database created in the cluster; also the DatabaseNamePath of the connector.",
        "xpander_demo",
        rule=v.database_name_problem,
    )
    master_username: str = setting(
        "Admin user of the cluster; its password is generated and kept in Secrets Manager.",
        "xpander_admin",
        rule=v.master_username_problem,
    )
    node_types: tuple[str, ...] = setting(
        "Node types in order of preference; the first one the region offers is used.",
        ("ra3.large", "ra3.xlplus"),
        rule=v.NODE_TYPE,
        new_cluster_only=True,
    )
    number_of_nodes: int = setting(
        "Number of compute nodes; 1 makes a single-node cluster.",
        1,
        rule=v.between(1, v.MAX_NODES, "botocore redshift CreateCluster NumberOfNodes"),
        new_cluster_only=True,
    )
    port: int = setting(
        f"Port the cluster listens on (RA3 and RG: {ranges_text(MANAGED_STORAGE_PORT_RANGES)}).",
        5439,  # its rule depends on the node types: see validators.port_problem,
        new_cluster_only=True,
    )
    role_name: str = setting(
        "Name of the IAM role xpander assumes; the database user is IAMR:<roleName>.",
        "xpander-redshift-access",
        rule=v.role_name_problem,
    )
    role_path: str = setting(
        "IAM path of the role (part of its ARN).",
        "/",
        rule=v.role_path_problem,
    )
    # None: the deploying account
    platform_account_id: str | None = setting(
        "AWS account of the xpander platform, trusted with ExternalId = organizationId.",
        default_doc="the deploying account",
        rule=v.ACCOUNT,
    )
    namespace: str = setting(
        "Kubernetes namespace of the xpander service account.",
        "xpander",
        rule=v.NAMESPACE,
    )
    service_account: str = setting(
        "Kubernetes service account that gets the role through EKS Pod Identity.",
        "xpander",
        rule=v.service_account_problem,
    )
    catalog_name_path: str = setting(
        "Catalog view the connector reads (CatalogNamePath).",
        "pg_catalog.svv_all_columns",
        rule=v.CATALOG_NAME_PATH,
    )
    grant_schemas: tuple[str, ...] = setting(
        "Schemas whose tables the IAMR user may read (now and in future).",
        ("public",),
        rule=v.schema_problem,
        # Each grant names every schema in one statement, and the Data API takes at most 100 kB
        # of SQL per statement (ExecuteStatement: "Cannot process query string larger than 100kB").
        max_items=(100, "one statement names them all, and a statement must stay under 100 kB"),
    )
    # None: the EKS cluster's VPC
    vpc_id: str | None = setting(
        "VPC of the Redshift security group.",
        default_doc="the EKS cluster's VPC",
        rule=v.VPC_ID,
        new_cluster_only=True,
    )
    # empty: the EKS cluster security group
    source_security_group_ids: tuple[str, ...] = setting(
        "Security groups whose members may reach the cluster port (one ingress rule each); set "
        "it for self-managed nodes, custom launch templates or security groups for pods.",
        default_doc="the EKS cluster security group",
        rule=v.SECURITY_GROUP_ID,
        max_items=(
            60,
            "a security group holds at most 60 inbound rules (Amazon VPC quotas, inbound rules "
            "per security group)",
        ),
    )
    kms_key_id: str | None = setting(
        "ARN of a customer managed KMS key for cluster encryption.",
        default_doc="none: the AWS managed key",
        rule=v.KMS_KEY_ARN,
        new_cluster_only=True,
    )
    require_ssl: bool = setting(
        "Refuse connections without TLS (the cluster parameter group's require_ssl).",
        True,
        new_cluster_only=True,
    )
    reboot_for_static_parameters: bool = setting(
        "Reboot the cluster in `pulumi up` after a static parameter (requireSsl) changes, when "
        "it is available with nothing else pending (a few minutes without connections; every "
        "rule in docs/operations.md).",
        False,
        new_cluster_only=True,
    )
    audit_logging: AuditLogging = setting(
        "Where audit logs (connection, user, user activity) go: cloudwatch, s3 or none.",
        "cloudwatch",
        new_cluster_only=True,
    )
    audit_log_retention_days: int = setting(
        "Retention of the CloudWatch log groups the stack creates for audit logs.",
        365,
        rule=v.one_of(v.LOG_RETENTION_DAYS, "botocore logs PutRetentionPolicy retentionInDays"),
        new_cluster_only=True,
    )
    audit_log_bucket: str | None = setting(
        "With auditLogging = s3: the existing bucket Redshift writes audit logs to.",
        default_doc="none (required with auditLogging = s3)",
        rule=v.bucket_name_problem,
        new_cluster_only=True,
    )
    audit_log_s3_key_prefix: str | None = setting(
        "With auditLogging = s3: the prefix of the log objects.",
        default_doc="none: the bucket's root",
        rule=v.S3_KEY_PREFIX,
        new_cluster_only=True,
    )
    enhanced_vpc_routing: bool = setting(
        "Keep COPY/UNLOAD traffic inside the VPC (needs an S3 gateway endpoint or a NAT).",
        True,
        new_cluster_only=True,
    )
    automated_snapshot_retention_days: int = setting(
        "Days automated snapshots are kept (1-35).",
        7,
        rule=v.between(
            1, 35, "botocore redshift CreateCluster AutomatedSnapshotRetentionPeriod: RA3 1-35"
        ),
        new_cluster_only=True,
    )
    allow_version_upgrade: bool = setting(
        "Let Redshift apply major version upgrades in the maintenance window.",
        True,
        new_cluster_only=True,
    )
    multi_az: bool = setting(
        "Deploy the cluster in two Availability Zones (RA3, two or more nodes).",
        False,
        new_cluster_only=True,
    )
    skip_final_snapshot: bool = setting(
        "Delete the cluster without a final snapshot (not for data you want to keep).",
        False,
        new_cluster_only=True,
    )
    protect: bool = setting(
        "Protect the cluster from `pulumi destroy` and replacement.",
        True,
        new_cluster_only=True,
    )
    install_pod_identity_agent: bool = setting(
        "Install the eks-pod-identity-agent add-on (skip if the cluster has it).",
        False,
    )
    # empty: no GetClusterCredentials statement
    credentials_db_users: tuple[str, ...] = setting(
        "Named database users the role may get GetClusterCredentials for (not IAMR: users, "
        'which the Data API reaches with GetClusterCredentialsWithIAM); ["*"] is the guide\'s '
        "wildcard.",
        default_doc="none: no GetClusterCredentials",
        rule=v.credentials_db_user_problem,
        max_items=(50, "the role's inline policies share IAM's 10,240-character limit"),
    )
    tags: Mapping[str, str] = setting(
        "Tags for every resource: a mapping of strings (or the same as a JSON object string).",
        {},
    )
    user_provisioner: UserProvisioner = setting(
        "How the IAMR user is created: data-api (Redshift Data API) or kubernetes-job (psql, EKS).",
        DATA_API,
    )
    # The gate fills in masterUsername when it is unset.
    default_privileges_for: str = setting(
        "User whose future tables the IAMR user can read (ALTER DEFAULT PRIVILEGES FOR USER).",
        default_doc="masterUsername",
        rule=v.database_user_problem,
    )
    provisioner_timeout_seconds: int = setting(
        "Longest wait for one provisioning SQL run (Data API statement or Job).",
        300,
        rule=v.between(10, 3600),
    )
    psql_image: str = setting(
        "Image of the kubernetes-job provisioner (psql 10+ and /bin/sh); pin it by digest.",
        "postgres:15-alpine",
        rule=v.image_problem,
    )
    existing_cluster_identifier: str | None = setting(
        "Use this existing cluster: no subnet group, security group or cluster is created.",
        default_doc="none: the stack creates the cluster",
        rule=v.cluster_identifier_problem,
    )
    existing_security_group_id: str | None = setting(
        "With an existing cluster: add the ingress rules to this security group of it.",
        default_doc="none: no ingress rule is added",
        rule=v.SECURITY_GROUP_ID,
    )
    existing_admin_secret_arn: str | None = setting(
        "With an existing cluster: Secrets Manager secret of an admin user for the provisioner.",
        default_doc="none: DbUser = its master user",
        rule=v.SECRET_ARN,
        secret=True,
    )
    # empty: one connector from the top-level keys
    connectors: tuple[ConnectorSettings, ...] = setting(
        f"Several connectors on one cluster: a list of {{{_ENTRY_FIELDS}}} (or the same as a "
        "JSON string); omitted fields take the top-level values.",
        default_doc="none: one connector from the top-level settings",
    )
    # Whether each secret-material key (`secret=True`) came as a secret: the stack keeps it one.
    organization_id_is_secret: bool = derived("organizationId was set with --secret")
    existing_admin_secret_arn_is_secret: bool = derived("existingAdminSecretArn: with --secret")

    @property
    def database_user(self) -> str:
        return iamr_user(self.role_name)

    @property
    def single_connector(self) -> ConnectorSettings:
        """The connector the top-level settings describe."""
        return ConnectorSettings(
            name="default",
            organization_id_is_secret=self.organization_id_is_secret,
            **{key.field: getattr(self, key.field) for key in CONNECTOR_KEYS},
        )

    @property
    def all_connectors(self) -> tuple[ConnectorSettings, ...]:
        return self.connectors or (self.single_connector,)

    @property
    def single_form_connector(self) -> ConnectorSettings | None:
        """The entry of `connectors` that is the single-connector form's connector: the one whose
        roleName is the top-level roleName (the same role, hence the same IAMR user and
        association). None without `connectors` or without such an entry."""
        return next((c for c in self.connectors if c.role_name == self.role_name), None)

    @property
    def primary_connector(self) -> ConnectorSettings:
        """The connector whose outputs are at the top and that has the pod identity agent: the
        single-connector form's (see single_form_connector), else the first entry."""
        return self.single_form_connector or self.all_connectors[0]

    @property
    def cluster_type(self) -> str:
        return "single-node" if self.number_of_nodes == 1 else "multi-node"


CONFIG_KEYS: tuple[ConfigKey, ...] = declared_keys(Settings)
KEYS_BY_NAME: dict[str, ConfigKey] = {key.name: key for key in CONFIG_KEYS}
# The keys a `connectors` entry may set besides its name, each by its top-level rule.
CONNECTOR_KEYS = connector_keys(ConnectorSettings, CONFIG_KEYS, Settings)
CONNECTOR_FIELDS = tuple(key.name for key in CONNECTOR_KEYS)
