"""The pack run org-wide (issue 23): no mandatory verdict on safe stacks, none missed on bad ones.

Each case (`tests/policy_cases_iam.py`, `tests/policy_cases_kms.py`,
`tests/policy_cases_resources.py`) is a whole stack: the
stack's own shape plus what an ordinary EKS stack or an adversary adds. Every case is judged
offline by `tools.policy_check.evaluate` and, in one batch through one server start, by the real
policy server; both must say the same, word for word, and the mandatory rules violated must be
exactly the expected ones (safe spellings: none).
"""

from __future__ import annotations

import functools

import pytest
from pulumi.runtime.proto import analyzer_pb2_grpc

import tests.policy_cases_iam
import tests.policy_cases_kms
import tests.policy_cases_resources
from model.settings import PROJECT
from policies.workload_rules import CRON_JOB, POD
from tests.policy_cases_resources import unpinned
from tests.policy_stacks import CASES
from tests.test_policies import served_violations
from tools import policy_check

assert tests.policy_cases_iam.CASES is tests.policy_cases_resources.CASES is CASES
assert {n for n in CASES if n.startswith("kms-")}, tests.policy_cases_kms.__name__


def mandatory(found: list[dict[str, str]]) -> set[str]:
    return {v["policy"] for v in found if v["enforcementLevel"] == "mandatory"}


@functools.cache
def offline(name: str) -> tuple[dict[str, str], ...]:
    """`evaluate()`'s verdicts on the case's stack, once per worker: the per-case test and the
    server's cross-check read the same evaluation (each from a stack built afresh)."""
    build, _ = CASES[name]
    return tuple(policy_check.evaluate(build(), project=PROJECT, stack="dev"))


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_gets_exactly_its_mandatory_verdicts(name: str) -> None:
    _, expected = CASES[name]
    assert mandatory(list(offline(name))) == expected


def test_the_real_policy_server_agrees_on_every_case(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    """One server start for every case: the analyzer says what evaluate() says, word for word."""
    for name, (build, expected) in CASES.items():
        served = served_violations(analyzer, build())
        assert served == list(offline(name)), name
        assert mandatory(served) == expected, name


def test_an_unpinned_image_on_a_pod_or_cron_job_is_advised_against() -> None:
    for type_ in (POD, CRON_JOB):
        found = policy_check.evaluate(unpinned(type_), project=PROJECT, stack="dev")
        verdicts = [(v["policy"], v["enforcementLevel"]) for v in found]
        assert verdicts == [("psql-job-image-pinned-by-digest", "advisory")]
