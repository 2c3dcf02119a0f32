"""Market assets materialized for real (replay and live against a local KIS server)."""

import logging
import threading
from datetime import date, datetime

import dagster as dg
import psycopg
import pytest

from azak_core.market import KST
from azak_pipelines.defs.common import Window
from azak_pipelines.defs.market.assets import DailyStream, daily_rows
from azak_pipelines.defs.market.resources import KisResource
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib import replay_http
from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve
from azak_pipelines.lib.sample_data import BUNDLED
from tests.pipelines.runs import checks, definitions, materialization, run


def rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_replayed_daily_prices_cover_sessions_and_annotate_closed_days(warehouse_with_stocks, replay):
    result = run("daily_prices_job", ("2025-06-02", "2025-06-05"))
    meta = materialization(result, "raw/daily_prices")
    assert meta["source"] == "kis:replay" and meta["codes"] == 20
    assert meta["rows_written"] == 20 * 3  # 2, 4 and 5 June; 3 June was election day
    assert meta["closed_day_reasons"] == {"2025-06-03": "ad-hoc closure (e.g. election day)"}
    partitions = {e.partition for e in result.get_asset_materialization_events()
                  if e.asset_key.to_user_string() == "raw/daily_prices"}
    assert partitions == {"2025-06-02", "2025-06-03", "2025-06-04", "2025-06-05"}
    first = rows(warehouse_with_stocks, "SELECT * FROM raw.daily_prices ORDER BY 1, 2")

    again = materialization(run("daily_prices_job", ("2025-06-02", "2025-06-05")), "raw/daily_prices")
    assert (again["rows_written"], again["rows_replaced"]) == (60, 60)
    second = rows(warehouse_with_stocks, "SELECT * FROM raw.daily_prices ORDER BY 1, 2")
    assert [r[:10] for r in second] == [r[:10] for r in first]  # same data, newer fetch time
    samsung = rows(warehouse_with_stocks, "SELECT close, volume FROM raw.daily_prices "
                   "WHERE stock_code = '005930' AND trade_date = '2025-06-04'")
    assert samsung == [(57800, 19_649_983)]  # the fact in daily_recent, through KIS's shape


def test_a_closed_day_is_an_empty_annotated_partition(warehouse_with_stocks, replay):
    result = run("daily_prices_job", ("2025-10-07", "2025-10-07"))
    meta = materialization(result, "raw/daily_prices")
    assert meta["rows_written"] == 0 and meta["trading_days"] == 0
    assert "Chuseok" in meta["closed_day_reasons"]["2025-10-07"]
    assert meta["kis_requests"] == 0


def test_halts_and_corporate_actions_are_flagged_and_kept(warehouse_with_stocks, replay):
    result = run("daily_prices_job", ("2024-08-20", "2024-10-10"))
    evaluations = checks(result)
    halts = evaluations["halts_flagged"]
    assert not halts.passed and halts.metadata["count"].value == 18  # 012450, 29 Aug - 26 Sep 2024
    assert evaluations["ohlc_sanity"].passed
    assert evaluations["no_duplicate_keys"].passed
    kept = rows(warehouse_with_stocks, "SELECT count(*), count(open) FROM raw.daily_prices "
                "WHERE stock_code = '012450' AND volume = 0")
    assert kept == [(18, 0)]  # kept, with no OHLC (no trade happened)
    # a later run judges the days it wrote: the halt reviewed above does not fail it again (the
    # daemon's daily runs would otherwise fail the check twice a trading day, for good)
    one_day = definitions().resolve_job_def("daily_prices_job").execute_in_process(
        partition_key="2025-06-04", instance=dg.DagsterInstance.ephemeral())  # as a schedule's run is
    for later in (run("daily_prices_job", ("2025-06-02", "2025-06-03")), one_day):
        halts = checks(later)["halts_flagged"]
        assert halts.passed and halts.metadata["count"].value == 0
    assert rows(warehouse_with_stocks, "SELECT count(*) FROM raw.daily_prices WHERE volume = 0") == [(18,)]


def test_an_ohlc_violation_fails_the_blocking_check(warehouse_with_stocks, replay):
    run("daily_prices_job", ("2025-06-02", "2025-06-02"))
    with psycopg.connect(warehouse_with_stocks, autocommit=True) as conn:
        conn.execute("UPDATE raw.daily_prices SET high = low - 100 WHERE stock_code = '005930'")
    result = run("market_raw_job", ("2025-06-03", "2025-06-03"), raise_on_error=False)
    evaluation = checks(result)["ohlc_sanity"]
    assert not evaluation.passed
    assert "005930" in evaluation.metadata["rows"].value


def test_investor_flows_backfill_leaves_days_kis_no_longer_has(warehouse_with_stocks, replay):
    result = run("investor_flows_job", ("2025-01-02", "2025-06-17"))
    meta = materialization(result, "raw/investor_flows")
    assert meta["rows_written"] == 20 * 30 and "30 sessions" in meta["note"]
    assert meta["covered_from"] == "2025-04-30"
    with psycopg.connect(warehouse_with_stocks, autocommit=True) as conn:
        conn.execute("INSERT INTO raw.investor_flows (stock_code, trade_date, source, fetched_at) "
                     "VALUES ('005930', '2025-02-03', 'kis:live', now())")
    run("investor_flows_job", ("2025-01-02", "2025-06-17"))
    assert rows(warehouse_with_stocks, "SELECT count(*) FROM raw.investor_flows "
                "WHERE trade_date = '2025-02-03'") == [(1,)]


def test_intraday_and_fundamentals_replay(warehouse_with_stocks, replay):
    intraday = run("intraday_job", ("2025-06-16", "2025-06-17"))
    assert materialization(intraday, "raw/minute_prices")["rows_written"] == 20 * 2 * 381
    assert materialization(intraday, "raw/quote_snapshots")["rows_written"] == 20 * 14
    book = rows(warehouse_with_stocks, "SELECT array_length(ask_prices, 1), market_cap_100m_krw > 0 "
                "FROM raw.quote_snapshots LIMIT 1")
    assert book == [(10, True)]
    fundamentals = run("fundamentals_job")
    assert materialization(fundamentals, "raw/financial_ratios")["rows_written"] == 20 * 27
    assert rows(warehouse_with_stocks, "SELECT product_name FROM raw.product_info "
                "WHERE stock_code = '005930'") == [("삼성전자",)]


@pytest.fixture
def live_kis(monkeypatch):
    """Live mode against a local server speaking KIS's protocol (clock: 17 June 2025, evening)."""
    simulator = KisSimulator(BUNDLED / "kis", clock=fixed_clock(datetime(2025, 6, 17, 18, tzinfo=KST)),
                             app_key="live-key", app_secret="live-secret")
    with serve(simulator) as url:
        monkeypatch.setenv("AZAK_KIS_MODE", "live")
        monkeypatch.setenv("AZAK_KIS_ENV", "real")
        monkeypatch.setenv("AZAK_KIS_APP_KEY", "live-key")
        monkeypatch.setenv("AZAK_KIS_APP_SECRET", "live-secret")
        monkeypatch.setenv("AZAK_KIS_BASE_URL", url)
        yield simulator


def test_live_collection_shares_its_token_through_postgres(warehouse_with_stocks, live_kis):
    meta = materialization(run("daily_prices_job", ("2025-06-09", "2025-06-13")), "raw/daily_prices")
    assert meta["source"] == "kis:live" and meta["rows_written"] == 100
    run("daily_prices_job", ("2025-06-16", "2025-06-17"))
    assert live_kis.tokens_issued == 1  # the second run reused the stored token
    stored = rows(warehouse_with_stocks, "SELECT count(*) FROM ops.kis_tokens WHERE access_token IS NOT NULL")
    assert stored == [(1,)]


def test_a_failing_stock_fails_the_run_and_writes_nothing(warehouse_with_stocks, live_kis):
    run("daily_prices_job", ("2025-06-09", "2025-06-13"))
    before = rows(warehouse_with_stocks, "SELECT * FROM raw.daily_prices ORDER BY 1, 2")
    live_kis.inject("FHKST03010100", *["EGW00205"] * 3)
    result = run("daily_prices_job", ("2025-06-09", "2025-06-13"), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "EGW00205" in str(failure.event_specific_data.error)
    assert rows(warehouse_with_stocks, "SELECT * FROM raw.daily_prices ORDER BY 1, 2") == before


def test_rows_are_handed_to_the_write_while_requests_are_still_out(db_url):
    """The write overlaps the requests: the server holds every request for one stock until the
    reader of :func:`daily_rows` has a row in hand (an event, not a clock). Rows collected only
    after the last answer would leave the held stock waiting until its guard ran out."""
    simulator = KisSimulator(BUNDLED / "kis", clock=fixed_clock(datetime(2025, 6, 17, 18, tzinfo=KST)),
                             app_key="live-key", app_secret="live-secret")
    first_row = threading.Event()
    released: list[bool] = []

    def handle(method: str, path: str, headers: dict, query: dict, body: bytes):
        if query.get("FID_INPUT_ISCD") == "000660":
            released.append(first_row.wait(timeout=60))  # a deadlock guard; False if it ran out
        return simulator.handle(method, path, headers, query, body)

    codes = ["005930", "000660", "035420"]
    window = Window(date(2025, 1, 2), date(2025, 6, 18))
    stream = DailyStream()
    order: list[str] = []
    with replay_http.serve(handle) as url:
        kis = KisResource(requested_mode="live", app_key="live-key", app_secret="live-secret", env="real",
                          base_url=url)
        for row in daily_rows(logging.getLogger(__name__), kis, Warehouse(database_url=db_url), codes,
                              window, "adjusted", stream):
            first_row.set()
            order.append(row[0])
    assert released and all(released)
    assert order[0] != "000660" and order[-1] == "000660" and set(order) == set(codes)
    assert stream.collected is not None and stream.collected.requests == len(simulator.requests)


def test_calendar_gated_partitions_skip_network_on_closed_windows(warehouse_with_stocks, live_kis):
    run("daily_prices_job", ("2025-10-04", "2025-10-09"))  # a weekend and the Chuseok holidays
    assert live_kis.requests == []
    assert date(2025, 10, 10)  # the next session is not in the window
