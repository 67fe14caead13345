"""Check recorded resource inputs and invoke arguments against the installed pulumi-aws SDK.

Everything is read from the installed SDK at test time: the `<Resource>Args.__init__` and
`get_<x>_output` signatures (their type hints, which parameters have no default) and the input
types' own field names. Nothing of the provider's schema is copied here.
"""

from __future__ import annotations

import collections.abc
import enum
import importlib
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pulumi._types
import pulumi.output

from model.outputs import COMPUTED, SECRET

_PLACEHOLDERS = (COMPUTED, SECRET)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    # The SDK's annotations name `Output[T]` from pulumi.output; resolve them in both namespaces.
    namespace = {**vars(pulumi.output), **vars(sys.modules[fn.__module__])}
    return typing.get_type_hints(fn, globalns=namespace)


def _required(fn: Callable[..., Any]) -> set[str]:
    return {
        name
        for name, p in inspect.signature(fn).parameters.items()
        if p.default is inspect.Parameter.empty
        and name not in ("self", "__self__")
        and p.kind is not p.VAR_KEYWORD
    }


def _module(token: str) -> tuple[types.ModuleType, str]:
    """`aws:redshift/cluster:Cluster` -> (pulumi_aws.redshift, "Cluster"); index is the root."""
    _package, module_path, member = token.split(":")
    module = module_path.split("/")[0]
    name = "pulumi_aws" if module == "index" else f"pulumi_aws.{module.replace('/', '.')}"
    return importlib.import_module(name), member


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def resource_problems(token: str, inputs: dict[str, Any]) -> list[str]:
    """What in one registered resource's inputs the SDK's `<Resource>Args` does not accept."""
    module, member = _module(token)
    args_type = getattr(module, f"{member}Args")
    return _object_problems(token, args_type, inputs)


def invoke_problems(token: str, args: dict[str, Any]) -> list[str]:
    """What in one invoke's arguments the SDK's `get_<x>_output` function does not accept."""
    module, member = _module(token)
    function = getattr(module, f"{_snake(member)}_output")
    hints = _hints(function)
    problems = [
        f"{token}: required argument {name!r} missing"
        for name in _required(function)
        if _camel(name) not in args
    ]
    for key, value in args.items():
        name = _snake(key)
        if name not in hints or name == "opts":
            problems.append(f"{token}: {key!r} is not an argument of {function.__name__}")
            continue
        problems += _value_problems(f"{token}.{key}", hints[name], value)
    return problems


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _object_problems(where: str, input_type: type, value: dict[str, Any]) -> list[str]:
    hints = _hints(input_type.__init__)
    to_wire = pulumi._types.input_type_py_to_pulumi_names(input_type)
    from_wire = {wire: py for py, wire in to_wire.items()}
    problems = [
        f"{where}: required input {to_wire.get(name, name)!r} missing"
        for name in _required(input_type.__init__)
        if to_wire.get(name, name) not in value
    ]
    for key, item in value.items():
        name = from_wire.get(key)
        if name is None:
            problems.append(f"{where}: {key!r} is not an input of {input_type.__name__}")
            continue
        problems += _value_problems(f"{where}.{key}", hints[name], item)
    return problems


def _members(hint: Any) -> Iterator[Any]:
    """The plain types an Input[...] hint admits (no Awaitable, Output, or None)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            yield from _members(arg)
        return
    origin = typing.get_origin(hint) or hint
    if origin in (collections.abc.Awaitable, pulumi.output.Output, type(None)):
        return
    yield hint


def _value_problems(where: str, hint: Any, value: Any) -> list[str]:
    if value in _PLACEHOLDERS:
        return []  # unknown or secret at preview: the provider checks it at deploy
    candidates = list(_members(hint))
    failures: list[str] = []
    for candidate in candidates:
        found = _candidate_problems(where, candidate, value)
        if not found:
            return []
        failures += found
    accepted = ", ".join(_describe(c) for c in candidates)
    return [f"{where}: {value!r} is not one of the declared types ({accepted})", *failures[:3]]


def _candidate_problems(where: str, hint: Any, value: Any) -> list[str]:
    if hint is Any:
        return []
    if typing.get_origin(hint) in (collections.abc.Sequence, list, collections.abc.Mapping, dict):
        return _container_problems(where, hint, value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [member.value for member in hint]
        return [] if value in allowed else [f"{where}: {value!r} not in enum {allowed}"]
    if isinstance(hint, type) and pulumi._types.is_input_type(hint):
        if not isinstance(value, dict):
            return [f"{where}: expected an object of {hint.__name__}"]
        return _object_problems(where, hint, value)
    return _scalar_problems(where, hint, value)


def _container_problems(where: str, hint: Any, value: Any) -> list[str]:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (collections.abc.Sequence, list):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [
            p
            for i, item in enumerate(value)
            for p in _value_problems(f"{where}[{i}]", args[0], item)
        ]
    if not isinstance(value, dict):
        return [f"{where}: expected an object"]
    return [p for k, item in value.items() for p in _value_problems(f"{where}.{k}", args[1], item)]


_SCALARS: dict[Any, tuple[str, Callable[[Any], bool]]] = {
    bool: ("a boolean", lambda v: isinstance(v, bool)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    str: ("a string", lambda v: isinstance(v, str)),
}


def _scalar_problems(where: str, hint: Any, value: Any) -> list[str]:
    if hint not in _SCALARS:
        return [f"{where}: no rule for declared type {hint!r}"]
    expected, accepts = _SCALARS[hint]
    return [] if accepts(value) else [f"{where}: expected {expected}"]


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint)
