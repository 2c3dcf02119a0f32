"""The API and the pipelines never import each other; pure modules never import Dagster; no
shipped module imports Dagster's private modules."""

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


def imported_modules(package: str) -> dict[Path, set[str]]:
    found = {}
    for path in (PROJECT_ROOT / package).rglob("*.py"):
        modules = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
        found[path] = modules
    return found


@pytest.mark.parametrize(("package", "forbidden"), [
    ("azak_api", "azak_pipelines"),
    ("azak_pipelines", "azak_api"),
    ("azak_pipelines", "azak_cli"),
    ("azak_api", "azak_cli"),
    ("azak_core", "azak_pipelines"),
    ("azak_core", "azak_api"),
    ("azak_core", "azak_cli"),
    ("azak_core", "dagster"),
    ("azak_core", "litestar"),
])
def test_packages_do_not_import_each_other(package, forbidden):
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path, modules in imported_modules(package).items()
        if any(m == forbidden or m.startswith(forbidden + ".") for m in modules)
    ]
    assert offenders == []


def test_pure_library_modules_do_not_import_dagster():
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path, modules in imported_modules("azak_pipelines/lib").items()
        if any(m == "dagster" or m.startswith(("dagster.", "dagster_")) for m in modules)
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["azak_core", "azak_pipelines", "azak_api", "azak_cli"])
def test_shipped_code_uses_only_public_dagster_modules(package):
    """Dagster's underscored modules change without notice between releases; a name Dagster
    keeps private is passed through untyped instead (azak_pipelines/instance_storage.py)."""
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}: {m}"
        for path, modules in imported_modules(package).items()
        for m in modules if m.split(".")[0].startswith("dagster") and any(p.startswith("_") for p in m.split("."))
    ]
    assert offenders == []


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: str) -> dict[str, set[str]]:
    """The modules of ``package`` and, for each, the modules of ``package`` it imports (at the top
    or inside a function: a cycle through a deferred import is still a cycle)."""
    paths = {module_name(path): path for path in (PROJECT_ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                # `from pkg import module` imports pkg.module; `from module import name` imports module
                edges.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in paths
                             else node.module for alias in node.names)
        graph[name] = {edge for edge in edges if edge in paths and edge != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                found.append(sorted([node, *group]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_cli_modules_import_each_other_without_cycles():
    """Layers: main → commands → what they do (demo, dev, market, …) → runtime; runs in
    azak_pipelines.runs. A cycle means a helper sits in the wrong module."""
    assert cycles(import_graph("azak_cli")) == []


def test_the_cli_imports_no_private_name():
    """A ``_name`` is its module's own; a helper two modules share is public, in a module both import."""
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}: from {node.module} import {alias.name}"
        for path in (PROJECT_ROOT / "azak_cli").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert offenders == []


MAX_FUNCTION_LINES = 60


def long_functions(package: str, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``path:line name (n lines)`` of every function (nested ones and methods too) of ``limit``
    lines or more, from its ``def`` to its last line, docstring included."""
    found = []
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length >= limit:
                    found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


@pytest.mark.parametrize("package", ["azak_core", "azak_pipelines", "azak_api", "azak_cli"])
def test_every_function_is_under_sixty_lines(package):
    """STYLE.md: small functions. A longer one is split into named steps, not exempted."""
    assert long_functions(package) == []


def test_the_function_length_rule_sees_a_long_function():
    # the rule measures what it should: this module's own functions are short, a lower limit finds them
    assert long_functions("tests", limit=3) != []
    assert any("long_functions" in found for found in long_functions("tests", limit=10))


def test_loading_the_code_location_does_not_import_the_openai_client():
    """Every run's process loads the code location; the openai package costs ~0.8 s to import and is
    needed only where a model is called (``lib/predictions/providers.py`` imports it there)."""
    import subprocess
    import sys

    probe = ("import importlib, pkgutil, sys\n"
             "import azak_pipelines.defs as package\n"
             "for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
             "    importlib.import_module(module.name)\n"
             "from azak_pipelines.definitions import defs\n"
             "defs()\n"
             "print(sorted(m for m in sys.modules if m == 'openai' or m.startswith('openai.'))[:3])\n")
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                           cwd=PROJECT_ROOT).stdout.strip().splitlines()[-1]
    assert found == "[]"
