"""The new cluster's security baseline as data: parameter group, audit log names, AWS's controls.

One place for the names and values the cluster component creates, the plan and the tests read,
and docs/security-baseline.md's controls table is rendered from (`python -m tools.readme_tables`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model.config_keys import AUDIT_LOG_DESTINATIONS

# The family a new cluster's parameter group takes. Since January 10, 2025 a cluster created
# without a parameter group gets `default.redshift-2.0` (require_ssl true), and CreateCluster and
# the console select that family (Amazon Redshift Management Guide, "Enforcing SSL connections");
# `redshift-1.0` (botocore's CreateClusterParameterGroup example) is the older family. A stack
# deployed with a redshift-1.0 group keeps it: the component ignores later changes of the family,
# which would replace the group under a running cluster.
PARAMETER_GROUP_FAMILY = "redshift-2.0"
# The parameters the stack sets are static: a change takes effect at the cluster's next reboot
# (ModifyCluster API reference: "modifying a parameter group requires a reboot for parameters to
# take effect"); until then DescribeClusters reports the group's ParameterApplyStatus as
# pending-reboot or apply-deferred (botocore redshift ClusterParameterStatus).
STATIC_PARAMETERS = ("require_ssl", "enable_user_activity_logging")
IN_SYNC = "in-sync"
# The three audit logs Redshift writes (EnableLogging: LogExports); the user activity log is
# written only with the parameter enable_user_activity_logging on.
AUDIT_LOG_TYPES = ("connectionlog", "userlog", "useractivitylog")
# Where audit logs go (setting auditLogging): the settings table owns the names.
CLOUDWATCH, S3, NO_AUDIT_LOGGING = AUDIT_LOG_DESTINATIONS


def subnet_group_name(cluster_identifier: str) -> str:
    """The cluster subnet group's name: the identifier itself (model/aws_limits.py refuses
    `default`, a name Redshift reserves)."""
    return cluster_identifier


def security_group_name(cluster_identifier: str) -> str:
    """The security group's name (model/aws_limits.py refuses one EC2 would: `sg-...`)."""
    return f"{cluster_identifier}-sg"


def parameter_group_name(cluster_identifier: str) -> str:
    """Valid for every valid cluster identifier: letters, digits, single hyphens, <= 255."""
    return f"{cluster_identifier}-params"


def cluster_parameters(*, require_ssl: bool) -> list[dict[str, str]]:
    """The parameters the stack sets; every other one keeps the family's default."""
    return [
        {"name": "require_ssl", "value": "true" if require_ssl else "false"},
        {"name": "enable_user_activity_logging", "value": "true"},
    ]


def reboot_command(cluster_identifier: str, region: str) -> str:
    """The command that applies a parameter group change pending a reboot (a few minutes of
    downtime: connections drop while the cluster restarts)."""
    return (
        f"aws redshift reboot-cluster --cluster-identifier {cluster_identifier} --region {region}"
    )


def parameters_needing_reboot(before: Any, after: Any) -> list[str]:
    """Static parameters whose value differs between two `parameters` inputs of the group."""

    def values(parameters: Any) -> dict[str, Any]:
        if not isinstance(parameters, list):
            return {}
        return {str(p.get("name")): p.get("value") for p in parameters if isinstance(p, dict)}

    return changed_static_values(values(before), values(after))


def changed_static_values(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The static parameters `new` sets ({name: value}) to another value than `old` does, in the
    baseline's order: the plan's and the StaticParameters provider's one rule."""
    return [name for name in STATIC_PARAMETERS if name in new and old.get(name) != new[name]]


# The cluster's input naming its parameter group (pulumi_aws Cluster.cluster_parameter_group_name).
CLUSTER_PARAMETER_GROUP_INPUT = "clusterParameterGroupName"


def parameters_pending_reboot(resource_type: Any, before: Any, after: Any) -> list[str]:
    """The static parameters a change of one resource's inputs leaves pending until the cluster
    reboots: a group's changed static parameters; or, for a cluster attached to another group
    (an adopted one moves from its default group to the stack's), every static parameter the
    stack sets, since a new group's parameters too take effect only at the reboot (ModifyCluster
    API reference, ClusterParameterGroupName)."""
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    if resource_type == PARAMETER_GROUP:
        return parameters_needing_reboot(old.get("parameters"), new.get("parameters"))
    group = CLUSTER_PARAMETER_GROUP_INPUT
    if resource_type == CLUSTER and group in new and old.get(group) != new.get(group):
        return list(STATIC_PARAMETERS)
    return []


def audit_log_group_name(cluster_identifier: str, log_type: str) -> str:
    """The CloudWatch Logs group Redshift exports a provisioned cluster's audit log to.

    Redshift writes to `/aws/redshift/cluster/<cluster>/<log type>` and creates the group itself
    when it does not exist (Amazon Redshift Management Guide, "Database audit logging", Audit
    logs and Amazon CloudWatch); the stack creates them first so it owns their retention.
    """
    return f"/aws/redshift/cluster/{cluster_identifier}/{log_type}"


# --- AWS's Redshift controls, and what in the plan meets each ------------------------------------

CLUSTER = "aws:redshift/cluster:Cluster"
PARAMETER_GROUP = "aws:redshift/parameterGroup:ParameterGroup"
LOGGING = "aws:redshift/logging:Logging"
SUBNET_GROUP = "aws:redshift/subnetGroup:SubnetGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@dataclass(frozen=True)
class Requirement:
    """A planned resource property and the value that meets a control.

    kind: "equals" (the value), "at_least" (a number), "not_in" (values the control refuses),
    "parameter" (a parameter group parameter's value), "present" (the key is set),
    "absent" (the key is not set), "min_items" (a list of at least that many distinct entries).
    """

    resource_type: str
    key: str
    kind: str
    value: Any = None

    def describe(self) -> str:
        short = self.resource_type.rsplit(":", 1)[-1]
        key, value = self.key, self.value
        shown: dict[str, Callable[[], str]] = {
            "equals": lambda: f"`{key}` = `{_json(value)}`",
            "at_least": lambda: f"`{key}` >= {value}",
            "not_in": lambda: f"`{key}` not " + ", ".join(f"`{v}`" for v in value),
            "parameter": lambda: f"parameter `{key}` = `{value}`",
            "present": lambda: f"`{key}` set",
            "absent": lambda: f"no `{key}`",
            "min_items": lambda: f"`{key}` has >= {value} entries",
        }
        return f"{short}: {shown[self.kind]()}"


def _json(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Control:
    """One AWS control: id, what it asks, what meets it, and the setting that turns it off."""

    id: str
    title: str
    requirements: tuple[Requirement, ...]
    setting: str  # the setting a team changes to opt out, or why no setting applies
    applicable: bool = True
    why_not: str = ""  # for a control that does not apply to this stack


def _cluster(key: str, kind: str, value: Any = None) -> Requirement:
    return Requirement(CLUSTER, key, kind, value)


_PRIVATE = _cluster("publiclyAccessible", "equals", False)
_ENCRYPTED = _cluster("encrypted", "equals", "true")
_SNAPSHOTS = _cluster("automatedSnapshotRetentionPeriod", "at_least", 7)
_LOGGING = Requirement(LOGGING, "logDestinationType", "present")
_UPGRADES = _cluster("allowVersionUpgrade", "equals", True)
_VPC_ROUTING = _cluster("enhancedVpcRouting", "equals", True)
_ADMIN_NAME = _cluster("masterUsername", "not_in", ("awsuser",))
_DB_NAME = _cluster("databaseName", "not_in", ("dev",))
_SSL = Requirement(PARAMETER_GROUP, "require_ssl", "parameter", "true")
_TAGGED_CLUSTER = _cluster("tags", "present")

CONTROL_TOWER: tuple[Control, ...] = (
    Control("CT.REDSHIFT.PR.1", "prohibit public access", (_PRIVATE,), "none: always private"),
    Control(
        "CT.REDSHIFT.PR.2", "automatic snapshots", (_SNAPSHOTS,), "automatedSnapshotRetentionDays"
    ),
    Control("CT.REDSHIFT.PR.3", "audit logging", (_LOGGING,), "auditLogging"),
    Control(
        "CT.REDSHIFT.PR.4", "automatic major version upgrades", (_UPGRADES,), "allowVersionUpgrade"
    ),
    Control("CT.REDSHIFT.PR.5", "enhanced VPC routing", (_VPC_ROUTING,), "enhancedVpcRouting"),
    Control("CT.REDSHIFT.PR.6", "unique administrator username", (_ADMIN_NAME,), "masterUsername"),
    Control("CT.REDSHIFT.PR.7", "unique database name", (_DB_NAME,), "databaseName"),
    Control("CT.REDSHIFT.PR.8", "encrypted", (_ENCRYPTED,), "none: always encrypted"),
    Control("CT.REDSHIFT.PR.9", "parameter group requires SSL", (_SSL,), "requireSsl"),
)

# AWS Security Hub CSPM User Guide, "Security Hub CSPM controls for Amazon Redshift": the current
# list is Redshift.1-4, 6-8 and 10-18, each title below as AWS words it. Redshift.5 and Redshift.9
# ("Redshift clusters should not use the default database name") are not in it; Control Tower's
# CT.REDSHIFT.PR.7 still asks for a database name other than `dev`, and the stack meets it.
SECURITY_HUB_SOURCE = (
    "https://docs.aws.amazon.com/securityhub/latest/userguide/redshift-controls.html"
)
SECURITY_HUB: tuple[Control, ...] = (
    Control(
        "Redshift.1", "Amazon Redshift clusters should prohibit public access", (_PRIVATE,), "none"
    ),
    Control(
        "Redshift.2",
        "Connections to Amazon Redshift clusters should be encrypted in transit",
        (_SSL,),
        "requireSsl",
    ),
    Control(
        "Redshift.3",
        # MinRetentionPeriod: Security Hub's default is 7 days.
        "Amazon Redshift clusters should have automatic snapshots enabled",
        (_SNAPSHOTS,),
        "automatedSnapshotRetentionDays",
    ),
    Control(
        "Redshift.4",
        "Amazon Redshift clusters should have audit logging enabled",
        (_LOGGING,),
        "auditLogging",
    ),
    Control(
        "Redshift.6",
        "Amazon Redshift should have automatic upgrades to major versions enabled",
        (_UPGRADES,),
        "allowVersionUpgrade",
    ),
    Control(
        "Redshift.7",
        "Redshift clusters should use enhanced VPC routing",
        (_VPC_ROUTING,),
        "enhancedVpcRouting",
    ),
    Control(
        "Redshift.8",
        "Amazon Redshift clusters should not use the default Admin username",
        (_ADMIN_NAME,),
        "masterUsername",
    ),
    Control(
        "Redshift.10",
        "Redshift clusters should be encrypted at rest",
        (_ENCRYPTED,),
        "none: always encrypted (kmsKeyId picks the key; default: the AWS managed key)",
    ),
    Control(
        "Redshift.11",
        "Redshift clusters should be tagged",
        (_TAGGED_CLUSTER,),
        "tags (Name always set)",
    ),
    Control(
        "Redshift.12",
        "Redshift event notification subscriptions should be tagged",
        (),
        "",
        applicable=False,
        why_not="the stack creates no event subscription",
    ),
    Control(
        "Redshift.13",
        "Redshift cluster snapshots should be tagged",
        (),
        "",
        applicable=False,
        why_not="the stack creates no snapshot resource; Redshift takes the automated ones",
    ),
    Control(
        "Redshift.14",
        "Redshift cluster subnet groups should be tagged",
        (Requirement(SUBNET_GROUP, "tags", "present"),),
        "tags (Name always set)",
    ),
    Control(
        "Redshift.15",
        # AWS fails only ingress from 0.0.0.0/0 or ::/0 on the cluster port; the stack allows
        # no CIDR or prefix list at all.
        "Redshift security groups should allow ingress on the cluster port only from restricted "
        "origins",
        tuple(
            Requirement(INGRESS_RULE, key, "absent")
            for key in ("cidrIpv4", "cidrIpv6", "prefixListId")
        ),
        "sourceSecurityGroupIds (security groups only, never a CIDR)",
    ),
    Control(
        "Redshift.16",
        # Fails a subnet group without subnets from at least two different Availability Zones.
        # Zones are known only from the subnet lookup: offline, subnets are counted; at preview,
        # subnets in one zone get a warning (refused with multiAz).
        "Redshift cluster subnet groups should have subnets from multiple Availability Zones",
        (Requirement(SUBNET_GROUP, "subnetIds", "min_items", 2),),
        "privateSubnetIds (one zone only: a warning at preview; refused with multiAz)",
    ),
    Control(
        "Redshift.17",
        "Redshift cluster parameter groups should be tagged",
        (Requirement(PARAMETER_GROUP, "tags", "present"),),
        "tags (Name always set)",
    ),
    Control(
        "Redshift.18",
        "Redshift clusters should have Multi-AZ deployments enabled",
        (_cluster("multiAz", "equals", True),),
        "multiAz (off by default: RA3, two or more nodes, twice the compute)",
    ),
)


def requirement_met(
    requirement: Requirement, resources: Sequence[tuple[str, dict[str, Any]]]
) -> bool:
    """Whether a plan's (type, inputs) pairs meet one requirement: every resource of the type does.

    With no resource of the type, nothing meets it (an opted-out control shows as not met).
    """
    found = [inputs for kind, inputs in resources if kind == requirement.resource_type]
    if not found:
        return False
    return all(_meets(requirement, inputs) for inputs in found)


def _meets(requirement: Requirement, inputs: dict[str, Any]) -> bool:
    value = inputs.get(requirement.key)
    wanted = requirement.value
    checks: dict[str, Callable[[], bool]] = {
        "equals": lambda: bool(value == wanted),
        "at_least": lambda: isinstance(value, int) and value >= wanted,
        "not_in": lambda: isinstance(value, str) and value not in wanted,
        "present": lambda: bool(value),
        "absent": lambda: requirement.key not in inputs,
        "min_items": lambda: isinstance(value, list) and len(set(value)) >= wanted,
        "parameter": lambda: (
            {"name": requirement.key, "value": wanted} in (inputs.get("parameters") or [])
        ),
    }
    return checks[requirement.kind]()


def controls_table() -> str:
    """The security baseline doc's table: each control, what meets it, the setting to opt out."""
    rows = [
        "| control | asks for | met by (planned resource: property) | opt out with |",
        "| --- | --- | --- | --- |",
    ]
    for control in (*CONTROL_TOWER, *SECURITY_HUB):
        if control.applicable:
            met_by = "; ".join(r.describe() for r in control.requirements)
            rows.append(f"| {control.id} | {control.title} | {met_by} | {control.setting} |")
        else:
            rows.append(f"| {control.id} | {control.title} | N/A: {control.why_not} | - |")
    return "\n".join(rows) + "\n"
