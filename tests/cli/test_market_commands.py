"""`azak import prices`, `azak backfill prices`, `azak housekeeping`: real runs in a real Dagster instance."""

import os
from datetime import datetime, timedelta

import dagster as dg
import psycopg
import pytest

from azak_core.market import KST
from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve
from azak_pipelines.lib.sample_data import BUNDLED
from tests.conftest import run_azak
from tests.pipelines.market.test_retention import MINUTE_DAYS, load_intraday, rows_by_day

IMPORTS = BUNDLED / "imports"


@pytest.fixture
def cli_env(db_url, dagster_database, tmp_path) -> dict[str, str]:
    """The CLI pointed at the test databases, with its own AZAK_HOME (and so its own instance)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZAK_", "DAGSTER_"))}
    with psycopg.connect(dagster_database.render(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    env.update({"AZAK_DATABASE_URL": db_url, "AZAK_DAGSTER_DATABASE_URL": dagster_database.render(),
                "AZAK_HOME": str(tmp_path / "home"), "AZAK_SOURCE_MODE": "replay"})
    return env


def table(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def materializations(env: dict[str, str], asset: str) -> list[dict]:
    os.environ["DAGSTER_PG_URL"] = env["AZAK_DAGSTER_DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg2://", 1)
    home = os.path.join(env["AZAK_HOME"], "dagster")
    with dg.DagsterInstance.from_config(home) as instance:
        records = instance.fetch_materializations(dg.AssetKey.from_user_string(asset), limit=5000).records
        return [{k: v.value for k, v in r.asset_materialization.metadata.items()} for r in records]


def test_import_of_both_layouts_is_a_materialization_and_idempotent(cli_env, db_url):
    files = [str(IMPORTS / "005930_D.csv"), str(IMPORTS / "000660.csv")]
    first = run_azak("import", "prices", *files, env=cli_env)
    assert first.returncode == 0, first.stderr
    assert "948 valid rows for 2 stock(s), 0 rejected" in first.stdout
    assert "948 rows written" in first.stdout
    snapshot = table(db_url, "SELECT * FROM raw.daily_prices ORDER BY stock_code, trade_date")
    assert len(snapshot) == 948
    assert snapshot[0][:8] == ("000660", datetime(2022, 1, 3).date(), "adjusted", 132000, 132500,
                               128000, 128500, 3782213)
    assert {row[9] for row in snapshot} == {"file:005930_D.csv", "file:000660.csv"}

    again = run_azak("import", "prices", *files, env=cli_env)
    assert again.returncode == 0, again.stderr
    assert "948 replaced" in again.stdout
    assert table(db_url, "SELECT * FROM raw.daily_prices ORDER BY stock_code, trade_date") == snapshot

    recorded = materializations(cli_env, "raw/daily_prices")
    assert len(recorded) == 2 * 701  # one per partition (calendar day) of the range, per run
    assert recorded[0]["source"] == "files" and recorded[0]["rows_written"] == 948
    # what Dagit's partition bar shows: each day of the range materialized, none failed or pending
    first_day = min(row[1] for row in snapshot)
    assert partition_status(cli_env, "raw/daily_prices") == (
        [str(first_day + timedelta(days=n)) for n in range(701)], [], [])


def partition_status(env: dict[str, str], asset: str) -> tuple[list[str], list[str], list[str]]:
    """The materialized, failed and in-progress days of ``asset``, from the status cache Dagit's
    partition bar reads."""
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    from azak_pipelines.defs.calendar.partitions import market_days

    os.environ["DAGSTER_PG_URL"] = env["AZAK_DAGSTER_DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg2://", 1)
    with dg.DagsterInstance.from_config(os.path.join(env["AZAK_HOME"], "dagster")) as instance:
        status = get_and_update_asset_status_cache_value(
            instance, dg.AssetKey.from_user_string(asset), market_days)
        assert status is not None
        return (sorted(status.deserialize_materialized_partition_subsets(market_days).get_partition_keys()),
                sorted(status.deserialize_failed_partition_subsets(market_days).get_partition_keys()),
                sorted(status.deserialize_in_progress_partition_subsets(market_days).get_partition_keys()))


def test_marts_resume_after_an_import_and_rebuild_from_scratch_on_request(cli_env, db_url):
    files = [str(IMPORTS / "005930_D.csv"), str(IMPORTS / "000660.csv")]
    assert run_azak("import", "prices", *files, env=cli_env).returncode == 0
    built = run_azak("marts", env=cli_env)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("building the marts…") and "models and seeds, run " in built.stdout
    query = "SELECT * FROM marts.daily_prices ORDER BY stock_code, trade_date"
    first = table(db_url, query)
    assert len(first) == 948 and {row[0] for row in first} == {"005930", "000660"}

    rebuilt = run_azak("marts", "--full-refresh", env=cli_env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "building the marts from scratch…" in rebuilt.stdout
    assert table(db_url, query) == first


def test_bad_rows_are_rejected_with_file_line_and_reason(cli_env, db_url, tmp_path):
    bad = tmp_path / "005380.csv"
    bad.write_text(
        "date,open,high,low,close,volume\n"
        "2025-01-02,100,110,90,105,1000\n"
        "2025-01-03,100,abc,90,105,1000\n"
        "2025-13-01,100,110,90,105,1000\n"
        "2025-01-06,100,110,90,0,1000\n"
        "2025-01-07,100,80,90,85,1000\n"
        "2025-01-08,0,0,0,105,0\n"
        "2025-01-09,100,110,90,105,-5\n"
    )
    result = run_azak("import", "prices", str(bad), env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "2 valid rows for 1 stock(s), 5 rejected" in result.stdout
    for expected in ("005380.csv:3: high 'abc' is not a number",
                     "005380.csv:4: date '2025-13-01' is not YYYYMMDD or YYYY-MM-DD",
                     "005380.csv:5: close must be a positive price, got 0",
                     "005380.csv:6: high 80 is below low 90",
                     "005380.csv:8: volume must not be negative, got -5"):
        assert expected in result.stdout
    assert table(db_url, "SELECT trade_date::text, open, volume FROM raw.daily_prices ORDER BY 1") == [
        ("2025-01-02", 100, 1000), ("2025-01-08", None, 0)]  # the halt is kept, without OHLC
    quarantined = table(db_url, "SELECT locator, reason FROM ops.quarantine ORDER BY locator")
    assert len(quarantined) == 5 and quarantined[0][0] == "005380.csv:3"
    [meta] = materializations(cli_env, "raw/daily_prices")[:1]
    assert meta["rows_rejected"] == 5


def test_a_file_whose_rows_are_all_rejected_exits_2_with_its_reasons(cli_env, tmp_path):
    """The run parses the rows (the command reads only their dates): when it writes none, the
    command says so and exits 2, as it did when it parsed them before the run."""
    bad = tmp_path / "005930.csv"
    bad.write_text("date,open,high,low,close,volume\n2025-01-02,100,abc,90,105,1000\n")
    result = run_azak("import", "prices", str(bad), env=cli_env)
    assert result.returncode == 2
    assert "no valid rows to import: 1 rejected" in result.stderr
    assert "rejected 005930.csv:2: high 'abc' is not a number" in result.stdout


def test_a_rejected_row_past_the_valid_ones_never_widens_what_a_reimport_replaces(cli_env, db_url, tmp_path):
    # the command reads only the dates to choose the run's window, so a rejected row dated past the
    # valid ones widens it: the stored rows between the two must stay, as must every stored row when
    # no row of the re-imported file is valid
    prices = tmp_path / "005930.csv"
    prices.write_text("date,open,high,low,close,volume\n" + "".join(
        f"2025-01-{day:02d},100,110,90,105,1000\n" for day in (2, 3, 6, 7, 8)))
    assert run_azak("import", "prices", str(prices), env=cli_env).returncode == 0
    prices.write_text("date,open,high,low,close,volume\n2025-01-02,200,210,190,205,2000\n"
                      "2025-01-08,100,abc,90,105,1000\n")
    result = run_azak("import", "prices", str(prices), env=cli_env)
    assert result.returncode == 0, result.stderr
    assert table(db_url, "SELECT trade_date::text, open FROM raw.daily_prices ORDER BY 1") == [
        ("2025-01-02", 200), ("2025-01-03", 100), ("2025-01-06", 100), ("2025-01-07", 100), ("2025-01-08", 100)]
    prices.write_text("date,open,high,low,close,volume\n2025-01-03,100,abc,90,105,1000\n"
                      "2025-01-07,100,abc,90,105,1000\n")
    assert run_azak("import", "prices", str(prices), env=cli_env).returncode == 2
    assert len(table(db_url, "SELECT 1 FROM raw.daily_prices")) == 5


def test_an_unknown_layout_lists_the_accepted_ones(cli_env, tmp_path):
    odd = tmp_path / "005930.csv"
    odd.write_text("Day,Price,Qty\n2025-01-02,1,2\n")
    result = run_azak("import", "prices", str(odd), env=cli_env)
    assert result.returncode == 2
    assert "matches no accepted layout" in result.stderr
    assert "english: date, open, high, low, close, volume" in result.stderr
    assert "pykrx: 날짜, 시가, 고가, 저가, 종가, 거래량" in result.stderr


def test_a_file_without_a_code_says_how_to_give_one(cli_env, tmp_path):
    nameless = tmp_path / "prices.csv"
    nameless.write_text("date,open,high,low,close,volume\n20250102,1,2,1,2,3\n")
    result = run_azak("import", "prices", str(nameless), env=cli_env)
    assert result.returncode == 2 and "--code" in result.stderr
    ok = run_azak("import", "prices", str(nameless), "--code", "005930", env=cli_env)
    assert ok.returncode == 0, ok.stderr


def test_an_in_process_backfill_is_one_run_paging_kis_within_its_limits(cli_env, db_url):
    simulator = KisSimulator(BUNDLED / "kis", clock=fixed_clock(datetime(2025, 6, 17, 18, tzinfo=KST)),
                             app_key="key", app_secret="secret")
    with serve(simulator) as url:
        env = {**cli_env, "AZAK_SOURCE_MODE": "live", "AZAK_KIS_APP_KEY": "key",
               "AZAK_KIS_APP_SECRET": "secret", "AZAK_KIS_ENV": "real", "AZAK_KIS_BASE_URL": url}
        result = run_azak("backfill", "prices", "--from", "2024-01-01", "--to", "2025-06-17",
                          "--codes", "005930", "000660", "035420", "--in-process", env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "in one run" in result.stdout and "(kis:live)" in result.stdout
    assert table(db_url, "SELECT count(*) FROM raw.daily_prices") == [(3 * 353,)]
    assert len(simulator.requests) == 3 * 4  # 353 sessions: four pages of at most 100 per stock
    assert simulator.tokens_issued == 1 and simulator.throttled == 0
    runs = {m.get("source") for m in materializations(cli_env, "raw/daily_prices")}
    assert runs == {"kis:live"}


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2025-06-10", "--to", "2025-06-01"], "is after --to"),
    (["--from", "1980-01-01", "--to", "1980-02-01"], "on or after 1990-01-01"),
    (["--from", "2025-06-01", "--to", "2099-01-01"], "in the future"),
    (["--from", "2025-06-01", "--to", "2025-06-02", "--codes", "12345"], "6 characters"),
])
def test_backfill_arguments_are_checked(cli_env, args, message):
    result = run_azak("backfill", "prices", *args, env=cli_env)
    assert result.returncode == 2 and message in result.stderr


def test_housekeeping_dry_run_reports_and_a_bad_window_is_refused(cli_env, db_url):
    load_intraday(db_url)
    planned = run_azak("housekeeping", "--dry-run", "--as-of", "2026-11-30", env=cli_env)
    assert planned.returncode == 0, planned.stderr
    assert ("raw/minute_prices: would drop minute_prices_y2025m09, minute_prices_y2025m10 (before 2025-11-01, "
            "12 months kept): 8 rows") in planned.stdout
    assert "raw/quote_snapshots: would drop quote_snapshots_y2026m06, quote_snapshots_y2026m07" in planned.stdout
    assert len(rows_by_day(db_url, "minute_prices")) == len(MINUTE_DAYS)

    refused = run_azak("housekeeping", env={**cli_env, "AZAK_RETENTION_QUOTE_SNAPSHOTS_MONTHS": "0"})
    assert refused.returncode == 1
    assert "quote_snapshots_months (AZAK_RETENTION_QUOTE_SNAPSHOTS_MONTHS) must be at least 1 month" in refused.stderr
    assert len(rows_by_day(db_url, "minute_prices")) == len(MINUTE_DAYS)
