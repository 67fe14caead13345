"""The one door to the Pulumi SDK's private parts: every symbol the project uses that Pulumi does
not export as API goes through here.

The offline plan runs the program under the SDK's mock engine, the policy check plays the
analyzer's part, and the program reads its config the way the SDK hands it over: each needs a
name Pulumi keeps internal (a module of `pulumi.runtime` that `pulumi.runtime` does not
re-export, an underscore name, a patched `pickle` internal). Each is named once below with why the
project needs it (docs/sdk-internals.md says the same for readers), is looked up when it is first
used, and `tests/test_pulumi_sdk.py` holds one contract test per symbol, so an SDK upgrade that
moves one fails in one place, with `SdkContractError` naming the symbol, the pinned version it was
read in, and what relies on it.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    # Re-exported for mypy; at run time `__getattr__` below looks it up when first imported.
    from pulumi.runtime.mocks import MockMonitor as MockMonitor  # noqa: PLC0414

_T = TypeVar("_T")

# The versions these symbols were read in (pyproject.toml pins them; uv.lock holds the hashes).
PULUMI_VERSION = "3.272.0"
PULUMI_POLICY_VERSION = "1.21.0"


class SdkContractError(RuntimeError):
    """A private SDK symbol the project relies on is gone or changed (after an SDK upgrade)."""


@dataclass(frozen=True)
class Internal:
    """One private SDK symbol: where it lives, and what of this project relies on it."""

    module: str
    name: str
    why: str

    def get(self) -> Any:
        try:
            return getattr(importlib.import_module(self.module), self.name)
        except (ImportError, AttributeError) as err:
            raise SdkContractError(
                f"{self.module}.{self.name} is gone ({err}); it was read in pulumi "
                f"{PULUMI_VERSION} / pulumi-policy {PULUMI_POLICY_VERSION}, and {self.why}. "
                "See docs/sdk-internals.md for what to do when an SDK upgrade moves it."
            ) from None


# Every private symbol, once. The plan's wire sentinels are the engine's
# (pulumi/pulumi sdk/go/common/resource/sig/sig.go; sdk/go/pulumi/rpc.go rpcTokenUnknownValue).
SIG_KEY = Internal(
    "pulumi.runtime.rpc", "_special_sig_key", "the offline plan reads secrets and resource refs"
)
SECRET_SIG = Internal(
    "pulumi.runtime.rpc", "_special_secret_sig", "the offline plan shows secrets as [secret]"
)
RESOURCE_SIG = Internal(
    "pulumi.runtime.rpc", "_special_resource_sig", "the offline plan shows resource refs as URNs"
)
UNKNOWN = Internal(
    "pulumi.runtime.rpc", "UNKNOWN", "the offline plan and the policy check mark unknowns"
)
CONFIG = Internal(
    "pulumi.runtime.config",
    "CONFIG",
    "the program reads the config the mock engine and the tests set (components/config.py)",
)
SETTINGS = Internal(
    "pulumi.runtime.settings",
    "SETTINGS",
    "each offline run clears the outputs and RPCs a failed run left, and the policy check sets "
    "the project and stack policies ask for",
)
ROOT = Internal(
    "pulumi.runtime.settings", "ROOT", "each offline run starts without the last run's stack"
)
GET_ROOT_RESOURCE = Internal(
    "pulumi.runtime.settings", "get_root_resource", "the offline plan reads the stack's exports"
)
RUN_PULUMI_FUNC = Internal(
    "pulumi.runtime.stack", "run_pulumi_func", "the offline plan runs the program as `pulumi` does"
)
SYNC_AWAIT = Internal(
    "pulumi.runtime.sync_await",
    "_sync_await",
    "the offline plan waits for the program and its outputs on the SDK's own event loop",
)
MOCK_MONITOR = Internal(
    "pulumi.runtime.mocks",
    "MockMonitor",
    "the offline plan records each registration as the engine receives it",
)
SERIALIZE_PROVIDER = Internal(
    "pulumi.dynamic.dynamic",
    "serialize_provider",
    "the offline plan undoes the pickle patch it leaves behind after each dynamic provider",
)
PY_PICKLER = Internal(
    "pickle",
    "_Pickler",
    "serialize_provider patches its _batch_setitems and save_dict; the plan restores them",
)
STACK_TRACE = Internal(
    "pulumi.runtime.resource",
    "_get_stack_trace",
    "the offline plan skips the stack trace the SDK captures for each resource (about a fifth of "
    "a program run), which the mock engine never reads",
)
POLICY_DESERIALIZE = Internal(
    "pulumi_policy.deserialize",
    "deserialize_properties",
    "the policy check turns planned inputs into what the analyzer hands the pack",
)
POLICY_PROXY = Internal(
    "pulumi_policy.proxy",
    "unknown_checking_proxy",
    "the policy check wraps properties as the analyzer does, so a rule reading an unknown stops",
)
POLICY_UNKNOWN_ERROR = Internal(
    "pulumi_policy.proxy",
    "UnknownValueError",
    "the policy check treats a rule that read an unknown as the analyzer does",
)

INTERNALS: tuple[Internal, ...] = (
    SIG_KEY,
    SECRET_SIG,
    RESOURCE_SIG,
    UNKNOWN,
    CONFIG,
    SETTINGS,
    ROOT,
    GET_ROOT_RESOURCE,
    RUN_PULUMI_FUNC,
    SYNC_AWAIT,
    MOCK_MONITOR,
    SERIALIZE_PROVIDER,
    PY_PICKLER,
    STACK_TRACE,
    POLICY_DESERIALIZE,
    POLICY_PROXY,
    POLICY_UNKNOWN_ERROR,
)

# The pickler methods serialize_provider replaces (pulumi/dynamic/dynamic.py).
_PATCHED_PICKLER_METHODS = ("_batch_setitems", "save_dict")


def __getattr__(name: str) -> Any:
    """`MockMonitor`, looked up when the offline plan imports it (the program never does)."""
    if name == "MockMonitor":
        return MOCK_MONITOR.get()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def current_config() -> dict[str, Any]:
    """The stack's config as the engine hands it over (PULUMI_CONFIG), under what the plan tool
    and the tests set in-process."""
    from pulumi.runtime import get_config_env  # noqa: PLC0415 - public API

    return {**get_config_env(), **CONFIG.get().get()}


def secret_config_keys(config: dict[str, Any]) -> set[str]:
    """The keys of `config` the engine or an in-process caller marked secret."""
    from pulumi.runtime import get_config_secret_keys_env, is_config_secret  # noqa: PLC0415

    return {*get_config_secret_keys_env(), *(k for k in config if is_config_secret(k))}


def sync_await(awaitable: Awaitable[_T]) -> _T:
    """Wait for `awaitable` on the SDK's event loop (the one the program's outputs live on)."""
    result: _T = SYNC_AWAIT.get()(awaitable)
    return result


def forget_root_stack() -> None:
    """Start the next in-process run without the last run's stack (before `set_mocks`, which
    makes a new root stack only where there is none)."""
    ROOT.get().set(None)


def clear_pending() -> None:
    """Forget the outputs and RPCs a previous in-process run left in the process-wide settings: a
    run that failed must not hand its failed outputs to the next one (the SDK's own test wrapper
    does the same between runs)."""
    settings = SETTINGS.get()
    settings.rpc_manager.clear()
    settings.outputs.clear()


def run_program(main: Callable[[], None]) -> dict[str, Any]:
    """Run `main` as `pulumi` runs a program (a root stack around it); its stack's exports."""
    sync_await(RUN_PULUMI_FUNC.get()(main))
    root = GET_ROOT_RESOURCE.get()()
    return dict(getattr(root, "outputs", {}) or {})


def set_policy_context(*, project: str, stack: str) -> None:
    """What the analyzer configures for policies (`pulumi.get_project()`, `get_stack()`)."""
    settings = SETTINGS.get()
    settings.project = project
    settings.stack = stack
    settings.dry_run = True


def policy_properties(properties: dict[str, Any]) -> Any:
    """Wire properties as pulumi-policy's analyzer hands them to a rule: deserialized, and behind
    the proxy that raises `POLICY_UNKNOWN_ERROR` when a rule reads an unknown."""
    return POLICY_PROXY.get()(POLICY_DESERIALIZE.get()(properties))


@contextlib.contextmanager
def pickler_restored() -> Iterator[None]:
    """Undo what `pulumi.dynamic.serialize_provider` leaves behind, after each provider.

    To pickle a dynamic provider deterministically, the SDK (pulumi/dynamic/dynamic.py) replaces
    `pickle._Pickler._batch_setitems` and `save_dict` with sorting wrappers of the current ones
    and never puts them back: every provider serialised in a process wraps the last wrapper once
    more, so each pickle gets slower and a later plan in the same process dies of RecursionError.
    Here each serialisation starts from the original methods and puts them back when done.
    """
    pickler = PY_PICKLER.get()
    saved = {name: pickler.__dict__[name] for name in _PATCHED_PICKLER_METHODS}
    dynamic = importlib.import_module(SERIALIZE_PROVIDER.module)
    serialize = SERIALIZE_PROVIDER.get()

    def restore() -> None:
        for name, original in saved.items():
            setattr(pickler, name, original)

    def serialize_restored(provider: Any) -> str:
        try:
            return str(serialize(provider))
        finally:
            restore()

    setattr(dynamic, SERIALIZE_PROVIDER.name, serialize_restored)
    try:
        yield
    finally:
        setattr(dynamic, SERIALIZE_PROVIDER.name, serialize)
        restore()


@contextlib.contextmanager
def stack_traces_skipped() -> Iterator[None]:
    """Register resources without the stack trace the SDK captures for each (offline only).

    For every resource and read, the SDK (pulumi/runtime/resource.py) walks the Python stack and
    sends it with the registration as `stackTrace` and `sourcePosition`, for the engine's
    diagnostics. The mock engine records neither, so the offline plan sends an empty trace, as the
    SDK itself does when it finds no user frame. Only `tools/engine.py` uses this, around a mock
    run; under `pulumi up` the program never calls it, and the original is back on exit.
    """
    from pulumi.runtime.proto import source_pb2  # noqa: PLC0415 - generated protocol, public

    module = importlib.import_module(STACK_TRACE.module)
    original = STACK_TRACE.get()

    def no_stack_trace() -> Any:
        return source_pb2.StackTrace()

    setattr(module, STACK_TRACE.name, no_stack_trace)
    try:
        yield
    finally:
        setattr(module, STACK_TRACE.name, original)
