"""The image works, proven without a Docker engine: its file tree is laid out from
docker/Dockerfile's own WORKDIR and COPY lines, and a Python that sees only that tree and the
environment's site-packages (not this checkout's editable install) parses the dbt project as the
build does, loads every definition of the code locations that docker-compose and deploy/ serve,
imports the instance storages they select, and builds the API app docker-compose runs."""

import json
import posixpath
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import yaml

from tests.conftest import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "docker" / "Dockerfile"
COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
VALUES = yaml.safe_load((PROJECT_ROOT / "deploy" / "dagster-values.yaml").read_text())
PROBE = Path(__file__).with_name("image_probe.py")
SNAPSHOT = PROJECT_ROOT / "tests" / "pipelines" / "snapshots" / "asset_graph.json"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1]) for line in lines]


def copy_into(root: Path, workdir: str, arguments: str) -> None:
    """One `COPY` from the build context (the checkout), with Docker's rules for directories."""
    words = [w for w in shlex.split(arguments) if not w.startswith("--")]
    assert "--from" not in arguments, "a multi-stage COPY: teach this test the stage"
    *sources, destination = words
    target = root / posixpath.join(workdir, destination).lstrip("/")
    for source in sources:
        path = PROJECT_ROOT / source
        if path.is_dir():  # a directory's contents go into the destination
            shutil.copytree(path, target, dirs_exist_ok=True)
        elif destination.endswith("/") or len(sources) > 1:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def lay_out_image(root: Path) -> Path:
    """The files the image holds, under ``root``; returns its final working directory."""
    workdir = "/"
    for keyword, arguments in instructions():
        if keyword == "WORKDIR":
            workdir = posixpath.join(workdir, arguments)
        elif keyword == "COPY":
            copy_into(root, workdir, arguments)
    return root / workdir.lstrip("/")


def wheel_packages() -> list[str]:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]


def module_and_attribute(argv: list[str]) -> tuple[str, str]:
    return argv[argv.index("-m") + 1], argv[argv.index("-a") + 1]


def code_locations() -> list[tuple[str, str]]:
    """What docker/workspace.yaml's gRPC server (a compose service) and the Helm values serve."""
    workspace = yaml.safe_load((PROJECT_ROOT / "docker" / "workspace.yaml").read_text())
    servers = [entry["grpc_server"]["host"] for entry in workspace["load_from"]]
    served = [module_and_attribute(COMPOSE["services"][host]["command"]) for host in servers]
    helm = [module_and_attribute(d["codeServerArgs"]) for d in VALUES["dagster-user-deployments"]["deployments"]]
    return sorted(set(served + helm))


def storages() -> list[tuple[str, str]]:
    """The instance storages of the image's dagster.yaml and of the chart's instance."""
    instance = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    chosen = [instance[key] for key in ("run_storage", "event_log_storage", "schedule_storage")]
    chosen += list(VALUES["additionalInstanceConfig"].values())
    return sorted({(s["module"], s["class"]) for s in chosen if "module" in s})


def app_factory() -> str:
    command = COMPOSE["services"]["api"]["command"]
    assert command[0] == "uvicorn" and "--factory" in command
    return command[1]


def dbt_arguments() -> list[str]:
    """The build's own `dbt parse` (a RUN step)."""
    runs = " ".join(arguments for keyword, arguments in instructions() if keyword == "RUN")
    return shlex.split(re.search(r"\bdbt (parse[^&;]*)", runs)[1])


def probe(tree: Path, tmp_path: Path) -> dict:
    plan = {"tree": str(tree), "packages": wheel_packages(), "dbt": dbt_arguments(),
            "code_locations": code_locations(), "storages": storages(), "app_factory": app_factory(),
            "site_packages": sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path / "dagster"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "AZAK_ENV": "production",
           "AZAK_JWT_SECRET": secrets.token_urlsafe(48),
           # nothing may connect while loading: port 9 refuses
           "AZAK_DATABASE_URL": "postgresql://azak:unused@127.0.0.1:9/azak"}
    result = subprocess.run([sys.executable, "-I", "-S", str(PROBE), str(tmp_path / "plan.json")], cwd=tree,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-6000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_dockerfile_copies_every_package_of_the_wheel():
    copied = {shlex.split(arguments)[0] for keyword, arguments in instructions() if keyword == "COPY"}
    missing = set(wheel_packages()) - copied
    assert not missing, f"docker/Dockerfile does not COPY {sorted(missing)} (pyproject.toml's wheel packages)"


def test_the_image_tree_loads_the_code_locations_the_storages_and_the_api(tmp_path):
    tree = lay_out_image(tmp_path / "image")
    found = probe(tree, tmp_path)
    assert found["manifest"] == str(tree / "dbt_project" / "target" / "manifest.json")
    assert found["outside_tree"] == [] and found["project_modules"] > 100
    expected_assets = sorted(json.loads(SNAPSHOT.read_text())["assets"])
    assert list(found["locations"]) == ["azak_pipelines.definitions:defs"]  # compose and Helm serve one
    for name, loaded in found["locations"].items():
        assert loaded["assets"] == expected_assets, name
        assert loaded["jobs"] > 0 and loaded["sensors"] > 0 and loaded["schedules"] > 0, name
    assert "azak_pipelines.instance_storage.PooledPostgresEventLogStorage" in found["storages"]
    assert "azak_pipelines.instance_storage.PooledPostgresRunStorage" in found["storages"]
    assert found["api_paths"] > 20
