"""The file `pulumi import --file` takes to adopt a deployment built by hand with the manual guide.

    python -m tools.import_file [--stack NAME | --config-file FILE] [--lookup]
        [--security-group-id SG] [--ingress-rule-id SGR] [--association-id ID]
        [--output FILE] [--base-plan FILE]

The guide's resources (subnet group, security group and its ingress rule, cluster, role and its
three inline policies, pod identity association) are listed with the type, name and parent this
program gives them, and the import ID each needs (pulumi-aws's `## Import` docs: the subnet
group's name, the security group's `sg-` id, the rule's `sgr-` id, the cluster identifier, the
role name, `role:policy` for an inline policy, `cluster,association-id` for the association).
The ids that are not names are looked up with `--lookup` (boto3, the usual AWS credentials) or
given with their flags. The `IAMR:` user is not imported: `pulumi up` adopts a plain existing one.
`--base-plan` writes the deployment as the import leaves it, in the shape of
`python -m tools.plan --json`, for `make plan ARGS="--markdown --base FILE"`.
Exit status: 0 written; 2 invalid settings, or an id that could not be found (nothing written).
File format: pulumi/pulumi pkg/cmd/pulumi/operations/import.go (importFile, importSpec).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.config_keys import Settings
from model.config_values import holds_secret
from model.outputs import COMPUTED
from model.settings import SettingsError, settings_from_config
from tools import engine
from tools.engine import PlannedResource, ProgramRun
from tools.guide_lookup import GuideLookup, GuideLookupError, boto3_lookup
from tools.plan import add_stack_source, print_problems, stack_file_problem, stack_source
from tools.stack_file import load_config

EXIT_OK, EXIT_SETTINGS = 0, 2

SUBNET_GROUP = "aws:redshift/subnetGroup:SubnetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CLUSTER = "aws:redshift/cluster:Cluster"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
# What the guide creates, in its order (steps 1-5 and 7; step 6, the user, is adopted by `up`).
GUIDE_TYPES = (SUBNET_GROUP, SECURITY_GROUP, INGRESS_RULE, CLUSTER, ROLE, ROLE_POLICY, ASSOCIATION)

# The guide's own values (reference/xpander-redshift-iam-guide.txt, steps 1-3), for the base plan
# where they were not looked up.
GUIDE_CLUSTER = {
    "clusterType": "single-node",
    "nodeType": "ra3.xlplus",
    "masterUsername": "xpander_admin",
    "databaseName": "xpander_demo",
    "port": 5439,
    "publiclyAccessible": False,
    "encrypted": "true",
}
GUIDE_DESCRIPTIONS = {
    SUBNET_GROUP: "xpander Redshift private subnets",
    SECURITY_GROUP: "Redshift SG - EKS cluster access only",
}
# What each type's identity is in its inputs: the base plan keeps these (and the cluster's facts).
# The security group's VPC and the rule's groups are the ones the lookup searched by (or, for ids
# given by hand, the guide's: the EKS cluster's VPC and security group): the program's own values.
IDENTITY_INPUTS = {
    SUBNET_GROUP: ("name", "description"),
    SECURITY_GROUP: ("name", "description", "vpcId"),
    INGRESS_RULE: (
        "ipProtocol",
        "fromPort",
        "toPort",
        "securityGroupId",
        "referencedSecurityGroupId",
    ),
    CLUSTER: ("clusterIdentifier", "clusterSubnetGroupName"),
    ROLE: ("name", "path"),
    ROLE_POLICY: ("name", "role"),
    ASSOCIATION: ("clusterName", "namespace", "serviceAccount"),
}


class IdsMissingError(Exception):
    """Ids that are not names, neither looked up nor given: one line each, with how to find it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class GivenIds:
    security_group: str | None = None
    ingress_rule: str | None = None
    association: str | None = None


@dataclass
class Adoption:
    """What the import file and the base plan are built from."""

    settings: Settings
    run: ProgramRun
    imported: list[PlannedResource]
    ids: dict[str, str]  # URN -> import id
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # URN -> inputs as found


def _known(value: Any) -> bool:
    return isinstance(value, str) and value != COMPUTED and "<" not in value


def guide_resources(settings: Settings, run: ProgramRun) -> list[PlannedResource]:
    """The resources of this program that the guide made by hand: its types, and of the
    connectors only the primary one (the guide makes one role, one association)."""
    primary = settings.primary_connector
    chosen = []
    for r in run.resources:
        if r.type not in GUIDE_TYPES:
            continue
        if r.type == ROLE and r.inputs.get("name") != primary.role_name:
            continue
        if r.type == ROLE_POLICY and r.inputs.get("role") != primary.role_name:
            continue
        if r.type == ASSOCIATION and (
            r.inputs.get("namespace"),
            r.inputs.get("serviceAccount"),
        ) != (primary.namespace, primary.service_account):
            continue
        chosen.append(r)
    return sorted(chosen, key=lambda r: (GUIDE_TYPES.index(r.type), r.name))


def _by_urn(run: ProgramRun) -> dict[str, PlannedResource]:
    return {r.urn: r for r in run.resources}


class IdResolver:
    """Each imported resource's import id, and what the lookups found of it (`facts`)."""

    def __init__(self, settings: Settings, given: GivenIds, lookup: GuideLookup | None) -> None:
        self.given, self.lookup = given, lookup
        self.eks = lookup.eks_cluster(settings.eks_cluster_name) if lookup else None
        self.ids: dict[str, str] = {}
        self.facts: dict[str, dict[str, Any]] = {}
        self.missing: list[str] = []

    def resolve(self, imported: list[PlannedResource]) -> None:
        """Raises IdsMissingError (not names, not given, no --lookup) or GuideLookupError."""
        for r in imported:  # rules last: they need their group's id
            if r.type in (SUBNET_GROUP, ROLE):
                self.ids[r.urn] = str(r.inputs["name"])
            elif r.type == CLUSTER:
                self.ids[r.urn] = str(r.inputs["clusterIdentifier"])
            elif r.type == ROLE_POLICY:
                self.ids[r.urn] = f"{r.inputs['role']}:{r.inputs['name']}"
            if r.type == CLUSTER and self.lookup:
                self.facts[r.urn] = self.lookup.cluster_facts(self.ids[r.urn])
            elif r.type == SECURITY_GROUP:
                self._security_group(r)
            elif r.type == ASSOCIATION:
                self._association(r)
        for r in imported:
            if r.type == INGRESS_RULE:
                self._ingress_rule(r)
        if self.missing:
            raise IdsMissingError(self.missing)

    def _security_group(self, r: PlannedResource) -> None:
        name = str(r.inputs["name"])
        if self.given.security_group:
            self.ids[r.urn] = self.given.security_group
        elif self.lookup and self.eks:
            vpc = r.inputs.get("vpcId")
            group = self.lookup.security_group(name, str(vpc) if _known(vpc) else self.eks.vpc_id)
            self.ids[r.urn] = group.id
            self.facts[r.urn] = {"description": group.description}
        else:
            self.missing.append(
                f"the security group {name!r}: its import id is its sg- id; pass "
                "--security-group-id (aws ec2 describe-security-groups --filters "
                f"Name=group-name,Values={name} --query 'SecurityGroups[].GroupId') or --lookup"
            )

    def _association(self, r: PlannedResource) -> None:
        cluster, namespace, account = (
            str(r.inputs[k]) for k in ("clusterName", "namespace", "serviceAccount")
        )
        if self.given.association:
            self.ids[r.urn] = f"{cluster},{self.given.association}"
        elif self.lookup:
            found = self.lookup.association_id(cluster, namespace, account)
            self.ids[r.urn] = f"{cluster},{found}"
        else:
            self.missing.append(
                f"the pod identity association {namespace}/{account}: its import id is "
                f"`{cluster},<association id>`; pass --association-id (aws eks "
                f"list-pod-identity-associations --cluster-name {cluster} --namespace "
                f"{namespace} --service-account {account}) or --lookup"
            )

    def _ingress_rule(self, r: PlannedResource) -> None:
        if self.given.ingress_rule:
            self.ids[r.urn] = self.given.ingress_rule
            return
        group = r.inputs.get("securityGroupId")
        if not _known(group):
            group_urn = next(iter(r.property_dependencies.get("securityGroupId", [])), "")
            group = self.ids.get(group_urn)
        source = r.inputs.get("referencedSecurityGroupId")
        if not _known(source) and self.eks:
            source = self.eks.cluster_security_group_id
        if self.lookup and isinstance(group, str) and isinstance(source, str):
            port = int(r.inputs["fromPort"])
            protocol = str(r.inputs["ipProtocol"])
            self.ids[r.urn] = self.lookup.ingress_rule_id(group, protocol, port, source)
        else:
            self.missing.append(
                "the security group's ingress rule: its import id is its sgr- id; pass "
                "--ingress-rule-id (aws ec2 describe-security-group-rules --filters "
                "Name=group-id,Values=<the group's sg- id>) or --lookup"
            )


def import_file(adoption: Adoption) -> dict[str, Any]:
    """The `pulumi import --file` document: components (no id) and resources, parents first.

    Each entry's `name` is a key in this file (unique: the program's name and its type);
    `logicalName` is the name the program gives it; `parent` names the entry of its parent. An
    entry without a parent is a child of the stack, as in the program."""
    by_urn = _by_urn(adoption.run)
    needed: list[PlannedResource] = []
    for r in adoption.imported:
        chain, parent = [], r.parent
        while parent in by_urn:
            chain.append(by_urn[parent])
            parent = by_urn[parent].parent
        needed += [c for c in reversed(chain) if c not in needed]
    key = {r.urn: f"{r.name}:{r.type.rsplit(':', 1)[-1]}" for r in [*needed, *adoption.imported]}
    entries: list[dict[str, Any]] = []
    for r in [*needed, *adoption.imported]:
        entry: dict[str, Any] = {"type": r.type, "name": key[r.urn], "logicalName": r.name}
        if r.urn in adoption.ids:
            entry["id"] = adoption.ids[r.urn]
        else:
            entry["component"] = True
        if r.parent in key:
            entry["parent"] = key[r.parent]
        entries.append(entry)
    return {"resources": entries}


def base_plan(adoption: Adoption, stack: str) -> dict[str, Any]:
    """The deployment as `pulumi import` leaves it, as a `--json` plan: the imported resources
    under the program's URNs, with the inputs that make them what they are (their names, and the
    cluster's facts: looked up, else the guide's values). Inputs not listed show as changes."""
    resources: list[dict[str, Any]] = []
    for r in adoption.imported:
        inputs = {k: r.inputs[k] for k in IDENTITY_INPUTS[r.type] if k in r.inputs}
        if r.type in GUIDE_DESCRIPTIONS:
            inputs["description"] = GUIDE_DESCRIPTIONS[r.type]
        if r.type == CLUSTER:
            inputs.update(GUIDE_CLUSTER)
        inputs.update(adoption.facts.get(r.urn, {}))
        resources.append(
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "inputs": inputs,
                "dependencies": [],
                "protect": r.protect,
            }
        )
    return {"project": "xpander-redshift", "stack": stack, "resources": resources, "outputs": {}}


def adopt(
    config_file: Path,
    stack: str,
    given: GivenIds,
    lookup: GuideLookup | None,
) -> Adoption:
    """Raises SettingsError, IdsMissingError or GuideLookupError."""
    config = load_config(config_file)
    secret_keys = [k for k, v in config.items() if holds_secret(v)]
    settings = settings_from_config(config, secret_keys=secret_keys)
    run = engine.run_program(config, stack=stack)
    imported = guide_resources(settings, run)
    resolver = IdResolver(settings, given, lookup)
    resolver.resolve(imported)
    return Adoption(settings, run, imported, resolver.ids, resolver.facts)


def _stack_region(config_file: Path) -> str | None:
    """The stack's `aws:region`, where --lookup reads (not the shell's AWS_REGION)."""
    region = load_config(config_file).get("aws:region")
    return region if isinstance(region, str) and region else None


def _write(path: Path | None, document: Mapping[str, Any]) -> None:
    text = json.dumps(document, indent=4) + "\n"
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None, *, lookup: GuideLookup | None = None) -> int:
    """`lookup`: the AWS side for --lookup (tests pass one; else boto3's, built on demand)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.import_file", description=__doc__.split("\n")[0]
    )
    add_stack_source(parser, "adopt into")
    parser.add_argument(
        "--lookup", action="store_true", help="find the ids that are not names in AWS (boto3)"
    )
    parser.add_argument("--security-group-id", metavar="SG", help="the guide's group (sg-...)")
    parser.add_argument("--ingress-rule-id", metavar="SGR", help="its ingress rule (sgr-...)")
    parser.add_argument("--association-id", metavar="ID", help="the pod identity association")
    parser.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    parser.add_argument(
        "--base-plan", type=Path, metavar="FILE", help="also write the import-shaped base plan"
    )
    args = parser.parse_args(argv)
    stack, path = stack_source(parser, args)
    given = GivenIds(args.security_group_id, args.ingress_rule_id, args.association_id)
    try:
        aws = (lookup or boto3_lookup(_stack_region(path))) if args.lookup else None
        adoption = adopt(path, stack, given, aws)
    except (SettingsError, FileNotFoundError) as err:
        return stack_file_problem(err)
    except IdsMissingError as err:
        print_problems(["nothing written: no import id for " + p for p in err.problems])
        return EXIT_SETTINGS
    except GuideLookupError as err:
        print_problems([f"nothing written: --lookup: {err}"])
        return EXIT_SETTINGS
    _write(args.output, import_file(adoption))
    if args.base_plan:
        _write(args.base_plan, base_plan(adoption, stack))
    print(
        f"{len(adoption.imported)} resources of the guide to import; `pulumi up` creates the "
        "rest and adopts the IAMR user (docs/operations.md#adopting-a-deployment-made-with-the-"
        "manual-guide)",
        file=sys.stderr,
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
