"""deploy/ describes Azak on Kubernetes: our manifests (kubectl apply -k) and the values for
Dagster's Helm chart. No cluster and no helm binary here: every document is parsed and checked
against the code, the image and docker-compose, so a renamed variable or module fails here."""

import importlib.metadata
import re
import shlex
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
MANIFESTS = {
    path.name: list(yaml.safe_load_all(path.read_text()))
    for path in sorted(DEPLOY.glob("*.yaml")) if path.name not in {"kustomization.yaml", "dagster-values.yaml"}
}
OBJECTS = [doc for docs in MANIFESTS.values() for doc in docs]
VALUES_TEXT = (DEPLOY / "dagster-values.yaml").read_text()
VALUES = yaml.safe_load(VALUES_TEXT)
# The install command in the values' header: the release name names the chart's objects.
RELEASE, CHART_VERSION = re.findall(r"helm upgrade --install (\S+) dagster/dagster --version (\S+)", VALUES_TEXT)[0]
USER_CODE = VALUES["dagster-user-deployments"]["deployments"]
COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
# Names that hold credentials (a database URL carries its password): never a literal value.
# AZAK_LLM_KEY_VARIABLES names the variables keys may come from: a list of names, not a secret
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY(?!_VARIABLES)|TOKEN|DATABASE_URL")


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in OBJECTS if o["kind"] == kind}


def variables_the_code_reads() -> set[str]:
    names: set[str] = set()
    for package in ("azak_api", "azak_pipelines", "azak_core", "azak_cli"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            names |= set(re.findall(r"[\"']((?:AZAK|DAGSTER)_[A-Z0-9_]*[A-Z0-9])[\"']", path.read_text()))
    return names


def containers() -> dict[str, dict[str, Any]]:
    """Our Deployments' containers and the code location, in the Kubernetes container shape."""
    found = {c["name"]: c for d in objects("Deployment").values() for c in d["spec"]["template"]["spec"]["containers"]}
    for deployment in USER_CODE:
        image = deployment["image"]
        found[deployment["name"]] = {"image": f"{image['repository']}:{image['tag']}", "env": deployment["env"],
                                     "envFrom": [{"configMapRef": m} for m in deployment["envConfigMaps"]]}
    return found


def environment(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every variable a container gets: its own `env` and the keys of the ConfigMaps it reads."""
    config_maps = objects("ConfigMap")
    env = {}
    for source in container.get("envFrom", []):
        data = config_maps[source["configMapRef"]["name"]]["data"]
        env |= {name: {"name": name, "value": value} for name, value in data.items()}
    return env | {var["name"]: var for var in container.get("env", [])}


def project_image() -> str:
    """The image docker-compose builds for our services, without its tag."""
    return COMPOSE["x-azak-image"]["image"].split(":")[0]


def test_every_manifest_parses_and_is_applied_by_the_kustomization():
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(MANIFESTS)
    assert kustomization["namespace"] == "azak"
    for obj in OBJECTS:
        assert obj["apiVersion"] and obj["kind"] and obj["metadata"]["name"], obj
    assert not objects("Secret"), "secrets are created by hand (docs/runbook.md), never committed"


def test_every_container_runs_a_pinned_image():
    dagster_version = importlib.metadata.version("dagster")
    for name, container in containers().items():
        image, _, tag = container["image"].rpartition(":")
        assert image and tag and tag != "latest", f"{name}: {container['image']} has no fixed tag"
    assert dagster_version == CHART_VERSION  # the chart is versioned with the library


def test_the_webserver_and_the_daemon_run_the_code_locations_image():
    """They import the instance's pooled event log (azak_pipelines), which Dagster's image lacks."""
    [location] = USER_CODE
    for component in ("dagsterWebserver", "dagsterDaemon"):
        assert VALUES[component]["image"] == location["image"], component


def test_the_api_and_the_code_location_run_the_same_build_of_the_project_image():
    images = {name: c["image"] for name, c in containers().items()}
    assert set(images) == {"api", "azak"}
    assert len(set(images.values())) == 1, images
    assert images["api"].split(":")[0] == project_image()


def test_environment_names_are_the_ones_the_code_reads():
    read = variables_the_code_reads()
    assert {"AZAK_DATABASE_URL", "AZAK_MILVUS_URI", "AZAK_JWT_SECRET"} <= read  # the scan works
    for name, container in containers().items():
        unknown = set(environment(container)) - read
        assert not unknown, f"{name} sets variables no code reads: {sorted(unknown)}"


def test_the_services_get_what_they_need():
    env = {name: environment(c) for name, c in containers().items()}
    api_needs = {"AZAK_DATABASE_URL", "AZAK_JWT_SECRET", "AZAK_REDIS_URL", "AZAK_MILVUS_URI", "AZAK_DAGSTER_URL"}
    assert api_needs <= set(env["api"])
    assert env["api"]["AZAK_ENV"]["value"] == "production"
    # the chart's webserver Service, `<release>-dagster-webserver` on the chart's port 80
    assert env["api"]["AZAK_DAGSTER_URL"]["value"] == f"http://{RELEASE}-dagster-webserver:80"
    assert {"AZAK_DATABASE_URL", "AZAK_MILVUS_URI", "AZAK_EMBEDDER"} <= set(env["azak"])
    # docker-compose is the reference production configuration: Kubernetes sets every variable it
    # sets, except Dagster's storage URLs (the chart renders the instance from `postgresql`).
    everywhere = set(env["api"]) | set(env["azak"])
    missing = set(COMPOSE["x-azak-env"]) - everywhere - {"AZAK_DAGSTER_DATABASE_URL", "DAGSTER_PG_URL"}
    assert not missing, f"docker-compose sets {sorted(missing)}, deploy/ does not"


def test_secrets_come_from_kubernetes_secrets_by_key():
    keys: dict[str, tuple[str, str]] = {}
    for name, container in containers().items():
        for var, spec in environment(container).items():
            if not SECRET_NAME.search(var):
                continue
            assert "value" not in spec, f"{name}: {var} is written in the file"
            ref = spec["valueFrom"]["secretKeyRef"]
            assert keys.setdefault(var, (ref["name"], ref["key"])) == (ref["name"], ref["key"]), var
    assert {"AZAK_DATABASE_URL", "AZAK_JWT_SECRET", "AZAK_KIS_APP_SECRET"} <= set(keys)
    assert VALUES["generatePostgresqlPasswordSecret"] is False and "postgresqlPassword" not in VALUES["postgresql"]


def test_the_api_is_ready_when_health_answers_and_alive_while_it_listens():
    api = objects("Deployment")["azak-api"]["spec"]["template"]["spec"]["containers"][0]
    compose_command = COMPOSE["services"]["api"]["command"]
    assert api["command"] == compose_command
    port = int(compose_command[compose_command.index("--port") + 1])
    named = {p["name"]: p["containerPort"] for p in api["ports"]}

    def resolve(value: int | str) -> int:
        return named[value] if isinstance(value, str) else value

    ready = api["readinessProbe"]["httpGet"]
    assert ready["path"] == "/health" and resolve(ready["port"]) == port
    live = api["livenessProbe"]
    assert any(k in live for k in ("httpGet", "tcpSocket", "exec")) and "/health" not in str(live)
    service = objects("Service")["azak-api"]
    pod_labels = objects("Deployment")["azak-api"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert resolve(service["spec"]["ports"][0]["targetPort"]) == port


def test_dagster_launches_runs_as_kubernetes_jobs_from_the_code_location():
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert VALUES["dagster-user-deployments"]["enabled"] is True
    [location] = USER_CODE
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())["load_from"][0]["python_module"]
    assert location["name"] == workspace["location_name"]
    args = location["codeServerArgs"]
    assert args[args.index("-m") + 1] == workspace["module_name"]
    assert args[args.index("-a") + 1] == workspace["attribute"]
    compose_code = COMPOSE["services"]["dagster-code"]["command"]
    assert " ".join(args) in shlex.join(compose_code)
    assert location["includeConfigInLaunchedRuns"]["enabled"] is True
    # the code server reads the chart's instance, not the image's docker-compose one
    [volume] = location["volumes"]
    [mount] = location["volumeMounts"]
    assert volume["configMap"]["name"] == f"{RELEASE}-instance" and mount["name"] == volume["name"]
    assert mount["mountPath"] == f"{VALUES['global']['dagsterHome']}/dagster.yaml"
    assert mount["subPath"] == "dagster.yaml"
    # the image runs the launcher the instance names, from the same lock file as everything else
    assert importlib.metadata.version("dagster-k8s") == importlib.metadata.version("dagster-postgres")
    lock = (PROJECT_ROOT / "requirements.lock").read_text()
    assert f"dagster-k8s=={importlib.metadata.version('dagster-k8s')}" in lock
    dockerfile = (PROJECT_ROOT / "docker" / "Dockerfile").read_text()
    assert f"DAGSTER_HOME={VALUES['global']['dagsterHome']} " in dockerfile
    assert not any(VALUES[name]["enabled"] for name in ("rabbitmq", "redis", "flower"))


def test_storage_is_the_external_postgresql():
    pg = VALUES["postgresql"]
    assert pg["enabled"] is False
    external = objects("Service")[pg["postgresqlHost"]]
    assert external["spec"]["type"] == "ExternalName"
    assert pg["service"]["port"] in {p["port"] for p in external["spec"]["ports"]}
    assert f"CREATE DATABASE {pg['postgresqlDatabase']};" in (PROJECT_ROOT / "docker" / "postgres-init.sql").read_text()


# What the chart (1.13.27, templates/configmap-instance.yaml) renders for the run storage and the
# event log: fixed, with no value to change them. `additionalInstanceConfig` is rendered at the end
# of the same file.
CHART_STORAGES = """
run_storage:
  module: dagster_postgres.run_storage
  class: PostgresRunStorage
  config:
    postgres_db: {username: azak, password: {env: DAGSTER_PG_PASSWORD}, hostname: azak-postgres}
event_log_storage:
  module: dagster_postgres.event_log
  class: PostgresEventLogStorage
  config:
    postgres_db: {username: azak, password: {env: DAGSTER_PG_PASSWORD}, hostname: azak-postgres}
"""


@pytest.mark.parametrize("storage", ["run_storage", "event_log_storage"])
def test_the_chart_instance_uses_the_pooled_storages_of_dagster_yaml(tmp_path, storage):
    from dagster_shared.yaml_utils import load_yaml_from_globs  # what DagsterInstance reads dagster.yaml with

    rendered = tmp_path / "dagster.yaml"
    rendered.write_text(CHART_STORAGES + yaml.safe_dump(VALUES["additionalInstanceConfig"]))
    chosen = load_yaml_from_globs(str(rendered))[storage]
    assert isinstance(chosen, dict)
    local = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())[storage]
    assert (chosen["module"], chosen["class"]) == (local["module"], local["class"])
    # on the chart's own storage database, with the password the chart gives every pod
    pg = VALUES["postgresql"]
    assert chosen["config"]["postgres_db"] == {
        "username": pg["postgresqlUsername"], "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"], "db_name": pg["postgresqlDatabase"], "port": pg["service"]["port"]}


def test_redis_and_milvus_are_external_services_named_in_the_uris():
    services = objects("Service")
    data = objects("ConfigMap")["azak-config"]["data"]
    for var in ("AZAK_REDIS_URL", "AZAK_MILVUS_URI"):
        url = urlsplit(data[var])
        service = services[str(url.hostname)]
        assert service["spec"]["type"] == "ExternalName" and service["spec"]["externalName"], var
        assert url.port in {p["port"] for p in service["spec"]["ports"]}, var


def test_run_limits_are_the_ones_of_dagster_yaml():
    instance = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())["concurrency"]
    chart = VALUES["concurrency"]
    assert chart["enabled"] is True
    assert chart["pools"] == {"granularity": instance["pools"]["granularity"],
                              "defaultLimit": instance["pools"]["default_limit"]}
    assert chart["runs"] == {"maxConcurrentRuns": instance["runs"]["max_concurrent_runs"],
                             "tagConcurrencyLimits": instance["runs"]["tag_concurrency_limits"]}
