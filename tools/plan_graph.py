"""The plan's resources as a graph: hierarchy, a deploy's schedule, its critical path, Mermaid.

Pure functions of the plan JSON, every list in a fixed order, so a plan always draws the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.plan_views import short_type

Plan = dict[str, Any]
Resource = Mapping[str, Any]

# Typical time to create one resource, in seconds, by Pulumi type token: estimates for reading the
# shape of a deploy, not measurements. The basis of each is on its line. Types not listed take
# DEFAULT_CREATE_SECONDS; components and providers take no time.
TYPICAL_CREATE_SECONDS: dict[str, int] = {
    # The guide, step 3: "Wait for the cluster (~5-10 minutes)". The upper end: `pulumi up`
    # waits until the cluster is available.
    "aws:redshift/cluster:Cluster": 600,
    # One synchronous API call each (CreateClusterSubnetGroup; CreateSecurityGroup plus the
    # provider's revoke of the default egress rule; AuthorizeSecurityGroupIngress): seconds.
    "aws:redshift/subnetGroup:SubnetGroup": 5,
    "aws:ec2/securityGroup:SecurityGroup": 5,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2,
    # The cluster baseline: CreateClusterParameterGroup then ModifyClusterParameterGroup,
    # CreateLogGroup then PutRetentionPolicy, EnableLogging: synchronous calls, seconds each. A
    # Stash is kept by the engine itself: no API call.
    "aws:redshift/parameterGroup:ParameterGroup": 5,
    "aws:cloudwatch/logGroup:LogGroup": 2,
    "aws:redshift/logging:Logging": 5,
    "pulumi:index:Stash": 0,
    # CreateRole / PutRolePolicy are synchronous; the provider adds a few seconds of retries while
    # IAM propagates the new role.
    "aws:iam/role:Role": 10,
    "aws:iam/rolePolicy:RolePolicy": 5,
    # CreatePodIdentityAssociation is synchronous: seconds (EKS checks iam:PassRole on the role).
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": 10,
    # An EKS add-on is created, then polled until ACTIVE: about 1-2 minutes.
    "aws:eks/addon:Addon": 90,
    # The data-api provisioner: one BatchExecuteStatement, polled until FINISHED; a few seconds on
    # an idle cluster, with room for the first connection to a new cluster.
    "pulumi-python:dynamic/xpander:IamrUser": 30,
    # The static parameters' create: one DescribeClusters (it never reboots on create).
    "pulumi-python:dynamic/xpander:StaticParameters": 2,
    # The kubernetes-job provisioner: API objects in seconds; the Job pulls the psql image and runs
    # to completion in about a minute.
    "kubernetes:core/v1:Secret": 2,
    "kubernetes:core/v1:ConfigMap": 2,
    "kubernetes:batch/v1:Job": 60,
}
DEFAULT_CREATE_SECONDS = 10


# --- the resources: hierarchy, ids, timing ------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """The plan's resources by URN and by parent; parents outside the plan (the stack) are roots."""

    by_urn: dict[str, Resource]
    children: dict[str | None, list[Resource]]  # key None: the roots

    @classmethod
    def of(cls, plan: Plan) -> Hierarchy:
        by_urn = {r["urn"]: r for r in plan["resources"]}
        children: dict[str | None, list[Resource]] = {}
        for r in sorted(plan["resources"], key=lambda r: (str(r["name"]), str(r["urn"]))):
            children.setdefault(r["parent"] if r.get("parent") in by_urn else None, []).append(r)
        return cls(by_urn, children)

    def is_component(self, resource: Resource) -> bool:
        """Components group other resources and create nothing themselves."""
        token = str(resource["type"])
        # Providers and the engine's own resources (`pulumi:index:Stash`) are custom resources.
        if token.startswith(("pulumi:providers:", "pulumi:index:")):
            return False
        module = token.split(":")[1] if token.count(":") == 2 else ""
        return resource["urn"] in self.children or "/" not in module

    def create_seconds(self, resource: Resource) -> int:
        token = str(resource["type"])
        if self.is_component(resource) or token.startswith("pulumi:providers:"):
            return 0
        return TYPICAL_CREATE_SECONDS.get(token, DEFAULT_CREATE_SECONDS)


@dataclass(frozen=True)
class Timing:
    """When a resource starts and finishes in a deploy from empty, in seconds from the start."""

    start: int
    finish: int
    waits_for: str | None  # the URN whose finish sets this start (the critical predecessor)


def schedule(plan: Plan) -> dict[str, Timing]:
    """Earliest start and finish of every resource when the engine runs all it can in parallel.

    A resource starts when the last of its dependencies has finished; a component finishes when
    its last child and dependency have (it takes no time itself). Dependencies outside the plan
    (the stack) are already there.
    """
    tree = Hierarchy.of(plan)
    timings: dict[str, Timing] = {}
    visiting: set[str] = set()

    def latest(urns: Iterable[str]) -> tuple[int, str | None]:
        best: tuple[int, str | None] = (0, None)
        for urn in sorted(u for u in set(urns) if u in tree.by_urn):
            finish = visit(urn).finish
            if finish > best[0]:
                best = (finish, urn)
        return best

    def visit(urn: str) -> Timing:
        if urn in timings:
            return timings[urn]
        if urn in visiting:
            raise ValueError(f"dependency cycle through {urn}")
        visiting.add(urn)
        resource = tree.by_urn[urn]
        start, waits_for = latest(resource.get("dependencies", []))
        finish = start + tree.create_seconds(resource)
        if tree.is_component(resource):
            child_finish, last_child = latest(c["urn"] for c in tree.children.get(urn, []))
            if child_finish > finish:
                finish, waits_for = child_finish, last_child
        visiting.discard(urn)
        timings[urn] = Timing(start, finish, waits_for)
        return timings[urn]

    for urn in sorted(tree.by_urn):
        visit(urn)
    return timings


def critical_path(plan: Plan, timings: Mapping[str, Timing]) -> list[str]:
    """The URNs (resources that take time) of the longest chain, first to last."""
    tree = Hierarchy.of(plan)
    path: list[str] = []
    urn = max(sorted(timings), key=lambda u: timings[u].finish) if timings else None
    while urn is not None:
        if tree.create_seconds(tree.by_urn[urn]) > 0:
            path.append(urn)
        urn = timings[urn].waits_for
    return list(reversed(path))


def duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" if not rest else f"{minutes} min {rest} s"


def node_ids(tree: Hierarchy) -> dict[str, str]:
    """A safe, stable Mermaid id per URN, derived from the name (`r_` resource, `c_` component)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for urn in sorted(tree.by_urn):
        resource = tree.by_urn[urn]
        prefix = "c" if tree.is_component(resource) else "r"
        base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', str(resource['name']))}"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        ids[urn] = candidate
    return ids


def _label(text: str) -> str:
    """A quoted Mermaid label: quotes become entities, so the label cannot end early."""
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid_graph(plan: Plan) -> list[str]:
    """A flowchart: components as subgraphs, resources as boxes, dependencies as arrows."""
    tree = Hierarchy.of(plan)
    ids = node_ids(tree)
    lines = ["flowchart LR"]

    def emit(resource: Resource, depth: int) -> None:
        pad = "  " * depth
        urn = resource["urn"]
        children = tree.children.get(urn, [])
        if tree.is_component(resource) and children:
            title = f"{str(resource['type']).split(':')[-1]}: {resource['name']}"
            lines.append(f"{pad}subgraph {ids[urn]}[{_label(title)}]")
            for child in children:
                emit(child, depth + 1)
            lines.append(f"{pad}end")
            return
        text = f"{short_type(str(resource['type']))}<br/>{resource['name']}"
        if resource.get("protect"):
            text += " (protected)"
        lines.append(f"{pad}{ids[urn]}[{_label(text)}]")
        for child in children:  # a custom resource that parents others: side by side
            emit(child, depth)

    for root in tree.children.get(None, []):
        emit(root, 1)
    edges = [
        f"  {ids[dependency]} --> {ids[urn]}"
        for urn in sorted(tree.by_urn)
        for dependency in sorted(set(tree.by_urn[urn].get("dependencies", [])))
        if dependency in ids
    ]
    return lines + edges
