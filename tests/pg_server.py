"""A throwaway PostgreSQL 15 server for the tests: its own temp dir, 127.0.0.1 only, always stopped.

PostgreSQL refuses to run as root, and CI runs as root, so then the server runs as a dedicated
system user (created once, idempotently). Authentication is `trust`: the server lives only for the
test session, listens on 127.0.0.1 and its socket directory is private to that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

PG_MAJOR = 15
FALLBACK_BINDIR = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SERVICE_USER = "xpander-pgtest"  # only when the tests run as root
READY_TIMEOUT_S = 30
SUPERUSER = "postgres"
_INITDB_OPTIONS = (
    f"--username={SUPERUSER}",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
)
START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it
# Where the data directory goes when it has room: in memory, CREATE DATABASE (each SQL test makes
# one) takes milliseconds instead of the tenths of a second it takes on a busy disk. A container's
# small /dev/shm (Docker's is 64 MiB) falls back to the temp dir.
MEMORY_FS = Path("/dev/shm")
MEMORY_FS_MIN_FREE = 1 << 30

# Durability is pointless for a server that is deleted after the session; speed is not.
_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
}


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL 15 is not installed, or the server did not start (the message says which)."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and how to reach it as any role."""

    host: str
    port: int
    bindir: Path
    superuser: str = SUPERUSER
    dbname: str = "postgres"

    def dsn(self, *, user: str | None = None, dbname: str | None = None) -> str:
        """A libpq connection string (psycopg and psql both take it); quotes names as needed."""
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=user or self.superuser,
            dbname=dbname or self.dbname,
            connect_timeout=10,
        )

    def connect(
        self, *, user: str | None = None, dbname: str | None = None, autocommit: bool = True
    ) -> psycopg.Connection[tuple[Any, ...]]:
        """A new connection, as the superuser unless `user` is given."""
        return psycopg.connect(self.dsn(user=user, dbname=dbname), autocommit=autocommit)


def find_bindir() -> Path:
    """The directory with initdb, pg_ctl and postgres of PostgreSQL 15: PATH first, then Debian's.

    Raises PostgresUnavailableError with what was found and how to install the right version.
    """
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates.append(FALLBACK_BINDIR)
    found: list[str] = []
    for bindir in dict.fromkeys(candidates):
        if not all((bindir / program).is_file() for program in SERVER_PROGRAMS):
            continue
        version = _major_version(bindir / "postgres")
        if version == PG_MAJOR:
            return bindir
        found.append(f"{bindir} (PostgreSQL {version})")
    seen = "; found only " + ", ".join(found) if found else ""
    raise PostgresUnavailableError(
        f"PostgreSQL {PG_MAJOR} server programs ({', '.join(SERVER_PROGRAMS)}) not found in PATH "
        f"or {FALLBACK_BINDIR}{seen}. The SQL tests need a real server: run `make setup`, which "
        f"installs postgresql-{PG_MAJOR}."
    )


def _major_version(postgres: Path) -> int | None:
    output = subprocess.run(
        [str(postgres), "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", output)
    return int(match.group(1)) if match else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _workdir_parent() -> Path | None:
    """The memory file system if it is there with room to spare, else None (the temp dir)."""
    with contextlib.suppress(OSError):
        usable = MEMORY_FS.is_dir() and os.access(MEMORY_FS, os.W_OK | os.X_OK)
        if usable and shutil.disk_usage(MEMORY_FS).free >= MEMORY_FS_MIN_FREE:
            return MEMORY_FS
    return None


def _service_account() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SERVICE_USER)
    created = subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--home-dir=/nonexistent",
            "--user-group",
            "--shell=/usr/sbin/nologin",
            SERVICE_USER,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:  # another session may have created it in the meantime
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresUnavailableError(
            f"Running as root, the tests need a non-root user {SERVICE_USER!r} for PostgreSQL, "
            f"and `useradd` failed: {created.stderr.strip() or created.returncode}"
        ) from None


class _Cluster:
    """One data directory in `workdir`, driven by the server programs as the account owning it."""

    def __init__(self, bindir: Path, account: pwd.struct_passwd | None, workdir: Path) -> None:
        self.bindir, self.account, self.workdir = bindir, account, workdir
        self.data, self.log = workdir / "data", workdir / "server.log"
        self.sockets = workdir / "sockets"
        self.sockets.mkdir(mode=0o700)
        if account is not None:
            for path in (workdir, self.sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
        # Our own PG* variables (PGDATA, PGPORT, ...) must not redirect the throwaway server.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}

    def run(self, program: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bindir / program), *args]
        if self.account is not None:
            argv = ["runuser", "-u", self.account.pw_name, "--", *argv]
        return subprocess.run(
            argv,
            cwd=self.workdir,  # our own cwd may be unreadable for the service account
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def init(self, hba: Sequence[str] = (), *, ssl: bool = False) -> None:
        initdb = self.run("initdb", f"--pgdata={self.data}", *_INITDB_OPTIONS, timeout=120)
        if initdb.returncode != 0:
            raise PostgresUnavailableError(self._failure("initdb", initdb))
        settings = _SERVER_SETTINGS | {"unix_socket_directories": f"'{self.sockets}'"}
        if ssl:
            settings |= self._self_signed_certificate()
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        hba_file = self.data / "pg_hba.conf"  # first match wins: these lines before trust
        hba_file.write_text("".join(f"{line}\n" for line in hba) + hba_file.read_text())

    def _self_signed_certificate(self) -> dict[str, str]:
        """A throwaway key and certificate for 127.0.0.1, owned by the server's account."""
        key, cert = self.data / "server.key", self.data / "server.crt"
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if made.returncode != 0:
            raise PostgresUnavailableError(f"openssl could not make a certificate: {made.stderr}")
        key.chmod(0o600)  # the server refuses a key that group or world can read
        if self.account is not None:
            for path in (key, cert):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        return {"ssl": "on", "ssl_cert_file": f"'{cert}'", "ssl_key_file": f"'{key}'"}

    def start(self) -> int:
        """Start the server on a free port on 127.0.0.1 and return the port once it is ready."""
        for _ in range(START_ATTEMPTS):
            port, log_start = _free_port(), self._log_size()
            start = self.run(
                "pg_ctl",
                "start",
                f"--pgdata={self.data}",
                f"--log={self.log}",
                f"--options=-p {port}",
                "--wait",
                f"--timeout={READY_TIMEOUT_S}",
                timeout=READY_TIMEOUT_S + 30,
            )
            if start.returncode == 0:
                return port
            if "could not bind" not in self.log.read_text(errors="replace")[log_start:]:
                break
        raise PostgresUnavailableError(
            self._failure(f"Starting PostgreSQL (waited up to {READY_TIMEOUT_S} s)", start)
        )

    def stop(self) -> None:
        """Stop the server if it runs; never leave one behind."""
        for mode in ("fast", "immediate"):
            if not (self.data / "postmaster.pid").exists():
                return
            self.run("pg_ctl", "stop", f"--pgdata={self.data}", f"--mode={mode}", timeout=60)

    def _log_size(self) -> int:
        return len(self.log.read_text(errors="replace")) if self.log.exists() else 0

    def _failure(self, what: str, result: subprocess.CompletedProcess[str]) -> str:
        log = self.log.read_text(errors="replace") if self.log.exists() else "(no server log)"
        return (
            f"{what} failed (exit {result.returncode}).\n--- output ---\n{result.stdout}"
            f"{result.stderr}\n--- server log ({self.log}) ---\n{log}"
        )


@contextlib.contextmanager
def running_postgres(
    bindir: Path | None = None, *, hba: Sequence[str] = (), ssl: bool = False
) -> Iterator[PostgresServer]:
    """Start a fresh server in a temp dir (in memory if there is room), yield it, and always stop
    it and delete the dir.

    `hba` lines go before the default `trust` ones (to require a password of some user); `ssl`
    turns TLS on with a throwaway self-signed certificate.
    """
    bindir = bindir or find_bindir()
    workdir = Path(tempfile.mkdtemp(prefix="xpander-pg-", dir=_workdir_parent()))
    cluster = None
    try:
        cluster = _Cluster(bindir, _service_account(), workdir)
        cluster.init(hba, ssl=ssl)
        yield PostgresServer("127.0.0.1", cluster.start(), bindir)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
