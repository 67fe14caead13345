"""`tools.verify` (`make verify`): the guide's step-9 checks, their fixes, output and exit codes.

What answers which AWS call, and why:
- moto server, over HTTP on 127.0.0.1 (the tool's own boto3 clients, pointed there by
  AWS_ENDPOINT_URL): sts GetCallerIdentity and AssumeRole (moto accepts ExternalId and Tags and
  remembers the session, so GetCallerIdentity with its keys answers the assumed-role ARN); redshift
  DescribeClusters (found, ClusterNotFound, the listing named in a fix); iam CreateRole and
  PutRolePolicy (the role with the stack's own trust and permission documents, from
  model.iam_documents); and in the timeout test redshift-data
  ExecuteStatement, DescribeStatement and CancelStatement, because moto's statements stay
  STARTED forever - a statement that never finishes.
- botocore Stubber, on clients built from botocore's real service models (so request parameters
  and responses are validated against the model):
  redshift-data ListDatabases and redshift GetClusterCredentialsWithIAM (moto 5.2.5 lacks both);
  redshift-data ExecuteStatement / DescribeStatement / GetStatementResult on the finishing and
  FAILED paths (moto never finishes a statement and returns canned address rows);
  sts AccessDenied on the re-assume (moto evaluates neither trust nor permission policies, so every
  AssumeRole succeeds there); redshift DescribeClusters for the --network test (moto's endpoint is
  a made-up host name, the test needs 127.0.0.1 and a closed port).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.stub import Stubber

from model import iam_documents
from model.outputs import UI_FIELDS
from model.settings import parse_settings
from tests.moto_server import reset
from tools import verify, verify_aws
from tools.plan import build_plan

pytestmark = [pytest.mark.moto, pytest.mark.timeout(60)]

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ROLE_NAME = "xpander-redshift-access"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
CLUSTER = "xpander-redshift"
DATABASE = "xpander_demo"
CATALOG = "pg_catalog.svv_all_columns"
ORGANIZATION_ID = "org-7f3a9c"
SECURITY_GROUP = "sg-0123456789abcdef0"
DB_PASSWORD = "stub-db-password-must-never-be-printed"
SQL = "SELECT * FROM pg_catalog.svv_all_columns LIMIT 1"
NAMES = [
    "path config",
    "database",
    "target",
    "AWS credentials",
    "Data API client",
    "auth method",
    "query execution",
]


# The role is made of the stack's own documents, so the checks run against what `pulumi up` sends.
ROLE = iam_documents.role_documents(
    parse_settings(
        {
            "organizationId": ORGANIZATION_ID,
            "eksClusterName": "xpander-eks",
            "privateSubnetIds": ["subnet-0123456789abcdef0"],
            "clusterIdentifier": CLUSTER,
            "databaseName": DATABASE,
            "roleName": ROLE_NAME,
        },
        region=REGION,
    ),
    partition="aws",
    account_id=ACCOUNT,
)


# --- fixtures: the session's moto server (tests/conftest.py), reset per test ----------------------


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean moto and an environment that points the tool's boto3 at it with fake keys."""
    reset(moto_url)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return moto_url


# One loader for every session the tests make: botocore caches the JSON it parses (endpoints,
# each service's model) per loader, and each new Session would otherwise parse the same files
# again (most of these tests' CPU time). The tool's own sessions (client_factory=None) keep theirs.
_LOADER = botocore.loaders.create_loader()


def core_session() -> botocore.session.Session:
    """A botocore session as the environment configures it, with the module's shared loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return core


def shared_session(region: str = REGION) -> boto3.session.Session:
    return boto3.session.Session(botocore_session=core_session(), region_name=region)


def moto_client(service: str) -> Any:
    """A setup client (test side) for the moto server the environment points at."""
    return shared_session().client(service)


def create_role() -> None:
    iam = moto_client("iam")
    assert ROLE.role_arn == ROLE_ARN
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(ROLE.trust_policy))
    for name, document in ROLE.policies.items():
        iam.put_role_policy(
            RoleName=ROLE_NAME, PolicyName=name, PolicyDocument=json.dumps(document)
        )


def create_cluster(identifier: str = CLUSTER, database: str = DATABASE) -> dict[str, Any]:
    response = moto_client("redshift").create_cluster(
        ClusterIdentifier=identifier,
        ClusterType="single-node",
        NodeType="ra3.large",
        MasterUsername="xpander_admin",
        MasterUserPassword="Moto-only-1",
        DBName=database,
        PubliclyAccessible=False,
        Encrypted=True,
    )
    cluster: dict[str, Any] = response["Cluster"]
    return cluster


def outputs(**overrides: Any) -> dict[str, Any]:
    """Stack outputs as `pulumi stack output --json --show-secrets` prints them."""
    connector = dict(
        zip(UI_FIELDS, (CLUSTER, DATABASE, CATALOG, ROLE_ARN, REGION, "IAM"), strict=True)
    )
    connector.update(overrides.pop("connector", {}))
    result = {
        "connectorConfig": connector,
        "roleArn": ROLE_ARN,
        "databaseUser": f"IAMR:{ROLE_NAME}",
        "organizationId": ORGANIZATION_ID,
        "masterPasswordSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rs-abc",
        "securityGroupId": SECURITY_GROUP,
        "subnetGroupName": "xpander-redshift",
    }
    result.update(overrides)
    return result


def outputs_file(tmp_path: Path, **overrides: Any) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs(**overrides)), encoding="utf-8")
    return str(path)


# --- the seam: moto-backed clients, some operations answered by Stubbers -------------------------


class Split:
    """A moto-backed client whose named operations are answered by a stubbed client instead; the
    calls that reach moto are recorded (method, parameters, response)."""

    def __init__(
        self, real: Any, stubbed: Any, operations: frozenset[str], calls: list[tuple[str, Any, Any]]
    ) -> None:
        self._real, self._stubbed, self._operations = real, stubbed, operations
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        if name in self._operations:
            return getattr(self._stubbed, name)
        method = getattr(self._real, name)

        def call(**params: Any) -> Any:
            response = method(**params)
            self._calls.append((name, params, response))
            return response

        return call


class Clients:
    """The client factory handed to main(): the tool's own boto3 factory (so moto over HTTP),
    except for (service, session?) pairs given a Stubber on a real-model client."""

    def __init__(self) -> None:
        self.moto = verify_aws.boto3_client_factory(shared_session(), verify_aws.aws_config(5.0))
        self.overrides: dict[tuple[str, bool], tuple[Any, frozenset[str] | None]] = {}
        self.stubbers: list[Stubber] = []
        self.moto_calls: list[tuple[str, Any, Any]] = []  # through a Split only

    def stub(self, service: str, *, session: bool, operations: set[str] | None = None) -> Stubber:
        """Stub `service` for clients with ambient (False) or assumed (True) credentials."""
        client = core_session().create_client(
            service,
            region_name=REGION,
            aws_access_key_id="stub",
            aws_secret_access_key="stub",
        )
        stubber = Stubber(client)
        stubber.activate()
        ops = None if operations is None else frozenset(operations)
        self.overrides[(service, session)] = (client, ops)
        self.stubbers.append(stubber)
        return stubber

    def __call__(self, service: str, credentials: verify_aws.AwsCredentials | None) -> Any:
        real = self.moto(service, credentials)
        override = self.overrides.get((service, credentials is not None))
        if override is None:
            return real
        client, operations = override
        if operations is None:
            return client
        return Split(real, client, operations, self.moto_calls)

    def assert_all_answered(self) -> None:
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


def stub_auth(clients: Clients) -> Stubber:
    stubber = clients.stub(
        "redshift", session=True, operations={"get_cluster_credentials_with_iam"}
    )
    stubber.add_response(
        "get_cluster_credentials_with_iam",
        {
            "DbUser": f"IAMR:{ROLE_NAME}",
            "DbPassword": DB_PASSWORD,
            "Expiration": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        },
        {"ClusterIdentifier": CLUSTER, "DbName": DATABASE, "DurationSeconds": 900},
    )
    return stubber


def stub_cluster(clients: Clients, **fields: Any) -> Stubber:
    """DescribeClusters answers one available cluster, with `fields` besides."""
    stubber = clients.stub("redshift", session=False, operations={"describe_clusters"})
    cluster = {"ClusterIdentifier": CLUSTER, "ClusterStatus": "available", "DBName": DATABASE}
    stubber.add_response(
        "describe_clusters", {"Clusters": [{**cluster, **fields}]}, {"ClusterIdentifier": CLUSTER}
    )
    return stubber


def stub_data_api(clients: Clients, *, final: dict[str, Any] | None = None) -> Stubber:
    """ListDatabases, then a statement that is STARTED once and then `final` (FINISHED)."""
    statement_id = str(uuid.uuid4())
    stubber = clients.stub("redshift-data", session=True)
    stubber.add_response(
        "list_databases",
        {"Databases": ["dev", DATABASE]},
        {"ClusterIdentifier": CLUSTER, "Database": DATABASE},  # no DbUser/SecretArn: IAM auth
    )
    stubber.add_response(
        "execute_statement",
        {"Id": statement_id},
        {
            "ClusterIdentifier": CLUSTER,
            "Database": DATABASE,
            "Sql": SQL,
            "StatementName": "xpander-verify",
        },
    )
    stubber.add_response(
        "describe_statement", {"Id": statement_id, "Status": "STARTED"}, {"Id": statement_id}
    )
    done = final or {"Status": "FINISHED", "HasResultSet": True}
    stubber.add_response("describe_statement", {"Id": statement_id, **done}, {"Id": statement_id})
    if done["Status"] == "FINISHED":
        stubber.add_response(
            "get_statement_result",
            {"Records": [[{"stringValue": DATABASE}]], "TotalNumRows": 1},
            {"Id": statement_id},
        )
    return stubber


def run_json(
    args: list[str], clients: Any, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    code = verify.main([*args, "--json"], client_factory=clients)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.out + captured.err


def assert_failed_at(report: dict[str, Any], name: str, *fix_mentions: str) -> dict[str, Any]:
    """`name` failed, every check before it passed, every check after it was skipped."""
    checks = report["checks"]
    assert [c["name"] for c in checks] == NAMES
    at = NAMES.index(name)
    assert [c["status"] for c in checks] == ["pass"] * at + ["fail"] + ["skip"] * (6 - at), checks
    for later in checks[at + 1 :]:
        assert repr(name) in later["detail"]
    failed: dict[str, Any] = checks[at]
    for mention in fix_mentions:
        assert mention in failed["fix"], failed
    assert report["ok"] is False
    return failed


# --- everything passes ---------------------------------------------------------------------------


def test_every_check_passes_as_the_platform_then_the_ai_gateway(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto: DescribeClusters, GetCallerIdentity x2, AssumeRole with ExternalId, AssumeRole with a
    session tag. Stubber: ListDatabases, GetClusterCredentialsWithIAM, the statement."""
    create_role()
    create_cluster()
    clients = Clients()
    stub_auth(clients)
    stub_data_api(clients)

    code, report, printed = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform"], clients, capsys
    )

    assert code == 0
    assert set(report) == {"ok", "checks"}
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == NAMES
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in report["checks"])
    assert [c["status"] for c in report["checks"]] == ["pass"] * 7
    credentials = report["checks"][3]["detail"]
    assert "CrossAccountWithExternalId" in credentials
    assert "SelfAssume + TagSession" in credentials
    assert f"assumed-role/{ROLE_NAME}/xpander-verify-gateway" in credentials
    assert f"IAMR:{ROLE_NAME}" in report["checks"][5]["detail"]
    assert "1 row" in report["checks"][6]["detail"]
    clients.assert_all_answered()
    assert DB_PASSWORD not in printed
    assert ORGANIZATION_ID not in printed
    assert "[7/7] query execution ... pass" in printed  # the live progress line, on stderr


def test_inside_an_xpander_pod_the_ambient_role_session_does_the_gateway_self_assume(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto: the ambient credentials are a session of the role (as Pod Identity gives a pod), so the
    tool re-assumes with a session tag, as the AI gateway does; Stubber as above. Table output."""
    create_role()
    create_cluster()
    pod = moto_client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="eks-xpander-pod")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", pod["Credentials"]["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", pod["Credentials"]["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", pod["Credentials"]["SessionToken"])
    clients = Clients()
    stub_auth(clients)
    stub_data_api(clients)

    code = verify.main(["--outputs-file", outputs_file(tmp_path)], client_factory=clients)
    out = capsys.readouterr().out

    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["check", "status", "detail", "fix"]
    table = lines[2 : lines.index("")]
    rows = [line for line in table if line[:1].strip()]  # a row's first line names its check
    assert [r[: len(n)] for r, n in zip(rows, NAMES, strict=True)] == NAMES
    assert "assumed-role/xpander-redshift-access/eks-xpander-pod" in out
    assert "SelfAssume + TagSession ok" in out
    assert out.rstrip().endswith(
        "all 7 checks passed: the xpander connector can use this configuration."
    )
    clients.assert_all_answered()


def test_flags_override_the_outputs_file(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto only: the file names a cluster and database that do not exist; the flags fix both."""
    create_cluster("other", "otherdb")
    path = outputs_file(tmp_path)

    code, report, _ = run_json(
        ["--outputs-file", path, "--cluster", "other", "--database", "otherdb", "--region", REGION],
        Clients(),
        capsys,
    )

    assert code == 1  # stops at auth: the ambient identity is moto's user, not the role
    assert [c["status"] for c in report["checks"][:2]] == ["pass", "pass"]
    assert "cluster other available" in report["checks"][1]["detail"]


def test_the_region_comes_from_aws_region_when_the_connector_has_none(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto only. botocore itself reads AWS_DEFAULT_REGION, not AWS_REGION; the tool reads both."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    shared_session("eu-west-1").client("redshift").create_cluster(
        ClusterIdentifier=CLUSTER,
        NodeType="ra3.large",
        ClusterType="single-node",
        MasterUsername="xpander_admin",
        MasterUserPassword="Moto-only-1",
        DBName=DATABASE,
    )
    path = outputs_file(tmp_path, connector={"Region": ""})

    _, report, _ = run_json(["--outputs-file", path], None, capsys)  # the tool's own clients

    assert [c["status"] for c in report["checks"][:2]] == ["pass", "pass"], report


# --- failure injection, one per check -----------------------------------------------------------


def test_path_config_fails_on_missing_and_malformed_paths_before_any_aws_call(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No AWS at all: a factory that fails the test if the tool asks for a client."""

    def no_aws(service: str, credentials: Any) -> Any:
        raise AssertionError(f"path config failed, yet a {service} client was built")

    path = outputs_file(
        tmp_path, connector={"CatalogNamePath": "", "DatabaseNamePath": "demo; DROP TABLE x"}
    )
    code, report, _ = run_json(["--outputs-file", path], no_aws, capsys)

    assert code == 1
    failed = assert_failed_at(
        report, "path config", "CatalogNamePath", "DatabaseNamePath", "xpander UI"
    )
    assert "CatalogNamePath is missing" in failed["detail"]
    assert "--catalog" in failed["fix"]
    assert "ClusterNamePath" not in failed["fix"]


def test_without_the_pulumi_cli_and_without_inputs_it_says_how_to_give_them(
    aws: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No AWS: PATH holds no pulumi, no flags, no file."""
    monkeypatch.setenv("PATH", str(tmp_path))
    code = verify.main(["--json"], client_factory=Clients())
    printed = capsys.readouterr()

    # Exit 2, as `make connector` exits for the same problem: no outputs to read.
    assert (code, printed.out) == (2, "")
    assert "the Pulumi CLI (`pulumi`) is not on PATH" in printed.err
    assert "--outputs-file" in printed.err
    assert "--cluster --database --catalog --role-arn" in printed.err


def test_database_fails_on_a_missing_cluster_and_names_the_clusters_it_sees(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto: DescribeClusters answers ClusterNotFound, then lists the one cluster there is."""
    create_cluster("analytics-cluster")
    code, report, _ = run_json(["--outputs-file", outputs_file(tmp_path)], Clients(), capsys)

    assert code == 1
    failed = assert_failed_at(report, "database", "ClusterNamePath", "analytics-cluster")
    assert f"{CLUSTER!r} not found in {REGION}" in failed["detail"]


def test_database_fails_on_a_wrong_database_and_gives_the_right_name(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto: the cluster's DBName is xpander_demo; the connector says analytics."""
    create_cluster()
    path = outputs_file(tmp_path, connector={"DatabaseNamePath": "analytics"})
    code, report, _ = run_json(["--outputs-file", path], Clients(), capsys)

    assert code == 1
    assert_failed_at(report, "database", "DatabaseNamePath", f"{DATABASE!r}")


@pytest.mark.parametrize("status", ["pending-reboot", "apply-deferred", "apply-error"])
def test_database_fails_while_the_parameter_group_waits_for_a_reboot_and_gives_the_command(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str
) -> None:
    """Stubber: DescribeClusters answers a parameter group whose ParameterApplyStatus is one of
    botocore's not-applied statuses (redshift ClusterParameterStatus): static parameters such as
    require_ssl take effect only at a reboot."""
    clients = Clients()
    group = {"ParameterGroupName": f"{CLUSTER}-params", "ParameterApplyStatus": status}
    stub_cluster(clients, ClusterParameterGroups=[group])

    code, report, _ = run_json(["--outputs-file", outputs_file(tmp_path)], clients, capsys)

    assert code == 1
    failed = assert_failed_at(
        report, "database", f"aws redshift reboot-cluster --cluster-identifier {CLUSTER}"
    )
    assert f"{CLUSTER}-params is {status!r}" in failed["detail"]


def test_target_with_network_fails_on_a_closed_port_and_points_at_the_security_group(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stubber: DescribeClusters answers an endpoint of 127.0.0.1 and a port nothing listens on
    (moto's endpoints are made-up host names); the TCP connect is real."""
    port = closed_port()
    clients = Clients()
    stub_cluster(clients, Endpoint={"Address": "127.0.0.1", "Port": port})
    # clusterEndpoint as host:port (Terraform's `endpoint` shape) is accepted as well as the host.
    path = outputs_file(tmp_path, clusterEndpoint=f"127.0.0.1:{port}", clusterPort=port)

    code, report, _ = run_json(["--outputs-file", path, "--network"], clients, capsys)

    assert code == 1
    failed = assert_failed_at(
        report, "target", SECURITY_GROUP, f"TCP {port} ingress", "EKS cluster security group"
    )
    assert f"127.0.0.1:{port}" in failed["detail"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed once the socket is: connecting is refused


def test_a_connect_timeout_points_at_the_ingress_rule_and_dns_failure_at_the_vpc() -> None:
    timeout = verify_aws.fix_network(TimeoutError(), "rs.example", 5439, SECURITY_GROUP)
    assert f"the Redshift security group {SECURITY_GROUP} must allow TCP 5439 ingress" in timeout
    assert "EKS cluster security group" in timeout
    dns = verify_aws.fix_network(socket.gaierror(), "rs.example", 5439, None)
    assert "inside the VPC" in dns
    assert "ingress" not in dns


REASSUME = {
    "RoleArn": ROLE_ARN,
    "RoleSessionName": "xpander-verify-gateway",
    "DurationSeconds": 900,
    "Tags": [{"Key": "xpander-verify", "Value": "ai-gateway"}],
}  # the AI gateway's self-assume: a session tag and no ExternalId


def denied(action: str) -> str:
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/xpander-verify-platform"
    return f"User: {session} is not authorized to perform: {action} on resource: {ROLE_ARN}"


@pytest.mark.parametrize(
    ("action", "fix"),
    [
        # sts:TagSession refused: the pod identity's session tags, the SelfAssume statement and
        # the permission policy that must allow tagging.
        (
            "sts:TagSession",
            (
                [
                    "sts:TagSession",
                    "PodIdentity",
                    "SelfAssume statement",
                    "permission policy SelfAssumeAndTagSession",
                ],
                "ExternalId",
            ),
        ),
        # sts:AssumeRole refused: the SelfAssume statement is missing or has an ExternalId
        # condition.
        (
            "sts:AssumeRole",
            (
                [
                    "SelfAssume statement",
                    "NO sts:ExternalId condition",
                    f"ArnEquals aws:PrincipalArn = {ROLE_ARN}",
                    f"SelfAssumeAndTagSession must allow sts:AssumeRole on {ROLE_ARN}",
                ],
                "PodIdentity",
            ),
        ),
    ],
)
def test_aws_credentials_fails_on_access_denied_for_the_re_assume(
    aws: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    action: str,
    fix: tuple[list[str], str],
) -> None:
    """moto: the platform's AssumeRole with ExternalId. Stubber: the re-assume from that session
    is refused with IAM's message for `action` (moto evaluates no trust policy). The fix names
    what it must, and not what belongs to the other refusal."""
    fix_mentions, not_in_fix = fix
    create_role()
    create_cluster()
    clients = Clients()
    clients.stub("sts", session=True).add_client_error(
        "assume_role", "AccessDenied", denied(action), 403, expected_params=REASSUME
    )

    code, report, _ = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform"], clients, capsys
    )

    assert code == 1
    failed = assert_failed_at(report, "AWS credentials", *fix_mentions)
    assert not_in_fix not in failed["fix"]
    clients.assert_all_answered()


def test_aws_credentials_fails_when_the_platform_assume_is_refused(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto: GetCallerIdentity. Stubber: the platform's AssumeRole with the ExternalId refused
    (moto would accept any ExternalId)."""
    create_cluster()
    clients = Clients()
    stubber = clients.stub("sts", session=False, operations={"assume_role"})
    stubber.add_client_error(
        "assume_role",
        "AccessDenied",
        f"User: arn:aws:iam::{ACCOUNT}:user/ops is not authorized to perform: sts:AssumeRole on "
        f"resource: {ROLE_ARN}",
        403,
        expected_params={
            "RoleArn": ROLE_ARN,
            "RoleSessionName": "xpander-verify-platform",
            "ExternalId": "org-other",
            "DurationSeconds": 900,
        },
    )

    code, report, printed = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform", "--external-id", "org-other"],
        clients,
        capsys,
    )

    assert code == 1
    failed = assert_failed_at(
        report, "AWS credentials", "CrossAccountWithExternalId", "sts:ExternalId = organizationId"
    )
    assert failed["detail"].startswith("CrossAccountWithExternalId: sts AssumeRole failed")
    assert "org-other" not in printed  # the ExternalId is not echoed
    clients.assert_all_answered()


def test_moto_lacks_list_databases_and_the_data_api_client_says_an_emulator_may(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto only, no Stubber: moto 5.2.5 answers ListDatabases with an HTML 500. This pins why the
    other tests stub it (and fails once moto implements it)."""
    create_role()
    create_cluster()

    code, report, _ = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform"], Clients(), capsys
    )

    assert code == 1
    failed = assert_failed_at(report, "Data API client", "may not implement")
    assert "<" not in failed["detail"]  # the HTML is flattened


def test_data_api_client_fails_on_access_denied_and_names_the_redshift_data_api_policy(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto up to the credentials; Stubber: ListDatabases refused (moto lacks ListDatabases)."""
    create_role()
    create_cluster()
    clients = Clients()
    clients.stub("redshift-data", session=True).add_client_error(
        "list_databases",
        "AccessDeniedException",
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/x is not authorized to perform: "
        "redshift-data:ListDatabases",
        400,
    )

    code, report, _ = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform"], clients, capsys
    )

    assert code == 1
    assert_failed_at(
        report,
        "Data API client",
        "permission policy RedshiftDataAPI",
        "redshift-data:ListDatabases",
    )


def test_auth_method_fails_when_iam_credentials_are_refused_and_names_redshift_credentials(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stubber: GetClusterCredentialsWithIAM refused (moto lacks it); ListDatabases answered."""
    create_role()
    create_cluster()
    clients = Clients()
    clients.stub("redshift-data", session=True).add_response(
        "list_databases", {"Databases": [DATABASE]}
    )
    clients.stub(
        "redshift", session=True, operations={"get_cluster_credentials_with_iam"}
    ).add_client_error(
        "get_cluster_credentials_with_iam",
        "AccessDenied",
        "not authorized to perform: redshift:GetClusterCredentialsWithIAM",
        403,
    )

    code, report, _ = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform"], clients, capsys
    )

    assert code == 1
    assert_failed_at(
        report,
        "auth method",
        "permission policy RedshiftCredentials",
        f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbname:{CLUSTER}/{DATABASE}",
    )


def test_auth_method_fails_when_the_checks_ran_as_someone_other_than_the_role(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto's ambient identity is an IAM user, so IAM auth maps it to IAM:<user> (Stubber)."""
    create_cluster()
    clients = Clients()
    clients.stub("redshift-data", session=False).add_response(
        "list_databases", {"Databases": [DATABASE]}
    )
    stubber = clients.stub(
        "redshift", session=False, operations={"get_cluster_credentials_with_iam"}
    )
    stubber.add_response(
        "get_cluster_credentials_with_iam", {"DbUser": "IAM:moto", "DbPassword": DB_PASSWORD}
    )

    code, report, printed = run_json(["--outputs-file", outputs_file(tmp_path)], clients, capsys)

    assert code == 1
    failed = assert_failed_at(report, "auth method", "--as-platform")
    assert f"not 'IAMR:{ROLE_NAME}'" in failed["detail"]
    assert DB_PASSWORD not in printed


@pytest.mark.parametrize(
    ("error", "fix_mentions"),
    [
        (
            "ERROR: permission denied for schema pg_catalog",
            ['"IAMR:xpander-redshift-access"', "GRANT USAGE ON SCHEMA"],
        ),
        (
            'ERROR: relation "pg_catalog.svv_all_columns" does not exist',
            ["CatalogNamePath", "pg_catalog.svv_all_columns (recommended)"],
        ),
    ],
)
def test_query_execution_fails_on_a_failed_statement_and_quotes_redshift(
    aws: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    error: str,
    fix_mentions: list[str],
) -> None:
    """Stubber: the statement goes STARTED -> FAILED with Redshift's error (moto fails none)."""
    create_role()
    create_cluster()
    clients = Clients()
    stub_auth(clients)
    stub_data_api(clients, final={"Status": "FAILED", "Error": error})

    code, report, _ = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform"], clients, capsys
    )

    assert code == 1
    failed = assert_failed_at(report, "query execution", *fix_mentions)
    assert error in failed["detail"]
    clients.assert_all_answered()


def test_query_execution_fails_when_the_statement_outlives_its_bound_and_cancels_it(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto: ExecuteStatement, DescribeStatement (moto's statements stay STARTED forever) and
    CancelStatement; Stubber: ListDatabases and GetClusterCredentialsWithIAM (moto lacks them)."""
    create_role()
    create_cluster()
    clients = Clients()
    stub_auth(clients)
    clients.stub("redshift-data", session=True, operations={"list_databases"}).add_response(
        "list_databases", {"Databases": [DATABASE]}
    )

    # moto's statement never finishes: without the bound this would poll until the test's own
    # timeout (the module's pytest timeout), so returning at all is the bound working.
    code, report, _ = run_json(
        ["--outputs-file", outputs_file(tmp_path), "--as-platform", "--query-timeout", "0.4"],
        clients,
        capsys,
    )

    assert code == 1
    failed = assert_failed_at(report, "query execution", "--query-timeout")
    assert "not finished after 0.4 s (cancelled)" in failed["detail"]
    (statement_id,) = [r["Id"] for m, _, r in clients.moto_calls if m == "execute_statement"]
    after = moto_client("redshift-data").describe_statement(Id=statement_id)
    assert after["QueryString"] == SQL
    assert after["Status"] == "ABORTED"  # moto's answer to the tool's CancelStatement


# --- the run's bound, inputs, output shape, exit codes -------------------------------------------


def test_the_total_time_bound_cuts_off_a_hanging_call(
    aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No AWS: DescribeClusters hangs (a client that blocks until the test ends)."""
    release, returned = threading.Event(), threading.Event()

    class Hanging:
        def describe_clusters(self, **params: Any) -> Any:
            release.wait(30)
            returned.set()
            raise AssertionError("released")

    try:
        code, report, _ = run_json(
            ["--outputs-file", outputs_file(tmp_path), "--timeout", "0.3"],
            lambda service, credentials: Hanging(),
            capsys,
        )
        # The tool answered while the call still hung: the bound cut it off (no clock needed).
        assert not returned.is_set()
    finally:
        release.set()

    assert code == 1
    failed = assert_failed_at(report, "database", "--timeout")
    assert "total time bound (0.3 s)" in failed["detail"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_unusable_outputs_file_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    code = verify.main(["--outputs-file", str(path)], client_factory=Clients())
    captured = capsys.readouterr()

    assert code == 2
    assert message in captured.err
    assert captured.out == ""


def test_bad_flags_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        verify.main(["--timeout", "0"])
    assert exited.value.code == 2
    assert "must be a number of seconds above 0" in capsys.readouterr().err


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    parser = verify.build_parser()
    flags = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    with pytest.raises(SystemExit) as exited:
        verify.main(["--help"])
    text = capsys.readouterr().out
    assert exited.value.code == 0
    assert all(a.help for a in parser._actions), "a flag without help"
    expected = {"--outputs-file", "--stack", "--cluster", "--database", "--catalog", "--role-arn"}
    expected |= {"--region", "--profile", "--as-platform", "--external-id", "--network", "--json"}
    expected |= {"--timeout", "--query-timeout", "--call-timeout", "--connector", "--help"}
    assert set(flags) == expected
    for flag in flags:
        assert flag in text


def test_check_names_are_the_guides_in_its_order() -> None:
    assert list(verify.CHECK_NAMES) == NAMES
    assert [name for name, _ in verify.CHECKS] == NAMES


def test_with_several_connectors_the_named_one_is_checked(tmp_path: Path) -> None:
    """A stack with `connectors` nests each connector's outputs; --connector picks one."""
    outputs = {
        "clusterEndpoint": "xpander-redshift.example",
        "clusterPort": 5439,
        "connectors": {
            "sales": {"connectorConfig": {"ClusterNamePath": "xpander-redshift"}},
            "ops": {"connectorConfig": {}},
        },
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    err = io.StringIO()
    assert verify.main(["--outputs-file", str(path)], stdout=io.StringIO(), stderr=err) == 2
    assert "several connectors (ops, sales): choose one with --connector NAME" in err.getvalue()
    err = io.StringIO()
    code = verify.main(
        ["--outputs-file", str(path), "--connector", "sales", "--json"],
        stdout=(out := io.StringIO()),
        stderr=err,
    )
    assert code == 1  # the sales connector's paths are incomplete: path config fails first
    checks = json.loads(out.getvalue())["checks"]
    assert checks[0]["name"] == "path config" and checks[0]["status"] == "fail"
    assert "DatabaseNamePath" in checks[0]["detail"]


def test_an_offline_plan_file_gives_the_connector_fields(tmp_path: Path) -> None:
    """`--outputs-file` takes `python -m tools.plan --json` too, like `make connector`."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(build_plan()))
    args = verify.build_parser().parse_args(["--outputs-file", str(path)])
    outputs, notes = verify.load_outputs(args)
    assert any("its account 111122223333 is a placeholder" in note for note in notes)
    inputs = verify.inputs_from_outputs(outputs)
    assert (inputs.cluster, inputs.database) == ("xpander-redshift", "xpander_demo")
    assert inputs.role_arn == "arn:aws:iam::111122223333:role/xpander-redshift-access"


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("{not json", "not JSON (Expecting property name")],
)
def test_verify_and_connector_read_outputs_with_the_same_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    """One loader (tools/outputs.py): the same message from both tools, after their prefix."""
    from tools import connector  # noqa: PLC0415 - the other tool, only here

    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert verify.main(["--outputs-file", str(path)], client_factory=Clients()) == 2
    from_verify = capsys.readouterr().err.strip().removeprefix("verify: ")
    assert connector.main(["--outputs-file", str(path)]) == 2
    from_connector = capsys.readouterr().err.strip().removeprefix("connector: ")
    assert from_verify == from_connector
    assert from_verify.startswith(f"--outputs-file {path}: {message}")
