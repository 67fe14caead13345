"""`make import-file`: adopting a deployment built by hand with the manual guide (issue 24).

Expected values come from the guide (reference/xpander-redshift-iam-guide.txt: the names its
commands give), pulumi-aws's `## Import` docs (the id of each type) and pulumi/pulumi's import
file semantics (pkg/cmd/pulumi/operations/import.go parseImportFile: an entry's URN is its
`logicalName` under its parent's qualified type; `parent` names another entry).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.moto_server import reset
from tools import engine, guide_lookup, import_file, plan
from tools.guide_lookup import GuideLookup, GuideLookupError
from tools.import_file import main
from tools.stack_file import load_config

REGION = "us-west-2"
STACK = """\
config:
  aws:region: us-west-2
  xpander-redshift:organizationId: org-4f1c9a2e7b
  xpander-redshift:eksClusterName: xpander
  xpander-redshift:privateSubnetIds:
    - subnet-0a3f5c7e9b1d24680
    - subnet-0b4e6d8f0a2c35791
"""
GIVEN = [
    "--security-group-id",
    "sg-0123456789abcdef0",
    "--ingress-rule-id",
    "sgr-0123456789abcdef0",
    "--association-id",
    "a-abcdefghijklmnop1",
]
# What the guide builds (steps 1-5 and 7) and the import id pulumi-aws documents for each.
GUIDE = {
    ("aws:redshift/subnetGroup:SubnetGroup", "xpander-redshift"),
    ("aws:ec2/securityGroup:SecurityGroup", "sg-0123456789abcdef0"),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "sgr-0123456789abcdef0"),
    ("aws:redshift/cluster:Cluster", "xpander-redshift"),
    ("aws:iam/role:Role", "xpander-redshift-access"),
    ("aws:iam/rolePolicy:RolePolicy", "xpander-redshift-access:RedshiftCredentials"),
    ("aws:iam/rolePolicy:RolePolicy", "xpander-redshift-access:RedshiftDataAPI"),
    ("aws:iam/rolePolicy:RolePolicy", "xpander-redshift-access:SelfAssumeAndTagSession"),
    ("aws:eks/podIdentityAssociation:PodIdentityAssociation", "xpander,a-abcdefghijklmnop1"),
}


def stack_file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(STACK + extra, encoding="utf-8")
    return path


def write_import(tmp_path: Path, *args: str, lookup: GuideLookup | None = None) -> Any:
    out = tmp_path / "import.json"
    code = main(
        ["--config-file", str(stack_file(tmp_path)), "--output", str(out), *args], lookup=lookup
    )
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def real_urns(run: engine.ProgramRun, stack: str) -> dict[str, str]:
    """The program's URNs as the Pulumi engine forms them: the parents' types, all of them, before
    the resource's own (a child of the stack has none). The mock engine keeps the last only."""
    by_urn = {r.urn: r for r in run.resources}

    def qualified(urn: str) -> str:
        r = by_urn[urn]
        return (qualified(r.parent) + "$" if r.parent in by_urn else "") + r.type

    return {
        f"urn:pulumi:{stack}::xpander-redshift::{qualified(r.urn)}::{r.name}": r.type
        for r in run.resources
    }


def import_urns(document: dict[str, Any], stack: str) -> dict[str, str]:
    """Each entry's URN, as parseImportFile forms it."""
    entries = {e["name"]: e for e in document["resources"]}
    assert len(entries) == len(document["resources"]), "entry names must be unique"

    def qualified(entry: dict[str, Any]) -> str:
        parent = entries[entry["parent"]] if "parent" in entry else None
        return (qualified(parent) + "$" if parent else "") + entry["type"]

    return {
        f"urn:pulumi:{stack}::xpander-redshift::{qualified(e)}::{e['logicalName']}": e["type"]
        for e in document["resources"]
    }


def test_every_entry_is_a_resource_the_program_registers(tmp_path: Path) -> None:
    document = write_import(tmp_path, *GIVEN)
    config = load_config(stack_file(tmp_path))
    program = real_urns(engine.run_program(config, stack="prod"), "prod")
    for urn, type_ in import_urns(document, "prod").items():
        assert program.get(urn) == type_, f"{urn} is not registered by the program"
    for entry in document["resources"]:
        assert ("id" in entry) != bool(entry.get("component")), entry
    # No resource of the guide left out, each with the id pulumi-aws's docs give for its type.
    assert {(e["type"], e["id"]) for e in document["resources"] if "id" in e} == GUIDE


def test_ids_that_are_not_names_are_never_guessed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "import.json"
    code = main(["--config-file", str(stack_file(tmp_path)), "--output", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    for flag in ("--security-group-id", "--ingress-rule-id", "--association-id", "--lookup"):
        assert flag in err
    assert "Traceback" not in err


# --- --lookup against moto (EC2, Redshift) and a botocore Stubber (EKS, which moto lacks) -------


def _guide_built(url: str) -> dict[str, str]:
    """The guide's steps 1-3 against moto; returns the ids AWS gave."""
    reset(url)
    kw = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "testing"}
    kw["aws_secret_access_key"] = "testing"
    ec2, redshift = boto3.client("ec2", **kw), boto3.client("redshift", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"]
        for i in (1, 2)
    ]
    eks_sg = ec2.create_security_group(GroupName="eks-cluster-sg", Description="eks", VpcId=vpc)
    sg = ec2.create_security_group(
        GroupName="xpander-redshift-sg",
        Description="Redshift SG - EKS cluster access only",
        VpcId=vpc,
    )["GroupId"]
    rules = ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5439,
                "ToPort": 5439,
                "UserIdGroupPairs": [{"GroupId": eks_sg["GroupId"]}],
            }
        ],
    )["SecurityGroupRules"]
    redshift.create_cluster_subnet_group(
        ClusterSubnetGroupName="xpander-redshift", Description="d", SubnetIds=subnets
    )
    redshift.create_cluster(
        ClusterIdentifier="xpander-redshift",
        ClusterType="single-node",
        NodeType="ra3.xlplus",
        MasterUsername="xpander_admin",
        MasterUserPassword="Example-Passw0rd",
        DBName="xpander_demo",
        ClusterSubnetGroupName="xpander-redshift",
        VpcSecurityGroupIds=[sg],
        Encrypted=True,
        PubliclyAccessible=False,
    )
    return {
        "vpc": vpc,
        "eks_sg": eks_sg["GroupId"],
        "sg": sg,
        "rule": rules[0]["SecurityGroupRuleId"],
    }


def _lookup(url: str, built: dict[str, str]) -> tuple[GuideLookup, Stubber]:
    kw = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "testing"}
    kw["aws_secret_access_key"] = "testing"
    clients = {s: boto3.client(s, **kw) for s in ("ec2", "redshift")}
    eks = boto3.client("eks", **kw)
    stub = Stubber(eks)
    stub.add_response(
        "describe_cluster",
        {
            "cluster": {
                "name": "xpander",
                "resourcesVpcConfig": {
                    "vpcId": built["vpc"],
                    "clusterSecurityGroupId": built["eks_sg"],
                },
            }
        },
        {"name": "xpander"},
    )
    stub.add_response(
        "list_pod_identity_associations",
        {
            "associations": [
                {
                    "clusterName": "xpander",
                    "namespace": "xpander",
                    "serviceAccount": "xpander",
                    "associationId": "a-lookedup0000000001",
                }
            ]
        },
        {"clusterName": "xpander", "namespace": "xpander", "serviceAccount": "xpander"},
    )
    stub.activate()
    clients["eks"] = eks
    return GuideLookup(clients.__getitem__), stub


@pytest.mark.moto
def test_lookup_finds_the_ids_the_guide_left(tmp_path: Path, moto_url: str) -> None:
    built = _guide_built(moto_url)
    lookup, stub = _lookup(moto_url, built)
    base = tmp_path / "adopted.json"
    document = write_import(tmp_path, "--lookup", "--base-plan", str(base), lookup=lookup)
    stub.assert_no_pending_responses()
    ids = {e["type"]: e["id"] for e in document["resources"] if "id" in e}
    assert ids["aws:ec2/securityGroup:SecurityGroup"] == built["sg"]
    assert ids["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"] == built["rule"]
    assert ids["aws:eks/podIdentityAssociation:PodIdentityAssociation"] == (
        "xpander,a-lookedup0000000001"
    )
    (cluster,) = [
        r for r in json.loads(base.read_text())["resources"] if r["type"].endswith("Cluster")
    ]
    assert cluster["inputs"]["nodeType"] == "ra3.xlplus"
    assert cluster["inputs"]["masterUsername"] == "xpander_admin"
    assert cluster["inputs"]["databaseName"] == "xpander_demo"


@pytest.mark.moto
def test_a_lookup_that_finds_nothing_writes_nothing(
    tmp_path: Path, moto_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    built = _guide_built(moto_url)
    lookup, _ = _lookup(moto_url, {**built, "vpc": "vpc-0000000000000000f"})
    out = tmp_path / "import.json"
    argv = ["--config-file", str(stack_file(tmp_path)), "--lookup", "--output", str(out)]
    assert main(argv, lookup=lookup) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "0 security groups named 'xpander-redshift-sg' in vpc-0000000000000000f" in err


def test_lookup_reads_in_the_stack_files_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The guide's resources are where the stack deploys (aws:region), wherever the shell's
    # AWS_REGION points: a lookup in another region would find nothing, or another team's ids.
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    regions: list[str] = []

    def spy(region: str | None) -> GuideLookup:
        made = guide_lookup.boto3_lookup(region)
        regions.append(made._clients("eks").meta.region_name)  # the client it reads with
        raise GuideLookupError("stopped before any AWS call")

    monkeypatch.setattr(import_file, "boto3_lookup", spy)
    out = tmp_path / "import.json"
    argv = ["--config-file", str(stack_file(tmp_path)), "--lookup", "--output", str(out)]
    assert main(argv) == 2
    assert regions == [REGION]
    assert not out.exists()


# --- the adoption plan: `make plan --base` the import-shaped base --------------------------------


def test_the_adoption_plan_changes_in_place_and_refuses_a_new_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "adopted.json"
    write_import(tmp_path, *GIVEN, "--base-plan", str(base))
    capsys.readouterr()
    head = ["--config-file", str(stack_file(tmp_path)), "--markdown", "--base", str(base)]
    assert plan.main(head) == 0
    markdown = capsys.readouterr().out
    assert "REPLACED" not in markdown
    # The guide's ra3.xlplus against the default preference ra3.large: a resize, said as such.
    assert "| `nodeType` | <code>ra3.xlplus</code> | <code>ra3.large</code> |" in markdown
    assert "a new port restarts it): `nodeType`." in markdown

    stack_file(tmp_path, "  xpander-redshift:masterUsername: admin\n")
    assert plan.main(head) == 2
    refused = capsys.readouterr()
    assert "#### +- `xpander-cluster` (aws.redshift.Cluster): REPLACED" in refused.out
    err = refused.err
    assert (
        "xpander-redshift:masterUsername: the cluster 'xpander-cluster' has masterUsername " in err
    )
    assert "'xpander_admin', the stack asks for 'admin'" in err
    assert plan.main([*head, "--allow-cluster-replacement"]) == 0
    assert "#### +- `xpander-cluster` (aws.redshift.Cluster): REPLACED" in capsys.readouterr().out
