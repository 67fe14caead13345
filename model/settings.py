"""Typed, validated stack settings: every `xpander-redshift:*` config key, default and rule.

One table (`CONFIG_KEYS`) declares each key once; it drives parsing, validation, the `config:` block
of Pulumi.yaml and the README's settings table (tests keep both equal to it). The field defaults
of `Settings` mirror it for code that builds settings directly (tests, other tools). Parsing is a
pure function of plain strings, so the plan tool, the tests and the Pulumi program share it; only
`components.config.read_settings` touches `pulumi.Config`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from model import sql as redshift_sql

PROJECT = "xpander-redshift"

ConfigType = Literal["string", "integer", "boolean", "array"]


@dataclass(frozen=True)
class ConfigKey:
    """One stack setting as users write it: `xpander-redshift:<name>`."""

    name: str
    type: ConfigType
    description: str
    default: Any = None  # None: required (see `required`) or computed from other settings
    required: bool = False
    default_doc: str | None = None  # how a computed default is described to users

    @property
    def full_name(self) -> str:
        return f"{PROJECT}:{self.name}"


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "organizationId",
        "string",
        "Your xpander Organization ID: the ExternalId the xpander platform assumes the role with.",
        required=True,
    ),
    ConfigKey(
        "eksClusterName",
        "string",
        "EKS cluster running xpander: its security group reaches the port, its pods get the role.",
        required=True,
    ),
    ConfigKey(
        "privateSubnetIds",
        "array",
        "Private subnets of the EKS nodes, for the Redshift subnet group (guide step 1).",
        default_doc="required unless existingClusterIdentifier",
    ),
    ConfigKey(
        "clusterIdentifier",
        "string",
        "Redshift cluster identifier; also the ClusterNamePath of the connector.",
        "xpander-redshift",
    ),
    ConfigKey(
        "databaseName",
        "string",
        "Database created in the cluster; also the DatabaseNamePath of the connector.",
        "xpander_demo",
    ),
    ConfigKey(
        "masterUsername",
        "string",
        "Admin user of the cluster; its password is generated and kept in Secrets Manager.",
        "xpander_admin",
    ),
    ConfigKey(
        "nodeTypes",
        "array",
        "Node types in order of preference; the first one the region offers is used.",
        ["ra3.large", "ra3.xlplus"],
    ),
    ConfigKey(
        "numberOfNodes", "integer", "Number of compute nodes; 1 makes a single-node cluster.", 1
    ),
    ConfigKey(
        "port", "integer", "Port the cluster listens on (RA3: 5431-5455 or 8191-8215).", 5439
    ),
    ConfigKey(
        "roleName",
        "string",
        "Name of the IAM role xpander assumes; the database user is IAMR:<roleName>.",
        "xpander-redshift-access",
    ),
    ConfigKey("rolePath", "string", "IAM path of the role (part of its ARN).", "/"),
    ConfigKey(
        "platformAccountId",
        "string",
        "AWS account of the xpander platform, trusted with ExternalId = organizationId.",
        default_doc="the deploying account",
    ),
    ConfigKey(
        "namespace", "string", "Kubernetes namespace of the xpander service account.", "xpander"
    ),
    ConfigKey(
        "serviceAccount",
        "string",
        "Kubernetes service account that gets the role through EKS Pod Identity.",
        "xpander",
    ),
    ConfigKey(
        "catalogNamePath",
        "string",
        "Catalog view the connector reads (CatalogNamePath).",
        "pg_catalog.svv_all_columns",
    ),
    ConfigKey(
        "grantSchemas",
        "array",
        "Schemas whose tables the IAMR user may read (now and in future).",
        ["public"],
    ),
    ConfigKey(
        "vpcId",
        "string",
        "VPC of the Redshift security group.",
        default_doc="the EKS cluster's VPC",
    ),
    ConfigKey(
        "kmsKeyId",
        "string",
        "ARN of a customer managed KMS key for cluster encryption.",
        default_doc="none: the AWS managed key",
    ),
    ConfigKey(
        "skipFinalSnapshot",
        "boolean",
        "Delete the cluster without a final snapshot (not for data you want to keep).",
        False,
    ),
    ConfigKey(
        "protect", "boolean", "Protect the cluster from `pulumi destroy` and replacement.", True
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
        'Users the role may get GetClusterCredentials for; ["*"] is the guide\'s wildcard.',
        default_doc='["IAMR:<roleName>"]',
    ),
    ConfigKey(
        "tags",
        "string",
        'Tags for every resource, as a JSON object string, e.g. \'{"team":"data"}\'.',
        "{}",
    ),
    ConfigKey(
        "userProvisioner",
        "string",
        "How the IAMR user is created: data-api (Redshift Data API) or kubernetes-job (psql, EKS).",
        "data-api",
    ),
    ConfigKey(
        "defaultPrivilegesFor",
        "string",
        "User whose future tables the IAMR user can read (ALTER DEFAULT PRIVILEGES FOR USER).",
        default_doc="masterUsername",
    ),
    ConfigKey(
        "provisionerTimeoutSeconds",
        "integer",
        "Longest wait for one provisioning SQL run (Data API statement or Job).",
        300,
    ),
    ConfigKey(
        "psqlImage",
        "string",
        "Container image of the kubernetes-job provisioner (needs psql).",
        "postgres:15-alpine",
    ),
    ConfigKey(
        "existingClusterIdentifier",
        "string",
        "Use this existing cluster: no subnet group, security group or cluster is created.",
        default_doc="none: the stack creates the cluster",
    ),
    ConfigKey(
        "existingSecurityGroupId",
        "string",
        "With an existing cluster: add the EKS ingress rule to this security group of it.",
        default_doc="none: no ingress rule is added",
    ),
    ConfigKey(
        "existingAdminSecretArn",
        "string",
        "With an existing cluster: Secrets Manager secret of an admin user for the provisioner.",
        default_doc="none: DbUser = its master user",
    ),
    ConfigKey(
        "connectors",
        "string",
        "Several connectors on one cluster, as a JSON list of {name, roleName, organizationId, "
        "namespace, serviceAccount, grantSchemas}; omitted fields take the top-level values.",
        default_doc="none: one connector from the top-level settings",
    ),
)

KEYS_BY_NAME: dict[str, ConfigKey] = {key.name: key for key in CONFIG_KEYS}

USER_PROVISIONERS = ("data-api", "kubernetes-job")
CONNECTOR_FIELDS = (
    "name",
    "roleName",
    "organizationId",
    "namespace",
    "serviceAccount",
    "grantSchemas",
)
MAX_CONNECTORS = 100


def iamr_user(role_name: str) -> str:
    """The database user IAM authentication maps a role to (Redshift's `IAMR:` convention)."""
    return f"IAMR:{role_name}"


def project_values(config: Mapping[str, Any]) -> dict[str, str]:
    """This project's keys of a stack's config (without the `xpander-redshift:` prefix)."""
    prefix = f"{PROJECT}:"
    return {k[len(prefix) :]: str(v) for k, v in config.items() if k.startswith(prefix)}


@dataclass(frozen=True)
class ConnectorSettings:
    """One xpander connector: its own role, policies, database user and pod identity association."""

    name: str
    role_name: str
    organization_id: str
    namespace: str
    service_account: str
    grant_schemas: tuple[str, ...]
    credentials_db_users: tuple[str, ...]

    @property
    def database_user(self) -> str:
        return iamr_user(self.role_name)


@dataclass(frozen=True)
class Settings:
    """The validated stack settings. Field names are the config keys in snake_case."""

    region: str
    organization_id: str
    eks_cluster_name: str
    private_subnet_ids: tuple[str, ...]
    cluster_identifier: str = "xpander-redshift"
    database_name: str = "xpander_demo"
    master_username: str = "xpander_admin"
    node_types: tuple[str, ...] = ("ra3.large", "ra3.xlplus")
    number_of_nodes: int = 1
    port: int = 5439
    role_name: str = "xpander-redshift-access"
    role_path: str = "/"
    platform_account_id: str | None = None
    namespace: str = "xpander"
    service_account: str = "xpander"
    catalog_name_path: str = "pg_catalog.svv_all_columns"
    grant_schemas: tuple[str, ...] = ("public",)
    vpc_id: str | None = None
    kms_key_id: str | None = None
    skip_final_snapshot: bool = False
    protect: bool = True
    install_pod_identity_agent: bool = False
    credentials_db_users: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    user_provisioner: str = "data-api"
    default_privileges_for: str = ""
    provisioner_timeout_seconds: int = 300
    psql_image: str = "postgres:15-alpine"
    existing_cluster_identifier: str | None = None
    existing_security_group_id: str | None = None
    existing_admin_secret_arn: str | None = None
    # Empty: one connector described by the top-level settings (see `all_connectors`).
    connectors: tuple[ConnectorSettings, ...] = ()

    @property
    def database_user(self) -> str:
        return iamr_user(self.role_name)

    @property
    def single_connector(self) -> ConnectorSettings:
        """The connector the top-level settings describe."""
        return ConnectorSettings(
            name="default",
            role_name=self.role_name,
            organization_id=self.organization_id,
            namespace=self.namespace,
            service_account=self.service_account,
            grant_schemas=self.grant_schemas,
            credentials_db_users=self.credentials_db_users or (self.database_user,),
        )

    @property
    def all_connectors(self) -> tuple[ConnectorSettings, ...]:
        return self.connectors or (self.single_connector,)

    @property
    def cluster_type(self) -> str:
        return "single-node" if self.number_of_nodes == 1 else "multi-node"


class SettingsError(ValueError):
    """Invalid stack settings: one line per problem, each naming the key, the value and the rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --- the rules -----------------------------------------------------------------------------------
# Each returns None when the value is fine, else the rule it breaks (said so a user can fix it).

Rule = Callable[[Any], str | None]

_CLUSTER_ID = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_$]{0,63}$")
_MASTER_USER = re.compile(r"^[a-z][a-z0-9_+.@-]{0,127}$")
_SUBNET = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_VPC = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_EKS_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ROLE_PATH = re.compile(r"^/(?:[\x21-\x7e]{0,510}/)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN_PART = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_NODE_TYPE = re.compile(r"^[a-z][a-z0-9]*\.[a-z0-9]+$")
_CATALOG_PATH = re.compile(r"^[a-z_][a-z0-9_$]*\.[a-z_][a-z0-9_$]*$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,64}$")
_DB_USER_PATTERN = re.compile(r"^(?:\*|[A-Za-z0-9_+=,.@:-]{1,127})$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")
_SECURITY_GROUP = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]{1,512}$"
)
_CONNECTOR_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$")
REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
_TAG_KEY = re.compile(r"^[\w\s.:/=+@-]{1,128}$")

# The RA3 port ranges AWS accepts (CreateCluster: "Port").
RA3_PORT_RANGES = ((5431, 5455), (8191, 8215))
OTHER_PORT_RANGE = (1150, 65535)
MAX_SUBNETS_PER_GROUP = 20
MAX_NODES = 128
MAX_TAGS = 50


def _matches(pattern: re.Pattern[str], rule: str) -> Rule:
    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and pattern.fullmatch(value) else rule

    return check


def cluster_identifier_problem(value: str) -> str | None:
    if not _CLUSTER_ID.fullmatch(value) or "--" in value:
        return (
            "must be 1-63 lowercase letters, digits or hyphens, start with a letter, "
            "and contain no '--' and no trailing hyphen"
        )
    return None


def role_path_problem(value: str) -> str | None:
    if not _ROLE_PATH.fullmatch(value) or "//" in value:
        return "must start and end with '/', use printable ASCII and be at most 512 characters"
    return None


def service_account_problem(value: str) -> str | None:
    parts = value.split(".")
    if len(value) > 253 or not all(_DNS_SUBDOMAIN_PART.fullmatch(p) for p in parts):
        return (
            "must be a DNS subdomain name: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters"
        )
    return None


def database_user_problem(value: str) -> str | None:
    """A database user name that goes into SQL (quoted) and into `dbuser:` ARNs."""
    problem = redshift_sql.identifier_problem(value, kind="user")
    return f"is not a usable database user name: {problem}" if problem else None


def schema_problem(value: str) -> str | None:
    problem = redshift_sql.identifier_problem(value, kind="schema")
    return f"is not a usable schema name: {problem}" if problem else None


def role_name_problem(value: str) -> str | None:
    if not _ROLE_NAME.fullmatch(value):
        return "must be an IAM role name: 1-64 letters, digits and + = , . @ _ -"
    iamr_problem = database_user_problem(f"IAMR:{value}")
    return f"IAMR:<roleName> {iamr_problem}" if iamr_problem else None


def master_username_problem(value: str) -> str | None:
    if not _MASTER_USER.fullmatch(value):
        return (
            "must be 1-128 characters: lowercase letters, digits, _ + . @ -, starting with a letter"
        )
    return "PUBLIC is reserved" if value == "public" else None


def image_problem(value: str) -> str | None:
    if not _IMAGE.fullmatch(value):
        return (
            "must be a container image reference like 'postgres:15-alpine' or 'registry/repo:tag'"
        )
    return None


_RULES: dict[str, Rule] = {
    "organizationId": _matches(
        _EXTERNAL_ID,
        "must be 2-1224 characters of letters, digits and + = , . @ : / - _ "
        "(it is the sts:ExternalId)",
    ),
    "eksClusterName": _matches(
        _EKS_NAME,
        "must be an EKS cluster name: 1-100 letters, digits, '-' or '_', "
        "starting with a letter or digit",
    ),
    "clusterIdentifier": cluster_identifier_problem,
    "databaseName": _matches(
        DATABASE_NAME,
        "must be 1-64 characters: lowercase letters, digits, '_' or '$', not starting with a digit",
    ),
    "masterUsername": master_username_problem,
    "roleName": role_name_problem,
    "rolePath": role_path_problem,
    "platformAccountId": _matches(ACCOUNT_ID, "must be a 12-digit AWS account id"),
    "namespace": _matches(
        _DNS_LABEL,
        "must be a Kubernetes namespace (DNS label): 1-63 lowercase letters, digits or '-', "
        "starting and ending with a letter or digit",
    ),
    "serviceAccount": service_account_problem,
    "catalogNamePath": _matches(
        _CATALOG_PATH, "must be <schema>.<view> in lowercase, e.g. pg_catalog.svv_all_columns"
    ),
    "vpcId": _matches(_VPC, "must be a VPC id like vpc-0123456789abcdef0"),
    "kmsKeyId": _matches(
        _KMS_KEY_ARN,
        "must be the ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/<id>)",
    ),
    "defaultPrivilegesFor": database_user_problem,
    "psqlImage": image_problem,
    "numberOfNodes": lambda n: (
        None if 1 <= n <= MAX_NODES else f"must be between 1 and {MAX_NODES}"
    ),
    "provisionerTimeoutSeconds": lambda t: (
        None if 10 <= t <= 3600 else "must be between 10 and 3600"
    ),
    "existingClusterIdentifier": cluster_identifier_problem,
    "existingSecurityGroupId": _matches(
        _SECURITY_GROUP, "must be a security group id like sg-0123456789abcdef0"
    ),
    "existingAdminSecretArn": _matches(
        _SECRET_ARN,
        "must be a Secrets Manager secret ARN (arn:<partition>:secretsmanager:...:secret:...)",
    ),
    "userProvisioner": lambda v: (
        None if v in USER_PROVISIONERS else f"must be one of {', '.join(USER_PROVISIONERS)}"
    ),
}

_ITEM_RULES: dict[str, Rule] = {
    "privateSubnetIds": _matches(_SUBNET, "must be a subnet id like subnet-0123456789abcdef0"),
    "nodeTypes": _matches(_NODE_TYPE, "must be a node type like ra3.large"),
    "grantSchemas": schema_problem,
    "credentialsDbUsers": _matches(
        _DB_USER_PATTERN,
        "must be '*' or a database user name (letters, digits and _ + = , . @ : -, at most 127)",
    ),
}


# --- parsing -------------------------------------------------------------------------------------


def _problem(key: str, value: Any, rule: str) -> str:
    shown = value if isinstance(value, str) else json.dumps(value)
    return f"{PROJECT}:{key} = {shown!r}: {rule}"


def _parse(key: ConfigKey, text: str) -> Any:
    """Turn the raw config string into the key's type; raise ValueError with the rule."""
    if key.type == "string":
        return text
    if key.type == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if key.type == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ValueError("must be true or false")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError('must be a JSON/YAML list of strings, e.g. ["a", "b"]') from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('must be a list of strings, e.g. ["a", "b"]')
    return value


def _check_list(
    key: str, values: list[str], problems: list[str], rule_key: str | None = None
) -> None:
    if not values:
        problems.append(_problem(key, values, "must not be empty"))
    if len(set(values)) != len(values):
        problems.append(_problem(key, values, "must not repeat an entry"))
    rule = _ITEM_RULES.get(rule_key or key)
    for item in values:
        broken = rule(item) if rule else None
        if broken:
            problems.append(_problem(key, item, broken))


def _check_port(port: int, node_types: Sequence[str]) -> str | None:
    if any(t.startswith("ra3.") for t in node_types):
        if not any(lo <= port <= hi for lo, hi in RA3_PORT_RANGES):
            return "RA3 clusters accept only ports 5431-5455 or 8191-8215"
    elif not OTHER_PORT_RANGE[0] <= port <= OTHER_PORT_RANGE[1]:
        return "must be between 1150 and 65535"
    return None


def _parse_tags(text: str, problems: list[str]) -> dict[str, str]:
    try:
        tags = json.loads(text)
    except json.JSONDecodeError:
        problems.append(
            _problem("tags", text, 'must be a JSON object string, e.g. {"team":"data"}')
        )
        return {}
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        problems.append(_problem("tags", text, "must be a JSON object of string keys and values"))
        return {}
    if len(tags) > MAX_TAGS:
        problems.append(_problem("tags", text, f"may hold at most {MAX_TAGS} tags"))
    for k, v in tags.items():
        if k.lower().startswith("aws:") or not _TAG_KEY.fullmatch(k):
            problems.append(
                _problem("tags", k, "tag keys are 1-128 characters, not starting with 'aws:'")
            )
        if len(v) > 256:
            problems.append(_problem("tags", v, "tag values are at most 256 characters"))
    return tags


def unknown_key_problems(names: Sequence[str]) -> list[str]:
    """Keys in the `xpander-redshift:` namespace that this stack does not read (likely typos)."""
    problems = []
    for name in names:
        if name not in KEYS_BY_NAME:
            close = difflib.get_close_matches(name, KEYS_BY_NAME, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(f"{PROJECT}:{name}: is not a setting of this stack{hint}")
    return problems


def _read_values(raw: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """Each key parsed to its type and checked by its own rule; defaults where unset or broken."""
    values: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        text = raw.get(key.name)
        if key.default_doc is not None and text in ("", "[]"):
            text = None  # Pulumi.yaml declares computed defaults as empty: "not set"
        values[key.name] = key.default
        if text is None:
            if key.required:
                problems.append(
                    f"{key.full_name}: is required ({key.description}) - "
                    f"set it with `pulumi config set {key.full_name} ...`"
                )
            continue
        try:
            value = _parse(key, text)
        except ValueError as err:
            problems.append(_problem(key.name, text, str(err)))
            continue
        if isinstance(value, list):
            _check_list(key.name, value, problems)
        elif key.name in _RULES and (broken := _RULES[key.name](value)):
            problems.append(_problem(key.name, value, broken))
        values[key.name] = value
    return values


def _cross_key_problems(
    raw: Mapping[str, str], values: Mapping[str, Any], region: str | None
) -> list[str]:
    """Rules that involve more than one key, or the AWS provider's region."""
    problems = []
    if not region:
        problems.append(
            "aws:region: is required - set it with `pulumi config set aws:region <region>`"
        )
    elif not REGION.fullmatch(region):
        problems.append(f"aws:region = {region!r}: must be an AWS region like us-west-2")
    port = values["port"]
    existing = values["existingClusterIdentifier"]
    # An existing cluster keeps its own port (looked up); the setting applies to a new cluster.
    if (
        not existing
        and isinstance(port, int)
        and (broken := _check_port(port, values["nodeTypes"] or []))
    ):
        problems.append(_problem("port", str(port), broken))
    subnets = values["privateSubnetIds"] or []
    if len(subnets) > MAX_SUBNETS_PER_GROUP:
        rule = f"a subnet group holds at most {MAX_SUBNETS_PER_GROUP}"
        problems.append(_problem("privateSubnetIds", subnets, rule))
    if not existing and raw.get("privateSubnetIds") in (None, "", "[]"):
        problems.append(
            f"{PROJECT}:privateSubnetIds: is required unless existingClusterIdentifier is set - "
            f"set it with `pulumi config set --path '{PROJECT}:privateSubnetIds[0]' subnet-...`"
        )
    for key in ("existingSecurityGroupId", "existingAdminSecretArn"):
        if values[key] and not existing:
            problems.append(
                _problem(
                    key, values[key], "applies only with existingClusterIdentifier; set that too"
                )
            )
    if (
        existing
        and values["userProvisioner"] == "kubernetes-job"
        and not values["existingAdminSecretArn"]
    ):
        problems.append(
            _problem(
                "userProvisioner",
                "kubernetes-job",
                "with an existing cluster psql needs a password: set existingAdminSecretArn",
            )
        )
    return problems


def _connector_problems(index: int, entry: Any, top: Mapping[str, Any]) -> list[str]:
    """Problems of one entry of `connectors`; its fields follow the top-level keys' rules."""
    where = f"connectors[{index}]"
    if not isinstance(entry, dict):
        return [_problem(where, entry, 'must be an object like {"name": "sales", ...}')]
    problems = [
        _problem(
            f"{where}.{field_name}",
            entry[field_name],
            f"is not a connector field; use {', '.join(CONNECTOR_FIELDS)}",
        )
        for field_name in entry
        if field_name not in CONNECTOR_FIELDS
    ]
    name = entry.get("name")
    if name is None:
        problems.append(
            f"{PROJECT}:{where}.name: is required (a short name for outputs and resources)"
        )
    elif not isinstance(name, str) or not _CONNECTOR_NAME.fullmatch(name):
        problems.append(
            _problem(
                f"{where}.name",
                name,
                "must be 1-32 lowercase letters, digits or '-', starting with a letter",
            )
        )
    for field_name in CONNECTOR_FIELDS[1:]:
        value = entry.get(field_name, top[field_name])
        if field_name == "grantSchemas":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(
                    _problem(f"{where}.grantSchemas", value, "must be a list of strings")
                )
            else:
                _check_list(f"{where}.grantSchemas", value, problems, rule_key="grantSchemas")
        elif not isinstance(value, str):
            problems.append(_problem(f"{where}.{field_name}", value, "must be a string"))
        elif broken := _RULES[field_name](value):
            problems.append(_problem(f"{where}.{field_name}", value, broken))
    return problems


def _unique_problems(connectors: Sequence[ConnectorSettings]) -> list[str]:
    problems = []
    for label, key in (
        ("name", lambda c: c.name),
        ("roleName", lambda c: c.role_name),
        ("namespace/serviceAccount pair", lambda c: f"{c.namespace}/{c.service_account}"),
    ):
        seen: set[str] = set()
        for connector in connectors:
            value = key(connector)
            if value in seen:
                problems.append(
                    _problem("connectors", value, f"each connector needs its own {label}")
                )
            seen.add(value)
    return problems


def _parse_connectors(
    values: Mapping[str, Any], problems: list[str]
) -> tuple[ConnectorSettings, ...]:
    text = values["connectors"]
    if not text:
        return ()
    try:
        entries = json.loads(text)
    except json.JSONDecodeError:
        entries = None
    if not isinstance(entries, list) or not entries:
        problems.append(_problem("connectors", text, "must be a non-empty JSON list of objects"))
        return ()
    if len(entries) > MAX_CONNECTORS:
        problems.append(
            _problem("connectors", f"{len(entries)} entries", f"at most {MAX_CONNECTORS}")
        )
        return ()
    found = [p for i, e in enumerate(entries) for p in _connector_problems(i, e, values)]
    if found:
        problems += found
        return ()
    explicit_users = tuple(values["credentialsDbUsers"] or ())
    connectors = tuple(
        ConnectorSettings(
            name=e["name"],
            role_name=e.get("roleName", values["roleName"]),
            organization_id=e.get("organizationId", values["organizationId"]),
            namespace=e.get("namespace", values["namespace"]),
            service_account=e.get("serviceAccount", values["serviceAccount"]),
            grant_schemas=tuple(e.get("grantSchemas", values["grantSchemas"])),
            credentials_db_users=explicit_users
            or (iamr_user(e.get("roleName", values["roleName"])),),
        )
        for e in entries
    )
    problems += _unique_problems(connectors)
    return connectors


def parse_settings(raw: Mapping[str, str], *, region: str | None) -> Settings:
    """Validate raw config strings (keys without the project prefix) into `Settings`.

    Every problem is collected and reported at once in a `SettingsError`.
    """
    problems = unknown_key_problems(list(raw))
    values = _read_values(raw, problems)
    problems += _cross_key_problems(raw, values, region)
    tags = _parse_tags(values["tags"], problems)
    connectors = _parse_connectors(values, problems)

    if problems:
        raise SettingsError(problems)

    return Settings(
        region=str(region),
        organization_id=values["organizationId"],
        eks_cluster_name=values["eksClusterName"],
        private_subnet_ids=tuple(values["privateSubnetIds"] or ()),
        # An existing cluster's identifier is the one every ARN and the connector use.
        cluster_identifier=values["existingClusterIdentifier"] or values["clusterIdentifier"],
        database_name=values["databaseName"],
        master_username=values["masterUsername"],
        node_types=tuple(values["nodeTypes"]),
        number_of_nodes=values["numberOfNodes"],
        port=values["port"],
        role_name=values["roleName"],
        role_path=values["rolePath"],
        platform_account_id=values["platformAccountId"],
        namespace=values["namespace"],
        service_account=values["serviceAccount"],
        catalog_name_path=values["catalogNamePath"],
        grant_schemas=tuple(values["grantSchemas"]),
        vpc_id=values["vpcId"],
        kms_key_id=values["kmsKeyId"],
        skip_final_snapshot=values["skipFinalSnapshot"],
        protect=values["protect"],
        install_pod_identity_agent=values["installPodIdentityAgent"],
        credentials_db_users=tuple(values["credentialsDbUsers"] or [iamr_user(values["roleName"])]),
        tags=tags,
        user_provisioner=values["userProvisioner"],
        default_privileges_for=values["defaultPrivilegesFor"] or values["masterUsername"],
        provisioner_timeout_seconds=values["provisionerTimeoutSeconds"],
        psql_image=values["psqlImage"],
        existing_cluster_identifier=values["existingClusterIdentifier"],
        existing_security_group_id=values["existingSecurityGroupId"],
        existing_admin_secret_arn=values["existingAdminSecretArn"],
        connectors=connectors,
    )
