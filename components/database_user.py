"""IamrDatabaseUser: the Redshift user `IAMR:<role>` and its read grants (guide step 6).

One interface, two provisioners (`provisioner`):
- "data-api" (default): a dynamic provider with a real lifecycle over the Redshift Data API; it
  needs no network path to the private cluster.
- "kubernetes-job": the guide's way, psql in a hardened Job inside the EKS cluster, awaited by the
  Kubernetes provider so that failed SQL fails `pulumi up`.
Both run the SQL of `model.sql`; the manifests are plain dicts from pure functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from model import sql as redshift_sql
from model.settings import USER_PROVISIONERS

if TYPE_CHECKING:
    from components.data_api import DataApi, RedshiftDataClient

PROVISIONERS = USER_PROVISIONERS  # "data-api" | "kubernetes-job"
DEFAULT_PSQL_IMAGE = "postgres:15-alpine"
DEFAULT_TIMEOUT_SECONDS = 300
PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)

STATEMENT_NAME = "xpander-redshift/iamr-user"  # how our statements show in ListStatements
SQL_FILE = "provision.sql"
IAMR_USER_TYPE = "pulumi-python:dynamic/xpander:IamrUser"  # the dynamic resource's type token
PASSWORD_KEY = "password"  # noqa: S105 - the key inside the Secret, not a password
POSTGRES_UID = 70  # the `postgres` user of the official alpine images
JOB_TTL_SECONDS = 86_400  # keep a finished Job (and its pod's log) a day for troubleshooting
JOB_BACKOFF_LIMIT = 1  # SQL that failed once will fail again; one retry covers a flaky network
AWAIT_MARGIN_SECONDS = 120  # Pulumi's await outlives the Job's own deadline, so the Job says why
_DNS_LABEL_MAX = 63  # Job names become pod label values: at most 63 characters
_HASH_LENGTH = 10
_BASE_NAME_MAX = _DNS_LABEL_MAX - len("-sql-") - _HASH_LENGTH  # room for "<base>-sql-<hash>"


# --- arguments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IamrDatabaseUserArgs:
    """What the stack passes: names as plain strings (validated here), cluster facts as Outputs."""

    provisioner: str  # "data-api" | "kubernetes-job" (setting userProvisioner)
    region: str
    cluster_identifier: pulumi.Input[str]  # the cluster's output, so the user waits for the cluster
    database: pulumi.Input[str]
    user: str  # IAMR:<roleName>
    schemas: Sequence[str]  # grantSchemas
    owner: str  # defaultPrivilegesFor: whose future tables the user can read
    secret_arn: pulumi.Input[str] | None = None  # the cluster's master_password_secret_arn
    db_user: str | None = None  # data-api only: authenticate as this user instead of the secret
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS  # provisionerTimeoutSeconds
    # kubernetes-job only
    eks_cluster_name: str | None = None
    namespace: str = "xpander"
    cluster_endpoint: pulumi.Input[str] | None = None  # the cluster's DNS name
    cluster_port: pulumi.Input[int] | None = None
    master_username: str | None = None
    psql_image: str = DEFAULT_PSQL_IMAGE


def args_problems(args: IamrDatabaseUserArgs) -> list[str]:
    """Every problem with `args`, each naming the field, the value and the rule."""
    problems: list[str] = []

    def bad(field: str, value: object, rule: str) -> None:
        problems.append(f"IamrDatabaseUserArgs.{field} = {value!r}: {rule}")

    if args.provisioner not in PROVISIONERS:
        bad("provisioner", args.provisioner, f"must be one of {', '.join(PROVISIONERS)}")
    for field, name in (("user", args.user), ("owner", args.owner)):
        if problem := redshift_sql.identifier_problem(name, kind="user"):
            bad(field, name, problem)
    if isinstance(args.schemas, str):
        bad("schemas", args.schemas, "must be a list of schema names, not one string")
    else:
        for schema in args.schemas:
            if problem := redshift_sql.identifier_problem(schema, kind="schema"):
                bad("schemas", schema, problem)
        if len(set(args.schemas)) != len(args.schemas):
            bad("schemas", list(args.schemas), "must not repeat a schema")
    if not 1 <= args.timeout_seconds <= 24 * 3600:
        bad("timeout_seconds", args.timeout_seconds, "must be between 1 and 86400 seconds")
    if args.provisioner == "data-api" and (args.secret_arn is None) == (args.db_user is None):
        bad("secret_arn", args.secret_arn, "data-api needs exactly one of secret_arn or db_user")
    if args.provisioner == "kubernetes-job":
        _kubernetes_job_problems(args, bad)
    return problems


def _kubernetes_job_problems(
    args: IamrDatabaseUserArgs, bad: Callable[[str, object, str], None]
) -> None:
    required = {
        "secret_arn": args.secret_arn,
        "eks_cluster_name": args.eks_cluster_name,
        "cluster_endpoint": args.cluster_endpoint,
        "cluster_port": args.cluster_port,
        "master_username": args.master_username,
    }
    for field, value in required.items():
        if value is None:
            bad(field, value, "is required by the kubernetes-job provisioner")
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", args.namespace):
        bad("namespace", args.namespace, "must be a Kubernetes namespace name (DNS label)")
    if not args.psql_image or any(c.isspace() for c in args.psql_image):
        bad("psql_image", args.psql_image, "must be a container image reference")


# --- the SQL each provisioner runs (pure) --------------------------------------------------------


def data_api_sql(user: str, schemas: Sequence[str], owner: str) -> str:
    """What the data-api provisioner runs on create, as the plan shows it."""
    statements = redshift_sql.provisioning_statements(user, schemas, owner, user_exists=False)
    header = (
        "-- One BatchExecuteStatement (one transaction). CREATE USER only if this returns 0:\n"
        f"--   {redshift_sql.user_exists_sql(user)}\n"
    )
    return header + "".join(f"{statement};\n" for statement in statements)


def sql_hash(sql: str) -> str:
    """A short, stable fingerprint of the SQL; part of the Job's name so changed SQL re-runs."""
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()[:_HASH_LENGTH]


def dns_label(base: str, suffix: str = "") -> str:
    """`base` made a valid DNS label (lower case, [a-z0-9-]), with `suffix`, at most 63 chars."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-") or "iamr-user"
    tail = f"-{suffix}" if suffix else ""
    return cleaned[: _DNS_LABEL_MAX - len(tail)].rstrip("-") + tail


# --- kubernetes-job: manifests as plain dicts (pure) ----------------------------------------------


def labels(component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "xpander-redshift",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """A kubeconfig for the EKS cluster whose user gets tokens from `aws eks get-token`."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": "aws"}}],
        "current-context": cluster_name,
        "preferences": {},
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster_name,
                            "--region",
                            region,
                            "--output",
                            "json",
                        ],
                    }
                },
            }
        ],
    }


def secret_manifest(name: str, namespace: str, password: pulumi.Input[str]) -> dict[str, Any]:
    """The Secret psql reads its password from (pass the password as a Pulumi secret Output)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels("iamr-user-psql")},
        "type": "Opaque",
        "stringData": {PASSWORD_KEY: password},
    }


def config_map_manifest(name: str, namespace: str, script: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels("iamr-user-psql")},
        "data": {SQL_FILE: script},
    }


@dataclass(frozen=True)
class PsqlConnection:
    """Where psql connects; values may be Pulumi Inputs (the cluster's outputs)."""

    host: pulumi.Input[str]
    port: pulumi.Input[str]  # env values are strings
    database: pulumi.Input[str]
    user: str


def job_manifest(
    *,
    name: str,
    namespace: str,
    image: str,
    connection: PsqlConnection,
    secret_name: pulumi.Input[str],
    config_map_name: pulumi.Input[str],
    timeout_seconds: int,
) -> dict[str, Any]:
    """The psql Job: hardened pod, password only through secretKeyRef, awaited by Pulumi."""
    job_labels = labels("iamr-user-psql")
    env: list[dict[str, Any]] = [
        {"name": "PGHOST", "value": connection.host},
        {"name": "PGPORT", "value": connection.port},
        {"name": "PGDATABASE", "value": connection.database},
        {"name": "PGUSER", "value": connection.user},
        {"name": "PGSSLMODE", "value": "require"},
        {"name": "PGCONNECT_TIMEOUT", "value": "15"},
        {"name": "PGAPPNAME", "value": "xpander-redshift-iamr-user"},
        {
            "name": "PGPASSWORD",
            "valueFrom": {"secretKeyRef": {"name": secret_name, "key": PASSWORD_KEY}},
        },
    ]
    container = {
        "name": "psql",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["psql"],
        "args": ["--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", f"/sql/{SQL_FILE}"],
        "env": env,
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "16Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": POSTGRES_UID,
            "runAsGroup": POSTGRES_UID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "sql", "mountPath": "/sql", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a private emptyDir
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": job_labels,
            # A Job that failed in an earlier `pulumi up` is replaced (re-run) by the next one
            # instead of awaited again. Never set pulumi.com/skipAwait: the await is the point.
            "annotations": {"pulumi.com/replaceUnready": "true"},
        },
        "spec": {
            "backoffLimit": JOB_BACKOFF_LIMIT,
            "activeDeadlineSeconds": timeout_seconds,
            "ttlSecondsAfterFinished": JOB_TTL_SECONDS,
            "template": {
                "metadata": {"labels": job_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": POSTGRES_UID,
                        "runAsGroup": POSTGRES_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "sql",
                            "configMap": {"name": config_map_name, "defaultMode": 0o444},
                        },
                        {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
                    ],
                },
            },
        },
    }


def master_password(secret_string: str) -> str:
    """The password field of the cluster's managed master secret (JSON: username, password)."""
    try:
        value = json.loads(secret_string)[PASSWORD_KEY]
    except (ValueError, TypeError, KeyError):
        raise ValueError(
            "the cluster's master secret is not JSON with a 'password' field; is secret_arn "
            "the cluster's managed master secret (master_password_secret_arn)?"
        ) from None
    if not isinstance(value, str):
        raise ValueError("the 'password' field of the cluster's master secret is not a string")
    return value


def master_password_secret(secret_string: pulumi.Input[str]) -> pulumi.Output[str]:
    """The master password as a Pulumi secret, whether or not the invoke marked it one."""
    password: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.from_input(secret_string).apply(master_password)
    )
    return password


def _ca_data(authorities: Sequence[Any]) -> str:
    """The CA bundle of `aws.eks.get_cluster`'s certificate_authorities (objects or dicts)."""
    first = authorities[0]
    data = first["data"] if isinstance(first, Mapping) else first.data
    return str(data)


# --- the component -------------------------------------------------------------------------------


class IamrDatabaseUser(pulumi.ComponentResource):
    """The IAMR user, with SELECT on the configured schemas: their tables now, the owner's later."""

    user_name: pulumi.Output[str]  # resolves once the user has been provisioned
    sql: pulumi.Output[str]  # the provisioning SQL that will run (the plan shows it)
    provisioner: pulumi.Output[str]

    def __init__(
        self, name: str, args: IamrDatabaseUserArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("xpander:redshift:IamrDatabaseUser", name, None, opts)
        problems = args_problems(args)
        if problems:
            raise ValueError("\n".join(problems))

        if args.provisioner == "data-api":
            sql = data_api_sql(args.user, args.schemas, args.owner)
            done = self._data_api(name, args)
        else:
            sql = redshift_sql.psql_script(args.user, args.schemas, args.owner)
            done = self._kubernetes_job(name, args, sql)

        self.user_name = done
        self.sql = pulumi.Output.from_input(sql)
        self.provisioner = pulumi.Output.from_input(args.provisioner)
        self.register_outputs(
            {"userName": self.user_name, "sql": self.sql, "provisioner": self.provisioner}
        )

    def _data_api(self, name: str, args: IamrDatabaseUserArgs) -> pulumi.Output[str]:
        props: dict[str, Any] = {
            "region": args.region,
            "clusterIdentifier": args.cluster_identifier,
            "database": args.database,
            "user": args.user,
            "schemas": list(args.schemas),
            "owner": args.owner,
            "timeoutSeconds": args.timeout_seconds,
        }
        if args.secret_arn is not None:
            props["secretArn"] = args.secret_arn
        if args.db_user is not None:
            props["dbUser"] = args.db_user
        user = IamrUser(
            f"{name}-iamr-user",
            props,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        return user.user

    def _kubernetes_job(
        self, name: str, args: IamrDatabaseUserArgs, script: str
    ) -> pulumi.Output[str]:
        cluster_name, endpoint, port = (
            args.eks_cluster_name,
            args.cluster_endpoint,
            args.cluster_port,
        )
        master, region = args.master_username, args.region
        if cluster_name is None or endpoint is None or port is None or master is None:
            raise ValueError("kubernetes-job: missing arguments")  # args_problems names them first
        invoke = pulumi.InvokeOutputOptions(parent=self)
        eks = aws.eks.get_cluster_output(name=cluster_name, region=region, opts=invoke)
        config = pulumi.Output.all(eks.endpoint, eks.certificate_authorities).apply(
            lambda ec: json.dumps(kubeconfig(cluster_name, ec[0], _ca_data(ec[1]), region))
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
                secret_id=args.secret_arn, region=args.region, opts=invoke
            ).secret_string
        )

        base = dns_label(name)[:_BASE_NAME_MAX]
        digest = sql_hash(script)
        secret_doc = secret_manifest(dns_label(base, "master-password"), args.namespace, password)
        secret = k8s.core.v1.Secret(
            f"{name}-password",
            metadata=secret_doc["metadata"],
            type=secret_doc["type"],
            string_data=secret_doc["stringData"],
            opts=in_cluster,
        )
        config_doc = config_map_manifest(dns_label(base, f"sql-{digest}"), args.namespace, script)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-sql",
            metadata=config_doc["metadata"],
            data=config_doc["data"],
            opts=in_cluster,
        )
        job_doc = job_manifest(
            name=dns_label(base, digest),
            namespace=args.namespace,
            image=args.psql_image,
            connection=PsqlConnection(
                host=endpoint,
                port=pulumi.Output.from_input(port).apply(str),
                database=args.database,
                user=master,
            ),
            secret_name=secret.metadata.name,
            config_map_name=config_map.metadata.name,
            timeout_seconds=args.timeout_seconds,
        )
        await_seconds = args.timeout_seconds + AWAIT_MARGIN_SECONDS
        job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=job_doc["metadata"],
            spec=job_doc["spec"],
            opts=pulumi.ResourceOptions.merge(
                in_cluster,
                pulumi.ResourceOptions(
                    depends_on=[secret, config_map],
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{await_seconds}s", update=f"{await_seconds}s"
                    ),
                ),
            ),
        )
        user = args.user
        done: pulumi.Output[str] = job.metadata.apply(lambda _: user)
        return done


# --- data-api: the dynamic provider --------------------------------------------------------------

# Changing any of these means a different database user: delete the old one, create the new one.
REPLACE_KEYS = ("region", "clusterIdentifier", "database", "user")
INPUT_KEYS = (*REPLACE_KEYS, "schemas", "owner", "secretArn", "dbUser", "timeoutSeconds")


def ensure_on_sys_path(project_root: str) -> None:
    """Make `components` importable in the provider process, whatever its working directory."""
    if os.path.isdir(os.path.join(project_root, "components")) and project_root not in sys.path:
        sys.path.insert(0, project_root)


def _provider_loader() -> Callable[[str], Any]:
    """The function that rebuilds an IamrUserProvider inside Pulumi's dynamic provider process.

    Pulumi stores the provider in the state with dill, which pickles any class or function it can
    import by reference (module and name). The provider process runs `python -m pulumi.dynamic`
    where `components` may not be importable, so a by-reference IamrUserProvider would fail to
    load before any of its methods could fix sys.path. A function defined inside another one
    cannot be found by name, so dill pickles this one by value: it travels with the state, puts
    the project root (or, if that directory is gone, the working directory) on sys.path, and only
    then imports the provider class.
    """

    def load_iamr_user_provider(project_root: str) -> Any:
        import importlib  # noqa: PLC0415 - pickled by value: it can rely on no module globals
        import os  # noqa: PLC0415
        import sys  # noqa: PLC0415

        for root in (project_root, os.getcwd()):
            if os.path.isdir(os.path.join(root, "components")):
                if root not in sys.path:
                    sys.path.insert(0, root)
                break
        module = importlib.import_module("components.database_user")
        return module.IamrUserProvider(project_root)

    return load_iamr_user_provider


class IamrUserProvider(pulumi.dynamic.ResourceProvider):
    """create / read / diff / update / delete of the IAMR user over the Redshift Data API.

    Pickled as `_provider_loader()(project_root)` (see `__reduce__`), so loading it in the provider
    process already puts the project on sys.path. Every method still makes sure of that and imports
    `components.data_api` / `model.sql` inside itself, which also keeps boto3 out of
    the Pulumi program's own process. `client_factory`, `sleep` and `clock` are test seams; they
    are not pickled.
    """

    def __init__(
        self,
        project_root: str = PROJECT_ROOT,
        *,
        client_factory: Callable[[str], RedshiftDataClient] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.project_root = project_root
        self._client_factory = client_factory
        self._sleep = sleep
        self._clock = clock

    def __reduce__(self) -> tuple[Callable[[str], Any], tuple[str]]:
        return (_provider_loader(), (self.project_root,))

    # --- lifecycle -------------------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415 - see the class docstring

        failures = []
        for key in ("user", "owner"):
            value = news.get(key)
            if isinstance(value, str) and (problem := sql.identifier_problem(value, kind="user")):
                failures.append(pulumi.dynamic.CheckFailure(key, f"{value!r}: {problem}"))
        for schema in news.get("schemas") or []:
            if isinstance(schema, str) and (problem := sql.identifier_problem(schema)):
                failures.append(pulumi.dynamic.CheckFailure("schemas", f"{schema!r}: {problem}"))
        return pulumi.dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415

        api = self._api(props)
        user, schemas, owner = props["user"], list(props["schemas"]), props["owner"]
        exists = self._user_exists(api, user)
        self._run(api, sql.provisioning_statements(user, schemas, owner, user_exists=exists))
        return pulumi.dynamic.CreateResult(id_=resource_id(props), outs=outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        ensure_on_sys_path(self.project_root)
        api = self._api(props)
        if not self._user_exists(api, props["user"]):
            # An empty id tells the engine the resource is gone: refresh drops it, up recreates it.
            return pulumi.dynamic.ReadResult(id_="", outs={})
        return pulumi.dynamic.ReadResult(id_=id_, outs=outputs(props))

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        ensure_on_sys_path(self.project_root)
        changed = [k for k in INPUT_KEYS if _comparable(olds.get(k)) != _comparable(news.get(k))]
        replaces = [k for k in changed if k in REPLACE_KEYS]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=bool(replaces),
        )

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415

        user = news["user"]
        statements = grant_changes(
            user,
            old_schemas=list(olds["schemas"]),
            new_schemas=list(news["schemas"]),
            old_owner=olds["owner"],
            new_owner=news["owner"],
        )
        if statements:
            api = self._api(news)
            if not self._user_exists(api, user):  # dropped behind our back: provision it afresh
                statements = sql.provisioning_statements(
                    user, list(news["schemas"]), news["owner"], user_exists=False
                )
            self._run(api, statements)
        return pulumi.dynamic.UpdateResult(outs=outputs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415

        api = self._api(props)
        user = props["user"]
        if not self._user_exists(api, user):
            return  # already gone: nothing to undo
        self._run(api, sql.deprovisioning_statements(user, list(props["schemas"]), props["owner"]))

    # --- helpers ---------------------------------------------------------------------------------

    def _api(self, props: Mapping[str, Any]) -> DataApi:
        from components.data_api import DataApi, Limits, Target  # noqa: PLC0415

        region = props["region"]
        return DataApi(
            Target(
                cluster_identifier=props["clusterIdentifier"],
                database=props["database"],
                secret_arn=props.get("secretArn") or None,
                db_user=props.get("dbUser") or None,
            ),
            region=region,
            client=self._client_factory(region) if self._client_factory else None,
            limits=Limits(
                timeout_seconds=float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
            ),
            statement_name=STATEMENT_NAME,
            sleep=self._sleep,
            clock=self._clock,
        )

    @staticmethod
    def _user_exists(api: DataApi, user: str) -> bool:
        from components.data_api import DataApiError  # noqa: PLC0415
        from model import sql  # noqa: PLC0415

        count = api.scalar(sql.user_exists_sql(user))
        if not isinstance(count, int | float) or isinstance(count, bool):
            raise DataApiError(f"expected a count from the user check, got {count!r}")
        return count > 0

    @staticmethod
    def _run(api: DataApi, statements: Sequence[str]) -> None:
        """One transaction per BatchExecuteStatement; over 40 statements take several batches
        (each statement is idempotent, so a re-run after a partial failure converges)."""
        from components.data_api import MAX_BATCH_STATEMENTS  # noqa: PLC0415

        for start in range(0, len(statements), MAX_BATCH_STATEMENTS):
            api.run_batch(statements[start : start + MAX_BATCH_STATEMENTS])


def grant_changes(
    user: str,
    *,
    old_schemas: Sequence[str],
    new_schemas: Sequence[str],
    old_owner: str,
    new_owner: str,
) -> list[str]:
    """The SQL that turns the old grants into the new ones, and nothing else."""
    if old_owner != new_owner:  # default privileges are per owner: move every schema over
        return [
            *redshift_sql.revoke_statements(user, old_schemas, old_owner),
            *redshift_sql.grant_statements(user, new_schemas, new_owner),
        ]
    removed = [s for s in old_schemas if s not in new_schemas]
    added = [s for s in new_schemas if s not in old_schemas]
    return [
        *redshift_sql.revoke_statements(user, removed, old_owner),
        *redshift_sql.grant_statements(user, added, new_owner),
    ]


def resource_id(props: Mapping[str, Any]) -> str:
    return f"{props['clusterIdentifier']}/{props['database']}/{props['user']}"


def outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in INPUT_KEYS if key in props}


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class IamrUser(pulumi.dynamic.Resource, module="xpander", name="IamrUser"):
    """The dynamic resource: type token `pulumi-python:dynamic/xpander:IamrUser`."""

    user: pulumi.Output[str]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(IamrUserProvider(PROJECT_ROOT), name, props, opts)
