"""The data-api provisioner as `pulumi up` runs it, against a Data API that runs real SQL.

- The provider runs in Pulumi's own dynamic-provider host (`python -m pulumi.dynamic`, a
  subprocess started in an empty directory) and is driven over gRPC with the requests the engine
  sends: Check, Diff, Create, Read, Update, Delete. Their inputs are the program's own registered
  inputs (recorded by `tools.engine`, the real serialized `__provider` included), with only the
  cluster facts that a preview cannot know and the per-test names filled in.
- Its botocore client talks HTTP to `tests.data_api_emulator` (AWS_ENDPOINT_URL_REDSHIFT_DATA,
  which botocore reads for the service id "Redshift Data"), which runs the SQL on PostgreSQL 15.
- Every scenario checks the database's own catalog afterwards (pg_roles, has_*_privilege,
  pg_default_acl), not only what the provider returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from psycopg import sql
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from model.resource_types import IAMR_USER_MODULE, IAMR_USER_NAME
from providers.iamr_user.catalog import SchemaFacts
from providers.iamr_user.grants import parse_record, record_state, revocation
from tests.data_api_emulator import DataApiEmulator, Fault, running_emulator
from tests.moto_server import TEST_ACCOUNT
from tests.pg_server import PostgresServer
from tools import engine

ROOT = Path(__file__).resolve().parent.parent
IAMR_USER_TYPE = f"pulumi-python:dynamic/{IAMR_USER_MODULE}:{IAMR_USER_NAME}"
URN = f"urn:pulumi:test::xpander-redshift::{IAMR_USER_TYPE}::xpander-user-iamr-user"
PROVIDER_KEY = "__provider"
CALL_TIMEOUT = 60  # seconds for one gRPC call: the provider's own waits are shorter


# --- the program's own inputs ---------------------------------------------------------------------


def program_inputs(type_token: str = IAMR_USER_TYPE, **settings: str) -> dict[str, Any]:
    """The inputs the dev stack (with `settings` of its own) registers for the dynamic resource
    of `type_token` (the IamrUser by default), with the serialized provider unmasked."""
    raw: dict[str, Any] = {}

    class KeepingMonitor(engine.RecordingMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
            if request.type == type_token:
                raw.update(rpc.deserialize_properties(request.object, keep_unknowns=True))
            return super().RegisterResource(request)

    config = engine.stack_config_strings(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text()))
    config.update({f"xpander-redshift:{key}": value for key, value in settings.items()})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "RecordingMonitor", KeepingMonitor)
        engine.run_program(config)
    raw[PROVIDER_KEY] = provider = rpc.unwrap_rpc_secret(raw[PROVIDER_KEY])  # the engine sends
    assert isinstance(provider, str) and len(provider) > 100, "the serialized provider"  # it plain
    return raw


# --- the provider host, over gRPC -----------------------------------------------------------------


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        result: struct_pb2.Struct = loop.run_until_complete(rpc.serialize_properties(props, {}))
        return result
    finally:
        loop.close()


def _props(value: struct_pb2.Struct) -> dict[str, Any]:
    result: dict[str, Any] = rpc.deserialize_properties(value)
    return result


@dataclass
class Host:
    """`python -m pulumi.dynamic` and a gRPC stub to it; its stderr is where warnings go."""

    stub: provider_pb2_grpc.ResourceProviderStub
    stderr: Path

    def warnings(self) -> str:
        return self.stderr.read_text()


@contextlib.contextmanager
def provider_host(
    emulator: DataApiEmulator, sts_url: str, workdir: Path, *, cwd: Path | None = None
) -> Iterator[Host]:
    """The host with the Data API at the emulator, and STS (whose caller is of TEST_ACCOUNT)."""
    endpoints = {"AWS_ENDPOINT_URL_REDSHIFT_DATA": emulator.url, "AWS_ENDPOINT_URL_STS": sts_url}
    with dynamic_provider_host(endpoints, workdir, cwd=cwd) as host:
        yield host


@contextlib.contextmanager
def dynamic_provider_host(
    endpoints: dict[str, str], workdir: Path, *, cwd: Path | None = None
) -> Iterator[Host]:
    """`python -m pulumi.dynamic` with test credentials and the AWS endpoints given
    (AWS_ENDPOINT_URL_<SERVICE>, which botocore reads), configured, over gRPC."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        **endpoints,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    stderr = workdir / "host.stderr"
    with stderr.open("wb") as errors:
        host = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],  # as pulumi-resource-pulumi-python
            cwd=cwd or workdir,  # not the project: the pickled loader must find it by itself
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    try:
        assert host.stdout is not None
        port = int(host.stdout.readline().decode().strip() or 0)  # the host prints its port
        assert port, f"the provider host did not start: {stderr.read_text()}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            stub.Configure(provider_pb2.ConfigureRequest(args=_struct({})), timeout=CALL_TIMEOUT)
            yield Host(stub, stderr)
    finally:
        host.terminate()
        try:
            host.wait(timeout=10)
        except subprocess.TimeoutExpired:
            host.kill()
            host.wait(timeout=10)


@dataclass
class Resource:
    """One IamrUser as the engine tracks it: inputs, and the id and outputs in state."""

    host: Host
    inputs: dict[str, Any]
    id: str = ""
    outs: dict[str, Any] = field(default_factory=dict)

    def check(self, news: dict[str, Any]) -> dict[str, Any]:
        answer = self.host.stub.Check(
            provider_pb2.CheckRequest(urn=URN, olds=_struct(self.inputs), news=_struct(news)),
            timeout=CALL_TIMEOUT,
        )
        assert not answer.failures, [f.reason for f in answer.failures]
        return _props(answer.inputs)

    def diff(self, news: dict[str, Any]) -> provider_pb2.DiffResponse:
        request = provider_pb2.DiffRequest(
            id=self.id, urn=URN, olds=_struct(self.outs), news=_struct(news)
        )
        answer: provider_pb2.DiffResponse = self.host.stub.Diff(request, timeout=CALL_TIMEOUT)
        return answer

    def up(self, news: dict[str, Any] | None = None) -> None:
        """`pulumi up`: Check, then Create, or Diff and (only if it changed) Update."""
        news = self.check(news or self.inputs)
        if not self.id:
            answer = self.host.stub.Create(
                provider_pb2.CreateRequest(urn=URN, properties=_struct(news)), timeout=CALL_TIMEOUT
            )
            self.id, self.outs = answer.id, _props(answer.properties)
        elif self.diff(news).changes == provider_pb2.DiffResponse.DIFF_SOME:
            answer = self.host.stub.Update(
                provider_pb2.UpdateRequest(
                    id=self.id, urn=URN, olds=_struct(self.outs), news=_struct(news)
                ),
                timeout=CALL_TIMEOUT,
            )
            self.outs = _props(answer.properties)
        self.inputs = news

    def refresh(self) -> None:
        """`pulumi refresh`: Read; an empty id removes the resource from state."""
        answer = self.host.stub.Read(
            provider_pb2.ReadRequest(
                id=self.id, urn=URN, properties=_struct(self.outs), inputs=_struct(self.inputs)
            ),
            timeout=CALL_TIMEOUT,
        )
        self.id, self.outs = answer.id, _props(answer.properties) if answer.id else {}

    def destroy(self) -> None:
        answer = self.host.stub.Delete(
            provider_pb2.DeleteRequest(id=self.id, urn=URN, properties=_struct(self.outs)),
            timeout=CALL_TIMEOUT,
        )
        assert isinstance(answer, empty_pb2.Empty)
        self.id, self.outs = "", {}


# --- the database ---------------------------------------------------------------------------------


@dataclass
class Database:
    """A fresh database on the session's server, with an owner role and a user name of its own."""

    server: PostgresServer
    name: str
    user: str
    owner: str

    def connect(self, *, user: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
        return self.server.connect(dbname=self.name, user=user)

    def run(self, *statements: sql.Composable | str) -> None:
        with self.connect() as conn:
            for statement in statements:
                conn.execute(statement)

    def schemas(self, *names: str) -> None:
        """Schemas the owner creates tables in, each with one table already."""
        for name in names:
            schema, owner = sql.Identifier(name), sql.Identifier(self.owner)
            self.run(
                sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(schema, owner),
                sql.SQL("CREATE TABLE {}.t (id int)").format(schema),
                sql.SQL("ALTER TABLE {}.t OWNER TO {}").format(schema, owner),
            )

    def user_row(self) -> tuple[Any, ...] | None:
        """(superuser, createdb, has a password) of the user, None if it does not exist."""
        with self.connect() as conn:
            return conn.execute(
                "SELECT rolsuper, rolcreatedb, rolpassword IS NOT NULL FROM pg_authid"
                " WHERE rolname = %s",
                [self.user],
            ).fetchone()

    def grants(self, *schemas: str) -> dict[str, set[str]]:
        """What the user really holds in each schema, read from the catalog independently."""
        found: dict[str, set[str]] = {}
        with self.connect() as conn:
            for schema in schemas:
                kinds: set[str] = set()
                row = conn.execute(
                    "SELECT has_schema_privilege(%(u)s, %(s)s, 'USAGE'),"
                    " bool_and(has_table_privilege(%(u)s, c.oid, 'SELECT')),"
                    " (SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a"
                    "   WHERE d.defaclnamespace = quote_ident(%(s)s)::regnamespace"
                    "   AND d.defaclrole = to_regrole(quote_ident(%(o)s))"
                    "   AND a.grantee = quote_ident(%(u)s)::regrole"
                    "   AND a.privilege_type = 'SELECT')"
                    " FROM pg_class c WHERE c.relnamespace = quote_ident(%(s)s)::regnamespace"
                    " AND c.relkind = 'r'",
                    {"u": self.user, "s": schema, "o": self.owner},
                ).fetchone()
                assert row is not None
                usage, select, default = row
                for kind, held in (("usage", usage), ("select", select), ("default", default)):
                    if held:
                        kinds.add(kind)
                found[schema] = kinds
        return found

    def snapshot(self) -> list[Any]:
        """Roles, schema, table and default ACLs: what "nothing changed" compares."""
        with self.connect() as conn:
            return [
                conn.execute(query).fetchall()
                for query in (
                    "SELECT rolname, rolsuper, rolcreatedb, rolpassword FROM pg_authid ORDER BY 1",
                    "SELECT nspname, nspacl::text FROM pg_namespace ORDER BY 1",
                    "SELECT relname, relacl::text FROM pg_class WHERE relkind = 'r' ORDER BY 1",
                    "SELECT defaclacl::text FROM pg_default_acl ORDER BY 1",
                )
            ]


@pytest.fixture(scope="module")
def inputs() -> dict[str, Any]:
    return program_inputs()


@pytest.fixture(scope="module")
def emulator(postgres: PostgresServer, inputs: dict[str, Any]) -> Iterator[DataApiEmulator]:
    with running_emulator(postgres, [inputs["clusterIdentifier"]]) as running:
        yield running


@pytest.fixture(scope="module")
def host(
    emulator: DataApiEmulator, sts_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Host]:
    with provider_host(emulator, sts_url, tmp_path_factory.mktemp("provider-host")) as running:
        yield running


@pytest.fixture
def db(
    postgres: PostgresServer, emulator: DataApiEmulator, inputs: dict[str, Any]
) -> Iterator[Database]:
    """A fresh database; afterwards it and the test's roles (roles are cluster-wide) are gone."""
    suffix = uuid.uuid4().hex[:8]
    database = Database(postgres, f"iamr_{suffix}", f"IAMR:agents-{suffix}", f"owner_{suffix}")
    with postgres.connect() as admin:
        admin.execute(sql.SQL("CREATE USER {}").format(sql.Identifier(database.owner)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.name)))
    emulator.reset()
    try:
        yield database
    finally:
        emulator.reset()
        emulator.clusters.add(inputs["clusterIdentifier"])
        with postgres.connect() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database.name))
            )
            roles = admin.execute(
                "SELECT rolname FROM pg_roles WHERE strpos(rolname, %s) > 0", [suffix]
            ).fetchall()
            for (role,) in roles:  # every role of the test carries its suffix
                admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


# For a test whose faults the provider's re-sends must outlast: their backoff (seconds, with
# jitter) is not what such a test is about, so a loaded machine must not turn it into a time-out.
SUCCESS_LIMIT_S = 60


def resource(
    host: Host, inputs: dict[str, Any], db: Database, *schemas: str, **extra: Any
) -> Resource:
    """The program's inputs for this test's database, user, owner and schemas."""
    return Resource(
        host,
        {
            **inputs,
            "database": db.name,
            "user": db.user,
            "owner": db.owner,
            "schemas": list(schemas),
            "secretArn": f"arn:aws:secretsmanager:us-west-2:{TEST_ACCOUNT}:secret:redshift!admin",
            "clusterArn": cluster_arn(inputs["clusterIdentifier"]),
            "timeoutSeconds": 5,
            **extra,
        },
    )


def created(host: Host, inputs: dict[str, Any], db: Database, *schemas: str) -> Resource:
    """A user this stack made: `schemas` exist, then `pulumi up` creates it with them."""
    db.schemas(*schemas)
    user = resource(host, inputs, db, *schemas)
    user.up()
    return user


def cluster_arn(cluster: str, account: str = TEST_ACCOUNT) -> str:
    """The cluster's ARN as `pulumi up` knows it (the offline program leaves it unknown)."""
    return f"arn:aws:redshift:us-west-2:{account}:cluster:{cluster}"


def as_role(db: Database, role: str, *statements: str) -> None:
    """Run `statements` as `role` (e.g. an owner creating its tables)."""
    with db.connect() as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        for statement in statements:
            conn.execute(statement)


def grpc_error(call: Any) -> str:
    """Run `call`, which must fail; return the provider's error text."""
    with pytest.raises(grpc.RpcError) as failure:
        call()
    details: str = failure.value.details()  # type: ignore[attr-defined]
    return details


ALL = {"usage", "select", "default"}


# --- ownership --------------------------------------------------------------------------------


def test_a_new_user_is_created_with_its_grants_and_an_unchanged_database_diffs_empty(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales", "raw")
    user = resource(host, inputs, db, "sales", "raw")

    user.up()

    assert db.user_row() == (False, False, False)  # plain: PASSWORD DISABLE, nothing else
    assert db.grants("sales", "raw") == {"sales": ALL, "raw": ALL}
    assert user.outs["ownership"] == "created"
    assert len(emulator.batches()) == 1  # one transaction
    user.refresh()
    assert user.diff(user.inputs).changes == provider_pb2.DiffResponse.DIFF_NONE
    user.up()
    assert len(emulator.batches()) == 1  # no second write


def test_an_existing_plain_user_is_adopted_and_destroy_keeps_it_and_what_it_had(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales", "raw")
    name = sql.Identifier(db.user)
    db.run(
        sql.SQL("CREATE ROLE {} LOGIN").format(name),  # as Redshift's first IAM login makes it
        sql.SQL("GRANT USAGE ON SCHEMA raw TO {}").format(name),
    )
    user = resource(host, inputs, db, "sales", "raw")

    user.up()
    assert user.outs["ownership"] == "adopted"
    assert db.grants("sales", "raw") == {"sales": ALL, "raw": ALL}
    user.destroy()

    assert db.user_row() == (False, False, False)  # still there
    assert db.grants("sales", "raw") == {"sales": set(), "raw": {"usage"}}  # its own grant stays


@pytest.mark.parametrize(
    ("attributes", "named"),
    [
        ("SUPERUSER PASSWORD 'Secret-1'", ["superuser", "a password"]),
        ("CREATEDB", ["CREATEDB"]),
        ("PASSWORD 'Secret-1'", ["a password"]),
        ("IN ROLE {group}", ['is a member of a group ("{group}")', 'ALTER GROUP "{group}" DROP']),
    ],
)
def test_an_existing_user_that_is_not_plain_is_refused_and_nothing_changes(
    host: Host, inputs: dict[str, Any], db: Database, attributes: str, named: list[str]
) -> None:
    db.schemas("sales")
    group = f"{db.owner}_readers"
    db.run(
        sql.SQL("CREATE ROLE {}").format(sql.Identifier(group)),
        sql.SQL("CREATE ROLE {} LOGIN " + attributes.replace("{group}", "{g}")).format(
            sql.Identifier(db.user), g=sql.Identifier(group)
        ),
    )
    before = db.snapshot()
    user = resource(host, inputs, db, "sales")

    error = grpc_error(user.up)

    assert f"Database user {db.user!r} already exists and is not plain" in error
    for risk in named:
        assert risk.replace("{group}", group) in error
    assert "Nothing was changed" in error and "ALTER USER" in error and "roleName" in error
    assert db.snapshot() == before


def test_a_user_that_owns_objects_is_never_dropped_and_the_error_says_how_to_hand_over(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales")
    db.run(
        sql.SQL("GRANT CREATE ON SCHEMA sales TO {}").format(sql.Identifier(db.user)),
        sql.SQL("SET ROLE {}").format(sql.Identifier(db.user)),
    )
    as_role(db, db.user, "CREATE TABLE sales.mine (id int)")
    before = db.snapshot()

    error = grpc_error(user.destroy)

    assert "is not dropped" in error and "table sales.mine" in error
    assert "ALTER TABLE" in error and "OWNER TO" in error and "REASSIGN OWNED" in error
    assert "schema sales: C (held)" in error  # the CREATE it was given by hand
    assert db.snapshot() == before  # nothing revoked either: one transaction or nothing
    db.run("DROP TABLE sales.mine", sql.SQL("DROP OWNED BY {}").format(sql.Identifier(db.user)))


def test_state_from_an_older_version_keeps_the_user_on_destroy(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales")
    user.outs = {k: v for k, v in user.outs.items() if k not in ("ownership", "grants")}

    user.destroy()

    assert db.user_row() is not None
    assert db.grants("sales") == {"sales": set()}
    assert "does not say whether this stack made it" in host.warnings()


def updates_in_place_without_sql(
    user: Resource, news: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    """`news` is an in-place update of `user` (no replacement, which would make the user again)
    whose `up` sends the Data API no batch and leaves the database as it was."""
    before = db.snapshot()
    emulator.reset()
    diff = user.diff(news)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []
    user.up(news)
    assert emulator.batches() == []
    assert db.snapshot() == before


def test_state_written_before_the_stack_input_updates_in_place_with_no_sql_and_still_drops(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    # State from before `stack` joined the inputs (and the ClientTokens): the new input is an
    # in-place change (stack is not in REPLACE_KEYS: a replace would make the user again), its
    # update writes nothing when the grants are unchanged, and the user it created is still its.
    assert "/" in inputs["stack"]  # "<project>/<stack>" from the program
    db.schemas("sales")
    user = resource(host, inputs, db, "sales")
    user.inputs.pop("stack")
    user.up()
    assert "stack" not in user.outs and user.outs["ownership"] == "created"
    updates_in_place_without_sql(user, {**user.inputs, "stack": inputs["stack"]}, db, emulator)
    assert user.outs["stack"] == inputs["stack"]
    assert user.outs["ownership"] == "created"
    user.destroy()
    assert db.user_row() is None


# --- drift ------------------------------------------------------------------------------------


def test_a_hand_revoke_shows_on_refresh_and_up_restores_exactly_what_is_missing(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    user = created(host, inputs, db, "sales", "raw")
    db.run(sql.SQL("REVOKE USAGE ON SCHEMA raw FROM {}").format(sql.Identifier(db.user)))
    assert user.diff(user.inputs).changes == provider_pb2.DiffResponse.DIFF_NONE  # not read yet

    user.refresh()
    assert user.outs["grants"]["raw"] == ["select", "default"]
    assert user.diff(user.inputs).changes == provider_pb2.DiffResponse.DIFF_SOME
    emulator.reset()
    user.up()

    assert emulator.batches() == [[f'GRANT USAGE ON SCHEMA "raw" TO "{db.user}"']]
    assert db.grants("sales", "raw") == {"sales": ALL, "raw": ALL}


def test_an_update_moves_grants_between_schemas_in_one_batch(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales", "raw", "marts")
    user = resource(host, inputs, db, "sales", "raw")
    user.up()
    emulator.reset()

    user.up({**user.inputs, "schemas": ["sales", "marts"]})

    assert len(emulator.batches()) == 1
    assert db.grants("sales", "raw", "marts") == {"sales": ALL, "raw": set(), "marts": ALL}


def test_a_new_owner_takes_over_the_default_privileges_in_one_batch(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    user = created(host, inputs, db, "sales")
    old_owner, db.owner = db.owner, f"{db.owner}_etl"
    db.run(sql.SQL("CREATE USER {}").format(sql.Identifier(db.owner)))
    emulator.reset()

    user.up({**user.inputs, "owner": db.owner})

    revoke, grant = (  # the expected text, not queries
        f'ALTER DEFAULT PRIVILEGES FOR USER "{old_owner}" IN SCHEMA "sales" '  # noqa: S608
        f'REVOKE SELECT ON TABLES FROM "{db.user}"',
        f'ALTER DEFAULT PRIVILEGES FOR USER "{db.owner}" IN SCHEMA "sales" '
        f'GRANT SELECT ON TABLES TO "{db.user}"',
    )
    assert emulator.batches() == [[revoke, grant]]
    with db.connect() as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_default_acl WHERE defaclrole = quote_ident(%s)::regrole",
            [old_owner],
        ).fetchone()
    assert left == (0,)  # nothing left for the old owner
    assert db.grants("sales") == {"sales": ALL}  # default: now the new owner's


# --- atomic and convergent --------------------------------------------------------------------


def test_fifteen_schemas_are_one_transaction_and_a_failure_leaves_nothing(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    schemas = [f"s{i:02d}" for i in range(15)]
    db.schemas(*schemas)
    before = db.snapshot()
    user = resource(host, inputs, db, *schemas)
    emulator.inject(Fault("BatchExecuteStatement", "fail", at=3, error="disk full"))

    error = grpc_error(user.up)

    assert "disk full" in error and "none of it took effect" in error
    (batch,) = emulator.batches()
    assert len(batch) == 4  # CREATE USER and three grants, whatever the number of schemas
    assert db.snapshot() == before  # the user and the first grants were rolled back
    user.up()  # the same `pulumi up` again converges
    assert db.grants(*schemas) == dict.fromkeys(schemas, ALL)


def test_a_lost_answer_and_throttling_are_retried_and_the_batch_runs_once(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales", timeoutSeconds=SUCCESS_LIMIT_S)
    emulator.inject(Fault("ExecuteStatement", "throttle"))
    emulator.inject(Fault("BatchExecuteStatement", "lose"))

    user.up()

    # The provider sent it again (botocore's retries are off), with the same ClientToken.
    assert len(emulator.batches()) == 2
    tokens = {p["ClientToken"] for op, p in emulator.calls if op == "BatchExecuteStatement"}
    assert len(tokens) == 1
    assert len([e for e in emulator.executions if e[0].startswith("CREATE USER")]) == 1
    assert db.grants("sales") == {"sales": ALL}


def test_lost_answers_are_sent_again_with_the_same_token_and_the_batch_runs_once(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales", timeoutSeconds=SUCCESS_LIMIT_S)
    emulator.inject(Fault("BatchExecuteStatement", "lose", times=6))  # past one call's 4 sends

    user.up()

    assert user.outs["ownership"] == "created"
    assert db.grants("sales") == {"sales": ALL}
    assert len({tuple(b) for b in emulator.batches()}) == 1
    assert len({p["ClientToken"] for o, p in emulator.calls if o == "BatchExecuteStatement"}) == 1
    assert len([e for e in emulator.executions if e[0].startswith("CREATE USER")]) == 1


def test_every_answer_lost_converges_when_the_database_shows_the_batch_ran(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    user = resource(host, inputs, db, "sales", timeoutSeconds=1)
    emulator.inject(Fault("BatchExecuteStatement", "lose", times=1000))

    user.up()

    assert user.outs["ownership"] == "created"
    assert db.grants("sales") == {"sales": ALL}
    assert "the database shows all of it, so it took effect" in host.warnings()


def test_a_batch_lost_before_it_ran_fails_saying_what_is_known(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    before = db.snapshot()
    user = resource(host, inputs, db, "sales", timeoutSeconds=1)
    emulator.inject(Fault("BatchExecuteStatement", "drop", times=1000))

    error = grpc_error(user.up)

    assert "no final answer for the batch that creates the user" in error
    assert "ran at most once" in error and "all of it or none took effect" in error
    assert "The database does not show all of it" in error and "pulumi up` again" in error
    assert "botocore.exceptions" not in error  # no raw botocore traceback
    assert db.snapshot() == before
    emulator.reset()  # the network is back
    user.up()
    assert db.grants("sales") == {"sales": ALL}


def test_a_lost_answer_to_a_read_says_nothing_changed(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    user = created(host, inputs, db, "sales")
    # Limits(lost_retries=3): the provider sends it four times (botocore's retries are off).
    emulator.inject(Fault("ExecuteStatement", "drop", times=4))

    error = grpc_error(user.refresh)

    assert "no answer after retries" in error and "nothing changed" in error
    assert "botocore.exceptions" not in error


def test_a_statement_that_never_finishes_is_cancelled_within_the_limit(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    db.schemas("sales")
    before = db.snapshot()
    user = resource(host, inputs, db, "sales", timeoutSeconds=2)
    emulator.inject(Fault("BatchExecuteStatement", "hang"))

    error = grpc_error(user.up)

    assert "still STARTED after" in error and "a cancel was requested" in error
    assert "CancelStatement" in [operation for operation, _ in emulator.calls]
    assert db.snapshot() == before


def test_a_cluster_not_found_at_refresh_keeps_the_user_and_delete_succeeds(
    host: Host, inputs: dict[str, Any], db: Database, emulator: DataApiEmulator
) -> None:
    """A transient "cluster not found" must not make the stack forget the user it created
    (issue 19): refresh keeps it, with its grants unknown, and the next up converges."""
    user = created(host, inputs, db, "sales")
    emulator.clusters.clear()

    user.refresh()
    assert user.id and user.outs["ownership"] == "created" and user.outs["grants"] == {}
    emulator.clusters.add(inputs["clusterIdentifier"])  # it was transient
    user.up()
    assert user.outs["ownership"] == "created" and db.grants("sales") == {"sales": ALL}
    emulator.clusters.clear()
    user.destroy()  # `pulumi destroy` with the cluster gone finishes too
    emulator.clusters.add(inputs["clusterIdentifier"])
    assert db.user_row() is not None  # (the database here outlived its "cluster")


def test_a_schema_dropped_by_hand_is_skipped_by_update_and_delete(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales", "raw")
    db.run("DROP SCHEMA raw CASCADE")

    user.up({**user.inputs, "schemas": ["sales"]})
    assert "'raw' no longer exist" in host.warnings()
    user.destroy()

    assert db.user_row() is None


def test_an_owner_dropped_by_hand_is_skipped_by_update_and_delete(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    user = created(host, inputs, db, "sales")
    owner = sql.Identifier(db.owner)
    db.run(
        sql.SQL("DROP OWNED BY {}").format(owner),
        sql.SQL("DROP ROLE {}").format(owner),
        "CREATE SCHEMA raw",
        "CREATE TABLE raw.t (id int)",
    )

    user.up({**user.inputs, "schemas": ["sales", "raw"]})
    assert f"The owner {db.owner!r} no longer exists" in host.warnings()
    assert db.grants("raw") == {"raw": {"usage", "select"}}
    user.destroy()

    assert db.user_row() is None


# --- Redshift's own catalog views, stood in for on PostgreSQL ---------------------------------

# Redshift's VERSION() (https://docs.aws.amazon.com/redshift/latest/dg/r_VERSION.html).
REDSHIFT_VERSION = (
    "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 "
    "(Red Hat 3.4.2-6.fc3), Redshift 1.0.12103"
)


def redshift_catalog(db: Database) -> None:
    """Stand-ins, with the documented columns, for the Redshift-only views the provider reads.

    They live in a schema searched before pg_catalog (a database setting, so no statement is
    rewritten): version() says Redshift; pg_user_info (passwd) and svl_user_info (syslogaccess,
    RESTRICTED unless listed in syslog_access); svv_user_grants (user_name, role_name);
    svv_external_schemas (schemaname). Sources: the PG_USER_INFO, SVL_USER_INFO,
    SVV_USER_GRANTS and SVV_EXTERNAL_SCHEMAS pages of the Redshift Database Developer Guide.
    """
    db.run(
        "CREATE SCHEMA redshift_catalog",
        "CREATE FUNCTION redshift_catalog.version() RETURNS text LANGUAGE sql"
        f" AS $$ SELECT '{REDSHIFT_VERSION}'::text $$",
        "CREATE VIEW redshift_catalog.pg_user_info AS SELECT usename, usesysid, usecreatedb,"
        " usesuper, passwd FROM pg_shadow",
        "CREATE TABLE redshift_catalog.syslog_access (usename name, syslogaccess text)",
        "CREATE VIEW redshift_catalog.svl_user_info AS SELECT u.usename, u.usesysid,"
        " COALESCE(s.syslogaccess, 'RESTRICTED') AS syslogaccess FROM pg_user u"
        " LEFT JOIN redshift_catalog.syslog_access s ON s.usename = u.usename",
        "CREATE TABLE redshift_catalog.svv_user_grants (user_name text, role_name text)",
        "CREATE TABLE redshift_catalog.svv_external_schemas (schemaname text)",
        sql.SQL("ALTER DATABASE {} SET search_path = redshift_catalog, pg_catalog, public").format(
            sql.Identifier(db.name)
        ),
    )


def test_on_redshift_a_plain_existing_user_is_adopted(
    host: Host, inputs: dict[str, Any], db: Database
) -> None:
    db.schemas("sales")
    redshift_catalog(db)
    db.run(sql.SQL("CREATE USER {}").format(sql.Identifier(db.user)))
    user = resource(host, inputs, db, "sales")

    user.up()

    assert user.outs["ownership"] == "adopted"
    assert db.grants("sales") == {"sales": ALL}


@pytest.mark.parametrize(
    ("setup", "named"),
    [
        (
            "INSERT INTO redshift_catalog.syslog_access VALUES (%(user)s, 'UNRESTRICTED')",
            "SYSLOG ACCESS UNRESTRICTED",
        ),
        (
            "INSERT INTO redshift_catalog.svv_user_grants VALUES (%(user)s, 'analysts')",
            'has been granted a role ("analysts")',
        ),
        (
            "INSERT INTO redshift_catalog.svv_external_schemas VALUES ('sales')",
            "external (Spectrum) schemas",
        ),
        (  # what a provisioner that is not a superuser sees of the superuser-only views
            "CREATE OR REPLACE VIEW redshift_catalog.pg_user_info AS SELECT usename, usesysid,"
            " usecreatedb, usesuper, passwd FROM pg_shadow WHERE false",
            "has a password (or this connection, not a superuser, cannot read PG_USER_INFO)",
        ),
    ],
)
def test_on_redshift_syslog_access_roles_external_schemas_and_unread_users_are_refused(
    host: Host, inputs: dict[str, Any], db: Database, setup: str, named: str
) -> None:
    db.schemas("sales")
    redshift_catalog(db)
    db.run(sql.SQL("CREATE USER {}").format(sql.Identifier(db.user)))
    with db.connect() as conn:
        conn.execute(setup, {"user": db.user})
    before = db.snapshot()
    user = resource(host, inputs, db, "sales")

    error = grpc_error(user.up)

    assert named in error and "othing was changed" in error
    assert db.snapshot() == before


# --- the accounting of grants, without a database -------------------------------------------------


def test_a_revoke_names_each_table_where_the_record_keeps_one_and_old_records_keep_all() -> None:
    facts = {
        "sales": SchemaFacts(True, frozenset({"t", "t2"}), 0, frozenset({"etl"})),
        "raw": SchemaFacts(True, frozenset({"t"}), 1, frozenset()),
        "old": SchemaFacts(True, frozenset({"t"}), 0, frozenset({"etl"})),
    }
    record = parse_record({"adoptionRecord": {"sales": {"usage": True, "select": ["t"]}}})
    record.update(parse_record({"owner": "etl", "grantsBeforeAdoption": {"old": ["select"]}}))

    revoke = revocation(facts, ["sales", "raw", "old"], "etl", record)

    assert (revoke.defaults, revoke.all_tables, revoke.tables, revoke.usage) == (
        ["sales", "old"],
        ["raw"],
        [("sales", "t2")],  # t is kept, so not schema-wide; "old" keeps every table
        ["raw", "old"],
    )
    assert revoke.sql("IAMR:a")[2] == 'REVOKE SELECT ON "sales"."t2" FROM "IAMR:a"'
    assert record_state(record)["sales"] == {"usage": True, "select": ["t"], "default": []}
