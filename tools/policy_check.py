"""Run the CrossGuard pack offline on planned resources, as `pulumi preview --policy-pack` does.

The offline plan (`tools.plan`) has no Pulumi CLI to host the policy server, so this module plays
the engine's part: it turns each planned resource into the `ResourceValidationArgs` and the whole
plan into the `StackValidationArgs` that pulumi-policy's analyzer builds (the same unknown-checking
proxy over the properties, the same resource options), runs every rule of `policies.pack.POLICIES`
at its enforcement level, and collects what the rules report.
"""

from __future__ import annotations

import asyncio
import contextvars
import difflib
from collections.abc import Mapping, Sequence
from inspect import isawaitable
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import pulumi_sdk
from policies.pack import PACK_NAME, POLICIES
from policies.values import COMPUTED
from tools.input_files import InputFileError, read_json, shown_path

Violation = dict[str, str]

ENGINE_UNKNOWN = pulumi_sdk.UNKNOWN.get()
UnknownValueError = pulumi_sdk.POLICY_UNKNOWN_ERROR.get()

# What a pack without an explicit level uses (pulumi-policy's PolicyPack default).
PACK_DEFAULT_LEVEL = EnforcementLevel.ADVISORY


def engine_properties(inputs: Mapping[str, Any]) -> Any:
    """Plan inputs as a policy sees them: `<computed>` becomes the engine's unknown sentinel,
    and the result is wrapped in pulumi-policy's proxy that raises on reading an unknown."""

    def wire(value: Any) -> Any:
        if value == COMPUTED:
            return ENGINE_UNKNOWN
        if isinstance(value, Mapping):
            return {k: wire(v) for k, v in value.items()}
        if isinstance(value, list):
            return [wire(v) for v in value]
        return value

    return pulumi_sdk.policy_properties(wire(dict(inputs)))


def _urn(resource: Mapping[str, Any], project: str, stack: str) -> str:
    urn = resource.get("urn")
    return (
        str(urn)
        if urn
        else f"urn:pulumi:{stack}::{project}::{resource['type']}::{resource['name']}"
    )


def resource_options(resource: Mapping[str, Any]) -> PolicyResourceOptions:
    """The options the engine reports for a registration (the plan records protect and parent)."""
    return PolicyResourceOptions(
        protect=bool(resource.get("protect", False)),
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.get("parent") or None,
    )


def resource_args(
    resource: Mapping[str, Any], *, project: str = "project", stack: str = "stack"
) -> ResourceValidationArgs:
    """What a resource policy receives for one planned resource."""
    return ResourceValidationArgs(
        resource_type=resource["type"],
        props=engine_properties(resource.get("inputs") or {}),
        urn=_urn(resource, project, stack),
        name=resource["name"],
        opts=resource_options(resource),
        provider=None,
    )


def stack_args(
    resources: Sequence[Mapping[str, Any]], *, project: str = "project", stack: str = "stack"
) -> StackValidationArgs:
    """What a stack policy receives: every resource, parents and dependencies linked up."""
    by_urn: dict[str, PolicyResource] = {}
    for resource in resources:
        urn = _urn(resource, project, stack)
        by_urn[urn] = PolicyResource(
            resource_type=resource["type"],
            props=engine_properties(resource.get("inputs") or {}),
            urn=urn,
            name=resource["name"],
            opts=resource_options(resource),
            provider=None,
            parent=None,
            dependencies=[],
            property_dependencies={},
        )
    for resource in resources:
        policy_resource = by_urn[_urn(resource, project, stack)]
        policy_resource.parent = by_urn.get(resource.get("parent") or "")
        policy_resource.dependencies = [
            by_urn[d] for d in resource.get("dependencies") or [] if d in by_urn
        ]
        policy_resource.property_dependencies = {
            key: [by_urn[d] for d in urns if d in by_urn]
            for key, urns in (resource.get("propertyDependencies") or {}).items()
        }
    return StackValidationArgs(list(by_urn.values()))


class PolicyConfigError(ValueError):
    """A policy pack configuration the CLI would refuse (unknown policy, unknown level)."""


def config_levels(config: Mapping[str, Any] | None) -> dict[str, EnforcementLevel]:
    """Enforcement levels set by a `--policy-pack-config` document, by policy name.

    The CLI's format: `{"all": <level>, "<policy>": <level> | {"enforcementLevel": <level>}}`;
    a policy's own entry wins over "all".
    """
    names = [p.name for p in POLICIES]
    levels: dict[str, EnforcementLevel] = {}
    for key, value in sorted((config or {}).items(), key=lambda item: item[0] != "all"):
        raw = value.get("enforcementLevel") if isinstance(value, Mapping) else value
        if key != "all" and key not in names:
            close = difflib.get_close_matches(key.lower().replace("_", "-"), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (policies: {', '.join(names)})"
            raise PolicyConfigError(
                f"policy pack config: {_shown(key)} is not a policy of {PACK_NAME}{hint}"
            )
        try:
            level = EnforcementLevel(raw)
        except (ValueError, TypeError):
            allowed = ", ".join(level.value for level in EnforcementLevel)
            raise PolicyConfigError(
                f"policy pack config: {shown_path(key, 80)} = {_shown(raw)} is not an enforcement "
                f"level ({allowed})"
            ) from None
        levels.update(dict.fromkeys(names, level) if key == "all" else {key: level})
    return levels


def load_config(path: Path) -> dict[str, Any]:
    """A `--policy-pack-config` JSON file, as the Pulumi CLI reads it."""
    where = f"--policy-pack-config {shown_path(path)}"
    hint = 'a JSON object of policy names to levels, e.g. {"all": "mandatory"}'
    try:
        loaded = read_json(path, where, hint)
    except InputFileError as error:
        raise PolicyConfigError(str(error)) from None
    if not isinstance(loaded, dict):
        raise PolicyConfigError(f"{where}: expected {hint}")
    config_levels(loaded)
    return loaded


def _shown(value: Any) -> str:
    text = repr(value)
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text if len(text) <= 80 else text[:77] + "..."


def enforcement_level(
    policy: Policy, configured: Mapping[str, EnforcementLevel] | None = None
) -> EnforcementLevel:
    level = (configured or {}).get(policy.name) or policy.enforcement_level or PACK_DEFAULT_LEVEL
    # The analyzer reports a violation of a remediating policy as mandatory.
    return EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level


def _run(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    args: Any,
    urn: str,
    level: EnforcementLevel,
) -> list[Violation]:
    """Run one validation; `urn` is the resource's (resource policies) or "" (stack policies)."""
    found: list[Violation] = []

    def report_violation(message: str, reported_urn: str | None = None) -> None:
        # A resource policy's violation always belongs to that resource; a stack policy names one.
        where = urn if isinstance(policy, ResourceValidationPolicy) else reported_urn or ""
        found.append(
            {
                "policy": policy.name,
                "urn": where,
                "message": message,
                "enforcementLevel": level.value,
            }
        )

    try:
        result = policy.validate(args, report_violation)
        if isawaitable(result):
            asyncio.run(_await(result))
    except UnknownValueError as unknown:
        # The analyzer's own behaviour: a rule that reads an unknown value is skipped, with a note.
        found.append(
            {
                "policy": policy.name,
                "urn": urn,
                "message": (
                    f"can't run policy '{policy.name}' from policy pack '{PACK_NAME}' during "
                    f"preview: {unknown.message}"
                ),
                "enforcementLevel": EnforcementLevel.ADVISORY.value,
            }
        )
    except Exception as error:
        if type(error).__name__ != "_NotApplicableError":  # args.not_applicable(): no verdict
            raise
    return found


async def _await(result: Any) -> None:
    await result


def evaluate(
    resources: list[dict[str, Any]],
    *,
    project: str,
    stack: str,
    config: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Every violation the pack reports for these planned resources, in the engine's order.

    Resource policies run once per resource, then stack policies once over all of them, each
    at its level or the one `config` (a `--policy-pack-config` document) gives it. Disabled
    policies are skipped. Returns `[{"policy", "urn", "message", "enforcementLevel"}]`;
    `urn` is "" for a violation of the stack as a whole.
    """

    def run() -> list[Violation]:
        # Policies may ask pulumi.get_stack()/get_project(); the analyzer configures them from the
        # CLI's environment. Set here in a context of our own, so the caller's settings stay.
        pulumi_sdk.set_policy_context(project=project, stack=stack)
        configured = config_levels(config)
        active = [
            (p, enforcement_level(p, configured))
            for p in POLICIES
            if enforcement_level(p, configured) != EnforcementLevel.DISABLED
        ]
        violations: list[Violation] = []
        for resource in resources:
            for policy, level in active:
                if isinstance(policy, ResourceValidationPolicy):
                    args = resource_args(resource, project=project, stack=stack)
                    violations += _run(policy, args, str(args.urn), level)
        for policy, level in active:
            if isinstance(policy, StackValidationPolicy):
                violations += _run(
                    policy, stack_args(resources, project=project, stack=stack), "", level
                )
        return violations

    return contextvars.Context().run(run)
