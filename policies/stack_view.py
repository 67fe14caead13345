"""The stack as rules see it: resources by type, and the dependency edges values come from.

At preview an output of one resource feeding another (a role's name, a security group's id, a
parameter group's name) is unknown. The engine still records which resource it comes from
(`propertyDependencies`, else `dependencies`), and these helpers follow that edge. When neither
the value nor the edges decide, they answer None ("undecided") rather than guess either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs

from .documents import Statement, parse_document
from .networks import SecurityGroupRule
from .principals import (
    XPANDER_ROLE_COMPONENT,
    RoleIdentity,
    guide_shaped_trust,
    names_connector_calls,
    role_identity,
    trusts_aws_principals,
    trusts_pods,
)
from .values import UNKNOWN, is_unknown, known, known_str, parent_type, strings

# --- resource types (Pulumi type tokens) ---------------------------------------------------------

ROLE: Final = "aws:iam/role:Role"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY: Final = "aws:iam/policy:Policy"
USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"
ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: Final = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
)
CLUSTER: Final = "aws:redshift/cluster:Cluster"
PARAMETER_GROUP: Final = "aws:redshift/parameterGroup:ParameterGroup"
LOGGING: Final = "aws:redshift/logging:Logging"
SERVERLESS_WORKGROUP: Final = "aws:redshiftserverless/workgroup:Workgroup"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP: Final = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_TYPES: Final = (SECURITY_GROUP, DEFAULT_SECURITY_GROUP)
MANAGED_PREFIX_LIST: Final = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY: Final = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
ENDPOINT_ACCESS: Final = "aws:redshift/endpointAccess:EndpointAccess"
SERVERLESS_ENDPOINT_ACCESS: Final = "aws:redshiftserverless/endpointAccess:EndpointAccess"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE: Final = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
JOB: Final = "kubernetes:batch/v1:Job"

# Resources whose `policy` input is an IAM permission document.
POLICY_DOCUMENT_TYPES: Final = (ROLE_POLICY, MANAGED_POLICY, USER_POLICY, GROUP_POLICY)
RULE_RESOURCE_TYPES: Final = (SECURITY_GROUP_RULE, INGRESS_RULE, EGRESS_RULE)


@dataclass(frozen=True)
class StackResource:
    resource: PolicyResource
    props: Mapping[str, Any]

    @property
    def urn(self) -> str:
        return str(self.resource.urn)

    @property
    def type(self) -> str:
        return str(self.resource.resource_type)

    @property
    def parent_type(self) -> str | None:
        parent = self.resource.parent
        if parent is not None:
            return str(parent.resource_type)
        return parent_type(getattr(self.resource.opts, "parent", None))

    @property
    def name(self) -> str:
        return str(self.resource.name)

    def sources(self, prop: str) -> list[str] | None:
        """URNs `prop` takes its value from; None when the engine recorded no edge at all."""
        by_prop = self.resource.property_dependencies or {}
        if by_prop:  # edges recorded per property: only this property's count
            return [d.urn for d in by_prop.get(prop) or []] or None
        deps = self.resource.dependencies or []
        return [d.urn for d in deps] or None

    def depends_on(self, other: StackResource, prop: str) -> bool:
        """Whether `prop` (else the resource as a whole) takes a value from `other`."""
        return other.urn in (self.sources(prop) or [])


def stack_resources(args: StackValidationArgs) -> list[StackResource]:
    return [StackResource(r, known(r.props)) for r in args.resources]


def resources_of(args: StackValidationArgs | ResourceValidationArgs) -> list[StackResource]:
    """The stack's resources, or the one resource a resource policy is given (as a stack of one)."""
    if isinstance(args, StackValidationArgs):
        return stack_resources(args)
    alone = PolicyResource(
        args.resource_type, args.props, args.urn, args.name, args.opts, args.provider, None, [], {}
    )
    return [StackResource(alone, known(args.props))]


def of_type(resources: Sequence[StackResource], *types: str) -> list[StackResource]:
    return [r for r in resources if r.type in types]


def refers_to(item: StackResource, prop: str, target: StackResource, value: Any) -> bool | None:
    """Whether `item.props[prop]` is `target` (whose own value for it is `value`).

    By value when both are known; else by the dependency edge; None when neither decides.
    """
    got = item.props.get(prop)
    if known_str(got) is not None and isinstance(value, str) and not is_unknown(value):
        return got == value
    if got is None:
        return False
    sources = item.sources(prop)
    if sources is None:
        return None
    if target.urn in sources:
        return True
    # A value carried in from another stack (a StackReference output) may be this very resource.
    return None if any(f"::{STACK_REFERENCE}::" in s for s in sources) else False


STASH: Final = "pulumi:index:Stash"
STACK_REFERENCE: Final = "pulumi:pulumi:StackReference"


def followed_value(item: StackResource, prop: str, resources: Sequence[StackResource]) -> Any:
    """`item.props[prop]`, or, when unknown, the value a `pulumi.Stash` it comes from holds.

    A Stash's output is its first input, so its `input` is the value (the stack keeps the node
    type chosen at first deploy in one). Still UNKNOWN when nothing decides.
    """
    value = item.props.get(prop)
    if not is_unknown(value):
        return value
    by_urn = {r.urn: r for r in resources}
    for urn in item.sources(prop) or []:
        source = by_urn.get(urn)
        if (
            source is not None
            and source.type == STASH
            and not is_unknown(source.props.get("input"))
        ):
            return source.props.get("input")
    return UNKNOWN


# --- roles ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleView:
    """A role with its trust policy, its identity and the permission documents that apply to it."""

    role: StackResource
    identity: RoleIdentity
    trust: list[Statement] | None
    role_policies: list[StackResource]
    undecided_policies: list[StackResource]  # RolePolicies that may or may not be this role's
    inline_documents: list[Any]  # `inlinePolicies[].policy` of the Role itself
    stack_has_own_role: bool = False  # a Pod Identity role under the XpanderAccessRole component

    @property
    def label(self) -> str:
        return f"'{self.identity.name}'" if self.identity.named else f"'{self.role.name}'"

    @property
    def is_xpander_role(self) -> bool:
        """The role xpander's pods use: by what makes it one, not by trusting pods alone.

        It trusts `pods.eks.amazonaws.com` and is the stack's own role (its component), or has
        the guide's trust (Pod Identity plus its self-assume or xpander's account), or
        permissions that name the connector's calls (the Data API, IAM database credentials).
        Next to the stack's own role, another workload's role that queries Redshift itself (a BI
        tool, an ETL job) is not it, whatever else its trust admits.
        """
        if not trusts_pods(self.trust):
            return False
        if self.role.parent_type == XPANDER_ROLE_COMPONENT:
            return True
        if self.stack_has_own_role:
            return False
        if guide_shaped_trust(self.trust, self.identity.name):
            return True
        return trusts_aws_principals(self.trust) and names_connector_calls(
            self.permission_statements() or []
        )

    def permission_statements(self) -> list[Statement] | None:
        """Every permission statement of the role; None if any document is unknown at preview."""
        documents = [p.props.get("policy") for p in self.role_policies] + self.inline_documents
        statements: list[Statement] = []
        for document in documents:
            parsed = parse_document(document)
            if parsed is None:
                return None
            statements.extend(parsed)
        return statements


def _inline_policies(props: Mapping[str, Any]) -> list[Any]:
    value = props.get("inlinePolicies")
    if not isinstance(value, list):
        return []
    return [p.get("policy") for p in value if isinstance(p, Mapping) and p.get("policy")]


def role_views(resources: Sequence[StackResource]) -> list[RoleView]:
    views = []
    roles = of_type(resources, ROLE)
    own = any(
        r.parent_type == XPANDER_ROLE_COMPONENT
        and trusts_pods(parse_document(r.props.get("assumeRolePolicy")))
        for r in roles
    )
    for role in roles:
        trust = parse_document(role.props.get("assumeRolePolicy"))
        identity = role_identity(role.props, trust)
        verdicts = [
            (r, refers_to(r, "role", role, identity.name)) for r in of_type(resources, ROLE_POLICY)
        ]
        views.append(
            RoleView(
                role,
                identity,
                trust,
                [r for r, v in verdicts if v is True],
                [r for r, v in verdicts if v is None],
                _inline_policies(role.props),
                own,
            )
        )
    return views


def attachments_of(
    view: RoleView, resources: Sequence[StackResource]
) -> tuple[list[StackResource], list[StackResource]]:
    """(policy attachments to this role, attachments that may be: their role is undecidable)."""
    name = view.identity.name
    found, undecided = [], []
    for r in of_type(resources, ROLE_POLICY_ATTACHMENT, ROLE_POLICY_ATTACHMENTS_EXCLUSIVE):
        exclusive = r.type == ROLE_POLICY_ATTACHMENTS_EXCLUSIVE
        if exclusive and r.props.get("policyArns") in (None, []):
            continue  # attaches nothing (it only detaches what others attached)
        verdict = refers_to(r, "roleName" if exclusive else "role", view.role, name)
        if verdict:
            found.append(r)
        elif verdict is None:
            undecided.append(r)
    for r in of_type(resources, POLICY_ATTACHMENT):
        roles = r.props.get("roles")
        if not isinstance(roles, list):
            roles = [roles] if roles is not None else []
        by_name = isinstance(name, str) and name in roles
        unknown = any(is_unknown(v) for v in roles)
        if by_name or (unknown and r.depends_on(view.role, "roles")):
            found.append(r)
        elif unknown and r.sources("roles") is None:
            undecided.append(r)
    return found, undecided


# --- clusters and their security groups -----------------------------------------------------------


def endpoint_security_groups(
    item: StackResource, prop: str, resources: Sequence[StackResource]
) -> tuple[list[StackResource], list[str], bool]:
    """(the stack's groups in `item.props[prop]`, ids of outside groups, whether one is undecided).

    A group of the stack is followed by its edge: a SecurityGroup, or the VPC's default group
    (aws.ec2.DefaultSecurityGroup, whose rules the stack then manages).
    """
    declared = item.props.get(prop)
    values = declared if isinstance(declared, list) else [declared] if declared else []
    external = [v for v in values if known_str(v)]
    groups = of_type(resources, *SECURITY_GROUP_TYPES)
    by_edge = [g for g in groups if item.depends_on(g, prop)]
    by_id = [g for g in groups if known_str(g.props.get("id")) in external]
    unknown_ids = [v for v in values if is_unknown(v)]
    undecided = bool(unknown_ids) and (
        item.sources(prop) is None or len(by_edge) < len(unknown_ids)
    )
    return by_edge + [g for g in by_id if g not in by_edge], external, undecided


def inline_rules(group: StackResource) -> list[SecurityGroupRule]:
    rules = []
    for direction in ("ingress", "egress"):
        declared = group.props.get(direction)
        for index, rule in enumerate(declared if isinstance(declared, list) else []):
            if not isinstance(rule, Mapping):
                continue
            rules.append(
                SecurityGroupRule(
                    group.urn,
                    f"inline {direction} rule #{index + 1} of security group '{group.name}'",
                    direction == "ingress",
                    rule.get("protocol"),
                    rule.get("fromPort"),
                    rule.get("toPort"),
                    *_sources(rule, ("cidrBlocks", "ipv6CidrBlocks"), "prefixListIds"),
                )
            )
    return rules


def _sources(
    props: Mapping[str, Any], cidr_keys: Sequence[str], prefix_key: str
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    values = [v for key in cidr_keys for v in _listed(props.get(key))]
    prefixes = _listed(props.get(prefix_key))
    unknown = any(is_unknown(v) for v in values + prefixes)
    return (
        tuple(str(v) for v in values if not is_unknown(v)),
        tuple(str(v) for v in prefixes if not is_unknown(v)),
        unknown,
    )


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def rule_of_resource(item: StackResource) -> SecurityGroupRule:
    p = item.props
    if item.type == SECURITY_GROUP_RULE:
        return SecurityGroupRule(
            item.urn,
            f"security group rule '{item.name}'",
            p.get("type") == "ingress",
            p.get("protocol"),
            p.get("fromPort"),
            p.get("toPort"),
            *_sources(p, ("cidrBlocks", "ipv6CidrBlocks"), "prefixListIds"),
        )
    return SecurityGroupRule(
        item.urn,
        f"security group rule '{item.name}'",
        item.type == INGRESS_RULE,
        p.get("ipProtocol"),
        p.get("fromPort"),
        p.get("toPort"),
        *_sources(p, ("cidrIpv4", "cidrIpv6"), "prefixListId"),
    )


def rule_resources_of(
    group: StackResource, resources: Sequence[StackResource]
) -> list[StackResource]:
    """Rule resources that belong to a security group managed in this stack."""
    group_id = known_str(group.props.get("id"))
    return [
        r
        for r in of_type(resources, *RULE_RESOURCE_TYPES)
        if r.depends_on(group, "securityGroupId")
        or (group_id is not None and known_str(r.props.get("securityGroupId")) == group_id)
    ]


def unplaced_rule_resources(resources: Sequence[StackResource]) -> list[StackResource]:
    """Rule resources whose group is unknown at preview and has no dependency edge to follow."""
    return [
        r
        for r in of_type(resources, *RULE_RESOURCE_TYPES)
        if is_unknown(r.props.get("securityGroupId")) and r.sources("securityGroupId") is None
    ]


def names(value: Any) -> tuple[str, ...]:
    return tuple(s for s in strings(value) if not is_unknown(s) and s != "<unknown>")
