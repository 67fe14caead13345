"""`make verify`: the guide's step-9 connection checks against a deployed stack, each with its fix.

The seven checks run in the guide's order (path config, database, target, AWS credentials,
Data API client, auth method, query execution). The first failure stops the run: every later
check is reported as skipped, because it would only fail for the same reason.

Identity: `database` and `target` describe the cluster with the credentials verify runs with (an
operator's). The last four checks run as the identity under test: the current credentials, or,
with `--as-platform`, the role assumed the way the xpander platform does (ExternalId) and then
re-assumed with a session tag the way the AI gateway does (self-assume + TagSession).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectTimeoutError as AwsConnectTimeoutError,
)

from components import data_api
from model import arns
from model.outputs import (
    AUTH_METHOD,
    UI_FIELDS,
    ConnectorNotFoundError,
    connector_outputs,
    stack_outputs,
)
from model.settings import REGION, iamr_user
from model.validators import (
    ACCOUNT_ID,
    DATABASE_NAME,
    cluster_identifier_problem,
    role_name_problem,
    role_path_problem,
)

# The UI's field names come from one place; unpacking fails loudly if that contract changes.
CLUSTER_FIELD, DATABASE_FIELD, CATALOG_FIELD, ROLE_FIELD, REGION_FIELD, AUTH_FIELD = UI_FIELDS

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
DEFAULT_CALL_TIMEOUT = 20.0
DEFAULT_CONNECT_TIMEOUT = 5.0
PULUMI_TIMEOUT = 60.0
PROJECT_DIR = Path(__file__).resolve().parent.parent  # where Pulumi.yaml is
# Grace for the worker thread after the run's deadline, before the run is cut off.
DEADLINE_GRACE = 1.0
# The shortest session STS allows; verify needs minutes, and a chained session lasts 1 h at most.
SESSION_SECONDS = 900
PLATFORM_SESSION = "xpander-verify-platform"
GATEWAY_SESSION = "xpander-verify-gateway"
SESSION_TAG = {"Key": "xpander-verify", "Value": "ai-gateway"}
STATEMENT_NAME = "xpander-verify"
# Faster than the provisioner's polling: the one-row probe usually finishes within a second.
STATEMENT_POLL = data_api.Backoff(first=0.1, cap=2.0)

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"}
)
BAD_CREDENTIAL_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch"}
)
CLUSTER_NOT_FOUND_CODES = frozenset({"ClusterNotFound", "ClusterNotFoundFault"})
AWS_UNREACHABLE = (
    EndpointConnectionError,
    AwsConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)

# The cluster, database, region and role rules are the stack's own (model.settings), so the
# verifier accepts exactly what the stack can deploy. The catalog path is the exception: the stack
# writes only lowercase schema.view, but the UI field takes any 2-3 quoted or unquoted identifiers
# the connector reads. It is interpolated into SQL as typed, so nothing else may pass.
_IDENT = r'(?:[A-Za-z_][A-Za-z0-9_$]{0,126}|"(?:[^"\x00]|""){1,127}")'
CATALOG_RE = re.compile(rf"^{_IDENT}(?:\.{_IDENT}){{1,2}}$")
# An IAM role ARN's frame; its account, path and name are checked by the settings' rules.
ROLE_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>[^:]*):"
    r"role(?P<path>/(?:.*/)?)(?P<name>[^/]*)$"
)
ASSUMED_ROLE_RE = re.compile(r"^arn:[\w-]+:sts::\d{12}:assumed-role/(?P<role>[^/]+)/")

# Stack output names (the `pulumi stack output` contract).
OUT_CONNECTOR = "connectorConfig"
OUT_ENDPOINT = "clusterEndpoint"
OUT_PORT = "clusterPort"
OUT_ROLE = "roleArn"
OUT_ORGANIZATION = "organizationId"
OUT_SECURITY_GROUP = "securityGroupId"
# What `pulumi stack output --json` prints for a secret without --show-secrets.
SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 - a placeholder, not a secret


@dataclass(frozen=True)
class CheckResult:
    """One row of the report."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


class CheckError(Exception):
    """A check's verdict `fail`, with what was seen and how to fix it."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


class UsageError(Exception):
    """Inputs verify cannot even start from (exit status 2)."""


@dataclass(frozen=True)
class AwsCredentials:
    """Temporary credentials of an assumed session; the secret parts never appear in a repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)

    @classmethod
    def from_sts(cls, response: Mapping[str, Any]) -> AwsCredentials:
        creds = response["Credentials"]
        return cls(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


# Builds a boto3 client for a service, with the ambient credentials (None) or a session's.
ClientFactory = Callable[[str, AwsCredentials | None], Any]


def aws_config(call_timeout: float = DEFAULT_CALL_TIMEOUT) -> Config:
    """Every AWS call: bounded connect and read time, a bounded number of retries."""
    return Config(
        connect_timeout=min(DEFAULT_CONNECT_TIMEOUT, call_timeout),
        read_timeout=call_timeout,
        retries={"max_attempts": 3, "mode": "standard"},
    )


def boto3_client_factory(session: Any, config: Config | None = None) -> ClientFactory:
    """Clients from one boto3 session, so profiles, AWS_REGION and AWS_ENDPOINT_URL all apply."""
    client_config = config or aws_config()

    def make(service: str, credentials: AwsCredentials | None) -> Any:
        if credentials is None:
            return session.client(service, config=client_config)
        return session.client(
            service,
            config=client_config,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )

    return make


@dataclass(frozen=True)
class Inputs:
    """What verify checks: the connector fields, plus stack outputs that explain failures."""

    cluster: str | None = None
    database: str | None = None
    catalog: str | None = None
    role_arn: str | None = None
    region: str | None = None
    auth_method: str | None = None
    endpoint: str | None = None
    port: int | None = None
    external_id: str | None = None
    security_group_id: str | None = None

    def field_values(self) -> dict[str, str | None]:
        """The connector fields by their UI names."""
        values = (
            self.cluster,
            self.database,
            self.catalog,
            self.role_arn,
            self.region,
            self.auth_method,
        )
        return dict(zip(UI_FIELDS, values, strict=True))


def _text(value: Any) -> str | None:
    if value is None or value == SECRET_PLACEHOLDER:
        return None
    text = str(value).strip()
    return text or None


def inputs_from_outputs(outputs: Mapping[str, Any]) -> Inputs:
    """Inputs from `pulumi stack output --json` (or from a bare connectorConfig object)."""
    connector = outputs.get(OUT_CONNECTOR)
    if not isinstance(connector, Mapping):
        connector = outputs if CLUSTER_FIELD in outputs else {}
    port = outputs.get(OUT_PORT)
    return Inputs(
        cluster=_text(connector.get(CLUSTER_FIELD)),
        database=_text(connector.get(DATABASE_FIELD)),
        catalog=_text(connector.get(CATALOG_FIELD)),
        role_arn=_text(connector.get(ROLE_FIELD)) or _text(outputs.get(OUT_ROLE)),
        region=_text(connector.get(REGION_FIELD)),
        auth_method=_text(connector.get(AUTH_FIELD)),
        endpoint=_text(outputs.get(OUT_ENDPOINT)),
        port=int(port) if isinstance(port, int | str) and str(port).isdigit() else None,
        external_id=_text(outputs.get(OUT_ORGANIZATION)),
        security_group_id=_text(outputs.get(OUT_SECURITY_GROUP)),
    )


def apply_flags(inputs: Inputs, args: argparse.Namespace) -> Inputs:
    """Flags override the stack outputs."""
    overrides = {
        "cluster": args.cluster,
        "database": args.database,
        "catalog": args.catalog,
        "role_arn": args.role_arn,
        "region": args.region,
        "external_id": args.external_id,
    }
    return replace(inputs, **{k: v for k, v in overrides.items() if v is not None})


def secret_placeholders(outputs: Mapping[str, Any]) -> list[str]:
    """Output names that were printed as "[secret]" (exported without --show-secrets)."""
    found = [name for name, value in outputs.items() if value == SECRET_PLACEHOLDER]
    connector = outputs.get(OUT_CONNECTOR)
    if isinstance(connector, Mapping):
        found += [name for name, value in connector.items() if value == SECRET_PLACEHOLDER]
    return found


def needs_stack_outputs(args: argparse.Namespace) -> bool:
    required = (args.cluster, args.database, args.catalog, args.role_arn)
    return any(v is None for v in required) or (args.as_platform and args.external_id is None)


def load_outputs(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """The stack outputs (from --outputs-file or the pulumi CLI) and notices for stderr."""
    notes: list[str] = []
    if args.outputs_file is not None:
        path = Path(args.outputs_file)
        try:
            outputs = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"--outputs-file {path}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise UsageError(f"--outputs-file {path}: not JSON ({exc})") from exc
        if not isinstance(outputs, dict):
            raise UsageError(f"--outputs-file {path}: expected a JSON object of stack outputs")
        outputs = stack_outputs(outputs)
    elif not needs_stack_outputs(args):
        return {}, notes
    else:
        pulumi = shutil.which("pulumi")
        if pulumi is None:
            notes.append(
                "the pulumi CLI is not on PATH, so the stack outputs were not read: pass "
                "--outputs-file FILE (written by `pulumi stack output --json --show-secrets > "
                "FILE` where the CLI is) or the flags --cluster --database --catalog --role-arn "
                "--region"
            )
            return {}, notes
        outputs = _pulumi_stack_outputs(pulumi, args.stack)
    hidden = secret_placeholders(outputs)
    if hidden:
        notes.append(
            f"outputs shown as {SECRET_PLACEHOLDER} were ignored ({', '.join(hidden)}): "
            "export them with --show-secrets"
        )
    return outputs, notes


def _pulumi_stack_outputs(pulumi: str, stack: str | None) -> dict[str, Any]:
    command = [pulumi, "stack", "output", "--json", "--show-secrets"]
    if stack:
        command += ["--stack", stack]
    try:
        done = subprocess.run(
            command,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UsageError(f"`pulumi stack output` did not answer in {PULUMI_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise UsageError(
            f"`pulumi stack output` failed: {last} (select a stack with --stack NAME, "
            "or pass --outputs-file FILE)"
        )
    try:
        outputs = json.loads(done.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise UsageError(f"`pulumi stack output --json` printed something else: {exc}") from exc
    if not isinstance(outputs, dict):
        raise UsageError("`pulumi stack output --json` did not print an object")
    return outputs


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


# --- fixes: each names the statement, policy or field to change --------------------------------


def role_arn_parts(role_arn: str | None) -> tuple[str, str, str] | None:
    """(partition, account, role name) of a role ARN the stack could have made, else None."""
    match = ROLE_ARN_RE.fullmatch(role_arn or "")
    if (
        match is None
        or not ACCOUNT_ID.fullmatch(match["account"])
        or role_path_problem(match["path"])
        or role_name_problem(match["name"])
    ):
        return None
    return match["partition"], match["account"], match["name"]


def _role_parts(role_arn: str | None) -> tuple[str, str, str]:
    """role_arn_parts, with readable placeholders for what is not such an ARN."""
    return role_arn_parts(role_arn) or ("aws", "<ACCOUNT_ID>", "<role-name>")


def _aws_context(inputs: Inputs) -> arns.AwsContext:
    # The stack's account and partition are the role's: verify has no other source for them.
    partition, account, _ = _role_parts(inputs.role_arn)
    return arns.AwsContext(partition=partition, account_id=account, region=str(inputs.region))


def cluster_arn(inputs: Inputs) -> str:
    return arns.cluster_arn(_aws_context(inputs), str(inputs.cluster))


def dbname_arn(inputs: Inputs) -> str:
    return arns.dbname_arn(_aws_context(inputs), str(inputs.cluster), str(inputs.database))


def expected_db_user(role_arn: str | None) -> str:
    return iamr_user(_role_parts(role_arn)[2])


def fix_tag_session(role_arn: str | None) -> str:
    return (
        "Allow sts:TagSession in both places: (1) the role's trust policy - the PodIdentity "
        "statement (pods.eks.amazonaws.com) and the SelfAssume statement must list "
        '"sts:TagSession" next to "sts:AssumeRole" (Pod Identity\'s session tags follow the '
        "session into the self-assume); (2) the permission policy SelfAssumeAndTagSession must "
        f"allow sts:TagSession on the role itself ({role_arn}). `pulumi up` restores both."
    )


def fix_reassume(role_arn: str | None) -> str:
    partition, account, _ = _role_parts(role_arn)
    return (
        "The AI gateway re-assumes its own role without an external ID: the trust policy needs "
        f"the SelfAssume statement - Principal AWS {arns.account_root_arn(partition, account)}, "
        f"Condition ArnEquals aws:PrincipalArn = {role_arn}, actions sts:AssumeRole + "
        "sts:TagSession, and NO sts:ExternalId condition; and the permission policy "
        f"SelfAssumeAndTagSession must allow sts:AssumeRole on {role_arn}. "
        "`pulumi up` restores both."
    )


def fix_platform_assume(role_arn: str | None, caller_account: str | None) -> str:
    return (
        "The trust statement CrossAccountWithExternalId allows the platform account's root with "
        "StringEquals sts:ExternalId = organizationId: run --as-platform with credentials of that "
        f"account (these are of account {caller_account or '?'}; for self-hosted xpander it is "
        "your own), check organizationId (or --external-id) is your xpander Organization ID, and "
        f"that your identity may call sts:AssumeRole on {role_arn}."
    )


def fix_data_api(inputs: Inputs) -> str:
    return (
        "The role's permission policy RedshiftDataAPI must allow redshift-data:ListDatabases, "
        "ExecuteStatement, DescribeStatement, GetStatementResult and CancelStatement "
        "(DescribeStatement, GetStatementResult, CancelStatement and ListStatements need "
        f'Resource "*"; the others accept the cluster ARN {cluster_arn(inputs)}).'
    )


def fix_credentials(inputs: Inputs) -> str:
    return (
        "The role's permission policy RedshiftCredentials must allow "
        f"redshift:GetClusterCredentialsWithIAM on {dbname_arn(inputs)} "
        f"(and redshift:DescribeClusters on {cluster_arn(inputs)})."
    )


def fix_missing_fields(fields: Sequence[str]) -> str:
    flags = {CLUSTER_FIELD: "--cluster", DATABASE_FIELD: "--database", CATALOG_FIELD: "--catalog"}
    flags |= {ROLE_FIELD: "--role-arn", REGION_FIELD: "--region"}
    wanted = ", ".join(fields)
    given = ", ".join(flags[f] for f in fields if f in flags)
    return (
        f"Set {wanted} in the xpander UI's Redshift connector fields (guide step 8; the values "
        f"are the stack output connectorConfig, e.g. {CATALOG_FIELD} "
        f"pg_catalog.svv_all_columns). Here: --outputs-file FILE or {given}."
    )


def fix_network(error: BaseException, host: str, port: int, security_group: str | None) -> str:
    """The fix for a failed TCP connect from --network."""
    group = (
        f"the Redshift security group {security_group}"
        if security_group
        else "the Redshift security group (stack output securityGroupId)"
    )
    ingress = (
        f"{group} must allow TCP {port} ingress from the EKS cluster security group "
        "(the RedshiftNetwork ingress rule)"
    )
    if isinstance(error, socket.gaierror):
        return (
            f"{host} does not resolve here: the endpoint is private, so run --network from "
            "inside the VPC (e.g. a pod in the EKS cluster)."
        )
    if isinstance(error, ConnectionRefusedError):
        return (
            f"Nothing accepts connections on {host}:{port}: check the cluster's port is {port} "
            f"(stack output clusterPort), and that {ingress}."
        )
    return f"No answer from {host}:{port}: {ingress}; run --network from inside the VPC."


def fix_statement_failed(error: str, inputs: Inputs) -> str:
    user = expected_db_user(inputs.role_arn)
    lowered = error.lower()
    if "permission denied" in lowered:
        return (
            f'Redshift refused the read: the database user "{user}" needs USAGE on the schema and '
            f"SELECT on {inputs.catalog} - the grants of the IAMR database user (guide step 6: "
            "GRANT USAGE ON SCHEMA / GRANT SELECT ON ALL TABLES IN SCHEMA); `pulumi up` "
            "re-applies them."
        )
    if "does not exist" in lowered and "relation" in lowered:
        return (
            f"{CATALOG_FIELD} {inputs.catalog} is not a relation in {inputs.database}: set "
            f"{CATALOG_FIELD} to pg_catalog.svv_all_columns (recommended) in the xpander UI."
        )
    return (
        f"Redshift rejected the statement through {CATALOG_FIELD} ({inputs.catalog}): check "
        f'{CATALOG_FIELD} and the grants of the database user "{user}" (guide step 6).'
    )


FIX_NO_CREDENTIALS = (
    "No AWS credentials were found: set AWS_PROFILE (or --profile) or the AWS_* credential "
    "variables, or run where an IAM identity is available (an EKS pod with Pod Identity)."
)
FIX_BAD_CREDENTIALS = (
    "The AWS credentials were rejected (expired or invalid): refresh them "
    "(e.g. `aws sso login --profile NAME`) and run again."
)


def fix_unreachable(service: str) -> str:
    return (
        f"Could not reach the AWS {service} endpoint: check network, proxy and AWS_ENDPOINT_URL; "
        "inside a private VPC, the interface endpoints for sts, redshift and redshift-data."
    )


MAX_MESSAGE = 300


def _error(exc: ClientError) -> tuple[str, str]:
    """(code, message) of an AWS error; the message flattened (an endpoint may answer HTML)."""
    error = exc.response.get("Error", {})
    message = re.sub(r"<[^>]*>", " ", str(error.get("Message", "")))
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return str(error.get("Code", "")), message


def _http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _call_failed(service: str, operation: str, exc: ClientError) -> str:
    code, message = _error(exc)
    return f"{service} {operation} failed: {code}: {message}".rstrip(": ")


def _client_error_fix(exc: ClientError, service: str, operation: str, fix_denied: str) -> str:
    code, message = _error(exc)
    if code in BAD_CREDENTIAL_CODES:
        return FIX_BAD_CREDENTIALS
    if code in ACCESS_DENIED_CODES or "not authorized" in message:
        return fix_denied
    if _http_status(exc) >= 500:
        return (
            f"{service} answered a server error: run again later. If AWS_ENDPOINT_URL points at "
            f"an emulator, it may not implement {service} {operation}."
        )
    return "AWS's message above names the cause."


def aws_failure(exc: BaseException, service: str, operation: str, fix_denied: str) -> CheckError:
    """A check's verdict for an AWS call that raised; `fix_denied` is the fix for AccessDenied."""
    if isinstance(exc, ClientError):
        return CheckError(
            _call_failed(service, operation, exc),
            _client_error_fix(exc, service, operation, fix_denied),
        )
    if isinstance(exc, NoCredentialsError):
        return CheckError(f"{service} {operation}: no AWS credentials", FIX_NO_CREDENTIALS)
    if isinstance(exc, AWS_UNREACHABLE):
        return CheckError(f"{service} {operation}: {exc}", fix_unreachable(service))
    return CheckError(f"{service} {operation}: {exc}", "See the error above.")


def data_api_failure(exc: BaseException, operation: str, inputs: Inputs) -> CheckError:
    """A Data API call that raised. With IAM auth the Data API fetches database credentials for
    the caller, so a refusal of redshift:GetClusterCredentialsWithIAM surfaces here too."""
    failure = aws_failure(exc, "redshift-data", operation, fix_data_api(inputs))
    if "GetClusterCredentials" in failure.detail:
        failure.fix = fix_credentials(inputs)
    return failure


# --- the checks, in the guide's order ----------------------------------------------------------


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


# Each connector field verify needs: whether a value is well-formed, and the rule said in words.
PATH_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    CLUSTER_FIELD: (
        lambda value: cluster_identifier_problem(value) is None,
        "a Redshift cluster identifier (lowercase, e.g. xpander-redshift)",
    ),
    DATABASE_FIELD: (
        _matches(DATABASE_NAME),
        "a Redshift database name (lowercase, e.g. xpander_demo)",
    ),
    CATALOG_FIELD: (_matches(CATALOG_RE), "schema.relation (e.g. pg_catalog.svv_all_columns)"),
    ROLE_FIELD: (
        lambda value: role_arn_parts(value) is not None,
        "an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)",
    ),
    REGION_FIELD: (_matches(REGION), "an AWS region (e.g. us-west-1)"),
}


def validate_paths(inputs: Inputs) -> list[tuple[str, str]]:
    """(field, problem) for each connector field verify needs that is missing or malformed."""
    problems = []
    for name, value in inputs.field_values().items():
        if name not in PATH_RULES:
            continue  # Auth Method is the auth method check's
        well_formed, rule = PATH_RULES[name]
        if not value:
            problems.append((name, f"{name} is missing"))
        elif not well_formed(value):
            problems.append((name, f"{name} {value!r} is not {rule}"))
    return problems


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
        if _error(exc)[0] not in CLUSTER_NOT_FOUND_CODES:
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
    run.cluster = cluster
    nodes = f"{cluster.get('NodeType', '?')} x{cluster.get('NumberOfNodes', '?')}"
    return f"cluster {inputs.cluster} available ({nodes}), database {db_name}"


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
        stale.append(f"{OUT_ENDPOINT} {inputs.endpoint}")
    if inputs.port and inputs.port != port:
        stale.append(f"{OUT_PORT} {inputs.port}")
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
    code, message = _error(exc)
    detail = "SelfAssume + TagSession: " + _call_failed("sts", "AssumeRole", exc)
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
    role_name = _role_parts(inputs.role_arn)[2]
    session_of_role = (m := ASSUMED_ROLE_RE.match(caller)) is not None and m["role"] == role_name
    credentials: AwsCredentials | None = None
    try:
        if run.options.as_platform:
            if not inputs.external_id:
                raise CheckError(
                    "--as-platform needs the ExternalId the platform passes",
                    f"Pass --external-id or provide the stack output {OUT_ORGANIZATION}.",
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


# --- running -----------------------------------------------------------------------------------


def skipped(name: str, waits_on: str) -> CheckResult:
    return CheckResult(name, "skip", f"not run: waits on {waits_on!r}, which failed")


def out_of_time(name: str, seconds: float) -> CheckResult:
    return CheckResult(
        name,
        "fail",
        f"the run's total time bound ({seconds:g} s) was reached",
        "Raise --timeout, or find the slow call with the checks before it.",
    )


def run_check(run: Run, name: str, check: Callable[[Run], str]) -> CheckResult:
    try:
        return CheckResult(name, "pass", check(run))
    except CheckError as failed:
        return CheckResult(name, "fail", failed.detail, failed.fix)
    except (ClientError, BotoCoreError) as exc:
        failure = aws_failure(exc, "AWS", "call", "AWS's message above names the permission.")
        return CheckResult(name, "fail", failure.detail, failure.fix)
    except Exception as exc:  # a bug must still end in a report
        return CheckResult(
            name,
            "fail",
            f"unexpected error: {type(exc).__name__}: {exc}",
            "This is a bug in tools/verify.py: report it with the --json output.",
        )


def run_checks(
    run: Run,
    on_start: Callable[[int, str], None],
    on_result: Callable[[CheckResult], None],
) -> list[CheckResult]:
    """The checks in order; after the first failure, the rest are skipped."""
    results: list[CheckResult] = []
    failed: str | None = None
    for index, (name, check) in enumerate(CHECKS):
        on_start(index, name)
        if failed is not None:
            result = skipped(name, failed)
        elif run.deadline.expired():
            result = out_of_time(name, run.deadline.seconds)
        else:
            result = run_check(run, name, check)
        if result.status == "fail":
            failed = name
        results.append(result)
        on_result(result)
    return results


class Progress:
    """The live progress line per check, on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._closed = False

    def start(self, index: int, name: str) -> None:
        with self._lock:
            if not self._closed:
                self._stream.write(f"[{index + 1}/{len(CHECK_NAMES)}] {name} ... ")
                self._stream.flush()

    def done(self, result: CheckResult) -> None:
        with self._lock:
            if not self._closed:
                self._stream.write(f"{result.status}\n")
                self._stream.flush()

    def close(self) -> None:
        with self._lock:
            self._closed = True


def run_bounded(run: Run, progress: Progress) -> list[CheckResult]:
    """run_checks in a worker thread, cut off when the run's deadline (plus a grace) passes.

    botocore's timeouts bound each call, but a run of many calls with retries could still exceed
    the total; a cut-off keeps `make verify` bounded whatever an endpoint does.
    """
    results: list[CheckResult] = []
    lock = threading.Lock()

    def record(result: CheckResult) -> None:
        with lock:
            results.append(result)
        progress.done(result)

    worker = threading.Thread(
        target=run_checks, args=(run, progress.start, record), name="verify", daemon=True
    )
    worker.start()
    worker.join(timeout=run.deadline.remaining() + DEADLINE_GRACE)
    progress.close()
    with lock:
        finished = list(results)
        results.clear()  # a late result from the abandoned worker is not reported
    if len(finished) < len(CHECK_NAMES):
        stuck = CHECK_NAMES[len(finished)]
        finished.append(out_of_time(stuck, run.deadline.seconds))
        finished += [skipped(name, stuck) for name in CHECK_NAMES[len(finished) :]]
    return finished


# --- output ------------------------------------------------------------------------------------


def render_json(results: Sequence[CheckResult]) -> str:
    ok = all(r.status == "pass" for r in results)
    return json.dumps({"ok": ok, "checks": [r.as_dict() for r in results]}, indent=2)


def _wrap(text: str, width: int) -> list[str]:
    # ARNs and host names stay whole, even when a line overflows: people copy them from here.
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def render_table(
    results: Sequence[CheckResult], detail_width: int = 52, fix_width: int = 60
) -> str:
    """A plain-text table: check, status, detail, fix (long cells wrap within their column)."""
    name_width = max(len("check"), *(len(r.name) for r in results))
    widths = (name_width, len("status"), detail_width, fix_width)

    def row(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [row(("check", "status", "detail", "fix")), row(tuple("-" * w for w in widths))]
    for r in results:
        detail = _wrap(r.detail, detail_width)
        fix = _wrap(r.fix, fix_width)
        for i, (d, f) in enumerate(itertools.zip_longest(detail, fix, fillvalue="")):
            lines.append(row((r.name, r.status, d, f) if i == 0 else ("", "", d, f)))
    return "\n".join(lines)


def summary(results: Sequence[CheckResult]) -> str:
    passed = sum(r.status == "pass" for r in results)
    failed = [r.name for r in results if r.status == "fail"]
    if not failed:
        return f"all {passed} checks passed: the xpander connector can use this configuration."
    skipped_count = sum(r.status == "skip" for r in results)
    return (
        f"{passed} passed, {len(failed)} failed ({', '.join(failed)}), {skipped_count} skipped: "
        "apply the fix above and run again."
    )


# --- command line ------------------------------------------------------------------------------


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.verify",
        description=(
            "Run the guide's step-9 connection checks (path config, database, target, AWS "
            "credentials, Data API client, auth method, query execution) against a deployed "
            "stack, and print the fix for the first failure. Reads `pulumi stack output --json "
            "--show-secrets` when the pulumi CLI is on PATH; flags override its values. Honours "
            "the standard AWS environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...)."
        ),
        epilog="Exit status: 0 every check passed; 1 a check failed; 2 unusable inputs.",
    )
    source = parser.add_argument_group("stack outputs")
    source.add_argument(
        "--outputs-file",
        metavar="FILE",
        help="JSON of `pulumi stack output --json --show-secrets` (or a bare connectorConfig "
        "object), instead of running the pulumi CLI",
    )
    source.add_argument(
        "--stack", metavar="NAME", help="the stack whose outputs the pulumi CLI reads"
    )
    parser.add_argument(
        "--connector",
        metavar="NAME",
        help="with several connectors (setting `connectors`): the one to check",
    )
    fields = parser.add_argument_group("connector fields (override the stack outputs)")
    fields.add_argument("--cluster", metavar="ID", help=f"{CLUSTER_FIELD}: cluster identifier")
    fields.add_argument("--database", metavar="NAME", help=f"{DATABASE_FIELD}: database name")
    fields.add_argument(
        "--catalog", metavar="PATH", help=f"{CATALOG_FIELD}, e.g. pg_catalog.svv_all_columns"
    )
    fields.add_argument("--role-arn", metavar="ARN", help=f"{ROLE_FIELD}: the xpander role")
    fields.add_argument(
        "--region", metavar="REGION", help=f"{REGION_FIELD} (default: AWS_REGION / the profile's)"
    )
    identity = parser.add_argument_group("identity")
    identity.add_argument(
        "--profile", metavar="NAME", help="AWS profile for the base credentials (or AWS_PROFILE)"
    )
    identity.add_argument(
        "--as-platform",
        action="store_true",
        help="assume the role as the xpander platform does (ExternalId = organizationId), then "
        "re-assume it with a session tag as the AI gateway does (SelfAssume + TagSession), and "
        "run the last four checks as that session",
    )
    identity.add_argument(
        "--external-id",
        metavar="ID",
        help="ExternalId for --as-platform (default: the stack output organizationId)",
    )
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument(
        "--network",
        action="store_true",
        help="also open a TCP connection to the cluster endpoint (run inside the VPC)",
    )
    behaviour.add_argument(
        "--json", action="store_true", help='print {"ok", "checks": [...]} instead of a table'
    )
    behaviour.add_argument(
        "--timeout",
        type=_positive,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on the whole run (default {DEFAULT_TIMEOUT:g})",
    )
    behaviour.add_argument(
        "--query-timeout",
        type=_positive,
        default=DEFAULT_QUERY_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on the query-execution statement (default {DEFAULT_QUERY_TIMEOUT:g})",
    )
    behaviour.add_argument(
        "--call-timeout",
        type=_positive,
        default=DEFAULT_CALL_TIMEOUT,
        metavar="SECONDS",
        help=f"read timeout of each AWS call (default {DEFAULT_CALL_TIMEOUT:g}); AWS connects "
        f"and the --network TCP connect wait min({DEFAULT_CONNECT_TIMEOUT:g}, this)",
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`python -m tools.verify`; `client_factory` replaces the boto3 clients (tests)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        outputs, notes = load_outputs(args)
        outputs = connector_outputs(outputs, args.connector)
        inputs = apply_flags(inputs_from_outputs(outputs), args)
        # botocore reads AWS_DEFAULT_REGION and the profile, not AWS_REGION (the AWS CLI and the
        # other SDKs do, first): honour it the CLI's way.
        region = inputs.region or os.environ.get("AWS_REGION") or None
        session = boto3.session.Session(profile_name=args.profile, region_name=region)
    except (UsageError, ProfileNotFound, ConnectorNotFoundError) as exc:
        print(f"verify: {exc}", file=err)
        return 2
    for note in notes:
        print(f"verify: note: {note}", file=err)
    inputs = replace(inputs, region=session.region_name)
    options = Options(
        as_platform=args.as_platform,
        network=args.network,
        query_timeout=args.query_timeout,
        connect_timeout=min(DEFAULT_CONNECT_TIMEOUT, args.call_timeout),
        timeout=args.timeout,
    )
    factory = client_factory or boto3_client_factory(session, aws_config(args.call_timeout))
    run = Run(inputs, options, factory, Deadline(args.timeout))
    results = run_bounded(run, Progress(err))
    print(
        render_json(results) if args.json else f"{render_table(results)}\n\n{summary(results)}",
        file=out,
    )
    return 0 if all(r.status == "pass" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
