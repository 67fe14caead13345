"""Fixtures shared by the test suite."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

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
    """A throwaway PostgreSQL 15 server for the whole session, started on first use."""
    with running_postgres(_postgres_bindir()) as server:
        yield server


@pytest.fixture(scope="session")
def _dev_plan_once() -> dict[str, Any]:
    from tools.plan import build_plan  # noqa: PLC0415 - imports the program's SDKs: on first use

    return build_plan()


@pytest.fixture
def dev_plan(_dev_plan_once: dict[str, Any]) -> dict[str, Any]:
    """`python -m tools.plan --json` of Pulumi.dev.yaml, rendered in this process once per session;
    each test gets its own copy, so one test's edits never reach another."""
    return copy.deepcopy(_dev_plan_once)
