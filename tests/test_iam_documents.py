"""The role's trust policy and permission policies, as pure documents."""

from __future__ import annotations

import pytest

from model import iam_documents
from model.config_keys import Settings
from tests.stack_helpers import EXAMPLE_SETTINGS

BASE = EXAMPLE_SETTINGS
ACCOUNT = "123456789012"


def docs(settings: Settings = BASE, partition: str = "aws") -> iam_documents.RoleDocuments:
    return iam_documents.role_documents(settings, partition=partition, account_id=ACCOUNT)


def statements(document):
    return {s["Sid"]: s for s in document["Statement"]}


def test_trust_policy_has_exactly_the_guides_three_statements():
    trust = docs().trust_policy
    assert [s["Sid"] for s in trust["Statement"]] == list(iam_documents.TRUST_SIDS)
    for statement in trust["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]


def test_pod_identity_statement_trusts_the_eks_pods_service():
    pod = statements(docs().trust_policy)["PodIdentity"]
    assert pod["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert "Condition" not in pod


def test_cross_account_statement_requires_the_organization_id_as_external_id():
    cross = statements(docs().trust_policy)["CrossAccountWithExternalId"]
    assert cross["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert cross["Condition"] == {"StringEquals": {"sts:ExternalId": "org-4f1c9a2e7b"}}


def test_cross_account_statement_trusts_the_platform_account_when_given():
    settings = Settings(**{**BASE.__dict__, "platform_account_id": "210987654321"})
    cross = statements(docs(settings).trust_policy)["CrossAccountWithExternalId"]
    assert cross["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}


def test_self_assume_works_before_the_role_exists_and_has_no_external_id():
    """IAM refuses a role ARN principal until the role exists; account root + PrincipalArn works."""
    self_assume = statements(docs().trust_policy)["SelfAssume"]
    assert self_assume["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert self_assume["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-access"}
    }
    assert "sts:ExternalId" not in str(self_assume)


def test_role_arn_carries_the_path():
    settings = Settings(**{**BASE.__dict__, "role_path": "/xpander/agents/"})
    documents = docs(settings)
    expected = f"arn:aws:iam::{ACCOUNT}:role/xpander/agents/xpander-redshift-access"
    assert documents.role_arn == expected
    assert statements(documents.trust_policy)["SelfAssume"]["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": expected
    }
    assert documents.policies["SelfAssumeAndTagSession"]["Statement"][0]["Resource"] == expected


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_every_arn_uses_the_partition(partition):
    documents = docs(partition=partition)
    text = str([documents.trust_policy, documents.policies])
    assert f"arn:{partition}:" in text
    assert text.count("arn:") == text.count(f"arn:{partition}:")


def test_three_permission_policies_with_the_guides_names():
    assert list(docs().policies) == [
        "RedshiftCredentials",
        "RedshiftDataAPI",
        "SelfAssumeAndTagSession",
    ]


def test_credentials_are_scoped_to_cluster_and_dbname_with_no_dbuser_statement_by_default():
    credentials = statements(docs().policies["RedshiftCredentials"])
    prefix = f"arn:aws:redshift:us-west-2:{ACCOUNT}"
    assert credentials["DescribeCluster"]["Action"] == ["redshift:DescribeClusters"]
    assert credentials["DescribeCluster"]["Resource"] == [f"{prefix}:cluster:xpander-redshift"]
    assert credentials["CredentialsAsIamIdentity"]["Action"] == [
        "redshift:GetClusterCredentialsWithIAM"
    ]
    assert credentials["CredentialsAsIamIdentity"]["Resource"] == [
        f"{prefix}:dbname:xpander-redshift/xpander_demo"
    ]
    # GetClusterCredentials refuses a DbUser with ':' (botocore's redshift model, DbUser
    # constraints), so no statement can serve IAMR: users: none exists unless users are named.
    assert "CredentialsForDatabaseUsers" not in credentials
    actions = [a for s in credentials.values() for a in s["Action"]]
    assert sorted(actions) == sorted(
        ["redshift:GetClusterCredentialsWithIAM", "redshift:DescribeClusters"]
    )
    assert "*" not in str([s["Resource"] for s in credentials.values()])


def test_credentials_db_users_wildcard_restores_the_guides_dbuser_star():
    settings = Settings(**{**BASE.__dict__, "credentials_db_users": ("*",)})
    credentials = statements(docs(settings).policies["RedshiftCredentials"])
    assert credentials["CredentialsForDatabaseUsers"]["Resource"][0].endswith(
        ":dbuser:xpander-redshift/*"
    )


def test_data_api_policy_has_the_guides_ten_actions_scoped_to_the_cluster_where_aws_allows():
    data_api = statements(docs().policies["RedshiftDataAPI"])
    on_cluster, own_statements = data_api["DataApiOnCluster"], data_api["DataApiOwnStatements"]
    assert on_cluster["Resource"] == [
        f"arn:aws:redshift:us-west-2:{ACCOUNT}:cluster:xpander-redshift"
    ]
    assert own_statements["Resource"] == "*"
    guide = {
        "ExecuteStatement",
        "GetStatementResult",
        "DescribeStatement",
        "ListStatements",
        "CancelStatement",
        "BatchExecuteStatement",
        "ListDatabases",
        "ListSchemas",
        "ListTables",
        "DescribeTable",
    }
    actions = on_cluster["Action"] + own_statements["Action"]
    assert sorted(actions) == sorted(f"redshift-data:{a}" for a in guide)
    assert set(own_statements["Action"]) == {
        "redshift-data:DescribeStatement",
        "redshift-data:GetStatementResult",
        "redshift-data:CancelStatement",
        "redshift-data:ListStatements",
    }


def test_self_assume_policy_allows_assume_and_tag_session_on_the_role_itself():
    (statement,) = docs().policies["SelfAssumeAndTagSession"]["Statement"]
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-access"
