"""The IamrUser dynamic resource: type `pulumi-python:dynamic/xpander:IamrUser`."""

from __future__ import annotations

import pulumi
import pulumi.dynamic

from model.resource_types import IAMR_USER_MODULE, IAMR_USER_NAME
from providers.iamr_user.props import IamrUserProps
from providers.iamr_user.provider import PROJECT_ROOT, IamrUserProvider


class IamrUser(pulumi.dynamic.Resource, module=IAMR_USER_MODULE, name=IAMR_USER_NAME):
    """One IAMR user; its inputs are an `IamrUserProps` in state form."""

    user: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        props: IamrUserProps[pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(IamrUserProvider(PROJECT_ROOT), name, props.to_dict(), opts)
