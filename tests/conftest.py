"""Fixtures shared by the test suite.

`make test` runs the suite on several worker processes (pytest-xdist, docs/performance.md); each
worker is a pytest session of its own, so every session-scoped fixture here exists once per
worker and must not share anything with its twin in another worker: servers listen on a free
127.0.0.1 port of their own and keep their files in a temp dir of their own, and nothing writes
to a fixed path. A fixture that needs a server shared by several test modules belongs here, once,
rather than in each module (each module would start its own).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.moto_server import TEST_ACCOUNT, moto_server
from tests.pg_server import PostgresServer, PostgresUnavailableError, find_bindir, running_postgres

# CI draws the same examples on every run, so a red CI can be reproduced and a green one is not
# luck; a developer's run (no CI variable) keeps exploring new examples.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _postgres_bindir() -> Path:
    try:
        return find_bindir()
    except PostgresUnavailableError as missing:
        reason = str(missing)
    pytest.fail(reason, pytrace=False)  # fail, never skip: CI must run the SQL tests


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 server for the whole session (per worker), started on first use.

    Tests isolate themselves in a database and roles of their own (a uuid in each name)."""
    with running_postgres(_postgres_bindir()) as server:
        yield server


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A moto server for the whole session (per worker), started on first use; its URL.

    Shared by every module that needs one: a test calls `tests.moto_server.reset(url)` before it
    creates anything, so what an earlier test left is gone."""
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def sts_url() -> Iterator[str]:
    """A moto server answering for TEST_ACCOUNT, for the whole session (per worker): the STS of
    the dynamic-provider hosts (AWS_ENDPOINT_URL_STS)."""
    with moto_server(account=TEST_ACCOUNT) as url:
        yield url


@pytest.fixture(scope="session")
def analyzer() -> Iterator[Any]:
    """The real policy server (`tests.test_policies.served_pack`) at the pack's own levels, for the
    whole session (per worker): it keeps nothing between calls unless sent `Configure`, which no
    user of this fixture sends (a module that does starts a server of its own)."""
    from tests.test_policies import served_pack  # noqa: PLC0415 - imports the pack: on first use

    with served_pack() as stub:
        yield stub


@pytest.fixture(scope="session")
def _dev_plan_once() -> dict[str, Any]:
    from tools.plan import build_plan  # noqa: PLC0415 - imports the program's SDKs: on first use

    return build_plan()


@pytest.fixture
def dev_plan(_dev_plan_once: dict[str, Any]) -> dict[str, Any]:
    """`python -m tools.plan --json` of Pulumi.dev.yaml, rendered in this process once per session;
    each test gets its own copy, so one test's edits never reach another."""
    return copy.deepcopy(_dev_plan_once)
