"""The StaticParameters dynamic resource: type `pulumi-python:dynamic/xpander:StaticParameters`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from model import cluster_reboot as rules
from model.resource_types import IAMR_USER_MODULE, STATIC_PARAMETERS_NAME
from providers.static_parameters.provider import PROJECT_ROOT, StaticParametersProvider


class StaticParameters(
    pulumi.dynamic.Resource, module=IAMR_USER_MODULE, name=STATIC_PARAMETERS_NAME
):
    """The values of the group's static parameters; `pendingReboot` names those waiting."""

    clusterIdentifier: pulumi.Output[str]  # noqa: N815 - the output's name in state
    pendingReboot: pulumi.Output[list[str]]  # noqa: N815
    rebootCommand: pulumi.Output[str | None]  # noqa: N815

    def __init__(
        self,
        name: str,
        *,
        region: str,
        cluster_identifier: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        parameter_group_name: pulumi.Input[str],
        parameters: Mapping[str, str],
        reboot_after_change: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            rules.REGION: region,
            rules.CLUSTER: cluster_identifier,
            rules.ARN: cluster_arn,
            rules.GROUP: parameter_group_name,
            rules.PARAMETERS: dict(parameters),
            rules.REBOOT: reboot_after_change,
            rules.TIMEOUT: rules.REBOOT_WAIT_SECONDS,
            rules.PENDING: None,  # outputs: declared so the program can read them
            rules.COMMAND: None,
        }
        super().__init__(StaticParametersProvider(PROJECT_ROOT), name, props, opts)
