"""AWS Control Tower's proactive Redshift controls (CT.REDSHIFT.PR.1-9) and Security Hub's Redshift
controls, each mapped to the planned resource property that meets it, on the dev stack and on a
prod-like one.

Sources: AWS Control Tower Controls Reference, "Amazon Redshift controls" (CT.REDSHIFT.PR.1-9);
AWS Security Hub CSPM User Guide, "Security Hub CSPM controls for Amazon Redshift"
(https://docs.aws.amazon.com/securityhub/latest/userguide/redshift-controls.html): Redshift.1-4,
6-8 and 10-18; Redshift.5 and Redshift.9 are not in the current list.
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


# The current list and titles, copied from the Security Hub CSPM page above (not from the model).
SECURITY_HUB_LIST = {
    "Redshift.1": "Amazon Redshift clusters should prohibit public access",
    "Redshift.2": "Connections to Amazon Redshift clusters should be encrypted in transit",
    "Redshift.3": "Amazon Redshift clusters should have automatic snapshots enabled",
    "Redshift.4": "Amazon Redshift clusters should have audit logging enabled",
    "Redshift.6": "Amazon Redshift should have automatic upgrades to major versions enabled",
    "Redshift.7": "Redshift clusters should use enhanced VPC routing",
    "Redshift.8": "Amazon Redshift clusters should not use the default Admin username",
    "Redshift.10": "Redshift clusters should be encrypted at rest",
    "Redshift.11": "Redshift clusters should be tagged",
    "Redshift.12": "Redshift event notification subscriptions should be tagged",
    "Redshift.13": "Redshift cluster snapshots should be tagged",
    "Redshift.14": "Redshift cluster subnet groups should be tagged",
    "Redshift.15": "Redshift security groups should allow ingress on the cluster port only from "
    "restricted origins",
    "Redshift.16": "Redshift cluster subnet groups should have subnets from multiple Availability "
    "Zones",
    "Redshift.17": "Redshift cluster parameter groups should be tagged",
    "Redshift.18": "Redshift clusters should have Multi-AZ deployments enabled",
}


def test_the_security_hub_rows_are_aws_s_current_list_with_its_titles():
    """Nothing outside the current list (Redshift.9, the default database name, is gone) and
    nothing missing."""
    assert {c.id: c.title for c in SECURITY_HUB} == SECURITY_HUB_LIST
    assert [c.id for c in SECURITY_HUB] == list(SECURITY_HUB_LIST)


def test_controls_that_do_not_apply_say_why():
    not_applicable: list[Control] = [c for c in ALL if not c.applicable]
    assert {c.id for c in not_applicable} == {"Redshift.12", "Redshift.13"}
