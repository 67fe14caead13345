"""redshift-port-from-security-group-only: every way in to the database port, not just the cluster.

A Redshift database is reached through the cluster's endpoint, a Redshift-managed VPC endpoint
(aws.redshift.EndpointAccess), a Redshift Serverless workgroup or its endpoint
(aws.redshiftserverless.EndpointAccess). For each, the security groups it lists - a SecurityGroup
of the stack, the VPC's default group (aws.ec2.DefaultSecurityGroup), followed by value or edge -
are read with every rule: inline, rule resources, and managed prefix lists of the stack read as
the CIDRs they hold. The port is open only to security groups; nothing on those groups reaches
the whole internet, except egress HTTPS and path-MTU ICMP (`networks.opens_nothing_to_reach`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from pulumi_policy import StackValidationArgs

from .cluster_rules import GUIDE_SECURITY_GROUP, cluster_label
from .findings import Findings
from .networks import (
    DEFAULT_REDSHIFT_PORT,
    SecurityGroupRule,
    opens_nothing_to_reach,
    world_openings,
)
from .stack_view import (
    CLUSTER,
    ENDPOINT_ACCESS,
    MANAGED_PREFIX_LIST,
    PREFIX_LIST_ENTRY,
    RULE_RESOURCE_TYPES,
    SERVERLESS_ENDPOINT_ACCESS,
    SERVERLESS_WORKGROUP,
    StackResource,
    endpoint_security_groups,
    inline_rules,
    names,
    of_type,
    refers_to,
    rule_of_resource,
    rule_resources_of,
    stack_resources,
    unplaced_rule_resources,
)
from .values import as_int, is_unknown, known_str

OPT_OUT: Final = (
    "the stack admits only xpander-redshift:sourceSecurityGroupIds (the EKS cluster security "
    "group) on xpander-redshift:port"
)


@dataclasses.dataclass(frozen=True)
class Endpoint:
    item: StackResource
    label: str
    groups_prop: str
    port: int | None


def _port(item: StackResource) -> int | None:
    raw = item.props.get("port")
    if raw is None:
        return DEFAULT_REDSHIFT_PORT
    return None if is_unknown(raw) else as_int(raw)


def _owner_port(
    item: StackResource, prop: str, owners: Sequence[StackResource], owner_prop: str
) -> int | None:
    """The port of the cluster or workgroup an endpoint belongs to (by value or edge)."""
    for owner in owners:
        if refers_to(item, prop, owner, owner.props.get(owner_prop)):
            return _port(owner)
    return DEFAULT_REDSHIFT_PORT


def endpoints(resources: Sequence[StackResource]) -> list[Endpoint]:
    clusters = of_type(resources, CLUSTER)
    workgroups = of_type(resources, SERVERLESS_WORKGROUP)
    found = [
        Endpoint(
            c, f"Redshift cluster {cluster_label(c.name, c.props)}", "vpcSecurityGroupIds", _port(c)
        )
        for c in clusters
    ]
    for access in of_type(resources, ENDPOINT_ACCESS):
        name = known_str(access.props.get("endpointName")) or access.name
        port = _owner_port(access, "clusterIdentifier", clusters, "clusterIdentifier")
        found.append(
            Endpoint(access, f"Redshift endpoint access '{name}'", "vpcSecurityGroupIds", port)
        )
    for workgroup in workgroups:
        name = known_str(workgroup.props.get("workgroupName")) or workgroup.name
        found.append(
            Endpoint(
                workgroup,
                f"Redshift Serverless workgroup '{name}'",
                "securityGroupIds",
                _port(workgroup),
            )
        )
    for access in of_type(resources, SERVERLESS_ENDPOINT_ACCESS):
        name = known_str(access.props.get("endpointName")) or access.name
        port = _owner_port(access, "workgroupName", workgroups, "workgroupName")
        found.append(
            Endpoint(access, f"Redshift Serverless endpoint '{name}'", "vpcSecurityGroupIds", port)
        )
    return found


def _prefix_list_cidrs(
    lists: Sequence[StackResource], resources: Sequence[StackResource]
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """(CIDRs, labels, unknown) of the stack's managed prefix lists: entries, entry resources."""
    cidrs: list[str] = []
    unknown = False
    for prefix_list in lists:
        entries = prefix_list.props.get("entries")
        if is_unknown(entries):
            unknown = True
        for entry in entries if isinstance(entries, list) else []:
            cidr = entry.get("cidr") if isinstance(entry, dict) else None
            unknown = unknown or is_unknown(cidr)
            cidrs += names(cidr)
        for entry in of_type(resources, PREFIX_LIST_ENTRY):
            if entry.depends_on(prefix_list, "prefixListId"):
                unknown = unknown or is_unknown(entry.props.get("cidr"))
                cidrs += names(entry.props.get("cidr"))
    labels = tuple(f"managed prefix list '{p.name}'" for p in lists)
    return tuple(cidrs), labels, unknown


def _with_prefix_lists(
    rule: SecurityGroupRule,
    source: StackResource,
    props: Sequence[str],
    resources: Sequence[StackResource],
) -> SecurityGroupRule:
    """A rule whose prefix list is unknown at preview, read through the stack's prefix lists."""
    if not rule.unknown_sources:
        return rule
    lists = [
        p
        for p in of_type(resources, MANAGED_PREFIX_LIST)
        if any(source.depends_on(p, prop) for prop in props)
    ]
    if not lists:
        return rule
    cidrs, labels, unknown = _prefix_list_cidrs(lists, resources)
    cidr_values = [
        source.props.get(k) for k in ("cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6")
    ]
    unknown = unknown or any(is_unknown(v) for v in cidr_values)
    return dataclasses.replace(
        rule,
        cidrs=rule.cidrs + cidrs,
        prefix_lists=rule.prefix_lists + labels,
        unknown_sources=unknown,
    )


def _rules_of(
    endpoint: Endpoint, resources: Sequence[StackResource], found: Findings
) -> list[SecurityGroupRule]:
    item = endpoint.item
    groups, external_ids, undecided = endpoint_security_groups(
        item, endpoint.groups_prop, resources
    )
    if undecided:
        found.could_not_judge(
            f"{endpoint.label}: a security group id in {endpoint.groups_prop} is not known at "
            "preview and no dependency edge leads to a security group of this stack, so its "
            "rules could not be checked.",
            item.urn,
        )
    rules = [
        _with_prefix_lists(rule, group, (d,), resources)
        for group in groups
        for d in ("ingress", "egress")
        for rule in inline_rules(group)
        if rule.label.startswith(f"inline {d}")
    ]
    members = {r.urn for g in groups for r in rule_resources_of(g, resources)}
    members |= {
        r.urn
        for r in of_type(resources, *RULE_RESOURCE_TYPES)
        if known_str(r.props.get("securityGroupId")) in external_ids
    }
    rules += [
        _with_prefix_lists(rule_of_resource(r), r, ("prefixListId", "prefixListIds"), resources)
        for r in resources
        if r.urn in members
    ]
    for r in unplaced_rule_resources(resources):
        rule = rule_of_resource(r)
        if rule.cidrs or rule.prefix_lists or rule.unknown_sources:
            found.could_not_judge(
                f"The {rule.label} allows network sources, and the security group it belongs to "
                f"is not known at preview (no dependency edge): it may open {endpoint.label}.",
                r.urn,
            )
    return rules


def check_port_from_security_group_only(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    reported: set[tuple[str, str]] = set()

    def once(key: tuple[str, str], message: str, urn: str, undecided: bool = False) -> None:
        if key not in reported:
            reported.add(key)
            (found.could_not_judge if undecided else found.violation)(message, urn)

    for endpoint in endpoints(resources):
        port = endpoint.port
        rules = _rules_of(endpoint, resources, found)
        for rule in rules:
            sources = (
                rule.cidrs + rule.prefix_lists + (("<unknown>",) if rule.unknown_sources else ())
            )
            if not (rule.ingress and sources):
                continue
            on_port = None if port is None else rule.covers_port(port)
            if on_port:
                shown = ", ".join(rule.cidrs + rule.prefix_lists) or "a source not known yet"
                once(
                    (rule.urn, rule.label),
                    f"The {rule.label} opens the Redshift port {port} to {shown} "
                    f"({endpoint.label}), an address range rather than the EKS cluster's "
                    "security group. "
                    "Only a security group may be the source: replace it with an "
                    f"aws.vpc.SecurityGroupIngressRule (ip_protocol tcp, from_port = to_port = "
                    f"{port}) whose referenced_security_group_id is the EKS cluster security "
                    f'group ({OPT_OUT}). Guide troubleshooting: "{GUIDE_SECURITY_GROUP}"',
                    rule.urn,
                )
            elif on_port is None:
                once(
                    (rule.urn, rule.label),
                    f"The {rule.label} admits {', '.join(sources)}, and its ports or the "
                    f"port of {endpoint.label} are not known at preview: it may open the "
                    "Redshift port to an address range.",
                    rule.urn,
                    undecided=True,
                )
        for opening in world_openings([r for r in rules if not opens_nothing_to_reach(r)]):
            urns = sorted({r.urn for r in opening.rules})
            labels = ", ".join(r.label for r in opening.rules)
            cidrs = ", ".join(c for r in opening.rules for c in r.cidrs)
            for urn in urns[:1]:
                once(
                    (urn, "world:" + opening.describe()),
                    f"On the security group of {endpoint.label}, {labels} together allow "
                    f"{opening.describe()} (their CIDRs {cidrs} "
                    "add up to every address, however they are split or written). Nothing on "
                    "that group may be open to the whole internet, ingress or egress (egress "
                    "HTTPS and path-MTU ICMP excepted): remove the rule(s) or narrow them to "
                    "the VPC's CIDR (the cluster answers connections without any egress rule).",
                    urn,
                )
        for rule in rules:
            if rule.unknown_sources and not (rule.ingress and port and rule.covers_port(port)):
                once(
                    (rule.urn, rule.label),
                    f"The {rule.label} on the security group of {endpoint.label} has a CIDR or "
                    "prefix list that is not known at preview: it may open the group to the "
                    "whole internet.",
                    rule.urn,
                    undecided=True,
                )
