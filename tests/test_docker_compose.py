"""docker-compose.yml describes the production-like stack (no Docker engine runs here)."""

import re

import yaml

from tests.conftest import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OURS = {"dagster-code", "dagster-webserver", "dagster-daemon", "api"}


def test_every_service_of_the_stack_is_declared():
    assert set(SERVICES) == {"postgres", "redis", "etcd", "minio", "milvus", *OURS}


def test_every_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_dependencies_wait_for_healthy_services():
    expected = {
        "milvus": {"etcd", "minio"},
        "dagster-code": {"postgres", "redis", "milvus"},
        "dagster-webserver": {"postgres", "dagster-code"},
        "dagster-daemon": {"postgres", "dagster-code"},
        "api": {"postgres", "redis", "milvus"},
    }
    for name, deps in expected.items():
        declared = SERVICES[name]["depends_on"]
        assert set(declared) == deps, name
        assert all(d["condition"] == "service_healthy" for d in declared.values()), name


def test_our_services_share_the_image_and_the_platform_environment():
    for name in OURS:
        service = SERVICES[name]
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        env = service["environment"]
        assert env["AZAK_DATABASE_URL"].startswith("postgresql://")
        assert env["DAGSTER_PG_URL"].startswith("postgresql+psycopg2://")
        assert "AZAK_JWT_SECRET" in env and env["AZAK_ENV"] == "production"
    assert SERVICES["api"]["ports"] == ["8000:8000"]


def test_only_the_api_is_published_beyond_this_machine():
    """Dagit launches runs and imports and has no login: it listens on the loopback only; the
    backing services are not published at all."""
    assert SERVICES["dagster-webserver"]["ports"] == ["127.0.0.1:3000:3000"]
    published = {name: service["ports"] for name, service in SERVICES.items() if service.get("ports")}
    for name, ports in published.items():
        for port in ports:
            if name != "api":
                assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_secrets_come_from_the_environment_not_the_file():
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text and "${AZAK_JWT_SECRET:?" in text
    for name, service in SERVICES.items():
        env = service.get("environment") or {}
        for key, value in env.items():
            if re.search(r"PASSWORD|SECRET|_KEY", key):
                assert "${" in str(value), f"{name}: {key} is written in the file"


def test_the_image_installs_from_the_lock_file():
    dockerfile = (PROJECT_ROOT / "docker" / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "dbt parse" in dockerfile
    workspace = yaml.safe_load((PROJECT_ROOT / "docker" / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["grpc_server"]["host"] == "dagster-code"
