"""Run the real program under the mock engine with the dev stack's config, overridden per test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from model.config_keys import Settings
from model.settings import parse_settings
from tools.engine import PlannedResource, ProgramRun, run_program, stack_config_strings

ROOT = Path(__file__).resolve().parent.parent
DEV_CONFIG = stack_config_strings(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text()))
# The smallest stack file the plan tests of a live stack start from (the required keys only).
PLAN_STACK_TOP = """\
config:
  aws:region: us-west-2
  xpander-redshift:organizationId: org-4f1c9a2e7b
  xpander-redshift:eksClusterName: xpander-dev
  xpander-redshift:privateSubnetIds:
    - subnet-0a3f5c7e9b1d24680
    - subnet-0b4e6d8f0a2c35791
"""


def stack_config(**overrides: str) -> dict[str, str]:
    """The dev stack's config with `overrides` (a key without a namespace is the project's)."""
    config = dict(DEV_CONFIG)
    if "existingClusterIdentifier" in overrides:  # no subnets for a cluster it does not create
        config.pop("xpander-redshift:privateSubnetIds", None)
    for key, value in overrides.items():
        config[key if ":" in key else f"xpander-redshift:{key}"] = value
    return config


def run_stack(
    stack: str = "dev", invokes: dict[str, Any] | None = None, **overrides: str
) -> ProgramRun:
    return run_program(stack_config(**overrides), stack=stack, extra_invokes=invokes)


def of_type(run: ProgramRun, type_token: str) -> list[PlannedResource]:
    return [r for r in run.resources if r.type == type_token]


def one(run: ProgramRun, type_token: str) -> PlannedResource:
    found = of_type(run, type_token)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def document(resource: PlannedResource, key: str) -> Any:
    return json.loads(resource.inputs[key])


# Settings as the pure document builders take them, for tests that need no config parsing.
EXAMPLE_SETTINGS: Settings = parse_settings(
    {
        "organizationId": "org-4f1c9a2e7b",
        "eksClusterName": "xpander-dev",
        "privateSubnetIds": ["subnet-0a3f5c7e9b1d24680"],
    },
    region="us-west-2",
)
