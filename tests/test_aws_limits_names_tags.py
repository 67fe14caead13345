"""AWS's rules on the names the stack derives from clusterIdentifier and on the tags it sends,
checked by the gate: at the limit accepted, one past refused naming the key, the limit and its
source. The limits are AWS's, written here as AWS states them:

- EC2 CreateSecurityGroup GroupName: "Can't start with sg-" (botocore ec2 service model).
- Redshift CreateClusterSubnetGroup ClusterSubnetGroupName: "Must not be Default", stored in
  lower case (botocore redshift service model).
- EC2 tag keys: "a maximum of 127 Unicode characters" (botocore ec2 `Tag` Key); IAM, Redshift,
  CloudWatch Logs and EKS take 128.
- IAM tag keys are case-insensitive: CreateRole answers "Duplicate tag keys found. Please note that
  Tag keys are case insensitive." (IAM User Guide, tags for IAM resources, case sensitivity).
- IAM tag values match `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*` (botocore iam tagValueType), while IAM
  role names may hold a comma (roleNameType `[\\w+=,.@-]+`): the role's Name tag is its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from model.settings import SettingsError, parse_settings
from tools import plan

BASE: dict[str, Any] = {
    "organizationId": "org-4f1c9a2e7b",
    "eksClusterName": "xpander-dev",
    "privateSubnetIds": ["subnet-0a3f5c7e9b1d24680"],
}
EXISTING: dict[str, Any] = {
    "organizationId": "org-4f1c9a2e7b",
    "eksClusterName": "xpander-dev",
    "existingClusterIdentifier": "analytics-main",
}


def gate(base: dict[str, Any] = BASE, **settings: Any) -> Any:
    return parse_settings({**base, **settings}, region="us-west-2")


def refused(base: dict[str, Any] = BASE, **settings: Any) -> str:
    with pytest.raises(SettingsError) as err:
        gate(base, **settings)
    return "\n".join(err.value.problems)


# --- names derived from clusterIdentifier --------------------------------------------------------


def test_an_identifier_that_names_the_security_group_sg_something_is_refused() -> None:
    gate(clusterIdentifier="sgdata")  # 'sgdata-sg': not the sg- prefix
    gate(clusterIdentifier="s-g")
    problem = refused(clusterIdentifier="sg-data")
    assert problem.startswith("xpander-redshift:clusterIdentifier = 'sg-data':")
    assert "'sg-data-sg'" in problem and "sg-" in problem
    assert "CreateSecurityGroup" in problem and "botocore ec2" in problem


def test_an_identifier_that_names_the_subnet_group_default_is_refused() -> None:
    gate(clusterIdentifier="default1")
    gate(clusterIdentifier="defaul")
    problem = refused(clusterIdentifier="default")
    assert problem.startswith("xpander-redshift:clusterIdentifier = 'default':")
    assert "CreateClusterSubnetGroup" in problem and "Default" in problem


def test_an_existing_cluster_of_either_name_is_used_as_it_is() -> None:
    # No security group or subnet group is created for it: CreateCluster allows both names.
    for name in ("sg-data", "default"):
        assert gate(EXISTING, existingClusterIdentifier=name).cluster_identifier == name


# --- tag keys ------------------------------------------------------------------------------------


def test_tag_keys_are_at_most_127_characters_where_the_stack_tags_ec2() -> None:
    gate(tags={"k" * 127: "v"})
    problem = refused(tags={"k" * 128: "v"})
    assert problem.startswith("xpander-redshift:tags = ")
    assert "128 characters" in problem and "127" in problem and "botocore ec2" in problem
    # With an existing cluster, the ingress rules go into existingSecurityGroupId: EC2 again.
    with_group = {**EXISTING, "existingSecurityGroupId": "sg-0abc1234def567890"}
    gate(with_group, tags={"k" * 127: "v"})
    assert "127" in refused(with_group, tags={"k" * 128: "v"})


def test_without_ec2_resources_a_tag_key_takes_the_128_of_the_other_services() -> None:
    gate(EXISTING, tags={"k" * 128: "v"})  # role, association: IAM and EKS take 128
    assert "1-128" in refused(EXISTING, tags={"k" * 129: "v"})


def test_a_name_key_in_another_case_would_be_a_second_name_tag_on_the_role() -> None:
    problem = refused(tags={"name": "analytics"})
    assert problem.startswith('xpander-redshift:tags = \'["Name", "name"]\'')
    assert "case-insensitive" in problem and "Duplicate tag keys found" in problem
    assert "name yours Name" in problem
    gate(tags={"Name": "analytics"})  # the user's own Name replaces the stack's


def test_two_tag_keys_that_differ_only_in_case_are_refused() -> None:
    gate(tags={"Env": "a", "Team": "b"})
    problem = refused(tags={"Env": "a", "env": "b"})
    assert '["Env", "env"]' in problem and "IAM" in problem and "keep one of them" in problem
    assert "case-insensitive" in refused(tags={"Name": "a", "NAME": "b"})


# --- the role's Name tag -------------------------------------------------------------------------


def test_a_role_name_with_a_comma_is_refused_as_the_roles_name_tag() -> None:
    gate(roleName="xpander.redshift+access=a@b")  # every other character of roleNameType fits
    problem = refused(roleName="xpander,redshift")
    assert problem.startswith("xpander-redshift:roleName = 'xpander,redshift':")
    assert "Name tag" in problem and "botocore iam tagValueType" in problem
    gate(roleName="xpander,redshift", tags={"Name": "xpander"})  # then the role's Name is yours


def test_a_connectors_role_name_is_named_by_its_connector() -> None:
    connectors = [{"name": "sales", "roleName": "sales,eu", "serviceAccount": "sales"}]
    assert refused(connectors=connectors).startswith(
        "xpander-redshift:connectors[sales].roleName = 'sales,eu':"
    )


# --- through the plan tool: exit 2, one line per problem, nothing registered ---------------------


def test_the_plan_exits_2_naming_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {f"xpander-redshift:{key}": value for key, value in BASE.items()}
    config |= {
        "aws:region": "us-west-2",
        "xpander-redshift:clusterIdentifier": "sg-data",
        "xpander-redshift:tags": {"k" * 128: "v", "name": "x"},
    }
    path = tmp_path / "Pulumi.limits.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    assert plan.main(["--config-file", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3, lines
    assert "Traceback" not in err
    assert lines[0].startswith("xpander-redshift:clusterIdentifier = 'sg-data': names the")
    assert sum("xpander-redshift:tags = " in line for line in lines) == 2
