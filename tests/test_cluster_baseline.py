"""The new cluster's baseline under the mock engine: parameter group, audit logging, routing,
snapshots, the node type chosen once, the subnets looked up, one ingress rule per source group."""

from __future__ import annotations

import pulumi
import pytest
from google.protobuf import json_format

from model import cluster_baseline as baseline
from tests.stack_helpers import of_type, one, run_stack
from tools import engine
from tools.plan_diff import plan_diff
from tools.plan_markdown import render_markdown

CLUSTER = "aws:redshift/cluster:Cluster"
PARAMETER_GROUP = "aws:redshift/parameterGroup:ParameterGroup"
LOGGING = "aws:redshift/logging:Logging"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
STASH = "pulumi:index:Stash"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
BASELINE = (PARAMETER_GROUP, LOGGING, LOG_GROUP, STASH)


@pytest.fixture(scope="module")
def dev():
    return run_stack()


def test_the_cluster_uses_a_tls_only_parameter_group_with_user_activity_logging(dev):
    group = one(dev, PARAMETER_GROUP)
    assert group.inputs["family"] == "redshift-2.0"  # default.redshift-2.0 since 2025-01-10
    assert group.inputs["name"] == "xpander-redshift-params"
    assert sorted(group.inputs["parameters"], key=lambda p: p["name"]) == [
        {"name": "enable_user_activity_logging", "value": "true"},
        {"name": "require_ssl", "value": "true"},
    ]
    cluster = one(dev, CLUSTER)
    assert cluster.inputs["clusterParameterGroupName"] == "xpander-redshift-params"
    assert group.urn in cluster.property_dependencies["clusterParameterGroupName"]


def test_require_ssl_follows_the_setting():
    group = one(run_stack(requireSsl="false"), PARAMETER_GROUP)
    assert {"name": "require_ssl", "value": "false"} in group.inputs["parameters"]


def test_audit_logs_go_to_three_log_groups_created_before_logging_is_enabled(dev):
    """Redshift exports to /aws/redshift/cluster/<cluster>/<log type> and creates a missing group
    itself, with no retention (Amazon Redshift Management Guide, Database audit logging): the
    stack's groups must exist first, so Logging depends on them."""
    groups = {g.inputs["name"]: g for g in of_type(dev, LOG_GROUP)}
    assert sorted(groups) == [
        "/aws/redshift/cluster/xpander-redshift/connectionlog",
        "/aws/redshift/cluster/xpander-redshift/useractivitylog",
        "/aws/redshift/cluster/xpander-redshift/userlog",
    ]
    assert {g.inputs["retentionInDays"] for g in groups.values()} == {365}
    logging = one(dev, LOGGING)
    assert logging.inputs["logDestinationType"] == "cloudwatch"
    assert sorted(logging.inputs["logExports"]) == ["connectionlog", "useractivitylog", "userlog"]
    assert {g.urn for g in groups.values()} <= set(logging.dependencies)
    cluster = one(dev, CLUSTER)
    assert cluster.urn in logging.property_dependencies["clusterIdentifier"]
    assert "logging" not in cluster.inputs  # the deprecated inline block stays unused


def test_log_retention_follows_the_setting():
    run = run_stack(auditLogRetentionDays="90")
    assert {g.inputs["retentionInDays"] for g in of_type(run, LOG_GROUP)} == {90}


def test_audit_logs_to_s3_use_the_named_bucket_and_create_no_log_group():
    run = run_stack(
        auditLogging="s3", auditLogBucket="audit-logs-111122223333", auditLogS3KeyPrefix="redshift/"
    )
    logging = one(run, LOGGING)
    assert logging.inputs["logDestinationType"] == "s3"
    assert logging.inputs["bucketName"] == "audit-logs-111122223333"
    assert logging.inputs["s3KeyPrefix"] == "redshift/"
    assert "logExports" not in logging.inputs
    assert not of_type(run, LOG_GROUP)


def test_no_audit_logging_when_turned_off():
    run = run_stack(auditLogging="none")
    assert not of_type(run, LOGGING) and not of_type(run, LOG_GROUP)
    assert one(run, PARAMETER_GROUP)  # TLS stays on


def test_routing_snapshots_upgrades_and_multi_az_defaults_and_settings(dev):
    inputs = one(dev, CLUSTER).inputs
    assert inputs["enhancedVpcRouting"] is True
    assert inputs["automatedSnapshotRetentionPeriod"] == 7
    assert inputs["allowVersionUpgrade"] is True
    assert inputs["multiAz"] is False
    changed = one(
        run_stack(
            enhancedVpcRouting="false",
            automatedSnapshotRetentionDays="35",
            allowVersionUpgrade="false",
            numberOfNodes="2",
            multiAz="true",
        ),
        CLUSTER,
    ).inputs
    assert changed["enhancedVpcRouting"] is False
    assert changed["automatedSnapshotRetentionPeriod"] == 35
    assert changed["allowVersionUpgrade"] is False
    assert changed["multiAz"] is True


def test_an_existing_cluster_gets_no_baseline_resource():
    run = run_stack(existingClusterIdentifier="analytics-prod")
    for type_token in BASELINE:
        assert not of_type(run, type_token), type_token


def test_role_policies_and_pod_identity_wait_for_no_cluster_or_baseline_resource(dev):
    by_urn = {r.urn: r for r in dev.resources}
    slow = {r.urn for r in dev.resources if r.type in (CLUSTER, *BASELINE)}
    for type_token in (
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    ):
        for resource in of_type(dev, type_token):
            seen, todo = set(), list(resource.dependencies)
            while todo:
                urn = todo.pop()
                if urn not in seen:
                    seen.add(urn)
                    todo.extend(by_urn[urn].dependencies if urn in by_urn else [])
            assert not slow & seen, resource.name


# --- the node type, chosen once ---------------------------------------------------------------


def _replacement_triggers(monkeypatch):
    """The replacementTrigger each registration carries (the mock engine does not record it)."""
    seen: dict[str, object] = {}
    original = engine.RecordingMonitor.RegisterResource

    def record(self, request):
        if request.HasField("replacement_trigger"):
            seen[request.name] = json_format.MessageToDict(request.replacement_trigger)
        return original(self, request)

    monkeypatch.setattr(engine.RecordingMonitor, "RegisterResource", record)
    return seen


def test_the_node_type_is_stashed_and_the_stash_is_replaced_only_when_node_types_change(
    monkeypatch,
):
    """A Stash keeps the value of its first create in its output whatever its input becomes; a
    change of its replacementTrigger replaces it (Pulumi docs: Stash; replacementTrigger). So a
    lookup that later answers a higher-ranked type changes the Stash's input only, never the
    cluster; editing nodeTypes replaces the Stash and the plan shows the resize.

    What the mocks cannot show: the engine keeping the old output on update and computing a new
    one on replacement; that is Pulumi's Stash contract, not code of ours.
    """
    triggers = _replacement_triggers(monkeypatch)
    run = run_stack(nodeTypes='["ra3.xlplus", "ra3.large"]')
    stash = one(run, STASH)
    assert stash.inputs["input"] == "ra3.xlplus"  # the lookup's answer (the mock: first listed)
    assert triggers[stash.name] == ["ra3.xlplus", "ra3.large"]
    cluster = one(run, CLUSTER)
    assert cluster.inputs["nodeType"] == "ra3.xlplus"
    assert stash.urn in cluster.property_dependencies["nodeType"]


def test_the_stash_name_does_not_depend_on_the_node_types():
    """Renaming the Stash with the list would delete and re-create it: same effect, noisier plan;
    the trigger is what must change, the resource's identity must not."""
    a = one(run_stack(nodeTypes='["ra3.large"]'), STASH)
    b = one(run_stack(nodeTypes='["ra3.xlplus"]'), STASH)
    assert a.urn == b.urn


# --- subnets ------------------------------------------------------------------------------------


def _subnets(vpc_of, zone_of):
    return {
        "aws:ec2/getSubnet:getSubnet": lambda a: {
            "id": a["id"],
            "vpcId": vpc_of(a["id"]),
            "availabilityZone": zone_of(a["id"]),
        }
    }


def test_a_subnet_of_another_vpc_is_refused_naming_the_key_the_subnet_and_both_vpcs():
    invokes = _subnets(
        lambda s: "vpc-0fff0000000000000" if s.startswith("subnet-0b") else "vpc-<eks-cluster-vpc>",
        lambda s: f"us-west-2{s[-1]}",
    )
    with pytest.raises(pulumi.RunError) as failure:
        run_stack(invokes=invokes)
    message = str(failure.value)
    assert "xpander-redshift:privateSubnetIds" in message
    assert "subnet-0b4e6d8f0a2c35791 is in VPC vpc-0fff0000000000000" in message
    assert "vpc-<eks-cluster-vpc>" in message
    assert "subnet-0a3f5c7e9b1d24680" not in message


def test_subnets_are_checked_against_the_given_vpc_when_set():
    invokes = _subnets(lambda s: "vpc-<eks-cluster-vpc>", lambda s: f"us-west-2{s[-1]}")
    with pytest.raises(pulumi.RunError, match="not in vpc-0123456789abcdef0"):
        run_stack(invokes=invokes, vpcId="vpc-0123456789abcdef0")


def test_subnets_in_one_zone_get_a_redshift_16_warning_and_two_zones_none(monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    one_zone = _subnets(lambda s: "vpc-<eks-cluster-vpc>", lambda s: "us-west-2a")
    run = run_stack(invokes=one_zone)
    assert one(run, "aws:redshift/subnetGroup:SubnetGroup")  # an advisory, not an error
    assert len(warnings) == 1 and "Redshift.16" in warnings[0] and "us-west-2a" in warnings[0]
    warnings.clear()
    run_stack(invokes=_subnets(lambda s: "vpc-<eks-cluster-vpc>", lambda s: f"us-west-2{s[-1]}"))
    assert warnings == []


def test_each_subnet_is_looked_up_once(dev):
    looked_up = [a["id"] for t, a in dev.invokes if t == "aws:ec2/getSubnet:getSubnet"]
    assert sorted(looked_up) == ["subnet-0a3f5c7e9b1d24680", "subnet-0b4e6d8f0a2c35791"]


# --- source security groups -----------------------------------------------------------------------

GROUPS = ["sg-0123456789abcdef0", "sg-0fedcba9876543210"]


def test_one_ingress_rule_per_source_group_and_none_from_the_eks_group_then():
    run = run_stack(sourceSecurityGroupIds=f'["{GROUPS[0]}", "{GROUPS[1]}"]')
    rules = of_type(run, INGRESS)
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == GROUPS
    assert all(r.inputs["fromPort"] == r.inputs["toPort"] == 5439 for r in rules)


def test_adding_a_source_group_keeps_the_other_rules_names():
    one_group = run_stack(sourceSecurityGroupIds=f'["{GROUPS[0]}"]')
    two_groups = run_stack(sourceSecurityGroupIds=f'["{GROUPS[0]}", "{GROUPS[1]}"]')
    before = {r.urn for r in of_type(one_group, INGRESS)}
    after = {r.urn for r in of_type(two_groups, INGRESS)}
    assert before < after


def test_source_groups_apply_to_an_existing_cluster_too():
    run = run_stack(
        existingClusterIdentifier="analytics-prod",
        existingSecurityGroupId="sg-0aaaaaaaaaaaaaaaa",
        sourceSecurityGroupIds=f'["{GROUPS[1]}"]',
    )
    rule = one(run, INGRESS)
    assert rule.inputs["securityGroupId"] == "sg-0aaaaaaaaaaaaaaaa"
    assert rule.inputs["referencedSecurityGroupId"] == GROUPS[1]


def test_the_default_eks_rule_keeps_its_name_and_description_so_deployed_stacks_see_no_change(dev):
    rule = one(dev, INGRESS)
    assert rule.name == "xpander-network-ingress-from-eks"
    assert rule.inputs["description"] == "Redshift port from the EKS cluster security group"
    assert rule.inputs["referencedSecurityGroupId"] == "sg-<eks-cluster-security-group>"


# --- static parameters: pending until a reboot ---------------------------------------------------


def _group_plan(require_ssl: str) -> dict:
    group = {
        "urn": "urn:pulumi:dev::xpander-redshift::aws:redshift/parameterGroup:ParameterGroup::g",
        "type": PARAMETER_GROUP,
        "name": "xpander-cluster-params",
        "parent": None,
        "inputs": {
            "family": "redshift-2.0",
            "parameters": [
                {"name": "require_ssl", "value": require_ssl},
                {"name": "enable_user_activity_logging", "value": "true"},
            ],
        },
        "dependencies": [],
        "protect": False,
    }
    return {"project": "xpander-redshift", "stack": "dev", "resources": [group], "outputs": {}}


def test_a_changed_static_parameter_is_flagged_as_needing_a_reboot():
    """require_ssl and enable_user_activity_logging are static: the running cluster applies a new
    value at its next reboot (ModifyCluster API reference), so the pull-request view says so."""
    diff = plan_diff(_group_plan("true"), _group_plan("false"))
    [change] = diff.changed
    assert change.reboot_parameters == ("require_ssl",)
    text = render_markdown(_group_plan("false"), base=_group_plan("true"))
    assert "**Needs a reboot:** `require_ssl`" in text
    assert "Needs a reboot" not in render_markdown(_group_plan("true"), base=_group_plan("true"))


def _cluster_plan(group: str | None) -> dict:
    inputs = {"clusterIdentifier": "xpander-redshift", "nodeType": "ra3.large"}
    if group is not None:
        inputs["clusterParameterGroupName"] = group
    cluster = {
        "urn": "urn:pulumi:dev::xpander-redshift::aws:redshift/cluster:Cluster::c",
        "type": "aws:redshift/cluster:Cluster",
        "name": "xpander-redshift",
        "parent": None,
        "inputs": inputs,
        "dependencies": [],
        "protect": False,
    }
    return {"project": "xpander-redshift", "stack": "dev", "resources": [cluster], "outputs": {}}


def test_a_cluster_attached_to_the_stacks_group_needs_a_reboot():
    """An adopted guide cluster moves from its default group to the stack's: the new group's
    parameters take effect at the next reboot too (ModifyCluster, ClusterParameterGroupName)."""
    [change] = plan_diff(_cluster_plan(None), _cluster_plan("xpander-redshift-params")).changed
    assert change.reboot_parameters == ("require_ssl", "enable_user_activity_logging")
    text = render_markdown(_cluster_plan("xpander-redshift-params"), base=_cluster_plan(None))
    assert "**Needs a reboot:** `require_ssl`, `enable_user_activity_logging`" in text
    same = plan_diff(_cluster_plan("g"), _cluster_plan("g")).changed
    assert same == () or all(not c.reboot_parameters for c in same)


def test_only_static_parameters_that_change_need_a_reboot():
    on = [{"name": "require_ssl", "value": "true"}]
    assert baseline.parameters_needing_reboot(on, on) == []
    off = [{"name": "require_ssl", "value": "false"}]
    assert baseline.parameters_needing_reboot(on, off) == ["require_ssl"]
    assert baseline.reboot_command("c1", "eu-west-1") == (
        "aws redshift reboot-cluster --cluster-identifier c1 --region eu-west-1"
    )
