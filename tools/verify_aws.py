"""`make verify`'s AWS side: bounded boto3 clients, assumed-session credentials, AWS errors mapped
to a verdict, and the fix for each failure (each names the statement, policy or field to change)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectTimeoutError as AwsConnectTimeoutError,
)

from model import arns
from tools.verify_inputs import (
    CATALOG_FIELD,
    CLUSTER_FIELD,
    DATABASE_FIELD,
    REGION_FIELD,
    ROLE_FIELD,
    Inputs,
    cluster_arn,
    dbname_arn,
    expected_db_user,
    role_parts,
)

DEFAULT_CALL_TIMEOUT = 20.0
DEFAULT_CONNECT_TIMEOUT = 5.0

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


class CheckError(Exception):
    """A check's verdict `fail`, with what was seen and how to fix it."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


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


def fix_tag_session(role_arn: str | None) -> str:
    return (
        "Allow sts:TagSession in both places: (1) the role's trust policy - the PodIdentity "
        "statement (pods.eks.amazonaws.com) and the SelfAssume statement must list "
        '"sts:TagSession" next to "sts:AssumeRole" (Pod Identity\'s session tags follow the '
        "session into the self-assume); (2) the permission policy SelfAssumeAndTagSession must "
        f"allow sts:TagSession on the role itself ({role_arn}). `pulumi up` restores both."
    )


def fix_reassume(role_arn: str | None) -> str:
    partition, account, _ = role_parts(role_arn)
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


def aws_error(exc: ClientError) -> tuple[str, str]:
    """(code, message) of an AWS error; the message flattened (an endpoint may answer HTML)."""
    error = exc.response.get("Error", {})
    message = re.sub(r"<[^>]*>", " ", str(error.get("Message", "")))
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return str(error.get("Code", "")), message


def _http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def call_failed(service: str, operation: str, exc: ClientError) -> str:
    code, message = aws_error(exc)
    return f"{service} {operation} failed: {code}: {message}".rstrip(": ")


def _client_error_fix(exc: ClientError, service: str, operation: str, fix_denied: str) -> str:
    code, message = aws_error(exc)
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
            call_failed(service, operation, exc),
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
