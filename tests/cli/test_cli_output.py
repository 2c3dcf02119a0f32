"""`--json` answers that parse (`import`, `marts`, `housekeeping`, `users list`), and the progress
bars of `azak dev generate` and `azak import` in a real terminal (tmux), absent through a pipe."""

import json
import re
import shutil

import pytest

from azak_pipelines.lib.sample_data import BUNDLED
from tests.cli.test_backfill import Terminal
from tests.cli.test_market_commands import cli_env  # noqa: F401 - fixture
from tests.conftest import BIN, run_azak
from tests.pipelines.market.test_retention import load_intraday

FILES = [str(BUNDLED / "imports" / "005930_D.csv"), str(BUNDLED / "imports" / "000660.csv")]


def answer(*args: str, env: dict[str, str]) -> object:
    """The command's standard output, which must be one JSON document and nothing else."""
    done = run_azak(*args, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_reports_are_one_json_document_on_standard_output(cli_env, db_url):
    imported = answer("import", "prices", *FILES, "--json", env=cli_env)
    assert imported["rows_written"] == 948 and imported["source"] == "files" and imported["run_id"]

    built = answer("marts", "--json", env=cli_env)
    assert built["built"] > 0 and built["full_refresh"] is False and built["run_id"] != imported["run_id"]

    load_intraday(db_url)
    kept = answer("housekeeping", "--dry-run", "--as-of", "2026-11-30", "--json", env=cli_env)
    assert kept["dry_run"] is True
    minute = kept["tables"]["raw/minute_prices"]
    assert [p["name"] for p in minute["partitions_dropped"]] == ["minute_prices_y2025m09", "minute_prices_y2025m10"]
    assert minute["rows_freed"] == 8

    for email, admin in (("b@example.com", ["--admin"]), ("a@example.com", [])):
        created = run_azak("users", "create", "--email", email, "--password", "a-long-secret", *admin, env=cli_env)
        assert created.returncode == 0, created.stderr
    users = answer("users", "list", "--json", env=cli_env)
    assert [(u["email"], u["role"], u["active"]) for u in users] == [
        ("b@example.com", "admin", True), ("a@example.com", "user", True)]
    assert all("password" not in key for user in users for key in user)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
def test_generate_and_import_draw_bars_on_a_terminal_and_not_through_a_pipe(cli_env, db_url, tmp_path):
    out = tmp_path / "generated"
    azak = BIN / "azak"
    terminal = Terminal(f"{azak} dev generate --out {out} --stocks 3 --years 0.5 --minute-stocks 1 "
                        f"--minute-days 3 --articles 0 && {azak} import prices {out}/daily/adjusted/*.csv", cli_env)
    try:
        screen = terminal.wait_for(r"EXIT=\d+")
    finally:
        terminal.close()
    assert "EXIT=0" in screen, screen
    assert re.search(r"daily bars .*3/3 files .*rows/s", screen), screen
    assert re.search(r"minute bars .*1/1 files", screen), screen
    assert re.search(r"reading .*3/3 files", screen), screen
    assert re.search(r"writing 3 file\(s\) through raw/daily_prices .*spent", screen), screen

    piped = run_azak("import", "prices", *FILES, env=cli_env)
    assert piped.returncode == 0, piped.stderr
    assert "files/s" not in piped.stdout + piped.stderr and "━" not in piped.stdout
    assert "948 rows written" in piped.stdout
