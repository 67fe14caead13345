"""The deploying identity's permissions: real IAM actions, "*" exactly where AWS defines no resource
type, the Data API actions the provisioner calls, and only what the settings need."""

from __future__ import annotations

import dataclasses

import pytest
from policy_sentry.querying.actions import get_action_data

from model.deployer_permissions import ANY_RESOURCE, GRANTS, actions_for
from tests.stack_helpers import EXAMPLE_SETTINGS
from tools import readme_tables


def resource_types(action: str) -> list[str]:
    """The resource ARN formats the Service Authorization Reference lists ("*": none)."""
    service, name = action.split(":")
    rows = (get_action_data(service, name) or {}).get(service, [])
    return [row["resource_arn_format"] for row in rows]


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.actions[0])
def test_every_action_exists_and_star_is_used_only_where_there_is_no_resource_type(grant):
    for action in grant.actions:
        formats = resource_types(action)
        assert formats, f"{action} is not an IAM action"
        without_type = formats == ["*"]
        assert without_type == (grant.resource == ANY_RESOURCE), (action, formats)


def test_statement_actions_are_on_star_and_include_cancel_for_the_timeout():
    """DescribeStatement, GetStatementResult and CancelStatement have no resource type, so only
    `*` grants them (Service Authorization Reference, Amazon Redshift Data API); the provisioner
    cancels a statement that outlives provisionerTimeoutSeconds."""
    on_star = {a for g in GRANTS if g.resource == ANY_RESOURCE for a in g.actions}
    assert {
        "redshift-data:DescribeStatement",
        "redshift-data:GetStatementResult",
        "redshift-data:CancelStatement",
    } <= on_star


def with_(**changes):
    return dataclasses.replace(EXAMPLE_SETTINGS, **changes)


def test_the_baseline_adds_exactly_its_own_actions_for_a_new_cluster():
    dev = set(actions_for(EXAMPLE_SETTINGS))
    assert {
        "redshift:CreateClusterParameterGroup",
        "redshift:ModifyClusterParameterGroup",
        "redshift:DeleteClusterParameterGroup",
        "redshift:DescribeClusterParameters",
        "redshift:EnableLogging",
        "redshift:DisableLogging",
        "redshift:DescribeLoggingStatus",
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteLogGroup",
        "logs:DescribeLogGroups",
        "logs:TagResource",
        "logs:ListTagsForResource",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    } <= dev
    s3 = set(actions_for(with_(audit_logging="s3", audit_log_bucket="logs-111122223333")))
    assert not {a for a in s3 if a.startswith("logs:")}
    assert "redshift:EnableLogging" in s3
    off = set(actions_for(with_(audit_logging="none")))
    assert not {a for a in off if a.startswith("logs:") or "Logging" in a}


def test_an_existing_cluster_needs_no_cluster_or_baseline_permission():
    existing = set(actions_for(with_(existing_cluster_identifier="analytics-prod")))
    assert not {a for a in existing if "Cluster" in a and a.startswith("redshift:Create")}
    assert not {a for a in existing if a.startswith(("logs:", "kms:"))}
    assert "redshift:DescribeClusters" in existing  # aws.redshift.get_cluster
    assert "redshift:GetClusterCredentials" in existing  # the Data API as the master DbUser
    assert "redshift-data:ExecuteStatement" in existing


def test_the_kubernetes_job_provisioner_needs_no_data_api_permission():
    job = set(actions_for(with_(user_provisioner="kubernetes-job")))
    assert not {a for a in job if a.startswith("redshift-data:")}


def test_the_readme_tables_are_the_models():
    held = readme_tables.files()
    assert readme_tables.SECURITY_BASELINE in held  # the permissions table lives there now
    for path in held:
        current = path.read_text()
        assert readme_tables.render(path, current) == current, "run: python -m tools.readme_tables"
