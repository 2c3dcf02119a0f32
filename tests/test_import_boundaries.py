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
