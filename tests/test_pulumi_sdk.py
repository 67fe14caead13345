"""Contract tests of the Pulumi SDK's private parts the project uses (components/pulumi_sdk.py):
one per symbol, so an SDK upgrade that moves or changes one fails here, naming it.

The wire sentinels' expected values are the engine's own (pulumi/pulumi
sdk/go/common/resource/sig/sig.go: Key, Secret, ResourceReference; sdk/go/pulumi/rpc.go:
rpcTokenUnknownValue), not read from the SDK under test.
"""

from __future__ import annotations

import contextvars
import io
import pickle
import re
import tokenize
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import Mocks, set_all_config, set_mocks

from components import pulumi_sdk
from components.pulumi_sdk import INTERNALS, Internal, SdkContractError

ROOT = Path(__file__).resolve().parent.parent


class _NoMocks(Mocks):
    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        return "", dict(args.inputs)

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


def _fresh(run: Any) -> Any:
    """In a context of its own, as tools.engine runs a program: no test sees another's state."""
    return contextvars.Context().run(run)


def test_each_private_symbol_resolves_in_the_pinned_sdk():
    assert [f"{i.module}.{i.name}" for i in INTERNALS if not _resolves(i)] == []


def _resolves(internal: Internal) -> bool:
    try:
        internal.get()
    except SdkContractError:
        return False
    return True


def test_a_moved_symbol_fails_naming_it_and_what_relies_on_it():
    gone = Internal("pulumi.runtime.rpc", "_special_gone_sig", "the offline plan reads X")
    with pytest.raises(SdkContractError) as caught:
        gone.get()
    message = str(caught.value)
    assert message.startswith("pulumi.runtime.rpc._special_gone_sig is gone (")
    assert f"pulumi {pulumi_sdk.PULUMI_VERSION}" in message
    assert "the offline plan reads X" in message
    assert "docs/sdk-internals.md" in message
    with pytest.raises(SdkContractError, match=r"no_such_module\.x is gone"):
        Internal("pulumi.no_such_module", "x", "nothing").get()


def test_the_pinned_versions_are_the_installed_ones():
    from importlib.metadata import version  # noqa: PLC0415

    assert version("pulumi") == pulumi_sdk.PULUMI_VERSION
    assert version("pulumi-policy") == pulumi_sdk.PULUMI_POLICY_VERSION
    pins = (ROOT / "pyproject.toml").read_text()
    assert f'"pulumi=={pulumi_sdk.PULUMI_VERSION}"' in pins
    assert f'"pulumi-policy=={pulumi_sdk.PULUMI_POLICY_VERSION}"' in pins


@pytest.mark.parametrize(
    ("internal", "engine_value"),
    [
        (pulumi_sdk.SIG_KEY, "4dabf18193072939515e22adb298388d"),
        (pulumi_sdk.SECRET_SIG, "1b47061264138c4ac30d75fd1eb44270"),
        (pulumi_sdk.RESOURCE_SIG, "5cf8f73096256a8f31e491e813e4eb8e"),
        (pulumi_sdk.UNKNOWN, "04da6b54-80e4-46f7-96ec-b56ff0331ba9"),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
def test_wire_sentinels_are_the_engines(internal, engine_value):
    assert internal.get() == engine_value


def test_config_is_the_context_the_public_setter_writes():
    def run() -> dict[str, Any]:
        set_all_config({"xpander-redshift:port": "5439"}, secret_keys=["xpander-redshift:port"])
        return pulumi_sdk.current_config()

    assert isinstance(pulumi_sdk.CONFIG.get(), contextvars.ContextVar)
    assert _fresh(run)["xpander-redshift:port"] == "5439"
    assert _fresh(lambda: pulumi_sdk.secret_config_keys({"xpander-redshift:port": "1"})) == set()


def test_sync_await_waits_on_the_sdks_loop():
    async def answer() -> int:
        return 42

    assert pulumi_sdk.sync_await(answer()) == 42


def test_settings_carry_what_a_run_clears_and_policies_read():
    def run() -> tuple[str, str, bool]:
        set_mocks(_NoMocks(), project="p", stack="s", preview=True)
        settings = pulumi_sdk.SETTINGS.get()
        assert callable(settings.rpc_manager.clear) and callable(settings.outputs.clear)
        pulumi_sdk.clear_pending()
        pulumi_sdk.set_policy_context(project="xpander-redshift", stack="prod")
        return pulumi.get_project(), pulumi.get_stack(), settings.dry_run

    assert _fresh(run) == ("xpander-redshift", "prod", True)


def test_root_is_forgotten_and_a_program_runs_under_a_new_root_stack():
    def run() -> dict[str, Any]:
        pulumi_sdk.forget_root_stack()
        assert pulumi_sdk.GET_ROOT_RESOURCE.get()() is None
        set_mocks(_NoMocks(), project="p", stack="s", preview=True)
        assert pulumi_sdk.GET_ROOT_RESOURCE.get()() is not None
        pulumi_sdk.clear_pending()
        return pulumi_sdk.run_program(lambda: pulumi.export("answer", 42))

    exported = _fresh(run)
    assert list(exported) == ["answer"]
    assert pulumi_sdk.sync_await(pulumi.Output.from_input(exported["answer"]).future()) == 42


def test_the_mock_monitor_is_the_class_set_mocks_takes():
    monitor_class = pulumi_sdk.MOCK_MONITOR.get()
    assert pulumi_sdk.MockMonitor is monitor_class
    assert callable(monitor_class.RegisterResource)
    seen: list[str] = []

    class Recording(monitor_class):  # type: ignore[misc]
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method
            seen.append(request.type)
            return super().RegisterResource(request)

    def run() -> None:
        mocks = _NoMocks()
        pulumi_sdk.forget_root_stack()
        set_mocks(mocks, project="p", stack="s", preview=True, monitor=Recording(mocks))
        pulumi_sdk.clear_pending()
        pulumi_sdk.run_program(lambda: pulumi.ComponentResource("test:index:Thing", "thing"))

    _fresh(run)
    assert "test:index:Thing" in seen


def test_serialize_provider_patches_the_pickler_and_the_plan_puts_it_back():
    """The SDK replaces pickle._Pickler's _batch_setitems and save_dict on each call and never
    restores them (pulumi/dynamic/dynamic.py); pickler_restored puts them back."""
    pickler = pulumi_sdk.PY_PICKLER.get()
    assert pickler is pickle._Pickler  # type: ignore[attr-defined]
    original = {name: pickler.__dict__[name] for name in ("_batch_setitems", "save_dict")}
    provider = pulumi.dynamic.ResourceProvider()
    with pulumi_sdk.pickler_restored():
        text = pulumi_sdk.SERIALIZE_PROVIDER.get()(provider)  # the wrapped one, as the SDK calls
        from pulumi.dynamic import dynamic  # noqa: PLC0415

        assert dynamic.serialize_provider(provider) == text
        assert {n: pickler.__dict__[n] for n in original} == original
    assert isinstance(text, str) and text
    try:
        pulumi_sdk.SERIALIZE_PROVIDER.get()(provider)  # unwrapped: the SDK's own patch stays
        patched = {n: pickler.__dict__[n] for n in original}
        assert patched != original, "the SDK no longer patches the pickler: drop the restore"
    finally:
        for name, method in original.items():
            setattr(pickler, name, method)


def test_each_registration_sends_a_stack_trace_unless_the_offline_plan_skips_it():
    """The SDK calls `_get_stack_trace` for every registration and sends what it returns; inside
    stack_traces_skipped the registration carries an empty trace and no source position, and the
    original is back afterwards."""
    original = pulumi_sdk.STACK_TRACE.get()
    sent: list[tuple[int, bool]] = []

    class Recording(pulumi_sdk.MOCK_MONITOR.get()):  # type: ignore[misc]
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method
            sent.append((len(request.stackTrace.frames), request.HasField("sourcePosition")))
            return super().RegisterResource(request)

    class Thing(pulumi.ComponentResource):  # a component as the program declares its own
        def __init__(self) -> None:
            super().__init__("test:index:Thing", "thing")

    def run() -> None:
        mocks = _NoMocks()
        pulumi_sdk.forget_root_stack()
        set_mocks(mocks, project="p", stack="s", preview=True, monitor=Recording(mocks))
        pulumi_sdk.clear_pending()
        pulumi_sdk.run_program(Thing)

    _fresh(run)
    traced = sent[-1]
    with pulumi_sdk.stack_traces_skipped():
        assert pulumi_sdk.STACK_TRACE.get() is not original
        _fresh(run)
    skipped = sent[-1]
    assert pulumi_sdk.STACK_TRACE.get() is original
    assert traced[0] > 0 and traced[1], "the SDK sends no stack trace: drop stack_traces_skipped"
    assert skipped == (0, False)


def test_policy_properties_stop_a_rule_that_reads_an_unknown():
    unknown_error = pulumi_sdk.POLICY_UNKNOWN_ERROR.get()
    properties = pulumi_sdk.policy_properties(
        {"known": 1, "later": pulumi_sdk.UNKNOWN.get(), "nested": {"a": "b"}}
    )
    assert pulumi_sdk.POLICY_DESERIALIZE.get()({"x": [1]}) == {"x": [1]}
    assert callable(pulumi_sdk.POLICY_PROXY.get())
    assert properties["known"] == 1
    assert properties["nested"]["a"] == "b"
    with pytest.raises(unknown_error) as caught:
        _ = properties["later"]
    assert "later" in caught.value.message


PRIVATE_USE = re.compile(
    r"pulumi\.runtime\.(rpc|settings|stack|sync_await|config|mocks)\b"
    r"|from pulumi\.runtime import (rpc|settings|mocks|config|stack)\b"
    r"|_sync_await|_special_\w+_sig|_special_sig_key|pickle\._Pickler|serialize_provider"
    r"|_get_stack_trace|pulumi\.runtime\.resource\b"
    r"|pulumi_policy\.(proxy|deserialize)|\bSETTINGS\.|rpc_manager"
)
ADAPTER = ROOT / "components" / "pulumi_sdk.py"


def _code_lines(path: Path) -> dict[int, str]:
    """A module's lines with its strings and comments blanked (docs may name what code may not)."""
    text = path.read_text(encoding="utf-8")
    lines = [list(line) for line in text.splitlines()]
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        (first, start), (last, end) = token.start, token.end
        for number in range(first, last + 1):
            row = lines[number - 1]
            low = start if number == first else 0
            high = end if number == last else len(row)
            row[low:high] = " " * (high - low)
    return {number: "".join(row) for number, row in enumerate(lines, 1) if "".join(row).strip()}


def test_no_module_but_the_adapter_reaches_into_the_sdk():
    """The program, the tools, the providers and the pack use the SDK's private parts only through
    components/pulumi_sdk.py (tests that play the engine's side of its protocol are not scanned)."""
    offenders = []
    for folder in ("model", "clients", "components", "providers", "tools", "policies"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ADAPTER or "venv" in path.parts:
                continue
            for number, code in sorted(_code_lines(path).items()):
                if PRIVATE_USE.search(code):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {code}")
    assert offenders == []


def test_the_scan_sees_code_and_passes_over_words(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        '"""Mentions pulumi.runtime.rpc._special_sig_key in words."""\n'
        "# and _sync_await in a comment\n"
        "from pulumi.runtime.sync_await import _sync_await\n"
    )
    found = [code for code in _code_lines(module).values() if PRIVATE_USE.search(code)]
    assert found == ["from pulumi.runtime.sync_await import _sync_await"]
