"""Every registered input and invoke argument, as the installed pulumi-aws SDK declares them.

The mock engine accepts any value, so a wrong type (pulumi-aws 7 declares `Cluster.encrypted` a
string, the program once passed a boolean) or a missing required input only fails at `pulumi up`.
This reads the types, required inputs and enums from the installed SDK (tests/sdk_types.py) and
checks each stack shape the settings can produce.
"""

from __future__ import annotations

import json

import pytest

from tests.sdk_types import invoke_problems, resource_problems
from tests.stack_helpers import run_stack

SHAPES = {
    "dev": {},
    "s3-audit-logs": {"auditLogging": "s3", "auditLogBucket": "audit-logs-111122223333"},
    "no-audit-logs": {"auditLogging": "none"},
    "multi-node": {
        "numberOfNodes": "2",
        "multiAz": "true",
        "kmsKeyId": ("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    },
    "source-groups": {"sourceSecurityGroupIds": '["sg-0123456789abcdef0"]'},
    "agent-and-job": {"installPodIdentityAgent": "true", "userProvisioner": "kubernetes-job"},
    "existing-cluster": {
        "existingClusterIdentifier": "analytics-prod",
        "existingSecurityGroupId": "sg-0123456789abcdef0",
    },
    "connectors": {
        "connectors": json.dumps([{"name": "sales", "roleName": "xpander-sales"}]),
        "credentialsDbUsers": '["reporting"]',
    },
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_aws_input_and_invoke_argument_has_the_declared_type(shape):
    run = run_stack(**SHAPES[shape])
    aws_resources = [r for r in run.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources
    problems = [p for r in aws_resources for p in resource_problems(r.type, r.inputs)]
    problems += [
        p
        for token, args in run.invokes
        if token.startswith("aws:")
        for p in invoke_problems(token, args)
    ]
    assert not problems, "\n".join(problems)


def test_the_checker_refuses_a_boolean_where_the_sdk_declares_a_string():
    """`encrypted=True`, the bug this test was written for, is caught; so are missing inputs."""
    problems = resource_problems(
        "aws:redshift/cluster:Cluster", {"clusterIdentifier": "x", "encrypted": True}
    )
    assert any("encrypted" in p and "not one of the declared types" in p for p in problems)
    assert any("'nodeType' missing" in p for p in problems)


def test_the_checker_refuses_unknown_inputs_wrong_nested_types_and_invoke_arguments():
    problems = resource_problems(
        "aws:redshift/parameterGroup:ParameterGroup",
        {"family": "redshift-1.0", "parameters": [{"name": "require_ssl", "value": True}], "x": 1},
    )
    assert any("parameters[0].value" in p for p in problems)
    assert any("'x' is not an input" in p for p in problems)
    assert invoke_problems("aws:ec2/getSubnet:getSubnet", {"id": 7})
    orderable = "aws:redshift/getOrderableCluster:getOrderableCluster"
    assert invoke_problems(orderable, {"nodeTypes": []})
    assert not invoke_problems("aws:ec2/getSubnet:getSubnet", {"id": "subnet-0a3f5c7e9b1d24680"})
