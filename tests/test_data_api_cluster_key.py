"""The connector roles' grant on the customer managed key that encrypts the cluster (issue 21).

AWS: "When you call ExecuteStatement or BatchExecuteStatement against a cluster encrypted with a
customer managed key, Amazon Redshift creates a grant on your behalf by sending a CreateGrant
request to AWS KMS" (Amazon Redshift Management Guide, "Using AWS KMS with the Amazon Redshift Data
API"), as the caller (IAM User Guide, "Forward access sessions"), so under the default key policy
the role's own policy must allow it. The expected statements are written out here, not built.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from model import iam_documents
from model.config_keys import Settings
from model.settings import PROJECT
from tests import policy_cases_kms, policy_stacks
from tests.stack_helpers import EXAMPLE_SETTINGS, of_type, run_stack
from tools import policy_check

ACCOUNT = "123456789012"
KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EXISTING = "analytics-prod"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def key_statements(key: str) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "DataApiGrantOnClusterKey",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": [key],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "DataApiDescribeClusterKey",
            "Effect": "Allow",
            "Action": ["kms:DescribeKey"],
            "Resource": [key],
            "Condition": {"Bool": {"aws:ViaAWSService": "true"}},
        },
    ]


def kms_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for s in document["Statement"] if any(a.lower().startswith("kms:") for a in s["Action"])
    ]


def documents(settings: Settings, key: str | None = None, partition: str = "aws"):
    return iam_documents.role_documents(
        settings, partition=partition, account_id=ACCOUNT, existing_cluster_key=key
    )


# --- the documents --------------------------------------------------------------------------------


def test_a_cluster_with_kms_key_id_gives_the_role_exactly_the_grant_and_describe_on_that_key():
    settings = dataclasses.replace(EXAMPLE_SETTINGS, kms_key_id=KEY)
    built = documents(settings)
    data_api = built.policies["RedshiftDataAPI"]
    assert data_api["Statement"][2:] == key_statements(KEY)
    # Nowhere else: the other two policies grant nothing of KMS.
    for name in ("RedshiftCredentials", "SelfAssumeAndTagSession"):
        assert kms_statements(built.policies[name]) == []


def test_without_kms_key_id_the_role_gets_no_kms_permission():
    built = documents(EXAMPLE_SETTINGS)
    assert [s["Sid"] for s in built.policies["RedshiftDataAPI"]["Statement"]] == [
        "DataApiOnCluster",
        "DataApiOwnStatements",
    ]
    assert all(kms_statements(d) == [] for d in built.policies.values())


EXISTING_SETTINGS = dataclasses.replace(EXAMPLE_SETTINGS, existing_cluster_identifier=EXISTING)


def test_an_existing_cluster_takes_the_key_its_lookup_names():
    built = documents(EXISTING_SETTINGS, key=KEY)
    assert kms_statements(built.policies["RedshiftDataAPI"]) == key_statements(KEY)


def test_a_bare_key_id_from_the_lookup_is_a_key_of_the_stacks_account_region_and_partition():
    settings = dataclasses.replace(EXISTING_SETTINGS, region="us-gov-west-1")
    built = documents(settings, key="1234abcd-12ab-34cd-56ef-1234567890ab", partition="aws-us-gov")
    expected = (
        f"arn:aws-us-gov:kms:us-gov-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert kms_statements(built.policies["RedshiftDataAPI"]) == key_statements(expected)


@pytest.mark.parametrize("key", [None, ""])
def test_an_existing_cluster_whose_lookup_names_no_key_gets_no_kms_permission(key):
    built = documents(EXISTING_SETTINGS, key=key)
    assert kms_statements(built.policies["RedshiftDataAPI"]) == []


def test_a_new_cluster_ignores_a_looked_up_key():
    # Only an existing cluster is looked up; a new one is encrypted with kmsKeyId or aws/redshift.
    built = documents(EXAMPLE_SETTINGS, key=KEY)
    assert kms_statements(built.policies["RedshiftDataAPI"]) == []


# --- the program, under the mock engine -----------------------------------------------------------


def data_api_policies(run) -> dict[str, dict[str, Any]]:
    """Each role's RedshiftDataAPI document, by the role policy's resource name."""
    return {
        r.name: json.loads(r.inputs["policy"])
        for r in of_type(run, ROLE_POLICY)
        if r.inputs["name"] == "RedshiftDataAPI"
    }


def test_the_prod_like_stacks_role_policy_carries_the_key_statements():
    run = run_stack(kmsKeyId=KEY)
    [policy] = data_api_policies(run).values()
    assert kms_statements(policy) == key_statements(KEY)


def test_the_dev_stacks_role_policies_hold_no_kms_action():
    run = run_stack()
    for resource in of_type(run, ROLE_POLICY):
        assert "kms:" not in resource.inputs["policy"].lower(), resource.name


def test_each_of_three_connectors_roles_carries_the_key_statements():
    entries = [
        {"name": f"c{i}", "roleName": f"xpander-c{i}", "namespace": f"team-{i}"} for i in range(3)
    ]
    run = run_stack(connectors=json.dumps(entries), kmsKeyId=KEY)
    policies = data_api_policies(run)
    assert len(policies) == 3
    for name, policy in policies.items():
        assert kms_statements(policy) == key_statements(KEY), name


def existing_cluster_lookup(kms_key_id: str | None) -> dict[str, Any]:
    """aws.redshift.get_cluster's answer for an existing cluster, encrypted with `kms_key_id`."""

    def answer(args: dict[str, Any]) -> dict[str, Any]:
        found = {
            "clusterIdentifier": args.get("clusterIdentifier"),
            "arn": f"arn:aws:redshift:us-west-2:{ACCOUNT}:cluster:{EXISTING}",
            "endpoint": f"{EXISTING}.abc.us-west-2.redshift.amazonaws.com",
            "port": 5439,
            "databaseName": "dev",
            "masterUsername": "awsuser",
            "nodeType": "ra3.xlplus",
            "clusterSubnetGroupName": "analytics",
            "vpcId": "vpc-0123456789abcdef0",
            "vpcSecurityGroupIds": ["sg-0123456789abcdef0"],
            "encrypted": kms_key_id is not None,
            "id": args.get("clusterIdentifier"),
        }
        return {**found, "kmsKeyId": kms_key_id} if kms_key_id is not None else found

    return {"aws:redshift/getCluster:getCluster": answer}


def test_an_existing_cluster_encrypted_with_a_customer_managed_key_gets_it_from_the_lookup():
    run = run_stack(
        invokes=existing_cluster_lookup(KEY),
        existingClusterIdentifier=EXISTING,
        connectors=json.dumps(
            [
                {"name": "a", "roleName": "xpander-a"},
                {"name": "b", "roleName": "xpander-b", "namespace": "b"},
            ]
        ),
    )
    policies = data_api_policies(run)
    assert len(policies) == 2
    for name, policy in policies.items():
        assert kms_statements(policy) == key_statements(KEY), name


def test_an_existing_unencrypted_cluster_and_the_offline_placeholder_give_no_kms_permission():
    for invokes in (existing_cluster_lookup(None), None):
        run = run_stack(invokes=invokes, existingClusterIdentifier=EXISTING)
        [policy] = data_api_policies(run).values()
        assert kms_statements(policy) == []


# --- the policy pack's judgement ------------------------------------------------------------------


def escalation_messages(resources: list[dict[str, Any]]) -> list[str]:
    found = policy_check.evaluate(resources, project=PROJECT, stack="dev")
    return [v["message"] for v in found if v["policy"] == "assumable-roles-cannot-escalate"]


def test_the_pack_names_the_cluster_key_a_role_may_grant_itself():
    stack = policy_cases_kms.on_encrypted_cluster(policy_cases_kms.grant())
    [message] = escalation_messages(stack)
    assert (
        f"kms:CreateGrant on the key of cluster 'xpander-redshift' ({policy_cases_kms.KEY}) "
        "called by the role itself"
    ) in message


def test_the_pack_names_every_key_for_a_grant_on_star():
    [message] = escalation_messages(
        policy_cases_kms.on_encrypted_cluster(policy_cases_kms.grant("*"))
    )
    # The cluster's key is named first: it is the one the stack encrypts with.
    assert "kms:CreateGrant on the key of cluster 'xpander-redshift'" in message
    [message] = escalation_messages(policy_stacks.with_xpander_policy(policy_cases_kms.grant("*")))
    assert "kms:CreateGrant on every KMS key called by the role itself" in message
