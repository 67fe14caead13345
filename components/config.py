"""The one place the program reads `pulumi.Config`: the stack's config through the model's gate."""

from __future__ import annotations

import pulumi

from components.pulumi_sdk import SdkContractError, current_config, secret_config_keys
from model.config_keys import Settings
from model.settings import SettingsError, settings_from_config


def read_settings() -> Settings:
    """Read and validate the current stack's config (the only place that touches pulumi.Config)."""
    try:
        # The engine hands config over in PULUMI_CONFIG; tests and the plan tool set it in-process.
        config = current_config()
        return settings_from_config(config, secret_keys=secret_config_keys(config))
    except SdkContractError as err:
        raise pulumi.RunError(str(err)) from None
    except SettingsError as err:
        # RunError prints the message alone, without a Python traceback, and stops the program
        # before any resource is registered.
        raise pulumi.RunError(f"invalid stack settings:\n{err}") from None
