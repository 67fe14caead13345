"""The cluster rules: private, encrypted, reachable only from security groups, and AWS's baseline.

The baseline is what AWS Control Tower's proactive controls CT.REDSHIFT.PR.1-9 and Security Hub's
Redshift controls check: TLS-only connections (a parameter group with `require_ssl`), audit
logging, enhanced VPC routing, automated snapshots kept 7 days; plus a port the node type
accepts, no public serverless workgroup, and a provisioner Job whose image is pinned by digest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from .aws_facts import ranges_text
from .findings import Findings, opt_out
from .networks import (
    DEFAULT_REDSHIFT_PORT,
    SERVERLESS_PORT_RANGES,
    node_type_ports,
)
from .stack_view import (
    CLUSTER,
    EGRESS_RULE,
    INGRESS_RULE,
    LOGGING,
    PARAMETER_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SERVERLESS_WORKGROUP,
    StackResource,
    followed_value,
    of_type,
    refers_to,
    rule_resources_of,
    stack_resources,
)
from .values import UNKNOWN, as_bool, as_int, is_unknown, known, known_str, stack_of

PREVIOUS_GENERATION_NODE_PREFIXES: Final = ("dc1.", "dc2.", "ds1.", "ds2.")
PRODUCTION_STACK = re.compile(r"(?:^|[-_.])(?:prod|production|prd|live)(?:$|[-_.0-9])", re.I)
# Security Hub Redshift.3's default MinRetentionPeriod; CreateCluster's own default is 1 day.
MIN_SNAPSHOT_RETENTION_DAYS: Final = 7
AWS_DEFAULT_SNAPSHOT_RETENTION_DAYS: Final = 1
GUIDE_SECURITY_GROUP: Final = (
    "Check the Redshift security group allows port 5439 from the EKS cluster security group."
)


def cluster_label(name: str, props: Mapping[str, Any]) -> str:
    return f"'{known_str(props.get('clusterIdentifier')) or name}'"


def _cluster(args: ResourceValidationArgs) -> tuple[Mapping[str, Any], str] | None:
    if args.resource_type != CLUSTER:
        return None
    props = known(args.props)
    return props, f"Redshift cluster {cluster_label(args.name, props)}"


# --- redshift-cluster-private-and-encrypted -------------------------------------------------------


def check_cluster_private_and_encrypted(args: ResourceValidationArgs, found: Findings) -> None:
    cluster = _cluster(args)
    if cluster is None:
        return
    props, label = cluster
    public = as_bool(props.get("publiclyAccessible"))
    if public is UNKNOWN:
        found.could_not_judge(f"{label}: publiclyAccessible is not known at preview.")
    elif public is not False:
        shown = "not set" if public is None else "true"
        found.violation(
            f"{label}: publiclyAccessible is {shown}, so the cluster may get a public endpoint "
            "that anyone on the internet can reach (only its security groups stand in the way). "
            "It must be explicitly false - the guide creates the cluster "
            "--no-publicly-accessible and reaches it only from inside the VPC (EKS) and through "
            "the Data API. Set publicly_accessible=False."
        )
    encrypted = as_bool(props.get("encrypted"))
    if encrypted is UNKNOWN:
        found.could_not_judge(f"{label}: encrypted is not known at preview.")
    elif encrypted is not True:
        shown = "not set" if encrypted is None else "false"
        found.violation(
            f"{label}: encrypted is {shown}, so its data at rest is not encrypted "
            "(the guide's --encrypted): set encrypted=True, optionally with a customer managed "
            "key (kms_key_id; the stack's xpander-redshift:kmsKeyId)."
        )


# --- redshift-port-in-node-type-range -------------------------------------------------------------


def check_port_in_range(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    for item in of_type(resources, CLUSTER, SERVERLESS_WORKGROUP):
        props = item.props
        if item.type == CLUSTER:
            label = f"Redshift cluster {cluster_label(item.name, props)}"
            node_type = followed_value(item, "nodeType", resources)
            if is_unknown(node_type):
                found.could_not_judge(f"{label}: its node type is not known at preview.", item.urn)
                continue
            ranges = node_type_ports(str(node_type)) if node_type else None
            what = f"node type {node_type}"
        else:
            name = known_str(props.get("workgroupName")) or item.name
            label = f"Redshift Serverless workgroup '{name}'"
            ranges = SERVERLESS_PORT_RANGES
            what = "a serverless workgroup"
        raw = followed_value(item, "port", resources)
        if is_unknown(raw):
            found.could_not_judge(f"{label}: its port is not known at preview.", item.urn)
            continue
        port = DEFAULT_REDSHIFT_PORT if raw is None else as_int(raw)
        inside = ranges is None or port is None or any(lo <= port <= hi for lo, hi in ranges)
        if not inside and ranges is not None:
            found.violation(
                f"{label}: port {port} is outside what {what} accepts "
                f"({ranges_text(ranges)}; Redshift's CreateCluster/CreateWorkgroup), so the "
                "create fails. Use 5439 (the default) or another port in those ranges "
                "(xpander-redshift:port).",
                item.urn,
            )


# --- redshift-require-ssl -------------------------------------------------------------------------


def _require_ssl(group: StackResource) -> Any:
    """The group's require_ssl: True/False, None when the group leaves it at AWS's default (off)."""
    parameters = group.props.get("parameters")
    if is_unknown(parameters):
        return UNKNOWN
    value: Any = None
    for parameter in parameters if isinstance(parameters, list) else []:
        if not isinstance(parameter, Mapping):
            continue
        name = parameter.get("name")
        if is_unknown(name):
            return UNKNOWN  # an unknown parameter may be require_ssl
        if str(name or "").strip().lower() == "require_ssl":
            current = as_bool(parameter.get("value"))
            value = current if value in (None, True) or current is UNKNOWN else value
    return value


def _group_label(group: StackResource) -> str:
    return f"parameter group '{known_str(group.props.get('name')) or group.name}'"


def check_require_ssl(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    groups = of_type(resources, PARAMETER_GROUP)
    for group in groups:
        if _require_ssl(group) is False:
            found.violation(
                f"Redshift {_group_label(group)} sets require_ssl to false, so every cluster "
                "using it accepts unencrypted connections (passwords and query results in "
                "clear text on the network; Security Hub Redshift.2). "
                'Set {"name": "require_ssl", "value": "true"} (the stack does unless '
                "xpander-redshift:requireSsl is false; a team that turns it off: "
                f"{opt_out('redshift-require-ssl')}).",
                group.urn,
            )
    for workgroup in of_type(resources, SERVERLESS_WORKGROUP):
        parameters = workgroup.props.get("configParameters")
        for parameter in parameters if isinstance(parameters, list) else []:
            if not isinstance(parameter, Mapping):
                continue
            key = str(parameter.get("parameterKey") or "").strip().lower()
            if key == "require_ssl" and as_bool(parameter.get("parameterValue")) is False:
                label = known_str(workgroup.props.get("workgroupName")) or workgroup.name
                found.violation(
                    f"Redshift Serverless workgroup '{label}' sets require_ssl to false in its "
                    "configParameters, so it accepts unencrypted connections (passwords and "
                    "query results in clear text on the network). Remove the parameter or set "
                    f'it to "true" ({opt_out("redshift-require-ssl")}).',
                    workgroup.urn,
                )
    for cluster in of_type(resources, CLUSTER):
        label = f"Redshift cluster {cluster_label(cluster.name, cluster.props)}"
        name = cluster.props.get("clusterParameterGroupName")
        if name is None:
            found.violation(
                f"{label} uses the default parameter group, whose require_ssl is false: it "
                "accepts unencrypted connections. Attach a parameter group (family redshift-2.0) "
                "with require_ssl true - the stack creates one unless xpander-redshift:requireSsl "
                f"is false (a team that sets it false: {opt_out('redshift-require-ssl')}).",
                cluster.urn,
            )
            continue
        mine = [
            g
            for g in groups
            if refers_to(cluster, "clusterParameterGroupName", g, g.props.get("name"))
        ]
        if not mine:
            shown = name if known_str(name) else "(not known at preview)"
            found.could_not_judge(
                f"{label}: its parameter group {shown} "
                "is not one of this stack's, so whether it requires TLS could not be read.",
                cluster.urn,
            )
            continue
        for group in mine:
            ssl = _require_ssl(group)
            if ssl is UNKNOWN:
                found.could_not_judge(
                    f"{label}: require_ssl of its {_group_label(group)} is not known at preview.",
                    cluster.urn,
                )
            elif ssl is None:
                found.violation(
                    f"{label}: its {_group_label(group)} leaves require_ssl at AWS's default "
                    "(false), so the cluster accepts unencrypted connections. Add "
                    '{"name": "require_ssl", "value": "true"} to the group\'s parameters '
                    "(xpander-redshift:requireSsl true, the stack's default; "
                    f"{opt_out('redshift-require-ssl')}).",
                    cluster.urn,
                )


# --- redshift-audit-logging -----------------------------------------------------------------------


def check_audit_logging(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    loggings = of_type(resources, LOGGING)
    for cluster in of_type(resources, CLUSTER):
        label = f"Redshift cluster {cluster_label(cluster.name, cluster.props)}"
        identifier = cluster.props.get("clusterIdentifier")
        verdicts = [
            (log, refers_to(log, "clusterIdentifier", cluster, identifier)) for log in loggings
        ]
        mine = [log for log, v in verdicts if v]
        if not mine:
            undecided = [log for log, v in verdicts if v is None]
            if undecided:
                found.could_not_judge(
                    f"{label}: logging resource '{undecided[0].name}' names a cluster not known "
                    "at preview, with no dependency edge to say whether it is this one.",
                    cluster.urn,
                )
            else:
                found.violation(
                    f"{label} has no audit logging (no aws.redshift.Logging for it): who "
                    "connected and what they ran is not recorded anywhere (Security Hub "
                    "Redshift.4). Add aws.redshift.Logging with "
                    'log_destination_type "cloudwatch" and log_exports ["connectionlog", '
                    '"userlog", "useractivitylog"] (the stack does unless '
                    'xpander-redshift:auditLogging is "none"; a team that sets it so: '
                    f"{opt_out('redshift-audit-logging')}).",
                    cluster.urn,
                )
            continue
        for log in mine:
            _judge_logging(label, log, found)


def _judge_logging(label: str, log: StackResource, found: Findings) -> None:
    destination = log.props.get("logDestinationType")
    if is_unknown(destination):
        found.could_not_judge(
            f"{label}: the log destination of '{log.name}' is not known.", log.urn
        )
        return
    if str(destination or "s3").lower() == "cloudwatch":
        exports = log.props.get("logExports")
        if not exports or not isinstance(exports, list):
            found.violation(
                f"{label}: logging '{log.name}' sends to CloudWatch Logs but exports no log "
                "(log_exports is empty), so nothing is recorded. Set log_exports to "
                '["connectionlog", "userlog", "useractivitylog"].',
                log.urn,
            )
    elif log.props.get("bucketName") in (None, ""):
        found.violation(
            f"{label}: logging '{log.name}' sends to S3 but names no bucket_name, so AWS refuses "
            'it. Name the bucket, or use log_destination_type "cloudwatch".',
            log.urn,
        )


# --- redshift-enhanced-vpc-routing, redshift-snapshot-retention -----------------------------------


def check_enhanced_vpc_routing(args: ResourceValidationArgs, found: Findings) -> None:
    cluster = _cluster(args)
    if cluster is None:
        return
    props, label = cluster
    routing = as_bool(props.get("enhancedVpcRouting"))
    if routing is UNKNOWN:
        found.could_not_judge(f"{label}: enhancedVpcRouting is not known at preview.")
    elif routing is not True:
        found.violation(
            f"{label}: enhanced VPC routing is {'off' if routing is False else 'not set (off)'}, "
            "so COPY and UNLOAD traffic leaves the VPC over the public internet path instead of "
            "your VPC's routes, endpoints and flow logs (Security Hub Redshift.7). "
            "Set enhanced_vpc_routing=True (xpander-redshift:enhancedVpcRouting, the stack's "
            "default; it needs an S3 gateway endpoint or a NAT for COPY/UNLOAD; a team that "
            f"turns it off: {opt_out('redshift-enhanced-vpc-routing')})."
        )


def check_snapshot_retention(args: ResourceValidationArgs, found: Findings) -> None:
    cluster = _cluster(args)
    if cluster is None:
        return
    props, label = cluster
    raw = props.get("automatedSnapshotRetentionPeriod")
    if is_unknown(raw):
        found.could_not_judge(f"{label}: automatedSnapshotRetentionPeriod is not known at preview.")
        return
    days = AWS_DEFAULT_SNAPSHOT_RETENTION_DAYS if raw is None else as_int(raw)
    if days is not None and days < MIN_SNAPSHOT_RETENTION_DAYS:
        shown = f"{days} day(s)" + (" (AWS's default, not set)" if raw is None else "")
        found.violation(
            f"{label}: automated snapshots are kept {shown}, so a table dropped or damaged more "
            f"than {days} day(s) ago cannot be restored (Security Hub Redshift.3 asks for "
            f"{MIN_SNAPSHOT_RETENTION_DAYS}). Set automated_snapshot_retention_period to 7-35 "
            "(xpander-redshift:automatedSnapshotRetentionDays, default 7; a team that keeps "
            f"fewer days: {opt_out('redshift-snapshot-retention')})."
        )


# --- redshift-serverless-workgroup-private --------------------------------------------------------


def check_workgroup_private(args: ResourceValidationArgs, found: Findings) -> None:
    if args.resource_type != SERVERLESS_WORKGROUP:
        return
    props = known(args.props)
    label = f"Redshift Serverless workgroup '{known_str(props.get('workgroupName')) or args.name}'"
    public = as_bool(props.get("publiclyAccessible"))
    if public is UNKNOWN:
        found.could_not_judge(f"{label}: publiclyAccessible is not known at preview.")
    elif public is True:
        found.violation(
            f"{label}: publiclyAccessible is true, so its endpoint gets a public address that "
            "anyone on the internet can reach (only its security groups stand in the way). Set "
            "publicly_accessible=False and reach it from inside the VPC or through the Data API."
        )


# --- advisory rules on the cluster ----------------------------------------------------------------


def check_final_snapshot(args: ResourceValidationArgs, found: Findings) -> None:
    cluster = _cluster(args)
    if cluster is None:
        return
    props, label = cluster
    skip = as_bool(props.get("skipFinalSnapshot"))
    if skip is True:
        found.violation(
            f"{label}: skipFinalSnapshot is true, so deleting or replacing it "
            "(pulumi destroy, or a change that forces a new cluster) drops every table with no "
            "snapshot to restore from. Set xpander-redshift:skipFinalSnapshot to false (the stack "
            "then names the snapshot <clusterIdentifier>-final-snapshot)."
        )
    elif skip is not UNKNOWN and props.get("finalSnapshotIdentifier") in (None, ""):
        found.violation(
            f"{label}: no final snapshot is skipped but finalSnapshotIdentifier "
            "is not set, so AWS refuses to delete the cluster. Set final_snapshot_identifier "
            "(the stack does this unless xpander-redshift:skipFinalSnapshot is true)."
        )


def check_protected_in_production(args: ResourceValidationArgs, found: Findings) -> None:
    if args.resource_type != CLUSTER:
        return
    stack = stack_of(args.urn)
    if not stack or not PRODUCTION_STACK.search(stack) or getattr(args.opts, "protect", False):
        return
    found.violation(
        f"Redshift cluster {cluster_label(args.name, known(args.props))}: stack '{stack}' looks "
        "like production but the cluster is not protected, so `pulumi destroy` or a replacing "
        "change deletes it. Set xpander-redshift:protect to true (the resource option "
        "protect=True)."
    )


def check_node_type(args: ResourceValidationArgs, found: Findings) -> None:
    cluster = _cluster(args)
    if cluster is None:
        return
    props, label = cluster
    node_type = known_str(props.get("nodeType"))
    if node_type and node_type.lower().startswith(PREVIOUS_GENERATION_NODE_PREFIXES):
        found.violation(
            f"{label}: node type {node_type} is a previous "
            f'generation that new clusters can no longer use (CreateCluster fails: "Invalid node '
            f"type: {node_type}\"); the guide's dc2.large is one. Use RA3: the stack picks the "
            "first of xpander-redshift:nodeTypes (default ra3.large, ra3.xlplus) the region "
            "offers, through aws.redshift.get_orderable_cluster."
        )


# --- one-way-to-manage-policies-and-rules (the security groups' part) -----------------------------


def groups_managed_one_way(resources: Sequence[StackResource], found: Findings) -> None:
    for group in of_type(resources, SECURITY_GROUP):
        inline = [
            d
            for d in ("ingress", "egress")
            if isinstance(group.props.get(d), list) and group.props.get(d)
        ]
        attached = rule_resources_of(group, resources)
        kinds = {r.type for r in attached}
        problem = None
        if inline and attached:
            problem = (
                f"has inline {' and '.join(inline)} rules and {len(attached)} separate rule "
                "resource(s)"
            )
        elif SECURITY_GROUP_RULE in kinds and kinds & {INGRESS_RULE, EGRESS_RULE}:
            problem = (
                "has both aws.ec2.SecurityGroupRule and aws.vpc.SecurityGroupIngressRule/"
                "EgressRule resources"
            )
        if problem:
            found.violation(
                f"Security group '{group.name}' {problem}: the provider reverts one with "
                "the other on every update, dropping rules. Manage its rules one way only: "
                "aws.vpc.SecurityGroupIngressRule/EgressRule resources, with no ingress/egress "
                "blocks on the SecurityGroup.",
                group.urn,
            )
