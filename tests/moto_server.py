"""A moto server subprocess on 127.0.0.1 for tests that talk to AWS APIs over real HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
START_ATTEMPTS = 3
# The account the test credentials are of: what sts:GetCallerIdentity answers the dynamic
# providers (clients/aws_account.py), and the account of every ARN the provider tests give them.
TEST_ACCOUNT = "111122223333"


class MotoServerError(RuntimeError):
    """The moto server did not start (the message carries the tail of its log)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _command(port: int) -> list[str]:
    # The console script next to this interpreter (the venv's), else the module.
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", HOST, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1.0) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def _start(log: Path, timeout: float, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://{HOST}:{port}"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            _command(port), stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break  # exited (e.g. the port was taken meanwhile)
        if _ready(url):
            return process, url
        time.sleep(0.1)
    _stop(process)
    tail = log.read_text(errors="replace")[-2000:]
    raise MotoServerError(f"moto server on {url} not ready within {timeout:g} s:\n{tail}")


@contextlib.contextmanager
def moto_server(timeout: float = READY_TIMEOUT, *, account: str | None = None) -> Iterator[str]:
    """Run a moto server on a free 127.0.0.1 port; yield its URL; always stop it. `account`: the
    account it answers for (moto's MOTO_ACCOUNT_ID; sts:GetCallerIdentity names it)."""
    env = {"MOTO_ACCOUNT_ID": account} if account else {}
    with tempfile.TemporaryDirectory(prefix="moto-") as tmp:
        log = Path(tmp) / "moto.log"
        error: MotoServerError | None = None
        for _ in range(START_ATTEMPTS):
            try:
                process, url = _start(log, timeout, env)
            except MotoServerError as exc:
                error = exc
                continue
            try:
                yield url
            finally:
                _stop(process)
            return
        assert error is not None
        raise error


def reset(url: str) -> None:
    """Forget every resource the server holds (between tests)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5.0) as response:  # noqa: S310
        response.read()
