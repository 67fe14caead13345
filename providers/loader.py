"""How a dynamic provider of this project is rebuilt inside Pulumi's dynamic-provider process.

Pulumi stores a dynamic provider in the state with dill, which pickles a class it can import by
reference. The provider process (`python -m pulumi.dynamic`) may not find `providers`, so a
provider pickles itself as a call of the function below, which dill pickles by value (a function
defined inside another one cannot be found by name): it puts the project root (or, if that
directory is gone, the working directory) on sys.path, then imports the provider's class.
`providers.iamr_user.provider` keeps its own older loader: its pickled form is in every state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def provider_loader() -> Callable[[str, str, str], Any]:
    """The by-value function `(project_root, module, class_name) -> provider`."""

    def load_provider(project_root: str, module_name: str, class_name: str) -> Any:
        import importlib  # noqa: PLC0415 - pickled by value: it can rely on no module globals
        import os  # noqa: PLC0415
        import sys  # noqa: PLC0415

        for root in (project_root, os.getcwd()):
            if os.path.isdir(os.path.join(root, "providers")):
                if root not in sys.path:
                    sys.path.insert(0, root)
                break
        return getattr(importlib.import_module(module_name), class_name)(project_root)

    return load_provider
