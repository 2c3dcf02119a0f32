"""The embedded PostgreSQL the project manages under AZAK_HOME, as root and as a normal user."""

import os
import pwd
import shutil
import socket
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import PROJECT_ROOT, free_port, run_azak


def embedded_env(home, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZAK_", "DAGSTER_"))}
    env.update({"AZAK_HOME": str(home), "AZAK_PG_PORT": str(port)})
    return env


@pytest.mark.slow
def test_db_start_url_status_stop(tmp_path):
    env = embedded_env(tmp_path / "home", free_port())
    started = run_azak("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    try:
        url = run_azak("db", "url", "--show-password", env=env).stdout.strip()
        assert url.startswith("postgresql://postgres:") and url.endswith("/azak")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("azak",)
            # a maintained PostgreSQL with contrib: pgserver 0.1.4 shipped 16.2 without pg_trgm
            assert conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0] >= 180006
            for extension in ("pg_trgm", "btree_gist", "vector"):
                conn.execute(f"CREATE EXTENSION {extension}")
        masked = run_azak("db", "url", env=env).stdout.strip()
        assert ":***@" in masked
        assert run_azak("db", "status", env=env).returncode == 0
        again = run_azak("db", "start", env=env)
        assert "already running" in again.stdout
        if os.geteuid() == 0:  # a parent made 0700 since (pytest does it to its base directory when a
            tmp_path.chmod(0o700)  # session starts): the cluster's system user is let through again
            assert run_azak("db", "status", env=env).returncode == 0
    finally:
        assert "stopped" in run_azak("db", "stop", env=env).stdout
    assert run_azak("db", "status", env=env).returncode == 3
    assert (tmp_path / "home" / "pg" / "superuser-password").stat().st_mode & 0o077 == 0


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another, normal user")
def test_a_normal_user_runs_the_embedded_server_too(tmp_path):
    user = "azaktest"
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)
    base = tmp_path / "normal-user"
    base.mkdir()
    shutil.chown(base, user)
    for parent in [tmp_path, *tmp_path.parents]:
        parent.chmod(parent.stat().st_mode | 0o001)  # let the user reach its home
    env = embedded_env(base / "home", free_port())
    env["HOME"] = str(base)
    # root's interpreter may sit under /root; give the user a system one of the same version
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    interpreter = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if interpreter is None:
        pytest.skip(f"no {version} outside root's home for a normal user to run")
    site_packages = next((PROJECT_ROOT / ".venv" / "lib").glob("python3.*/site-packages"))
    env["PYTHONPATH"] = f"{PROJECT_ROOT}:{site_packages}"
    env["PATH"] = "/usr/bin:/bin"
    azak_argv = [interpreter, "-m", "azak_cli.main"]
    entry = pwd.getpwnam(user)
    as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": base,
               "env": env, "capture_output": True, "text": True, "timeout": 120}
    started = subprocess.run([*azak_argv, "db", "start"], **as_user)
    assert started.returncode == 0, started.stderr
    try:
        data_dir = base / "home" / "pg" / "data"
        assert data_dir.stat().st_uid == pwd.getpwnam(user).pw_uid
        url = subprocess.run([*azak_argv, "db", "url", "--show-password"], **as_user).stdout.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        subprocess.run([*azak_argv, "db", "stop"], **as_user)


def test_a_cluster_made_by_an_older_postgresql_is_one_clear_error(tmp_path):
    data_dir = tmp_path / "home" / "pg" / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "PG_VERSION").write_text("16\n")  # what pgserver 0.1.4's initdb wrote
    result = run_azak("db", "start", env=embedded_env(tmp_path / "home", free_port()))
    assert result.returncode == 2
    assert f"the embedded cluster in {data_dir} was made by PostgreSQL 16" in result.stderr
    assert "pg_dumpall" in result.stderr and "cannot open it" in result.stderr


def test_a_taken_port_names_the_port_and_the_variable(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = run_azak("db", "start", env=embedded_env(tmp_path / "home", port))
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "AZAK_PG_PORT" in result.stderr


@pytest.mark.parametrize(
    "url",
    ["mysql://root@localhost/azak", "not a url at all", "postgresql://localhost", "postgresql://host:99999/x"],
)
def test_an_invalid_database_url_is_one_clear_error(url, tmp_path):
    env = embedded_env(tmp_path / "home", free_port())
    env["AZAK_DATABASE_URL"] = url
    result = run_azak("demo", "--no-serve", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "AZAK_DATABASE_URL" in lines[0], result.stderr


def test_an_unreachable_database_names_the_variable(tmp_path):
    env = embedded_env(tmp_path / "home", free_port())
    env["AZAK_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/azak"
    result = run_azak("db", "start", env=env)
    assert result.returncode == 2
    assert "cannot connect to PostgreSQL at AZAK_DATABASE_URL" in result.stderr
