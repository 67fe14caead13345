"""A Redshift Data API emulator for the tests: the `redshift-data` JSON protocol on 127.0.0.1.

Each statement runs on the tests' PostgreSQL (the request's `Database` names the database); a
BatchExecuteStatement is one transaction, as on Redshift. The one rewrite is Redshift's
`PASSWORD DISABLE`, which PostgreSQL spells `PASSWORD NULL`. botocore talks to it over HTTP
(AWS_ENDPOINT_URL_REDSHIFT_DATA), so requests are signed, serialized and parsed by botocore's own
`redshift-data` model, including the ClientToken it fills in for idempotency.

Faults are queued with `inject`: throttle (ThrottlingException), fail (a statement fails; a batch
rolls back), hang (the statement never finishes until cancelled), late (it commits, but reports
STARTED until a cancel arrives, too late: then FINISHED), lose (it runs but the answer is lost:
the connection closes), drop (the request is lost before it runs), and a cluster that is gone
(`clusters.discard(...)`: the Data API's ValidationException). `before_run` (a test hook) runs
before a write's statements, e.g. to let another client create the same user first. Statements
carry CreatedAt (the emulator's clock), as the Data API's answers do.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import psycopg

from tests.pg_server import PostgresServer

FaultKind = Literal["throttle", "fail", "hang", "lose", "drop", "late"]
# What the Data API answers for a cluster that is not there (aws/aws-cdk#30536).
CLUSTER_GONE = ("ValidationException", "Redshift endpoint doesn't exist in this region.")
_PASSWORD_DISABLE = re.compile(r"\bPASSWORD DISABLE\b")


@dataclass
class Fault:
    """One injected fault for `operation` (e.g. "BatchExecuteStatement"), `times` requests long.

    `at`: for "fail", the 1-based statement of the batch that fails (after the ones before it ran,
    so that the rollback is what undoes them). `matching`: only statements whose SQL contains it.
    """

    operation: str
    kind: FaultKind
    times: int = 1
    at: int = 1
    error: str = "failure injected by the test"
    matching: str = ""


@dataclass
class Statement:
    id: str
    sqls: list[str]
    batch: bool
    cluster: str
    database: str
    status: str = "SUBMITTED"
    error: str | None = None
    failed_at: int | None = None
    columns: list[str] = field(default_factory=list)
    records: list[list[dict[str, Any]]] | None = None
    created_at: float = field(default_factory=time.time)
    late: bool = False  # committed, but says STARTED until cancelled

    def describe(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "Id": self.id,
            "CreatedAt": self.created_at,
            "Status": self.status,
            "ClusterIdentifier": self.cluster,
            "Database": self.database,
            "HasResultSet": self.records is not None,
        }
        if self.error:
            answer["Error"] = self.error
        if self.batch:
            answer["SubStatements"] = [self._sub(n, sql) for n, sql in enumerate(self.sqls, 1)]
        else:
            answer["QueryString"] = self.sqls[0]
        return answer

    def _sub(self, position: int, sql: str) -> dict[str, Any]:
        if self.status == "FINISHED":
            status = "FINISHED"
        elif self.failed_at is None:
            status = self.status
        else:
            status = "FINISHED" if position < self.failed_at else "ABORTED"
        sub: dict[str, Any] = {
            "Id": f"{self.id}:{position}",
            "QueryString": sql,
            "Status": "FAILED" if position == self.failed_at else status,
            "HasResultSet": False,
        }
        if position == self.failed_at:
            sub["Error"] = self.error
        return sub


class EmulatorError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class _LoseAnswer(Exception):  # noqa: N818 - a signal, not an error
    """Close the connection without answering."""


class DataApiEmulator:
    """The emulator; `url` is its endpoint. Use `running_emulator` to start and stop it."""

    def __init__(self, server: PostgresServer, clusters: Sequence[str]) -> None:
        self.server = server
        self.clusters = set(clusters)
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every request, in order
        self.executions: list[list[str]] = []  # statements that actually ran (batches: one entry)
        self._statements: dict[str, Statement] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._connections: dict[str, psycopg.Connection[tuple[Any, ...]]] = {}
        self._ids = itertools.count(1)
        self.before_run: Callable[[list[str]], None] | None = None
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    # --- test controls ---------------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.calls.clear()
            self.executions.clear()
            self.before_run = None

    def batches(self) -> list[list[str]]:
        """The Sqls of every BatchExecuteStatement request received (retries included)."""
        return [list(params["Sqls"]) for op, params in self.calls if op == "BatchExecuteStatement"]

    # --- the protocol ----------------------------------------------------------------------------

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((operation, params))
            if "ClusterIdentifier" in params and params["ClusterIdentifier"] not in self.clusters:
                raise EmulatorError(*CLUSTER_GONE)
            sqls = params.get("Sqls") or ([params["Sql"]] if "Sql" in params else [])
            fault = self._take_fault(operation, sqls)
            if fault is not None and fault.kind == "throttle":
                raise EmulatorError("ThrottlingException", "Rate exceeded")
            if fault is not None and fault.kind == "drop":
                raise _LoseAnswer
            token = params.get("ClientToken")
            if token is not None and token in self._tokens:  # a retry: answer, do not run again
                if fault is not None and fault.kind == "lose":
                    raise _LoseAnswer
                return self._tokens[token]
            if operation in ("ExecuteStatement", "BatchExecuteStatement"):
                answer = self._submit(operation, params, sqls, fault)
                if token is not None:
                    self._tokens[token] = answer
                if fault is not None and fault.kind == "lose":
                    raise _LoseAnswer
                return answer
            if operation == "DescribeStatement":
                return self._statement(params["Id"]).describe()
            if operation == "GetStatementResult":
                return self._result(params["Id"])
            if operation == "CancelStatement":
                return self._cancel(self._statement(params["Id"]))
            raise EmulatorError("UnknownOperationException", f"{operation} is not emulated")

    @staticmethod
    def _cancel(statement: Statement) -> dict[str, Any]:
        if statement.late:  # it had committed: the cancel comes too late
            statement.status, statement.late = "FINISHED", False
        elif statement.status in ("SUBMITTED", "PICKED", "STARTED"):
            statement.status = "ABORTED"
        return {"Status": True}

    def _take_fault(self, operation: str, sqls: Sequence[str]) -> Fault | None:
        for fault in self.faults:
            if fault.operation == operation and any(fault.matching in sql for sql in sqls):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _submit(
        self, operation: str, params: dict[str, Any], sqls: list[str], fault: Fault | None
    ) -> dict[str, Any]:
        statement = Statement(
            id=f"emulated-{next(self._ids):04d}",
            sqls=sqls,
            batch=operation == "BatchExecuteStatement",
            cluster=params["ClusterIdentifier"],
            database=params["Database"],
        )
        self._statements[statement.id] = statement
        if fault is not None and fault.kind == "hang":
            statement.status = "STARTED"
        else:
            if self.before_run is not None and statement.batch:
                self.before_run(sqls)
            self._run(statement, fault if fault is not None and fault.kind == "fail" else None)
            if fault is not None and fault.kind == "late" and statement.status == "FINISHED":
                statement.status, statement.late = "STARTED", True
        return {
            "Id": statement.id,
            "ClusterIdentifier": statement.cluster,
            "CreatedAt": statement.created_at,
        }

    def _run(self, statement: Statement, fault: Fault | None) -> None:
        """Run the statement(s) in one transaction; a failure rolls all of them back."""
        position = 0
        try:
            conn = self._connection(statement.database)  # autocommit: a transaction per run
            with conn.transaction():
                for position, sql in enumerate(statement.sqls, 1):
                    if fault is not None and position == fault.at:
                        raise psycopg.Error(fault.error)
                    cursor = conn.execute(_PASSWORD_DISABLE.sub("PASSWORD NULL", sql))
                    if not statement.batch and cursor.description is not None:
                        statement.columns = [c.name for c in cursor.description]
                        statement.records = [
                            [_field(value) for value in row] for row in cursor.fetchall()
                        ]
            self.executions.append(list(statement.sqls))
            statement.status = "FINISHED"
        except psycopg.Error as err:
            statement.status = "FAILED"
            statement.error = f"ERROR: {str(err).splitlines()[0]}" if str(err) else "ERROR"
            statement.failed_at = position if statement.batch else None

    def _connection(self, database: str) -> psycopg.Connection[tuple[Any, ...]]:
        """One connection per database, as the cluster's superuser (the managed master secret)."""
        conn = self._connections.get(database)
        if conn is None or conn.closed or conn.broken:
            conn = self._connections[database] = self.server.connect(dbname=database)
        return conn

    def _statement(self, statement_id: str) -> Statement:
        base = statement_id.split(":", 1)[0]
        if base not in self._statements:
            raise EmulatorError("ResourceNotFoundException", f"Query {statement_id} not found")
        return self._statements[base]

    def _result(self, statement_id: str) -> dict[str, Any]:
        statement = self._statement(statement_id)
        if statement.status != "FINISHED" or statement.records is None:
            raise EmulatorError("ValidationException", f"Query {statement_id} has no result")
        return {
            "Records": statement.records,
            "ColumnMetadata": [{"name": name} for name in statement.columns],
            "TotalNumRows": len(statement.records),
        }

    # --- HTTP ------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and the
                # client's delayed ACK add 40 ms to every call.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                operation = target.removeprefix("RedshiftData.")
                try:
                    answer = emulator.handle(operation, json.loads(body or b"{}"))
                    status, payload = 200, answer
                except EmulatorError as err:
                    status, payload = err.status, {"__type": err.code, "message": err.message}
                except _LoseAnswer:
                    self.close_connection = True
                    return
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def serve(self) -> None:
        self._http.serve_forever(poll_interval=0.1)

    def shutdown(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        for conn in self._connections.values():
            conn.close()


def _field(value: Any) -> dict[str, Any]:
    """A Python value as a Data API `Field`."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float | Decimal):
        return {"doubleValue": float(value)}
    return {"stringValue": str(value)}


@contextlib.contextmanager
def running_emulator(server: PostgresServer, clusters: Sequence[str]) -> Iterator[DataApiEmulator]:
    """Start the emulator on a free port of 127.0.0.1, yield it, and always stop it."""
    emulator = DataApiEmulator(server, clusters)
    thread = threading.Thread(target=emulator.serve, name="data-api-emulator", daemon=True)
    thread.start()
    try:
        yield emulator
    finally:
        emulator.shutdown()
        thread.join(timeout=10)
