"""XpanderRedshift: the whole guide as one component; the only place that knows every part.

Wiring rule: ARNs known from settings (role, cluster, dbname) are built from the settings, the
account and the partition, so the roles, their policies and the pod identity associations are
created while the cluster is; only the database users wait for the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.access_role import XpanderAccessRole, XpanderAccessRoleArgs
from components.cluster import AuditLogging, RedshiftCluster, RedshiftClusterArgs
from components.database_user import (
    DataApiProvisioner,
    IamrDatabaseUser,
    IamrDatabaseUserArgs,
    KubernetesJobProvisioner,
)
from components.network import (
    ExistingClusterAccess,
    ExistingClusterAccessArgs,
    RedshiftNetwork,
    RedshiftNetworkArgs,
)
from components.pod_identity import PodIdentityBinding, PodIdentityBindingArgs
from model import iam_documents, outputs
from model.config_keys import KEYS_BY_NAME, ConnectorSettings, Settings
from model.outputs import connector_config


@dataclass(frozen=True)
class XpanderRedshiftArgs:
    settings: Settings


@dataclass(frozen=True)
class ClusterFacts:
    """What the connectors need of the cluster, whether this stack created it or looked it up."""

    identifier: pulumi.Output[str]
    arn: pulumi.Output[str]  # as the aws provider's credentials know it: the stack's account
    endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    admin_secret_arn: pulumi.Input[str] | None
    admin_db_user: pulumi.Input[str] | None  # the Data API's DbUser when there is no admin secret
    node_type: pulumi.Output[str]
    security_group_id: pulumi.Input[str] | None
    subnet_group_name: pulumi.Input[str] | None
    vpc_id: pulumi.Input[str]
    pending_reboot: pulumi.Input[dict[str, Any]] | None  # None: the cluster is not the stack's
    # An existing cluster's KMS key, as its lookup names it (a new cluster's is kmsKeyId).
    existing_key: pulumi.Input[str | None] = None


_EXISTING_GROUP = KEYS_BY_NAME["existingSecurityGroupId"].full_name  # the setting it names


def cluster_security_group(wanted: str, cluster: str, groups: list[str] | None) -> str:
    """The group named by existingSecurityGroupId, refused unless it belongs to the cluster."""
    if wanted not in (groups or []):
        # RunError: the engine prints the message alone, without a Python traceback.
        raise pulumi.RunError(
            f"{_EXISTING_GROUP} = {wanted!r}: is not a security group of "
            f"cluster {cluster!r} (its groups: {', '.join(groups or []) or 'none'}); name one of "
            "them, so the stack never opens a group the cluster does not use"
        )
    return wanted


def secret_if(secret: bool, value: Any) -> Any:
    """`value` as a Pulumi secret when the setting it comes from is one, else as it is."""
    return pulumi.Output.secret(value) if secret and value is not None else value


def connector_aliases(name: str, c: ConnectorSettings, s: Settings) -> list[str]:
    """The name prefixes a connector's resources had before, oldest meaning first: its
    formerName's (a rename), and the single-connector form's (`name`) when it is the entry that
    takes that form over (model.settings.Settings.single_form_connector)."""
    if not s.connectors:
        return []
    former = [f"{name}-{c.former_name}"] if c.former_name else []
    if s.single_form_connector == c:
        former.append(name)
    return former


def host_of(endpoint: str | None) -> str | None:
    """A cluster endpoint without its `:port` suffix (the lookup may carry one)."""
    if endpoint and endpoint.rsplit(":", 1)[-1].isdigit():
        return endpoint.rsplit(":", 1)[0]
    return endpoint


class XpanderRedshift(pulumi.ComponentResource):
    """Network, cluster, and per connector: role, pod identity, database user, connector config."""

    stack_outputs: dict[str, Any]

    def __init__(
        self, name: str, args: XpanderRedshiftArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:XpanderRedshift", name, None, opts)
        s = args.settings
        self._settings = s
        self._bindings: dict[str, PodIdentityBinding] = {}
        invoke = pulumi.InvokeOutputOptions(parent=self)
        self._partition = aws.get_partition_output(opts=invoke).partition
        self._account_id = aws.get_caller_identity_output(opts=invoke).account_id
        self._eks = aws.eks.get_cluster_output(name=s.eks_cluster_name, opts=invoke)

        cluster = (
            self._existing_cluster(name)
            if s.existing_cluster_identifier
            else self._new_cluster(name)
        )
        primary = s.primary_connector
        per_connector = {
            c.name: self._connector(name, c, cluster, primary=c == primary)
            for c in s.all_connectors
        }

        shared = {
            outputs.CLUSTER_ENDPOINT: cluster.endpoint,
            outputs.CLUSTER_PORT: cluster.port,
            outputs.MASTER_PASSWORD_SECRET_ARN: cluster.admin_secret_arn,
            outputs.SECURITY_GROUP_ID: cluster.security_group_id,
            outputs.SUBNET_GROUP_NAME: cluster.subnet_group_name,
            outputs.NODE_TYPE: cluster.node_type,
            outputs.PENDING_REBOOT: cluster.pending_reboot,
        }
        # The primary connector's outputs stay at the top, under the names the xpander UI was
        # fed; with `connectors`, every connector's are also under `connectors`.
        top = per_connector[primary.name] if s.single_form_connector or not s.connectors else {}
        self.stack_outputs = {**top, **shared}
        if s.connectors:
            self.stack_outputs[outputs.CONNECTORS] = per_connector
        self.register_outputs(self.stack_outputs)

    def _new_cluster(self, name: str) -> ClusterFacts:
        s = self._settings
        child = pulumi.ResourceOptions(parent=self)
        vpc_id = s.vpc_id or self._eks.vpc_config.vpc_id
        network = RedshiftNetwork(
            f"{name}-network",
            RedshiftNetworkArgs(
                base_name=s.cluster_identifier,
                subnet_ids=s.private_subnet_ids,
                vpc_id=vpc_id,
                port=s.port,
                eks_cluster_security_group_id=self._eks.vpc_config.cluster_security_group_id,
                source_security_group_ids=s.source_security_group_ids,
                tags=s.tags,
                multi_az=s.multi_az,
            ),
            opts=child,
        )
        cluster = RedshiftCluster(
            f"{name}-cluster",
            RedshiftClusterArgs(
                cluster_identifier=s.cluster_identifier,
                database_name=s.database_name,
                master_username=s.master_username,
                preferred_node_types=s.node_types,
                cluster_type=s.cluster_type,
                number_of_nodes=s.number_of_nodes,
                port=s.port,
                subnet_group_name=network.subnet_group_name,
                security_group_ids=[network.security_group_id],
                kms_key_id=s.kms_key_id,
                skip_final_snapshot=s.skip_final_snapshot,
                protect=s.protect,
                require_ssl=s.require_ssl,
                reboot_for_static_parameters=s.reboot_for_static_parameters,
                region=s.region,
                audit_logging=AuditLogging(
                    destination=s.audit_logging,
                    retention_days=s.audit_log_retention_days,
                    bucket=s.audit_log_bucket,
                    s3_key_prefix=s.audit_log_s3_key_prefix,
                ),
                enhanced_vpc_routing=s.enhanced_vpc_routing,
                automated_snapshot_retention_days=s.automated_snapshot_retention_days,
                multi_az=s.multi_az,
                allow_version_upgrade=s.allow_version_upgrade,
                tags=s.tags,
            ),
            opts=child,
        )
        return ClusterFacts(
            identifier=cluster.identifier_for_users,
            arn=cluster.arn,
            endpoint=cluster.endpoint_for_users,
            port=cluster.port,
            admin_secret_arn=cluster.master_password_secret_arn,
            admin_db_user=None,
            node_type=cluster.node_type,
            security_group_id=network.security_group_id,
            subnet_group_name=network.subnet_group_name,
            vpc_id=vpc_id,
            pending_reboot=cluster.pending_reboot,
        )

    def _existing_cluster(self, name: str) -> ClusterFacts:
        """Look the cluster up; create nothing of it, change no group but the one named."""
        s = self._settings
        found = aws.redshift.get_cluster_output(
            cluster_identifier=s.existing_cluster_identifier,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        if (wanted := s.existing_security_group_id) is not None:
            identifier = s.cluster_identifier
            ExistingClusterAccess(
                f"{name}-access",
                ExistingClusterAccessArgs(
                    security_group_id=found.vpc_security_group_ids.apply(
                        lambda groups: cluster_security_group(wanted, identifier, groups)
                    ),
                    port=found.port,
                    eks_cluster_security_group_id=self._eks.vpc_config.cluster_security_group_id,
                    source_security_group_ids=s.source_security_group_ids,
                    tags=s.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return ClusterFacts(
            identifier=found.cluster_identifier,
            arn=found.arn,
            endpoint=found.endpoint.apply(host_of),
            port=found.port,
            admin_secret_arn=secret_if(
                s.existing_admin_secret_arn_is_secret, s.existing_admin_secret_arn
            ),
            # Without an admin secret the Data API authenticates as the cluster's own master user.
            admin_db_user=None if s.existing_admin_secret_arn else found.master_username,
            node_type=found.node_type,
            security_group_id=s.existing_security_group_id,
            subnet_group_name=found.cluster_subnet_group_name,
            vpc_id=found.vpc_id,
            pending_reboot=None,
            existing_key=found.kms_key_id,
        )

    def _agent_aliases(self, name: str, c: ConnectorSettings) -> list[pulumi.Alias]:
        """The pod identity agent add-on goes with the primary connector; before, a stack with
        `connectors` had it with the first entry: that one is the same add-on."""
        s = self._settings
        first = s.connectors[0] if s.connectors else c
        if first == c:
            return []
        return [
            pulumi.Alias(
                name=f"{name}-{first.name}-pod-identity-agent", parent=self._bindings[first.name]
            )
        ]

    def _connector(
        self, name: str, c: ConnectorSettings, cluster: ClusterFacts, *, primary: bool
    ) -> dict[str, Any]:
        """One connector's role, pod identity and database user; its outputs.

        Its components carry aliases to the names its resources had before (connector_aliases):
        children inherit them, so the role, its policies, the association and the IAMR user are
        the same resources after a move from the single-connector form or a rename.
        """
        s = self._settings
        prefix = f"{name}-{c.name}" if s.connectors else name
        former = connector_aliases(name, c, s)

        def child(part: str) -> pulumi.ResourceOptions:
            aliases = [pulumi.Alias(name=f"{old}-{part}") for old in former]
            return pulumi.ResourceOptions(parent=self, aliases=aliases or None)

        documents = pulumi.Output.all(
            self._partition, self._account_id, cluster.existing_key
        ).apply(
            lambda pak: iam_documents.role_documents(
                s, c, partition=pak[0], account_id=pak[1], existing_cluster_key=pak[2]
            )
        )
        role = XpanderAccessRole(
            f"{prefix}-role",
            XpanderAccessRoleArgs(
                role_name=c.role_name,
                role_path=s.role_path,
                documents=documents,
                tags=s.tags,
                trust_is_secret=c.organization_id_is_secret,
            ),
            opts=child("role"),
        )
        self._bindings[c.name] = PodIdentityBinding(
            f"{prefix}-pod-identity",
            PodIdentityBindingArgs(
                eks_cluster_name=s.eks_cluster_name,
                namespace=c.namespace,
                service_account=c.service_account,
                role_arn=role.role_arn,
                install_agent=s.install_pod_identity_agent and primary,
                agent_aliases=self._agent_aliases(name, c) if primary else (),
                tags=s.tags,
            ),
            opts=child("pod-identity"),
        )
        IamrDatabaseUser(
            f"{prefix}-user",
            IamrDatabaseUserArgs(
                provisioner=(
                    KubernetesJobProvisioner(
                        eks_cluster_name=s.eks_cluster_name,
                        cluster_endpoint=cluster.endpoint,
                        cluster_port=cluster.port,
                        master_username=s.master_username,
                        vpc_id=cluster.vpc_id,
                        secret_arn=cluster.admin_secret_arn,
                        namespace=c.namespace,
                        psql_image=s.psql_image,
                    )
                    if s.user_provisioner == KubernetesJobProvisioner.KIND
                    else DataApiProvisioner(
                        secret_arn=cluster.admin_secret_arn, db_user=cluster.admin_db_user
                    )
                ),
                region=s.region,
                cluster_identifier=cluster.identifier,
                cluster_arn=cluster.arn,
                database=s.database_name,
                user=c.database_user,
                schemas=c.grant_schemas,
                owner=s.default_privileges_for,
                timeout_seconds=s.provisioner_timeout_seconds,
            ),
            opts=child("user"),
        )
        return {
            outputs.CONNECTOR_CONFIG: documents.apply(
                lambda d: connector_config(
                    cluster_identifier=s.cluster_identifier,
                    database_name=s.database_name,
                    catalog_name_path=s.catalog_name_path,
                    role_arn=d.role_arn,
                    region=s.region,
                )
            ),
            outputs.ROLE_ARN: role.role_arn,
            outputs.DATABASE_USER: c.database_user,
            outputs.ORGANIZATION_ID: secret_if(c.organization_id_is_secret, c.organization_id),
        }
