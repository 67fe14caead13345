"""The rules of the settings: pure functions that return None, or the rule a value breaks.

Each rule is written the way a user can act on it, and each states AWS's own constraint where AWS
has one (the botocore service model or the AWS documentation named beside it). The settings table
(`model.config_keys`) attaches them to keys; the gate (`model.settings`) is their only caller
besides the dynamic provider's `check()` on state written by an older version.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from model import sql
from model.aws_facts import (
    MANAGED_STORAGE_FAMILIES,
    MANAGED_STORAGE_PORT_RANGES,
    OTHER_PORT_RANGE,
    ranges_text,
)

Rule = Callable[[Any], str | None]

# Redshift's reserved words (Database Developer Guide, "Reserved words", r_pg_keywords).
# CreateCluster refuses them as DBName and MasterUsername.
REDSHIFT_RESERVED_WORDS = frozenset(
    [
        "aes128",
        "aes256",
        "all",
        "allowoverwrite",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "authorization",
        "az64",
        "backup",
        "between",
        "binary",
        "blanksasnull",
        "both",
        "bytedict",
        "bzip2",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "credentials",
        "cross",
        "current_date",
        "current_time",
        "current_timestamp",
        "current_user",
        "current_user_id",
        "default",
        "deferrable",
        "deflate",
        "defrag",
        "delta",
        "delta32k",
        "desc",
        "disable",
        "distinct",
        "do",
        "else",
        "emptyasnull",
        "enable",
        "encode",
        "encrypt",
        "encryption",
        "end",
        "except",
        "explicit",
        "false",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "globaldict256",
        "globaldict64k",
        "grant",
        "group",
        "gzip",
        "having",
        "identity",
        "ignore",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "interval",
        "into",
        "is",
        "isnull",
        "join",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "lun",
        "luns",
        "lzo",
        "lzop",
        "minus",
        "mostly16",
        "mostly32",
        "mostly8",
        "natural",
        "new",
        "not",
        "notnull",
        "null",
        "nulls",
        "off",
        "offline",
        "offset",
        "oid",
        "old",
        "on",
        "only",
        "open",
        "or",
        "order",
        "outer",
        "overlaps",
        "parallel",
        "partition",
        "percent",
        "permissions",
        "pivot",
        "placing",
        "primary",
        "raw",
        "readratio",
        "recover",
        "references",
        "rejectlog",
        "resort",
        "respect",
        "restore",
        "right",
        "select",
        "session_user",
        "similar",
        "snapshot",
        "some",
        "sysdate",
        "system",
        "table",
        "tag",
        "tdes",
        "text255",
        "text32k",
        "then",
        "timestamp",
        "to",
        "top",
        "trailing",
        "true",
        "truncatecolumns",
        "union",
        "unique",
        "unnest",
        "unpivot",
        "user",
        "using",
        "verbose",
        "wallet",
        "when",
        "where",
        "with",
        "without",
    ]
)

# CreateCluster "Port": model/aws_facts.py (shared with the policy pack).
RA3_PORT_RANGES = MANAGED_STORAGE_PORT_RANGES
# CreateCluster "NumberOfNodes": "at least 1 and no more than 100"; some node types allow fewer
# when a cluster is created (Cluster Management Guide, "Node type details": the node range).
MAX_NODES = 100
MAX_NODES_BY_TYPE = {
    "ra3.large": 16,
    "ra3.xlplus": 16,
    "ra3.4xlarge": 32,
    "dc2.large": 32,
}
# Node types whose node range starts at 2: no single-node cluster (Cluster Management Guide, "Node
# type details"; ra3.large, ra3.xlplus and dc2.large run single-node).
MULTI_NODE_ONLY = frozenset({"ra3.4xlarge", "ra3.16xlarge", "dc2.8xlarge", "ds2.8xlarge"})
MAX_TAGS = 50  # per resource, the stack's Name tag included (AWS tagging quota)
# CloudWatch Logs PutRetentionPolicy "retentionInDays": the only values it accepts.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

_CLUSTER_ID = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,63}", re.ASCII)
_MASTER_USER = re.compile(r"[a-z][a-z0-9_+.@-]{0,127}", re.ASCII)
_SUBNET = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
_VPC = re.compile(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
_SECURITY_GROUP = re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
# AssumeRole "ExternalId": 2-1224 characters of [\w+=,.@:/-]; botocore's pattern is ASCII (\w is
# [A-Za-z0-9_] in IAM's regex dialect), so re.ASCII.
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_EKS_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", re.ASCII)
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ROLE_PATH = re.compile(r"/(?:[\x21-\x7e]{0,510}/)?", re.ASCII)
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_DNS_SUBDOMAIN_PART = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)
_NODE_TYPE = re.compile(r"[a-z][a-z0-9]*\.[a-z0-9]+", re.ASCII)
_CATALOG_PATH = re.compile(r"[a-z_][a-z0-9_$]*\.[a-z_][a-z0-9_$]*", re.ASCII)
_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,64}", re.ASCII)
# GetClusterCredentials "DbUser": 1-64 characters, letters, digits, _ + . @ -, a letter first,
# no ':' or '/', not PUBLIC, not a reserved word. "*" is this stack's explicit wildcard opt-in.
_CREDENTIALS_DB_USER = re.compile(r"[A-Za-z][A-Za-z0-9_+.@-]{0,63}", re.ASCII)
# A container image reference in the grammar of distribution/reference (the one Docker, containerd
# and the kubelet parse): [domain[:port]/]path[:tag][@digest]. Path components are lowercase
# alphanumerics joined by '.', '_', '__' or dashes; a domain is dot-separated DNS components, with
# an optional port; a tag is [\w][\w.-]{0,127}; a digest is algorithm:hex of 32 or more digits.
# The name part is at most 255 characters (NameTotalLengthMax).
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[_.]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_IMAGE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?",
    re.ASCII,
)
IMAGE_NAME_MAX = 255
# Secrets Manager secret ARNs end in the name and a 6-character suffix; Redshift-managed admin
# secrets are named `redshift!<cluster>-<user>`, so '!' belongs to the name's character set.
_SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@!-]{1,512}", re.ASCII
)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_IP_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# EnableLogging "S3KeyPrefix": at most 256 characters of [\p{L}\p{Z}\p{N}_.:/=+\-@] (botocore
# redshift S3KeyPrefixValue; its documentation also names a backslash, the pattern has none), and
# none of x00-x20, x22, x27, x5c or x7f and above (Redshift Management Guide, "Database audit
# logging", bucket structure: no spaces, quotes, backslash, control or non-ASCII characters).
# Both hold, so the prefix is ASCII letters, digits and _ . : / = + - @.
S3_KEY_PREFIX_MAX = 256
_S3_KEY_PREFIX_TEXT = re.compile(r"[A-Za-z0-9_.:/=+@-]+", re.ASCII)
CONNECTOR_NAME = re.compile(r"[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?", re.ASCII)


def matches(pattern: re.Pattern[str], rule: str) -> Rule:
    """A rule that a string must match `pattern` in full."""

    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and pattern.fullmatch(value) else rule

    return check


def between(low: int, high: int, source: str = "") -> Rule:
    """`source`: where AWS states the bounds, when they are AWS's (shown with the rule)."""
    where = f" ({source})" if source else ""

    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}{where}"

    return check


def one_of(choices: Sequence[Any], source: str = "") -> Rule:
    where = f" ({source})" if source else ""

    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return f"must be one of {', '.join(map(str, choices))}{where}"

    return check


def _reserved(value: str) -> str | None:
    if value.lower() in REDSHIFT_RESERVED_WORDS:
        return f"{value!r} is a Redshift reserved word"
    return None


def cluster_identifier_problem(value: str) -> str | None:
    if not _CLUSTER_ID.fullmatch(value) or "--" in value:
        return (
            "must be 1-63 lowercase letters, digits or hyphens, start with a letter, "
            "and contain no '--' and no trailing hyphen (botocore redshift CreateCluster "
            "ClusterIdentifier)"
        )
    return None


def database_name_problem(value: str) -> str | None:
    if not DATABASE_NAME.fullmatch(value):
        return (
            "must be 1-64 characters: lowercase letters, digits, '_' or '$', not starting with a "
            "digit (botocore redshift CreateCluster DBName: 1 to 64)"
        )
    return _reserved(value)


def database_user_problem(value: str) -> str | None:
    """A database user name that goes into SQL (quoted) and into `dbuser:` ARNs."""
    problem = sql.identifier_problem(value, kind="user")
    return f"is not a usable database user name: {problem}" if problem else None


def master_username_problem(value: str) -> str | None:
    """CreateCluster's MasterUsername rule, and a name the provisioners can put in SQL."""
    if not _MASTER_USER.fullmatch(value):
        return (
            "must be 1-128 characters: lowercase letters, digits, _ + . @ -, starting with a "
            "letter (botocore redshift CreateCluster MasterUsername)"
        )
    return _reserved(value) or database_user_problem(value)


def schema_problem(value: str) -> str | None:
    problem = sql.identifier_problem(value, kind="schema")
    return f"is not a usable schema name: {problem}" if problem else None


def role_name_problem(value: str) -> str | None:
    if not _ROLE_NAME.fullmatch(value):
        return (
            "must be an IAM role name: 1-64 letters, digits and + = , . @ _ - (botocore iam "
            "roleNameType)"
        )
    iamr_problem = database_user_problem(f"IAMR:{value}")
    return f"IAMR:<roleName> {iamr_problem}" if iamr_problem else None


def role_path_problem(value: str) -> str | None:
    if not _ROLE_PATH.fullmatch(value) or "//" in value:
        return (
            "must start and end with '/', use printable ASCII and be at most 512 characters "
            "(botocore iam pathType)"
        )
    # IAM accepts them in a path, but the role's ARN goes into ArnEquals conditions and Resource
    # elements, where IAM reads '*' and '?' as wildcards: the self-assume would admit other roles.
    if "*" in value or "?" in value:
        return "must not contain '*' or '?': in the role's ARN, IAM policies read them as wildcards"
    return None


def service_account_problem(value: str) -> str | None:
    parts = value.split(".")
    if len(value) > 253 or not all(_DNS_SUBDOMAIN_PART.fullmatch(p) for p in parts):
        return (
            "must be a DNS subdomain name: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters (Kubernetes "
            "object names: RFC 1123 subdomain)"
        )
    return None


def image_problem(value: str) -> str | None:
    """distribution/reference's grammar (reference.go), as the kubelet parses an image."""
    found = _IMAGE.fullmatch(value)
    if found and len(found.group("name")) > IMAGE_NAME_MAX:
        return (
            f"the image's name (before ':' or '@') is at most {IMAGE_NAME_MAX} characters "
            "(distribution/reference NameTotalLengthMax)"
        )
    if not found:
        return (
            "must be a container image reference like 'postgres:15-alpine', 'registry/repo:tag' "
            "or 'repo@sha256:<64 hex digits>', its tag at most 128 characters "
            "(distribution/reference grammar, as the kubelet parses it)"
        )
    return None


def credentials_db_user_problem(value: str) -> str | None:
    if value == "*":
        return None
    if not _CREDENTIALS_DB_USER.fullmatch(value):
        return (
            "must be '*' or a GetClusterCredentials DbUser: 1-64 letters, digits and _ + . @ -, "
            "starting with a letter, with no ':' (botocore redshift GetClusterCredentials "
            "DbUser; so never an IAMR: user: the Data API uses GetClusterCredentialsWithIAM for "
            "those)"
        )
    if value.lower() == "public":
        return "PUBLIC is not a user"
    return _reserved(value)


def is_tag_text(text: str) -> bool:
    """AWS's tag character set, `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]`: Unicode letters, space
    separators and numbers (so no tab or newline), and _ . : / = + - @ (Tagging API, Tag)."""
    return all(
        c in "_.:/=+-@"
        or unicodedata.category(c)[0] in ("L", "N")
        or unicodedata.category(c) == "Zs"
        for c in text
    )


def tag_problem(key: str, value: str) -> str | None:
    if not 1 <= len(key) <= 128 or not is_tag_text(key):
        return (
            "tag keys are 1-128 letters, digits, spaces and _ . : / = + - @ (botocore iam "
            "tagKeyType)"
        )
    if key.lower().startswith("aws:"):
        return (
            "tag keys must not start with 'aws:' (reserved for AWS: botocore ec2 Tag Key, "
            '"May not begin with aws:")'
        )
    if len(value) > 256 or not is_tag_text(value):
        return (
            "tag values are at most 256 letters, digits, spaces and _ . : / = + - @ (botocore "
            "iam tagValueType)"
        )
    return None


def port_problem(port: int, node_types: Sequence[str]) -> str | None:
    """CreateCluster "Port": every node type the stack may choose must accept the port."""
    if any(t.startswith(MANAGED_STORAGE_FAMILIES) for t in node_types):
        if not any(lo <= port <= hi for lo, hi in RA3_PORT_RANGES):
            return (
                f"RA3 and RG node types accept only ports {ranges_text(RA3_PORT_RANGES)} "
                "(botocore redshift CreateCluster Port)"
            )
    elif not OTHER_PORT_RANGE[0] <= port <= OTHER_PORT_RANGE[1]:
        return "must be between 1150 and 65535 (botocore redshift CreateCluster Port)"
    return None


def number_of_nodes_problem(count: int, node_types: Sequence[str]) -> str | None:
    """Every node type the stack may choose must take `count` nodes at create time."""
    if count > MAX_NODES:
        return None  # the key's own rule says so
    if count == 1 and (multi := [t for t in node_types if t in MULTI_NODE_ONLY]):
        return (
            f"{', '.join(multi)} cannot run as a single node (Cluster Management Guide, node "
            "type details: 2 nodes or more); set numberOfNodes to 2 or more, or remove "
            "them from nodeTypes"
        )
    for node_type in node_types:
        limit = MAX_NODES_BY_TYPE.get(node_type, MAX_NODES)
        if count > limit:
            return (
                f"{node_type} clusters are created with at most {limit} nodes (Cluster "
                "Management Guide, node type details)"
            )
    return None


# A Multi-AZ cluster runs its compute in two Availability Zones at a time, which Redshift picks
# from the subnet group's (Amazon Redshift Management Guide, "Managing Multi-AZ deployment").
MULTI_AZ_MIN_ZONES = 2


def multi_az_zones_problem(zones: Sequence[str]) -> str | None:
    """Multi-AZ needs the subnet group's subnets in at least MULTI_AZ_MIN_ZONES zones."""
    found = sorted(set(zones))
    if len(found) < MULTI_AZ_MIN_ZONES:
        return (
            f"Multi-AZ runs in {MULTI_AZ_MIN_ZONES} Availability Zones, but privateSubnetIds "
            f"cover only {', '.join(found) or 'none'}: add private subnets of another zone"
        )
    return None


def multi_az_problem(node_types: Sequence[str], count: int) -> str | None:
    """Multi-AZ: RA3 node types only (Cluster Management Guide, Multi-AZ), not single-node."""
    if not all(t.startswith("ra3.") for t in node_types):
        return "Multi-AZ needs RA3 node types only: set nodeTypes to RA3 types"
    if count < 2:
        return "Multi-AZ needs numberOfNodes of 2 or more"
    return None


ORGANIZATION_ID = matches(
    _EXTERNAL_ID,
    "must be 2-1224 ASCII characters: letters, digits and + = , . @ : / - _ "
    "(it is the sts:ExternalId: botocore sts externalIdType)",
)
EKS_CLUSTER_NAME = matches(
    _EKS_NAME,
    "must be an EKS cluster name: 1-100 letters, digits, '-' or '_', "
    "starting with a letter or digit (botocore eks ClusterName)",
)
ACCOUNT = matches(ACCOUNT_ID, "must be a 12-digit AWS account id")
NAMESPACE = matches(
    _DNS_LABEL,
    "must be a Kubernetes namespace (DNS label): 1-63 lowercase letters, digits or '-', "
    "starting and ending with a letter or digit (Kubernetes namespace names: RFC 1123 label)",
)
CATALOG_NAME_PATH = matches(
    _CATALOG_PATH, "must be <schema>.<view> in lowercase, e.g. pg_catalog.svv_all_columns"
)
VPC_ID = matches(_VPC, "must be a VPC id like vpc-0123456789abcdef0")
KMS_KEY_ARN = matches(
    _KMS_KEY_ARN, "must be the ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/<id>)"
)
SECURITY_GROUP_ID = matches(
    _SECURITY_GROUP, "must be a security group id like sg-0123456789abcdef0"
)
SECRET_ARN = matches(
    _SECRET_ARN,
    "must be a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:"
    "secret:<name>)",
)
SUBNET_ID = matches(_SUBNET, "must be a subnet id like subnet-0123456789abcdef0")
NODE_TYPE = matches(_NODE_TYPE, "must be a node type like ra3.large")


def bucket_name_problem(value: str) -> str | None:
    """S3's general purpose bucket naming rules (S3 User Guide, "Bucket naming rules")."""
    rule = (
        "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' or '-', starting and "
        "ending with a letter or digit (S3 User Guide, bucket naming rules)"
    )
    if not _BUCKET.fullmatch(value):
        return rule
    if ".." in value or ".-" in value or "-." in value:
        return "must not hold two adjacent periods or a period next to a hyphen (S3 rule)"
    if _IP_ADDRESS.fullmatch(value):
        return "must not be formatted as an IP address (S3 rule)"
    if value.startswith(_RESERVED_BUCKET_PREFIXES) or value.endswith(_RESERVED_BUCKET_SUFFIXES):
        return "uses a prefix or suffix S3 reserves (xn--, sthree-, -s3alias, --ol-s3, ...)"
    return None


def S3_KEY_PREFIX(value: Any) -> str | None:  # noqa: N802 - a rule, named like the others
    if not isinstance(value, str) or not _S3_KEY_PREFIX_TEXT.fullmatch(value):
        return (
            "must be ASCII letters, digits and _ . : / = + - @, no spaces (EnableLogging "
            "S3KeyPrefix; Redshift Management Guide, 'Database audit logging')"
        )
    if len(value) > S3_KEY_PREFIX_MAX:
        return (
            f"is {len(value)} characters; EnableLogging takes at most {S3_KEY_PREFIX_MAX} "
            "(botocore redshift S3KeyPrefixValue)"
        )
    return None


CONNECTOR = matches(
    CONNECTOR_NAME, "must be 1-32 lowercase letters, digits or '-', starting with a letter"
)
