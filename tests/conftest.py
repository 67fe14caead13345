"""Fixtures shared by the test suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_server import PostgresServer, PostgresUnavailableError, find_bindir, running_postgres


def _postgres_bindir() -> Path:
    try:
        return find_bindir()
    except PostgresUnavailableError as missing:
        reason = str(missing)
    pytest.fail(reason, pytrace=False)  # fail, never skip: CI must run the SQL tests


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 server for the whole session, started on first use."""
    with running_postgres(_postgres_bindir()) as server:
        yield server
