"""AWS Control Tower's proactive Redshift controls (CT.REDSHIFT.PR.1-9) and Security Hub's Redshift
controls, each mapped to the planned resource property that meets it, on the dev stack and on a
prod-like one.

Sources: AWS Control Tower Controls Reference, "Amazon Redshift controls" (CT.REDSHIFT.PR.1-9);
AWS Security Hub User Guide, "Security Hub controls for Amazon Redshift" (Redshift.1-18; there is
no Redshift.5 in the current list).
"""

from __future__ import annotations

import json

import pytest

from model.cluster_baseline import CONTROL_TOWER, SECURITY_HUB, Control, requirement_met
from tests.stack_helpers import run_stack

PROD_LIKE = {
    "clusterIdentifier": "analytics-xpander",
    "databaseName": "analytics",
    "masterUsername": "analytics_admin",
    "nodeTypes": '["ra3.xlplus"]',
    "numberOfNodes": "2",
    "multiAz": "true",
    "kmsKeyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "auditLogging": "s3",
    "auditLogBucket": "audit-logs-111122223333",
    "auditLogS3KeyPrefix": "redshift/",
    "automatedSnapshotRetentionDays": "14",
    "sourceSecurityGroupIds": '["sg-0123456789abcdef0"]',
    "privateSubnetIds": json.dumps(
        ["subnet-0a3f5c7e9b1d24680", "subnet-0b4e6d8f0a2c35791", "subnet-0c5f7e9a1b3d46802"]
    ),
    "tags": '{"team": "data", "environment": "prod"}',
}
ALL = (*CONTROL_TOWER, *SECURITY_HUB)


def unmet(run) -> set[str]:
    planned = [(r.type, r.inputs) for r in run.resources if r.custom]
    return {
        c.id
        for c in ALL
        if c.applicable and not all(requirement_met(req, planned) for req in c.requirements)
    }


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def test_the_dev_stack_meets_every_control_but_multi_az(dev):
    """Multi-AZ needs RA3 with two or more nodes and doubles compute: off unless asked."""
    assert unmet(dev) == {"Redshift.18"}


def test_a_prod_like_stack_meets_every_applicable_control():
    assert unmet(run_stack(**PROD_LIKE)) == set()


@pytest.mark.parametrize(
    ("setting", "value", "controls"),
    [
        ("requireSsl", "false", {"CT.REDSHIFT.PR.9", "Redshift.2"}),
        ("auditLogging", "none", {"CT.REDSHIFT.PR.3", "Redshift.4"}),
        ("enhancedVpcRouting", "false", {"CT.REDSHIFT.PR.5", "Redshift.7"}),
        ("automatedSnapshotRetentionDays", "1", {"CT.REDSHIFT.PR.2", "Redshift.3"}),
        ("allowVersionUpgrade", "false", {"CT.REDSHIFT.PR.4", "Redshift.6"}),
    ],
)
def test_each_opt_out_setting_shows_as_exactly_its_controls_unmet(setting, value, controls):
    assert unmet(run_stack(**{setting: value})) == {"Redshift.18", *controls}


def test_every_control_tower_control_is_mapped_and_each_mapping_names_a_planned_property():
    assert [c.id for c in CONTROL_TOWER] == [f"CT.REDSHIFT.PR.{n}" for n in range(1, 10)]
    for control in ALL:
        assert control.applicable == bool(control.requirements), control.id
        assert control.applicable or control.why_not, control.id


def test_controls_that_do_not_apply_say_why():
    not_applicable: list[Control] = [c for c in ALL if not c.applicable]
    assert {c.id for c in not_applicable} == {"Redshift.12", "Redshift.13"}
