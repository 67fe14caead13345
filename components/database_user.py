"""IamrDatabaseUser: the Redshift user `IAMR:<role>` and its read grants (guide step 6).

One interface, two provisioners, said by the type of `IamrDatabaseUserArgs.provisioner`:
- `DataApiProvisioner` (default): a dynamic provider with a real lifecycle over the Redshift Data
  API (`providers.iamr_user`); it needs no network path to the private cluster.
- `KubernetesJobProvisioner`: the guide's way, psql in a hardened Job inside the EKS cluster,
  awaited by the Kubernetes provider so that failed SQL fails `pulumi up` (`model.job_manifests`).
Both run the SQL of `model.sql`. Arguments come from validated settings: nothing is re-checked here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

# Stack state written before the provider had a package of its own names this module's
# IamrUserProvider (and components.iamr_user_provider's): kept as re-exports.
from model import job_manifests as jobs
from model.config_keys import DATA_API, KUBERNETES_JOB
from model.data_api_sql import data_api_sql
from model.psql_script import cleanup_sql, psql_script
from providers.iamr_user.props import IamrUserProps
from providers.iamr_user.provider import IamrUserProvider
from providers.iamr_user.resource import IamrUser

__all__ = [
    "DataApiProvisioner",
    "IamrDatabaseUser",
    "IamrDatabaseUserArgs",
    "IamrUserProvider",
    "KubernetesJobProvisioner",
]


@dataclass(frozen=True)
class DataApiProvisioner:
    """userProvisioner: data-api. Authenticate with the admin secret, or as `db_user`."""

    KIND: ClassVar[str] = DATA_API
    secret_arn: pulumi.Input[str] | None = None  # the cluster's master_password_secret_arn
    db_user: pulumi.Input[str] | None = None  # temporary credentials for this user instead


@dataclass(frozen=True)
class KubernetesJobProvisioner:
    """userProvisioner: kubernetes-job. psql in the EKS cluster, as the master user."""

    KIND: ClassVar[str] = KUBERNETES_JOB
    eks_cluster_name: str
    cluster_endpoint: pulumi.Input[str]  # the cluster's DNS name
    cluster_port: pulumi.Input[int]
    master_username: str
    vpc_id: pulumi.Input[str]  # the cluster's VPC: its CIDRs bound the Job's egress
    secret_arn: pulumi.Input[str] | None  # the master password's secret
    namespace: str = "xpander"
    psql_image: str = "postgres:15-alpine"


Provisioner = DataApiProvisioner | KubernetesJobProvisioner


@dataclass(frozen=True)
class IamrDatabaseUserArgs:
    """What the stack passes: names from the settings gate, cluster facts as Outputs."""

    provisioner: Provisioner
    region: str
    cluster_identifier: pulumi.Input[str]  # the cluster's output, so the user waits for the cluster
    # The cluster's ARN: the account the data-api provider's own credentials must be of.
    cluster_arn: pulumi.Input[str]
    database: pulumi.Input[str]
    user: str  # IAMR:<roleName>
    schemas: Sequence[str]  # grantSchemas
    owner: str  # defaultPrivilegesFor: whose future tables the user can read
    timeout_seconds: int = 300  # provisionerTimeoutSeconds


def master_password_secret(secret_string: pulumi.Input[str]) -> pulumi.Output[str]:
    """The master password as a Pulumi secret, whether or not the invoke marked it one."""
    password: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.from_input(secret_string).apply(jobs.master_password)
    )
    return password


def _field(value: Any, name: str) -> Any:
    """A field of an invoke's nested result: an object, or a dict under the mock engine."""
    return value[name] if isinstance(value, Mapping) else getattr(value, name)


def _ca_data(authorities: Sequence[Any]) -> str:
    """The CA bundle of `aws.eks.get_cluster`'s certificate_authorities."""
    return str(_field(authorities[0], "data"))


def _vpc_cidrs(primary: str, associations: Sequence[Any] | None) -> list[str]:
    """Every IPv4 block of the VPC (`aws.ec2.get_vpc`): the cluster's subnets may be in any."""
    return [primary, *(str(_field(a, "cidr_block")) for a in associations or [])]


# --- the component -------------------------------------------------------------------------------


def _props(
    args: IamrDatabaseUserArgs,
    *,
    secret_arn: pulumi.Input[str] | None = None,
    db_user: pulumi.Input[str] | None = None,
    provisioner: str | None = None,
) -> IamrUserProps[pulumi.Input[str]]:
    """The data-api resource's inputs; the stack that manages the user is part of its
    ClientTokens (providers/iamr_user/props.py)."""
    return IamrUserProps[pulumi.Input[str]](
        region=args.region,
        cluster_identifier=args.cluster_identifier,
        database=args.database,
        user=args.user,
        schemas=tuple(args.schemas),
        owner=args.owner,
        timeout_seconds=args.timeout_seconds,
        secret_arn=secret_arn,
        db_user=db_user,
        provisioner=provisioner,
        stack=f"{pulumi.get_project()}/{pulumi.get_stack()}",
        cluster_arn=args.cluster_arn,
    )


class IamrDatabaseUser(pulumi.ComponentResource):
    """The IAMR user, with SELECT on the configured schemas: their tables now, the owner's later."""

    user_name: pulumi.Output[str]  # resolves once the user has been provisioned
    sql: pulumi.Output[str]  # the provisioning SQL that will run (the plan shows it)
    provisioner: pulumi.Output[str]
    cleanup_sql: pulumi.Output[str | None]  # kubernetes-job: what destroy leaves, to run by hand

    def __init__(
        self, name: str, args: IamrDatabaseUserArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:IamrDatabaseUser", name, None, opts)
        how = args.provisioner
        cleanup: str | None = None
        if isinstance(how, DataApiProvisioner):
            sql = data_api_sql(args.user, args.schemas, args.owner)
            done = self._data_api(name, args, how)
        else:
            sql = psql_script(args.user, args.schemas, args.owner)
            done = self._kubernetes_job(name, args, how, sql)
            self._record(name, args, how)
            # A Job cannot run on `pulumi destroy`: the SQL left to run by hand
            cleanup = cleanup_sql(args.user, args.schemas, args.owner)

        self.user_name = done
        self.sql = pulumi.Output.from_input(sql)
        self.provisioner = pulumi.Output.from_input(how.KIND)
        self.cleanup_sql = pulumi.Output.from_input(cleanup)
        self.register_outputs(
            {
                "userName": self.user_name,
                "sql": self.sql,
                "provisioner": self.provisioner,
                "cleanupSql": self.cleanup_sql,
            }
        )

    def _data_api(
        self, name: str, args: IamrDatabaseUserArgs, how: DataApiProvisioner
    ) -> pulumi.Output[str]:
        user = IamrUser(
            f"{name}-iamr-user",
            _props(args, secret_arn=how.secret_arn, db_user=how.db_user),
            # A new roleName is another user: the new one is made before the old one goes.
            opts=pulumi.ResourceOptions(parent=self),
        )
        return user.user

    def _record(self, name: str, args: IamrDatabaseUserArgs, how: KubernetesJobProvisioner) -> None:
        """The data-api resource, kept as a record that runs no SQL while the Job provisions.

        Switching userProvisioner on a live stack is then an update of this resource (same URN),
        never its delete, which would drop the user the data-api provisioner created after the
        Job adopted it; switching back resumes with the ownership it kept.
        """
        IamrUser(
            f"{name}-iamr-user",
            _props(args, provisioner=how.KIND),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _kubernetes_job(
        self, name: str, args: IamrDatabaseUserArgs, how: KubernetesJobProvisioner, script: str
    ) -> pulumi.Output[str]:
        cluster_name, endpoint, port = how.eks_cluster_name, how.cluster_endpoint, how.cluster_port
        master, region, vpc_id = how.master_username, args.region, how.vpc_id
        invoke = pulumi.InvokeOutputOptions(parent=self)
        eks = aws.eks.get_cluster_output(name=cluster_name, region=region, opts=invoke)
        config = pulumi.Output.all(eks.endpoint, eks.certificate_authorities).apply(
            lambda ec: json.dumps(jobs.kubeconfig(cluster_name, ec[0], _ca_data(ec[1]), region))
        )
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=config,
            cluster_identifier=cluster_name,  # a new endpoint or token updates, never replaces
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_cluster = pulumi.ResourceOptions(parent=self, provider=provider)

        password = master_password_secret(
            aws.secretsmanager.get_secret_version_output(
                secret_id=how.secret_arn, region=args.region, opts=invoke
            ).secret_string
        )
        port_text = pulumi.Output.from_input(port).apply(str)
        # One connection for the Job's environment and its password file, so they always match.
        connection = jobs.PsqlConnection(
            host=endpoint, port=port_text, database=args.database, user=master
        )
        pgpass: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(
                host=connection.host,
                port=connection.port,
                database=connection.database,
                password=password,
            ).apply(
                lambda v: jobs.pgpass_line(
                    jobs.PsqlConnection(v["host"], v["port"], v["database"], master),
                    v["password"],
                )
            )
        )

        base = jobs.dns_label(name)[: jobs.BASE_NAME_MAX]
        digest = jobs.sql_hash(script)
        secret_doc = jobs.secret_manifest(jobs.dns_label(base, "pgpass"), how.namespace, pgpass)
        secret = k8s.core.v1.Secret(
            f"{name}-password",
            metadata=secret_doc["metadata"],
            type=secret_doc["type"],
            string_data=secret_doc["stringData"],
            opts=in_cluster,
        )
        config_doc = jobs.config_map_manifest(
            jobs.dns_label(base, f"sql-{digest}"), how.namespace, script
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-sql",
            metadata=config_doc["metadata"],
            data=config_doc["data"],
            opts=in_cluster,
        )
        vpc = aws.ec2.get_vpc_output(id=vpc_id, region=region, opts=invoke)
        policy_doc = jobs.network_policy_manifest(
            name=jobs.dns_label(base, "egress"),
            namespace=how.namespace,
            instance=base,
            vpc=pulumi.Output.all(vpc.cidr_block, vpc.cidr_block_associations).apply(
                lambda va: jobs.vpc_peers(_vpc_cidrs(va[0], va[1]))
            ),
            port=port,
        )
        policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-egress",
            metadata=policy_doc["metadata"],
            spec=policy_doc["spec"],
            opts=in_cluster,
        )
        job_doc = jobs.job_manifest(
            name=jobs.dns_label(base, digest),
            namespace=how.namespace,
            image=how.psql_image,
            instance=base,
            connection=connection,
            secret_name=secret.metadata.name,
            config_map_name=config_map.metadata.name,
            timeout_seconds=args.timeout_seconds,
        )
        await_seconds = args.timeout_seconds + jobs.AWAIT_MARGIN_SECONDS
        job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=job_doc["metadata"],
            spec=job_doc["spec"],
            opts=pulumi.ResourceOptions.merge(
                in_cluster,
                pulumi.ResourceOptions(
                    # The policy first: the pod never runs unfenced.
                    depends_on=[secret, config_map, policy],
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{await_seconds}s", update=f"{await_seconds}s"
                    ),
                ),
            ),
        )
        user = args.user
        done: pulumi.Output[str] = job.metadata.apply(lambda _: user)
        return done
