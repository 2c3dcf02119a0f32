"""Run by tests/test_image.py as ``python -I -S image_probe.py <plan.json>``, with the image's
working directory as its own: what the image's processes load, loaded from the image's file tree
and the environment's site-packages only (no .pth file runs, so this checkout's editable install
is not on the path). Prints one JSON line of what it found."""

import importlib
import importlib.util
import json
import sys
from pathlib import Path


def isolated_path(plan: dict) -> None:
    """site-packages, then the tree (where the image's ``pip install -e .`` points)."""
    sys.path.extend(plan["site_packages"])
    reachable = [name for name in plan["packages"] if importlib.util.find_spec(name)]
    assert not reachable, f"{reachable} import without the image's tree: the probe is not isolated"
    sys.path.append(plan["tree"])


def parse_dbt(arguments: list[str]) -> str:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(arguments)
    assert result.success, f"dbt {' '.join(arguments)} failed: {result.exception}"
    return str(Path("dbt_project/target/manifest.json").resolve())


def load_code_location(module: str, attribute: str) -> dict:
    """Every definition, loaded as the code server loads them."""
    import dagster as dg

    target = getattr(importlib.import_module(module), attribute)
    definitions = target if isinstance(target, dg.Definitions) else target()
    dg.Definitions.validate_loadable(definitions)
    repository = definitions.get_repository_def()
    repository.load_all_definitions()
    return {"assets": sorted(k.to_user_string() for k in definitions.resolve_asset_graph().get_all_asset_keys()),
            "jobs": len(repository.get_all_jobs()), "sensors": len(repository.sensor_defs),
            "schedules": len(repository.schedule_defs)}


def build_app(factory: str) -> int:
    module, _, attribute = factory.partition(":")
    app = getattr(importlib.import_module(module), attribute)()
    return len(app.openapi_schema.paths or {})


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    isolated_path(plan)
    found = {"manifest": parse_dbt(plan["dbt"]),
             "locations": {f"{m}:{a}": load_code_location(m, a) for m, a in plan["code_locations"]},
             "storages": {f"{m}.{c}": getattr(importlib.import_module(m), c).__module__ for m, c in plan["storages"]},
             "api_paths": build_app(plan["app_factory"])}
    files = {str(Path(module.__file__).resolve()) for name, module in sys.modules.items()
             if name.split(".")[0] in plan["packages"] and getattr(module, "__file__", None)}
    found["project_modules"] = len(files)
    found["outside_tree"] = sorted(f for f in files if not f.startswith(plan["tree"]))
    sys.stdout.write(json.dumps(found) + "\n")


if __name__ == "__main__":
    main()
