"""The package layers of ``../shared/DESIGN.md``: each imports only the layers above it.

Every import statement of every module is checked, including the ones inside functions
(a lazy import is still a dependency). Also checked here: the size limits of the style
guide (no function over 60 lines, argument-parser builders aside; no file over 300 lines).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# layer -> the project packages its modules may import (besides themselves)
ALLOWED: dict[str, set[str]] = {
    "benchmark.core": {"benchmark"},
    "scenarios": {"benchmark", "benchmark.core"},
    "benchmark.results": {"benchmark", "benchmark.core"},
    "benchmark.model": {"benchmark", "benchmark.core", "scenarios"},
    "benchmark.engine": {"benchmark", "benchmark.core", "scenarios", "benchmark.results", "benchmark.model"},
    "strategies": {"benchmark", "benchmark.core", "scenarios", "benchmark.results", "benchmark.model", "benchmark.engine"},
    "benchmark.suite": {"benchmark", "benchmark.core", "scenarios", "benchmark.results", "benchmark.model", "benchmark.engine"},
    "leaderboard": {"benchmark", "benchmark.core", "benchmark.results"},
}
PROJECT = ("benchmark", "strategies", "scenarios", "leaderboard")
SOURCES = sorted(p for package in PROJECT for p in (ROOT / package).rglob("*.py"))
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    """The layer a project module belongs to (the longest matching prefix), or None outside the project."""
    candidates = [layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")]
    if candidates:
        return max(candidates, key=len)
    return module.split(".")[0] if module.split(".")[0] in PROJECT else None


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from benchmark.core import faults`` imports benchmark.core.faults
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def target_layer(imported: str) -> str | None:
    """The layer of an imported name (None outside the project).

    ``benchmark`` itself (its ``__version__``) is the package root; any other name under
    ``benchmark`` that is in no layer (the entry point ``benchmark.cli``, a module left
    outside the layers) is returned as itself, which no layer may import.
    """
    if imported.split(".")[0] not in PROJECT:
        return None
    layer = layer_of(imported)
    if layer == "benchmark" and imported not in ("benchmark", "benchmark.__version__"):
        return imported
    return layer


def layer_violations(path: Path) -> list[str]:
    own = layer_of(module_name(path))
    if own not in ALLOWED:
        return []  # benchmark/cli.py and the package root import everything
    problems = []
    for line, imported in imported_modules(path):
        target = target_layer(imported)
        if target is None or target == own or target in ALLOWED[own]:
            continue
        problems.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {imported} ({target})")
    return problems


def test_every_source_file_is_in_a_layer_or_is_the_entry_point() -> None:
    outside = [str(p.relative_to(ROOT)) for p in SOURCES if layer_of(module_name(p)) not in ALLOWED]
    assert sorted(outside) == ["benchmark/__init__.py", "benchmark/cli.py"]


def test_each_layer_imports_only_the_layers_above_it() -> None:
    problems = [problem for path in SOURCES for problem in layer_violations(path)]
    assert problems == []


def test_the_checker_sees_a_violation() -> None:
    """The layer test must be able to fail: a model module importing the engine is caught."""
    assert layer_of("benchmark.model.encoding") == "benchmark.model"
    assert target_layer("benchmark.engine.trainer.train_tasks") == "benchmark.engine"
    assert "benchmark.engine" not in ALLOWED["benchmark.model"]
    assert target_layer("leaderboard.formats.summary_markdown") == "leaderboard"
    assert target_layer("benchmark.records.RunRecord") == "benchmark.records.RunRecord"  # outside the layers: no layer allows it
    assert target_layer("benchmark.__version__") == "benchmark"
    assert "leaderboard" not in ALLOWED["benchmark.suite"]


def long_functions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not node.name.endswith("_parser"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_is_longer_than_the_style_limit(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_FILE_LINES


def test_no_function_is_longer_than_the_style_limit() -> None:
    found = [f for path in SOURCES for f in long_functions(path)]
    assert found == []


def project_module(imported: str, modules: set[str]) -> str | None:
    """The project module an imported name lives in (``a.b.c`` -> ``a.b`` when ``c`` is a name in it), or None."""
    while imported and imported not in modules:
        imported = imported.rpartition(".")[0]
    return imported or None


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere (top level, inside functions, under TYPE_CHECKING).

    A module importing its own package (``benchmark.engine.measures.cka`` importing ``benchmark.engine.measures``
    for its registry) is the package's registration, not a circle, and is left out.
    """
    paths = {module_name(p): p for p in SOURCES}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        targets = {project_module(imported, set(paths)) for _, imported in imported_modules(path)}
        graph[module] = {t for t in targets if t and t != module and not module.startswith(t + ".")}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every set of two or more modules that import each other, directly or around a loop (strongly connected components)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return found


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_sees_a_circle_around_a_loop() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
