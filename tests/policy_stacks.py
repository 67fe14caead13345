"""Crafted stacks for the pack, in the offline plan's shape (type, name, urn, inputs, edges).

`base()` is the stack's own shape, built from the documents `model.iam_documents` really makes:
the xpander role (under its component), its three RolePolicies, a private cluster with its
parameter group, logging, security group and ingress from the EKS group, and the pod identity
association. Each case adds or changes a few resources; the same list goes to
`tools.policy_check.evaluate` and, through `tests.test_policies.served_violations`, to the real
policy server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from model.settings import PROJECT
from policies import stack_view as types
from policies.values import COMPUTED
from tests.test_policies import ACCOUNT, DOCS, SETTINGS

Resource = dict[str, Any]
STRANGER = "999988887777"
CLUSTER_ID = SETTINGS.cluster_identifier
MASTER = "xpander_admin"
ROLE_NAME = SETTINGS.role_name
ROLE_ARN = DOCS.role_arn
REDSHIFT = f"arn:aws:redshift:us-west-2:{ACCOUNT}"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::{PROJECT}::{type_}::{name}"


def res(
    type_: str,
    name: str,
    inputs: Mapping[str, Any],
    *,
    edges: Mapping[str, Sequence[str]] | None = None,
    parent: str = "",
) -> Resource:
    """A planned resource; `edges` maps a property to the URNs its value comes from."""
    edges = dict(edges or {})
    return {
        "type": type_,
        "name": name,
        "urn": urn(type_, name),
        "inputs": dict(inputs),
        "parent": parent,
        "dependencies": sorted({u for urns in edges.values() for u in urns}),
        "propertyDependencies": edges,
    }


def document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ROLE_COMPONENT = res("xpander:redshift:XpanderAccessRole", "xpander-role", {})
CLUSTER_COMPONENT = res("xpander:redshift:RedshiftCluster", "xpander-cluster", {})
ROLE_URN = urn(types.ROLE, "xpander-role")
CLUSTER_URN = urn(types.CLUSTER, "xpander-cluster")
SG_URN = urn(types.SECURITY_GROUP, "xpander-sg")
PIA = "aws:eks/podIdentityAssociation:PodIdentityAssociation"


def role(name: str, trust: Mapping[str, Any], *, resource: str = "", **inputs: Any) -> Resource:
    return res(
        types.ROLE,
        resource or name,
        {"name": name, "path": "/", "assumeRolePolicy": json.dumps(trust), **inputs},
    )


def role_policy(name: str, role_resource: Resource, *statements: Mapping[str, Any]) -> Resource:
    return res(
        types.ROLE_POLICY,
        f"{role_resource['name']}-{name}",
        {"name": name, "role": COMPUTED, "policy": document(*statements)},
        edges={"role": [role_resource["urn"]]},
    )


def pod_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def cluster_resources(name: str, identifier: str, *, parent: str = "") -> list[Resource]:
    sg, params = f"{name}-sg", f"{name}-params"
    return [
        res(types.SECURITY_GROUP, sg, {"name": sg, "vpcId": "vpc-1"}),
        res(
            types.INGRESS_RULE,
            f"{name}-ingress",
            {
                "ipProtocol": "tcp",
                "fromPort": 5439,
                "toPort": 5439,
                "referencedSecurityGroupId": "sg-0eks",
                "securityGroupId": COMPUTED,
            },
            edges={"securityGroupId": [urn(types.SECURITY_GROUP, sg)]},
        ),
        res(
            types.PARAMETER_GROUP,
            params,
            {
                "name": params,
                "family": "redshift-1.0",
                "parameters": [{"name": "require_ssl", "value": "true"}],
            },
        ),
        res(
            types.CLUSTER,
            name,
            {
                "clusterIdentifier": identifier,
                "databaseName": SETTINGS.database_name,
                "nodeType": "ra3.large",
                "port": 5439,
                "publiclyAccessible": False,
                "encrypted": True,
                "enhancedVpcRouting": True,
                "automatedSnapshotRetentionPeriod": 7,
                "manageMasterPassword": True,
                "masterUsername": MASTER,
                "skipFinalSnapshot": False,
                "finalSnapshotIdentifier": f"{identifier}-final-snapshot",
                "clusterParameterGroupName": params,
                "vpcSecurityGroupIds": [COMPUTED],
            },
            edges={"vpcSecurityGroupIds": [urn(types.SECURITY_GROUP, sg)]},
            parent=parent,
        ),
        res(
            types.LOGGING,
            f"{name}-logging",
            {
                "clusterIdentifier": identifier,
                "logDestinationType": "cloudwatch",
                "logExports": ["connectionlog", "userlog", "useractivitylog"],
            },
        ),
    ]


def base() -> list[Resource]:
    """The stack's own shape: every mandatory rule passes on it."""
    xpander = role(ROLE_NAME, DOCS.trust_policy, resource="xpander-role")
    xpander["parent"] = ROLE_COMPONENT["urn"]
    return [
        ROLE_COMPONENT,
        CLUSTER_COMPONENT,
        xpander,
        *(
            res(
                types.ROLE_POLICY,
                f"xpander-role-{name}",
                {"name": name, "role": COMPUTED, "policy": json.dumps(doc)},
                edges={"role": [ROLE_URN]},
            )
            for name, doc in DOCS.policies.items()
        ),
        *cluster_resources("xpander-cluster", CLUSTER_ID, parent=CLUSTER_COMPONENT["urn"]),
        res(
            PIA,
            "xpander-pod-identity",
            {
                "clusterName": "eks",
                "namespace": "xpander",
                "serviceAccount": "xpander",
                "roleArn": COMPUTED,
                "tags": {"Name": "xpander/xpander"},
            },
            edges={"roleArn": [ROLE_URN]},
        ),
    ]


def replace(resources: list[Resource], name: str, **inputs: Any) -> list[Resource]:
    """`resources` with the inputs of the resource called `name` updated."""
    for resource in resources:
        if resource["name"] == name:
            resource["inputs"].update(inputs)
            return resources
    raise KeyError(name)


# --- the cases: each a stack and the mandatory rules it must violate -----------------------------

Case = tuple[Callable[[], list[Resource]], set[str]]
CASES: dict[str, Case] = {}


def case(name: str, expected: set[str]) -> Callable[[Callable[[], list[Resource]]], Any]:
    def register(build: Callable[[], list[Resource]]) -> Callable[[], list[Resource]]:
        CASES[name] = (build, expected)
        return build

    return register


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def with_xpander_policy(*statements: dict[str, Any]) -> list[Resource]:
    stack = base()
    xpander = next(r for r in stack if r["urn"] == ROLE_URN)
    return [*stack, role_policy("Extra", xpander, *statements)]


def log_shipper(*statements: dict[str, Any], **inputs: Any) -> list[Resource]:
    shipper = role("log-shipper", pod_trust(), **inputs)
    extra = [role_policy("Logs", shipper, *statements)] if statements else []
    pia = res(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "log-shipper",
        {"clusterName": "eks", "namespace": "logging", "serviceAccount": "fluent-bit"},
        edges={"roleArn": [shipper["urn"]]},
    )
    return [*base(), shipper, *extra, pia]
