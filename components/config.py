"""The one place the program reads `pulumi.Config`: the stack's config through the model's gate."""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from model.settings import Settings, SettingsError, parse_settings, project_values


def read_settings() -> Settings:
    """Read and validate the current stack's config (the only place that touches pulumi.Config)."""
    # The engine hands config over in PULUMI_CONFIG; tests and the plan tool set CONFIG directly.
    raw = project_values({**get_config_env(), **CONFIG.get()})
    region = pulumi.Config("aws").get("region")
    try:
        return parse_settings(raw, region=region)
    except SettingsError as err:
        # RunError prints the message alone, without a Python traceback, and stops the program
        # before any resource is registered.
        raise pulumi.RunError(f"invalid stack settings:\n{err}") from None
