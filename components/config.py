"""The one place the program reads `pulumi.Config`: the stack's config through the model's gate."""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import (
    CONFIG,
    get_config_env,
    get_config_secret_keys_env,
    is_config_secret,
)

from model.config_keys import Settings
from model.settings import SettingsError, settings_from_config


def read_settings() -> Settings:
    """Read and validate the current stack's config (the only place that touches pulumi.Config)."""
    # The engine hands config over in PULUMI_CONFIG; tests and the plan tool set CONFIG directly.
    config = {**get_config_env(), **CONFIG.get()}
    try:
        secret = {*get_config_secret_keys_env(), *(k for k in config if is_config_secret(k))}
        return settings_from_config(config, secret_keys=secret)
    except SettingsError as err:
        # RunError prints the message alone, without a Python traceback, and stops the program
        # before any resource is registered.
        raise pulumi.RunError(f"invalid stack settings:\n{err}") from None
