"""RedshiftCluster: the private, encrypted cluster with a managed master password (guide step 3),
and its security baseline: a TLS-only parameter group and audit logging (CT.REDSHIFT.PR.1-9)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from model import cluster_baseline as baseline
from model import cluster_reboot
from model.aws_limits import audit_bucket_region_problem
from model.tags import resource_tags
from providers.static_parameters.resource import StaticParameters


def bucket_in_region(bucket: str, bucket_region: str, region: str) -> str:
    """The audit-log bucket's name, once the lookup found it in the cluster's Region.

    A bucket of another Region fails EnableLogging only after the cluster is created, minutes in.
    RunError: the engine prints the message alone, without a Python traceback.
    """
    if broken := audit_bucket_region_problem(bucket, bucket_region, region):
        raise pulumi.RunError(broken)
    return bucket


def final_snapshot_identifier(cluster_identifier: str) -> str:
    """Name of the snapshot taken when the cluster is deleted (valid for any valid identifier)."""
    return f"{cluster_identifier}-final-snapshot"


@dataclass(frozen=True)
class AuditLogging:
    """Where Redshift's audit logs go: "cloudwatch" (log groups the stack owns), "s3" or "none"."""

    destination: str
    retention_days: int  # CloudWatch Logs groups only
    bucket: str | None  # S3 only: an existing bucket whose policy admits Redshift
    s3_key_prefix: str | None


@dataclass(frozen=True)
class RedshiftClusterArgs:
    cluster_identifier: str
    database_name: str
    master_username: str
    preferred_node_types: Sequence[str]
    cluster_type: str  # "single-node" | "multi-node"
    number_of_nodes: int
    port: int
    subnet_group_name: pulumi.Input[str]
    security_group_ids: Sequence[pulumi.Input[str]]
    # The baseline, as the settings gate decided it (defaults live in the settings table).
    require_ssl: bool
    reboot_for_static_parameters: bool
    region: str
    audit_logging: AuditLogging
    enhanced_vpc_routing: bool
    automated_snapshot_retention_days: int
    multi_az: bool
    allow_version_upgrade: bool
    kms_key_id: str | None = None
    skip_final_snapshot: bool = False
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class RedshiftCluster(pulumi.ComponentResource):
    """Never public, always encrypted; the master password lives only in Secrets Manager."""

    cluster_identifier: pulumi.Output[str]
    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    node_type: pulumi.Output[str]
    master_password_secret_arn: pulumi.Output[str]
    pending_reboot: pulumi.Output[dict[str, Any]]
    identifier_for_users: pulumi.Output[str]
    endpoint_for_users: pulumi.Output[str]

    def __init__(
        self, name: str, args: RedshiftClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:RedshiftCluster", name, None, opts)
        parameters = baseline.cluster_parameters(require_ssl=args.require_ssl)
        parameter_group = aws.redshift.ParameterGroup(
            f"{name}-params",
            name=baseline.parameter_group_name(args.cluster_identifier),
            family=baseline.PARAMETER_GROUP_FAMILY,
            description="xpander Redshift: TLS-only connections, user activity logging",
            parameters=[
                aws.redshift.ParameterGroupParameterArgs(name=p["name"], value=p["value"])
                for p in parameters
            ],
            tags=resource_tags(args.tags, baseline.parameter_group_name(args.cluster_identifier)),
            # A stack deployed with the older family keeps its group: a new family would replace
            # the group a running cluster uses (model/cluster_baseline.py).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["family"]),
        )

        multi_node = args.cluster_type == "multi-node"
        cluster = aws.redshift.Cluster(
            f"{name}",
            cluster_identifier=args.cluster_identifier,
            database_name=args.database_name,
            master_username=args.master_username,
            manage_master_password=True,
            node_type=self._chosen_node_type(name, args),
            cluster_type=args.cluster_type,
            number_of_nodes=args.number_of_nodes if multi_node else None,
            port=args.port,
            cluster_subnet_group_name=args.subnet_group_name,
            vpc_security_group_ids=list(args.security_group_ids),
            cluster_parameter_group_name=parameter_group.name,
            publicly_accessible=False,
            # pulumi-aws 7 declares `encrypted` a string ("true"/"false"), not a boolean.
            encrypted="true",
            kms_key_id=args.kms_key_id,
            enhanced_vpc_routing=args.enhanced_vpc_routing,
            automated_snapshot_retention_period=args.automated_snapshot_retention_days,
            multi_az=args.multi_az,
            allow_version_upgrade=args.allow_version_upgrade,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=(
                None
                if args.skip_final_snapshot
                else final_snapshot_identifier(args.cluster_identifier)
            ),
            tags=resource_tags(args.tags, args.cluster_identifier),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        audit_logging = self._audit_logging(name, args, cluster)
        # What the program cannot see (the values before this run) its provider can: a static
        # parameter change is this resource's update, which says the cluster needs a reboot.
        static = StaticParameters(
            f"{name}-static-parameters",
            region=args.region,
            cluster_identifier=cluster.cluster_identifier,
            cluster_arn=cluster.arn,
            parameter_group_name=parameter_group.name,
            parameters=cluster_reboot.static_values(parameters),
            reboot_after_change=args.reboot_for_static_parameters,
            # After every change of the same `up` to the cluster: the opt-in reboot must not
            # run alongside EnableLogging / DisableLogging (which runs on the cluster).
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[parameter_group, cluster, *([audit_logging] if audit_logging else [])],
            ),
        )

        self.cluster_identifier = cluster.cluster_identifier
        self.arn = cluster.arn
        self.endpoint = cluster.dns_name
        self.port = cluster.port
        self.node_type = cluster.node_type
        self.master_password_secret_arn = cluster.master_password_secret_arn
        # The identifier as the static parameters' output: the database users' SQL waits for it,
        # so it never runs while the opt-in reboot does. It is known in a preview too (the engine
        # hands a dynamic resource's inputs back as its outputs: pulumi
        # sdk/go/common/resource/plugin/provider_plugin.go, Create/Update with Preview, for a
        # provider without supportsPreview, as the dynamic host answers: a test pins it), so the
        # users' diff sees the same cluster, not a replacement (its clusterIdentifier replaces).
        self.identifier_for_users = static.clusterIdentifier
        # The endpoint too, for the kubernetes-job provisioner's psql: its Job waits the same way.
        self.endpoint_for_users = pulumi.Output.all(
            cluster.dns_name, static.clusterIdentifier
        ).apply(lambda endpoint_and_identifier: endpoint_and_identifier[0])
        self.pending_reboot = pulumi.Output.all(static.pendingReboot, static.rebootCommand).apply(
            lambda pc: cluster_reboot.pending_output(pc[0], pc[1])
        )
        self.register_outputs(
            {
                "clusterIdentifier": self.cluster_identifier,
                "arn": self.arn,
                "endpoint": self.endpoint,
                "port": self.port,
                "nodeType": self.node_type,
                "masterPasswordSecretArn": self.master_password_secret_arn,
                "pendingReboot": self.pending_reboot,
            }
        )

    def _chosen_node_type(self, name: str, args: RedshiftClusterArgs) -> pulumi.Output[str]:
        """The first of the preferred node types the region offers, chosen once.

        DC2 can no longer be ordered for new clusters, so AWS is asked which preferred type it
        offers here. The answer is kept in a Stash: its output keeps the value of its first
        create however the lookup's answer changes later (a region that starts offering a type
        ranked higher must not resize a running cluster). The preference list is the Stash's
        replacement trigger: when the user edits `nodeTypes`, the Stash is replaced, takes the
        lookup's current answer, and the plan shows the cluster's node type change (a resize).
        """
        orderable = aws.redshift.get_orderable_cluster_output(
            cluster_type=args.cluster_type,
            preferred_node_types=list(args.preferred_node_types),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        chosen = pulumi.Stash(
            f"{name}-node-type",
            input=orderable.node_type,
            opts=pulumi.ResourceOptions(
                parent=self, replacement_trigger=list(args.preferred_node_types)
            ),
        )
        return chosen.output

    def _audit_logging(
        self, name: str, args: RedshiftClusterArgs, cluster: aws.redshift.Cluster
    ) -> aws.redshift.Logging | None:
        """Audit logs to CloudWatch Logs (groups created first, retention set) or to S3; the
        logging resource (None: `auditLogging` none)."""
        logging = args.audit_logging
        if logging.destination == baseline.CLOUDWATCH:
            groups = [
                aws.cloudwatch.LogGroup(
                    f"{name}-{log_type}",
                    name=baseline.audit_log_group_name(args.cluster_identifier, log_type),
                    retention_in_days=logging.retention_days,
                    tags=resource_tags(
                        args.tags, baseline.audit_log_group_name(args.cluster_identifier, log_type)
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                for log_type in baseline.AUDIT_LOG_TYPES
            ]
            return aws.redshift.Logging(
                f"{name}-audit-logging",
                cluster_identifier=cluster.cluster_identifier,
                log_destination_type=baseline.CLOUDWATCH,
                log_exports=list(baseline.AUDIT_LOG_TYPES),
                # Redshift would create missing groups itself, without retention: ours go first.
                opts=pulumi.ResourceOptions(parent=self, depends_on=groups),
            )
        elif logging.destination == baseline.S3 and logging.bucket:
            # Looked up at preview (HeadBucket), so a bucket of another Region fails before
            # anything is created.
            bucket, region = logging.bucket, args.region
            found = aws.s3.get_bucket_output(
                bucket=bucket, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            return aws.redshift.Logging(
                f"{name}-audit-logging",
                cluster_identifier=cluster.cluster_identifier,
                log_destination_type=baseline.S3,
                bucket_name=found.bucket_region.apply(
                    lambda found_region: bucket_in_region(bucket, found_region, region)
                ),
                s3_key_prefix=logging.s3_key_prefix,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return None
