"""`make verify`'s seven checks, in the guide's order (step 9), and the run they share."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from clients import data_api
from model import cluster_baseline as baseline
from model.outputs import AUTH_METHOD, CLUSTER_ENDPOINT, CLUSTER_PORT, ORGANIZATION_ID
from tools.verify_aws import (
    BAD_CREDENTIAL_CODES,
    CLUSTER_NOT_FOUND_CODES,
    DEFAULT_CONNECT_TIMEOUT,
    FIX_BAD_CREDENTIALS,
    AwsCredentials,
    CheckError,
    ClientFactory,
    aws_error,
    aws_failure,
    call_failed,
    data_api_failure,
    fix_credentials,
    fix_missing_fields,
    fix_network,
    fix_platform_assume,
    fix_reassume,
    fix_statement_failed,
    fix_tag_session,
)
from tools.verify_inputs import (
    AUTH_FIELD,
    CATALOG_FIELD,
    CATALOG_RE,
    CLUSTER_FIELD,
    DATABASE_FIELD,
    REGION_FIELD,
    Inputs,
    cluster_arn,
    expected_db_user,
    role_parts,
    validate_paths,
)

CHECK_NAMES: tuple[str, ...] = (
    "path config",
    "database",
    "target",
    "AWS credentials",
    "Data API client",
    "auth method",
    "query execution",
)

Status = Literal["pass", "fail", "skip"]

DEFAULT_TIMEOUT = 120.0
DEFAULT_QUERY_TIMEOUT = 60.0
# The shortest session STS allows; verify needs minutes, and a chained session lasts 1 h at most.
SESSION_SECONDS = 900
PLATFORM_SESSION = "xpander-verify-platform"
GATEWAY_SESSION = "xpander-verify-gateway"
SESSION_TAG = {"Key": "xpander-verify", "Value": "ai-gateway"}
STATEMENT_NAME = "xpander-verify"
# Faster than the provisioner's polling: the one-row probe usually finishes within a second.
STATEMENT_POLL = data_api.Backoff(first=0.1, cap=2.0)
ASSUMED_ROLE_RE = re.compile(r"^arn:[\w-]+:sts::\d{12}:assumed-role/(?P<role>[^/]+)/")


@dataclass(frozen=True)
class CheckResult:
    """One row of the report."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Options:
    as_platform: bool = False
    network: bool = False
    query_timeout: float = DEFAULT_QUERY_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    timeout: float = DEFAULT_TIMEOUT


class Deadline:
    """The run's total time bound."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


@dataclass
class Run:
    """One verification run: its inputs, how it reaches AWS, and what earlier checks found."""

    inputs: Inputs
    options: Options
    clients: ClientFactory
    deadline: Deadline
    cluster: dict[str, Any] | None = None
    credentials: AwsCredentials | None = None
    identity_arn: str | None = None


def check_path_config(run: Run) -> str:
    problems = validate_paths(run.inputs)
    if problems:
        raise CheckError(
            "; ".join(problem for _, problem in problems),
            fix_missing_fields([name for name, _ in problems]),
        )
    i = run.inputs
    return f"{CLUSTER_FIELD}={i.cluster} {DATABASE_FIELD}={i.database} {CATALOG_FIELD}={i.catalog}"


def _cluster_identifiers(client: Any) -> list[str]:
    """Up to one page of the clusters this identity can see, to name them in a fix."""
    try:
        clusters = client.describe_clusters(MaxRecords=100).get("Clusters", [])
    except (ClientError, BotoCoreError):
        return []
    return sorted(c["ClusterIdentifier"] for c in clusters)


def check_database(run: Run) -> str:
    inputs = run.inputs
    redshift = run.clients("redshift", None)
    try:
        clusters = redshift.describe_clusters(ClusterIdentifier=inputs.cluster)["Clusters"]
    except ClientError as exc:
        if aws_error(exc)[0] not in CLUSTER_NOT_FOUND_CODES:
            raise aws_failure(
                exc,
                "redshift",
                "DescribeClusters",
                "The identity running verify needs redshift:DescribeClusters (the role has it on "
                f"{cluster_arn(inputs)} through RedshiftCredentials).",
            ) from exc
        seen = _cluster_identifiers(redshift)
        where = (
            f"clusters in {inputs.region}: {', '.join(seen)}"
            if seen
            else (f"this identity sees no cluster in {inputs.region}")
        )
        raise CheckError(
            f"cluster {inputs.cluster!r} not found in {inputs.region} ({where})",
            f"Set {CLUSTER_FIELD} to the cluster's identifier"
            + (f" (one of: {', '.join(seen)})" if seen else "")
            + f", or set {REGION_FIELD} to the cluster's region; a new stack must finish "
            "`pulumi up` first.",
        ) from exc
    except (BotoCoreError, OSError) as exc:
        raise aws_failure(exc, "redshift", "DescribeClusters", "") from exc
    cluster: dict[str, Any] = clusters[0]
    status = str(cluster.get("ClusterStatus", "unknown"))
    if status != "available":
        raise CheckError(
            f"cluster {inputs.cluster} is {status!r}, not 'available'",
            "Wait for the cluster (aws redshift wait cluster-available --cluster-identifier "
            f"{inputs.cluster}), or resume a paused one (aws redshift resume-cluster "
            f"--cluster-identifier {inputs.cluster}).",
        )
    db_name = str(cluster.get("DBName", ""))
    if db_name != inputs.database:
        raise CheckError(
            f"cluster {inputs.cluster} has database {db_name!r}, not {inputs.database!r}",
            f"Set {DATABASE_FIELD} to {db_name!r} (the database of cluster {inputs.cluster}) "
            "in the xpander UI.",
        )
    pending = pending_parameter_groups(cluster)
    if pending:
        raise CheckError(
            f"cluster {inputs.cluster}: parameter group "
            + ", ".join(f"{name} is {status!r}" for name, status in pending)
            + " - its parameters (require_ssl among them) are not in effect yet",
            "Reboot the cluster to apply them (connections drop for a few minutes): "
            + baseline.reboot_command(str(inputs.cluster), inputs.region or "<region>")
            + "; then run verify again (docs/operations.md, static parameters).",
        )
    run.cluster = cluster
    nodes = f"{cluster.get('NodeType', '?')} x{cluster.get('NumberOfNodes', '?')}"
    return (
        f"cluster {inputs.cluster} available ({nodes}), database {db_name}, parameter group in sync"
    )


def pending_parameter_groups(cluster: dict[str, Any]) -> list[tuple[str, str]]:
    """Parameter groups whose changes are not applied: DescribeClusters' ClusterParameterGroups[]
    .ParameterApplyStatus other than in-sync or applying (botocore redshift ClusterParameterStatus:
    pending-reboot, apply-deferred, apply-error, ... apply at the next reboot)."""
    return [
        (str(group.get("ParameterGroupName", "?")), str(group.get("ParameterApplyStatus")))
        for group in cluster.get("ClusterParameterGroups") or []
        if group.get("ParameterApplyStatus") not in (baseline.IN_SYNC, "applying", None)
    ]


def check_target(run: Run) -> str:
    assert run.cluster is not None  # the database check found it
    inputs = run.inputs
    endpoint = run.cluster.get("Endpoint") or {}
    host, port = endpoint.get("Address"), endpoint.get("Port")
    if not host or not port:
        raise CheckError(
            f"cluster {inputs.cluster} reports no endpoint yet",
            "Wait until the cluster is available with an endpoint, then run again.",
        )
    stale = []
    # Terraform-style `endpoint` attributes are "host:port"; the contract's output is the host.
    expected_host = inputs.endpoint
    if expected_host and re.fullmatch(r".+:\d+", expected_host):
        expected_host = expected_host.rsplit(":", 1)[0]
    if expected_host and expected_host != host:
        stale.append(f"{CLUSTER_ENDPOINT} {inputs.endpoint}")
    if inputs.port and inputs.port != port:
        stale.append(f"{CLUSTER_PORT} {inputs.port}")
    if stale:
        raise CheckError(
            f"the cluster answers at {host}:{port}, the stack outputs say {', '.join(stale)}",
            "The stack's state is stale: run `pulumi refresh` (then `pulumi up`).",
        )
    if not run.options.network:
        return f"{host}:{port} (TCP not tried: add --network when running inside the VPC)"
    bound = min(run.options.connect_timeout, run.deadline.remaining())
    started = time.monotonic()
    try:
        with socket.create_connection((host, int(port)), timeout=bound):
            pass
    except OSError as exc:
        reason = (
            "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        )
        raise CheckError(
            f"TCP connect to {host}:{port} failed: {reason}",
            fix_network(exc, host, int(port), inputs.security_group_id),
        ) from exc
    return f"{host}:{port} accepts TCP ({time.monotonic() - started:.2f} s)"


def _reassume_failure(exc: ClientError, role_arn: str | None) -> CheckError:
    """Why the AI gateway's re-assume (self-assume with a session tag) was refused."""
    code, message = aws_error(exc)
    detail = "SelfAssume + TagSession: " + call_failed("sts", "AssumeRole", exc)
    if code in BAD_CREDENTIAL_CODES:
        return CheckError(detail, FIX_BAD_CREDENTIALS)
    if "sts:TagSession" in message:
        return CheckError(detail, fix_tag_session(role_arn))
    if "sts:AssumeRole" in message:
        return CheckError(detail, fix_reassume(role_arn))
    return CheckError(detail, f"{fix_reassume(role_arn)} {fix_tag_session(role_arn)}")


def _self_assume(run: Run, credentials: AwsCredentials | None) -> AwsCredentials:
    """The AI gateway's step: re-assume the role from a session of it, with a session tag."""
    sts = run.clients("sts", credentials)
    try:
        response = sts.assume_role(
            RoleArn=run.inputs.role_arn,
            RoleSessionName=GATEWAY_SESSION,
            DurationSeconds=SESSION_SECONDS,
            Tags=[SESSION_TAG],
        )
    except ClientError as exc:
        raise _reassume_failure(exc, run.inputs.role_arn) from exc
    return AwsCredentials.from_sts(response)


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else None


def check_aws_credentials(run: Run) -> str:
    inputs = run.inputs
    steps: list[str] = []
    try:
        caller = run.clients("sts", None).get_caller_identity()["Arn"]
    except (ClientError, BotoCoreError) as exc:
        raise aws_failure(exc, "sts", "GetCallerIdentity", FIX_BAD_CREDENTIALS) from exc
    steps.append(f"caller {caller}")
    role_name = role_parts(inputs.role_arn)[2]
    session_of_role = (m := ASSUMED_ROLE_RE.match(caller)) is not None and m["role"] == role_name
    credentials: AwsCredentials | None = None
    try:
        if run.options.as_platform:
            if not inputs.external_id:
                raise CheckError(
                    "--as-platform needs the ExternalId the platform passes",
                    f"Pass --external-id or provide the stack output {ORGANIZATION_ID}.",
                )
            try:
                platform = run.clients("sts", None).assume_role(
                    RoleArn=inputs.role_arn,
                    RoleSessionName=PLATFORM_SESSION,
                    ExternalId=inputs.external_id,
                    DurationSeconds=SESSION_SECONDS,
                )
            except ClientError as exc:
                failure = aws_failure(
                    exc,
                    "sts",
                    "AssumeRole",
                    fix_platform_assume(inputs.role_arn, _account_of(caller)),
                )
                failure.detail = "CrossAccountWithExternalId: " + failure.detail
                raise failure from exc
            credentials = AwsCredentials.from_sts(platform)
            steps.append("CrossAccountWithExternalId (ExternalId) ok")
            credentials = _self_assume(run, credentials)
            steps.append("SelfAssume + TagSession ok")
        elif session_of_role:
            # Inside an xpander pod: the ambient identity is the role; do the gateway's step.
            credentials = _self_assume(run, None)
            steps.append("SelfAssume + TagSession ok")
        if credentials is not None:
            identity = run.clients("sts", credentials).get_caller_identity()["Arn"]
            steps.append(f"now {identity}")
        else:
            identity = caller
            steps.append("not a session of the role: --as-platform tests the role itself")
    except (ClientError, BotoCoreError) as exc:
        raise aws_failure(exc, "sts", "AssumeRole", FIX_BAD_CREDENTIALS) from exc
    run.credentials = credentials
    run.identity_arn = identity
    return "; ".join(steps)


def check_data_api_client(run: Run) -> str:
    inputs = run.inputs
    data = run.clients("redshift-data", run.credentials)
    try:
        response = data.list_databases(ClusterIdentifier=inputs.cluster, Database=inputs.database)
    except (ClientError, BotoCoreError) as exc:
        raise data_api_failure(exc, "ListDatabases", inputs) from exc
    databases = sorted(response.get("Databases", []))
    if inputs.database not in databases:
        raise CheckError(
            f"ListDatabases on {inputs.cluster}: {', '.join(databases) or 'none'}; "
            f"{inputs.database!r} is not among them",
            f"Set {DATABASE_FIELD} to one of: {', '.join(databases)}.",
        )
    return f"ListDatabases on {inputs.cluster}: {', '.join(databases)}"


def check_auth_method(run: Run) -> str:
    inputs = run.inputs
    if inputs.auth_method is not None and inputs.auth_method != AUTH_METHOD:
        raise CheckError(
            f"{AUTH_FIELD} is {inputs.auth_method!r}",
            f"Set {AUTH_FIELD} to {AUTH_METHOD} in the xpander UI.",
        )
    redshift = run.clients("redshift", run.credentials)
    try:
        response = redshift.get_cluster_credentials_with_iam(
            ClusterIdentifier=inputs.cluster,
            DbName=inputs.database,
            DurationSeconds=SESSION_SECONDS,
        )
    except (ClientError, BotoCoreError) as exc:
        raise aws_failure(
            exc, "redshift", "GetClusterCredentialsWithIAM", fix_credentials(inputs)
        ) from exc
    # The response carries a database password: only DbUser is ever read from it.
    db_user = str(response.get("DbUser", ""))
    expected = expected_db_user(inputs.role_arn)
    if db_user != expected:
        raise CheckError(
            f"GetClusterCredentialsWithIAM maps {run.identity_arn} to {db_user!r}, "
            f"not {expected!r}",
            "These checks ran as an identity other than the role: run with --as-platform, or "
            "from a pod of the xpander service account (Pod Identity association).",
        )
    return f"{AUTH_FIELD} {AUTH_METHOD}; GetClusterCredentialsWithIAM -> DbUser {db_user}"


def query_sql(catalog: str) -> str:
    """The probe statement; `catalog` passed path config's pattern, so it is identifiers only."""
    if not CATALOG_RE.fullmatch(catalog):
        raise ValueError(f"not a catalog path: {catalog!r}")
    return f"SELECT * FROM {catalog} LIMIT 1"  # noqa: S608 - validated identifiers


def check_query_execution(run: Run) -> str:
    inputs = run.inputs
    assert inputs.cluster and inputs.database and inputs.catalog and inputs.region  # path config
    sql = query_sql(inputs.catalog)
    bound = min(run.options.query_timeout, run.deadline.remaining())
    api = data_api.DataApi(
        # Neither a secret nor a DbUser: the identity under test's own IAM, the agent's path.
        data_api.Target(inputs.cluster, inputs.database),
        region=inputs.region,
        client=run.clients("redshift-data", run.credentials),
        # Limits wants a positive bound; a run's deadline just reached still gets one look.
        limits=data_api.Limits(timeout_seconds=max(bound, 1e-3), poll=STATEMENT_POLL),
        statement_name=STATEMENT_NAME,
    )
    started = time.monotonic()
    # The steps of DataApi.run one by one, so that a failure names the call that failed.
    operation = "ExecuteStatement"
    try:
        statement_id = api.submit(sql)
        operation = "DescribeStatement"
        described = api.wait(statement_id, [sql])
        rows = 0
        if described.get("HasResultSet"):
            operation = "GetStatementResult"
            rows = len(api.result_rows(statement_id))
    except data_api.StatementTimeoutError as exc:
        raise CheckError(
            f"{sql}: not finished after {bound:g} s (cancelled)",
            f"The statement through {CATALOG_FIELD} did not finish within --query-timeout "
            f"({run.options.query_timeout:g} s): the cluster may be busy, paused or "
            "resizing - check its status and queue, or raise --query-timeout.",
        ) from exc
    except data_api.StatementFailedError as exc:
        raise CheckError(
            f"{sql}: {exc.status}: {exc.error}", fix_statement_failed(exc.error, inputs)
        ) from exc
    except data_api.DataApiError as exc:
        # Still throttled after DataApi's retries: report AWS's own error, as for any other call.
        cause = exc.__cause__ if isinstance(exc.__cause__, ClientError) else exc
        raise data_api_failure(cause, operation, inputs) from exc
    except (ClientError, BotoCoreError) as exc:
        raise data_api_failure(exc, operation, inputs) from exc
    return f"{sql}: FINISHED in {time.monotonic() - started:.1f} s, {rows} row(s)"


CHECKS: tuple[tuple[str, Callable[[Run], str]], ...] = tuple(
    zip(
        CHECK_NAMES,
        (
            check_path_config,
            check_database,
            check_target,
            check_aws_credentials,
            check_data_api_client,
            check_auth_method,
            check_query_execution,
        ),
        strict=True,
    )
)
