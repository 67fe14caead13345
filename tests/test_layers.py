"""The layering contract: imports go only downward (model <- clients <- providers <- components <-
tools; the policy pack stands alone), model/ is pure (no Pulumi), no two modules import each other
in a circle, and no module is over 600 lines. Read from the source, as `ast` parses it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package's layer: a module imports its own package or a lower layer only. The policy pack
# runs in a virtualenv of its own (policies/requirements.txt): it imports nothing of the project.
LAYERS = {"model": 0, "clients": 1, "providers": 2, "components": 3, "policies": 3, "tools": 4}
PURE = {"model": ("pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumi_policy", "boto3")}
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {"__main__": ROOT / "__main__.py"}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "venv" in path.relative_to(ROOT).parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement but those under `if TYPE_CHECKING:` (never run)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                walk(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return found


def _imports(name: str, path: Path) -> set[str]:
    """The names of what a module imports: project modules as their dotted name."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            names.add(candidate if candidate in MODULES else base)
    return names


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str | None:
    top = module.split(".", maxsplit=1)[0]
    return top if top in LAYERS else None


def test_the_layers_cover_every_source_package():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests"} <= set(LAYERS)


def test_imports_go_only_downward():
    upward = []
    for module, imported in GRAPH.items():
        own = _layer(module)
        for target in imported:
            layer = _layer(target)
            if own is None or layer is None or layer == own:
                continue
            if own == "policies" or LAYERS[layer] >= LAYERS[own]:
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_the_model_is_pure():
    impure = [
        f"{module} imports {target}"
        for module, imported in GRAPH.items()
        for target in imported
        if _layer(module) in PURE and target.split(".")[0] in PURE[_layer(module) or ""]
    ]
    assert impure == []


def test_no_modules_import_each_other_in_a_circle():
    edges = {m: {t for t in targets if t in GRAPH and t != m} for m, targets in GRAPH.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert circles == []


def test_no_module_is_over_600_lines():
    long = {
        name: length
        for name, path in MODULES.items()
        if (length := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize(
    ("graph", "check", "caught"),
    [
        ({"model.a": {"components.b"}}, test_imports_go_only_downward, "model.a imports comp"),
        (
            {"model.a": {"model.b"}, "model.b": {"model.a"}},
            test_no_modules_import_each_other_in_a_circle,
            "model.a",
        ),
        ({"model.a": {"pulumi"}}, test_the_model_is_pure, "model.a imports pulumi"),
    ],
    ids=["upward", "circle", "impure"],
)
def test_the_contract_catches_what_it_is_meant_to(monkeypatch, graph, check, caught):
    """A test that cannot fail is none: each check fails on a graph that breaks its rule."""
    monkeypatch.setitem(globals(), "GRAPH", graph)
    with pytest.raises(AssertionError, match=caught):
        check()
