"""Run the real Pulumi program under the SDK's mock engine and record what it would register.

Used by the offline plan (`tools.plan`) and by the tests. Mocks answer the invokes with
placeholders for what only the cloud knows, and leave resource outputs unknown the way
`pulumi preview` does for resources that do not exist yet.
"""

from __future__ import annotations

import contextvars
import json
import runpy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, set_mocks

from components import pulumi_sdk
from components.pulumi_sdk import MockMonitor
from model.config_keys import PROJECT
from model.config_values import holds_secret
from model.outputs import COMPUTED, PLACEHOLDER_ACCOUNT_ID, SECRET
from model.partitions import partition_of
from tools.stack_file import config_strings

ROOT_DIR = Path(__file__).resolve().parent.parent
# Where the stack file names no region (the settings gate refuses that before a plan runs).
DEFAULT_REGION = "us-west-2"

# The engine's wire sentinels (pulumi/sdk/python/lib/pulumi/runtime/rpc.py).
_SECRET_SIG = pulumi_sdk.SIG_KEY.get()
_SECRET_VALUE = pulumi_sdk.SECRET_SIG.get()
_RESOURCE_VALUE = pulumi_sdk.RESOURCE_SIG.get()
_UNKNOWN = pulumi_sdk.UNKNOWN.get()


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    protect: bool = False
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    custom_timeouts: dict[str, str] = field(default_factory=dict)  # set ones only; not in as_json
    # The inputs as the policy analyzer sees them: secrets unwrapped. Not in as_json.
    analyzer_inputs: dict[str, Any] = field(default_factory=dict)
    # The URNs its `aliases` option names (the engine's own collapse; inherited ones are
    # tools/plan_diff.py's to derive, as the engine does from the parent it matched).
    aliases: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        aliased = {"aliases": self.aliases} if self.aliases else {}
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "inputs": self.inputs,
            "dependencies": self.dependencies,
            "protect": self.protect,
            "propertyDependencies": self.property_dependencies,
            **aliased,
        }


@dataclass
class ProgramRun:
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def plain(value: Any, *, reveal: bool = False) -> Any:
    """Engine wire values as readable JSON: unknowns -> <computed>, secrets -> [secret].

    `reveal`: secrets as their values, as the policy analyzer receives them (the offline plan's
    secrets are placeholders it could not read, so nothing secret is revealed).
    """
    if isinstance(value, dict):
        special = value.get(_SECRET_SIG)
        if special == _SECRET_VALUE:
            inner = plain(value.get("value"), reveal=True)
            # A document built around a secret the offline plan could not read (a secret
            # organizationId's trust policy) holds that secret only as the SECRET placeholder:
            # show it, so a reviewer sees the policy with just the secret masked.
            return inner if reveal or _masks_its_secret(inner) else SECRET
        if special == _RESOURCE_VALUE:
            return value.get("urn")
        return {k: plain(v, reveal=reveal) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, reveal=reveal) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    return COMPUTED if value == _UNKNOWN else value


def _masks_its_secret(value: Any) -> bool:
    return isinstance(value, str) and value != SECRET and SECRET in value


def _placeholder_invokes(account_id: str, config: Mapping[str, str]) -> dict[str, Any]:
    # Offline, the existing cluster's groups are unknown: assume the one the stack names is
    # among them (`pulumi preview` checks it against the real cluster).
    named_group = config.get(f"{PROJECT}:existingSecurityGroupId")
    region = config.get("aws:region") or DEFAULT_REGION
    # The partition the SDK would resolve for the region: a GovCloud or China stack's ARNs and
    # endpoints are those of its partition, as `aws.get_partition()` answers there.
    partition = partition_of(region)
    arn = f"arn:{partition.name}"
    # Offline, each subnet is taken to be in the VPC the stack expects and in a zone of its own.
    subnet_vpc = config.get(f"{PROJECT}:vpcId") or "vpc-<eks-cluster-vpc>"
    return {
        "aws:index/getPartition:getPartition": lambda a: {
            "partition": partition.name,
            "dnsSuffix": partition.dns_suffix,
            "id": partition.name,
            "reverseDnsPrefix": partition.reverse_dns_prefix,
        },
        "aws:index/getCallerIdentity:getCallerIdentity": lambda a: {
            "accountId": account_id,
            "arn": f"{arn}:iam::{account_id}:role/deployer",
            "id": account_id,
            "userId": "AROAEXAMPLEDEPLOYER:pulumi",
        },
        "aws:eks/getCluster:getCluster": lambda a: {
            "name": a.get("name"),
            "arn": f"{arn}:eks:{region}:{account_id}:cluster/{a.get('name')}",
            "endpoint": "https://<eks-cluster-endpoint>",
            "certificateAuthorities": [{"data": "<eks-cluster-ca>"}],
            "vpcConfig": {
                "clusterSecurityGroupId": "sg-<eks-cluster-security-group>",
                "vpcId": "vpc-<eks-cluster-vpc>",
                "subnetIds": [],
                "securityGroupIds": [],
            },
        },
        "aws:ec2/getSubnet:getSubnet": lambda a: {
            "id": a.get("id"),
            "vpcId": subnet_vpc,
            "availabilityZone": f"<availability-zone-of-{a.get('id')}>",
        },
        "aws:redshift/getOrderableCluster:getOrderableCluster": lambda a: {
            "clusterType": a.get("clusterType"),
            # The first preference stands in for "the first the region offers".
            "nodeType": (a.get("preferredNodeTypes") or ["<node-type>"])[0],
            "availabilityZones": [],
            "id": "orderable",
        },
        "aws:redshift/getCluster:getCluster": lambda a: {
            "clusterIdentifier": a.get("clusterIdentifier"),
            "arn": f"{arn}:redshift:{region}:{account_id}:cluster:{a.get('clusterIdentifier')}",
            "endpoint": f"{a.get('clusterIdentifier')}.<existing-cluster-endpoint>",
            "port": 5439,
            "databaseName": "<existing-database>",
            "masterUsername": "<existing-master-user>",
            "nodeType": "<existing-node-type>",
            "clusterSubnetGroupName": "<existing-subnet-group>",
            "vpcId": "vpc-<existing-cluster-vpc>",
            "vpcSecurityGroupIds": [named_group or "sg-<existing-cluster-security-group>"],
            "id": a.get("clusterIdentifier"),
        },
        "aws:ec2/getVpc:getVpc": lambda a: {
            "id": a.get("id"),
            "cidrBlock": "<vpc-cidr>",
            "cidrBlockAssociations": [{"cidrBlock": "<vpc-cidr>"}],
        },
        # Offline, the audit-log bucket is taken to be in the stack's region.
        "aws:s3/getBucket:getBucket": lambda a: {
            "bucket": a.get("bucket"),
            "arn": f"{arn}:s3:::{a.get('bucket')}",
            "bucketRegion": region,
            "region": region,
            "id": a.get("bucket"),
        },
        "aws:secretsmanager/getSecretVersion:getSecretVersion": lambda a: {
            "arn": a.get("secretId"),
            "secretString": json.dumps({"username": "<master-user>", "password": "<placeholder>"}),
            "id": a.get("secretId"),
        },
    }


class PlanMocks(Mocks):
    """Resources echo their inputs (outputs stay unknown); invokes get placeholders."""

    def __init__(
        self,
        account_id: str,
        config: Mapping[str, str],
        extra_invokes: Mapping[str, Any] | None = None,
    ) -> None:
        self.invokes = {**_placeholder_invokes(account_id, config), **(extra_invokes or {})}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        # An empty id during preview is "unknown", exactly like a resource not created yet.
        outputs = dict(args.inputs)
        if args.typ == "pulumi:index:Stash":  # the engine's stash keeps its input on create
            outputs["output"] = outputs.get("input")
        return "", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        answer = self.invokes.get(args.token)
        if answer is None:
            raise NotImplementedError(f"the offline plan has no placeholder for {args.token}")
        return answer(dict(args.args)), []


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, also keeping each registration as the engine would see it."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.planned: list[PlannedResource] = []

    def alias_urns(self, request: Any) -> list[str]:
        """Each alias of a registration as a URN, collapsed as the engine collapses a spec
        (pkg/resource/deploy/step_generator.go collapseAliasToUrn): an unset name or type is the
        resource's own, an unset parent its current parent; URNs formed as this monitor forms them.
        """
        urns: list[str] = []
        for alias in request.aliases:
            if alias.WhichOneof("alias") == "urn":
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
        return sorted(set(urns))

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.planned.append(
                PlannedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    inputs=plain(json_format.MessageToDict(request.object)),
                    analyzer_inputs=plain(json_format.MessageToDict(request.object), reveal=True),
                    dependencies=sorted(set(request.dependencies)),
                    protect=bool(request.protect),
                    property_dependencies={
                        key: sorted(set(deps.urns))
                        for key, deps in sorted(request.propertyDependencies.items())
                        if deps.urns
                    },
                    custom_timeouts={
                        kind: getattr(request.customTimeouts, kind)
                        for kind in ("create", "update", "delete")
                        if getattr(request.customTimeouts, kind)
                    },
                    aliases=self.alias_urns(request),
                )
            )
        return response


async def _resolve(value: Any) -> Any:
    """An output as `pulumi preview` shows it: unknown and secret parts marked, the rest known."""
    if isinstance(value, dict):
        return {k: await _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [await _resolve(v) for v in value]
    output = pulumi.Output.from_input(value)
    if not await output.is_known():
        return COMPUTED
    if await output.is_secret():
        return SECRET
    return await output.future()


def stack_config_strings(document: Mapping[str, Any]) -> dict[str, Any]:
    """A stack file's `config:` block as the engine passes it on: scalars as text, lists and
    mappings as they are, secrets (at any depth) as model.config_values.ENCRYPTED."""
    return config_strings(document.get("config") or {})


def run_program(
    config: Mapping[str, str],
    *,
    stack: str = "dev",
    account_id: str = PLACEHOLDER_ACCOUNT_ID,
    program: Path = ROOT_DIR / "__main__.py",
    extra_invokes: Mapping[str, Any] | None = None,
    secret_keys: Sequence[str] = (),
) -> ProgramRun:
    """Run the program once, in a context of its own so runs never share Pulumi's global state.

    `secret_keys`: keys whose (readable) values are secrets, as `pulumi up` marks them.
    """

    def run() -> ProgramRun:
        pulumi_sdk.forget_root_stack()
        mocks = PlanMocks(account_id, config, extra_invokes)
        monitor = RecordingMonitor(mocks)
        # A key is secret when any part of its value is (Pulumi marks the whole top-level key).
        encrypted = [key for key, value in config.items() if holds_secret(value)]
        pulumi.runtime.set_all_config(dict(config), secret_keys=[*secret_keys, *encrypted])
        set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
        pulumi_sdk.clear_pending()

        def main() -> None:
            runpy.run_path(str(program), run_name="__main__")

        exported = pulumi_sdk.run_program(main)
        outputs = {k: pulumi_sdk.sync_await(_resolve(v)) for k, v in exported.items()}
        resources = sorted(monitor.planned, key=lambda r: r.urn)
        return ProgramRun(resources=resources, outputs=outputs, invokes=mocks.calls)

    with pulumi_sdk.pickler_restored(), pulumi_sdk.stack_traces_skipped():
        return contextvars.Context().run(run)
