"""KIS's rankings and index (sector) snapshots materialized for real: replayed from the generated
recordings, live against a local KIS server, and skipped with the reason on a paper account."""

from datetime import datetime

import psycopg
import pytest

from azak_core import clock
from azak_core.market import KST
from azak_pipelines.defs.market.sectors import sector_codes
from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve
from azak_pipelines.lib.sample_data import BUNDLED
from tests.pipelines.runs import materialization, run

pytestmark = pytest.mark.slow
SECTORS = 23  # dbt_project/seeds/kis_sectors.csv


def rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_replayed_rankings_keep_each_days_final_ranking(warehouse_with_stocks, replay):
    result = run("market_raw_job", ("2025-06-16", "2025-06-17"), assets=["raw/market_rankings"])
    meta = materialization(result, "raw/market_rankings")
    assert meta["source"] == "kis:replay" and meta["rows_written"] == 2 * 3 * 20
    top = rows(warehouse_with_stocks, "SELECT trade_date::text, stock_code, change_rate::text, captured_at "
               "FROM raw.market_rankings WHERE ranking = 'rise' AND rank = 1 ORDER BY trade_date")
    assert [r[:3] for r in top] == [("2025-06-16", top[0][1], top[0][2]), ("2025-06-17", "042660", "7.50")]
    assert top[1][3] == datetime(2025, 6, 17, 15, 30, tzinfo=KST)  # taken at the day's close
    again = materialization(run("market_raw_job", ("2025-06-16", "2025-06-17"), assets=["raw/market_rankings"]),
                            "raw/market_rankings")
    assert (again["rows_written"], again["rows_replaced"]) == (120, 120)


def test_replayed_sector_series_and_snapshots(warehouse_with_stocks, replay):
    daily = materialization(run("market_raw_job", ("2025-06-16", "2025-06-17"), assets=["raw/index_daily"]),
                            "raw/index_daily")
    assert daily["codes"] == 3 + SECTORS and daily["rows_written"] == 2 * (1 + SECTORS)  # no 1001/2001 recording
    snapshots = materialization(run("market_wide_job", ("2025-06-17", "2025-06-17"), assets=["raw/index_snapshots"]),
                                "raw/index_snapshots")
    assert snapshots["rows_written"] == 1 + SECTORS
    same = rows(warehouse_with_stocks, "SELECT count(*) FROM raw.index_snapshots s JOIN raw.index_daily d "
                "USING (index_code, trade_date) WHERE s.level = d.close AND s.index_code = '0013'")
    assert same == [(1,)]  # the close-of-day snapshot is the day's closing level


@pytest.fixture
def kis_server(monkeypatch):
    """A local server speaking KIS's protocol; the test sets the account type."""
    simulator = KisSimulator(BUNDLED / "kis", clock=fixed_clock(datetime(2025, 6, 17, 15, 45, tzinfo=KST)),
                             app_key="live-key", app_secret="live-secret")
    with serve(simulator) as url:
        monkeypatch.setenv("AZAK_KIS_MODE", "live")
        monkeypatch.setenv("AZAK_KIS_APP_KEY", "live-key")
        monkeypatch.setenv("AZAK_KIS_APP_SECRET", "live-secret")
        monkeypatch.setenv("AZAK_KIS_BASE_URL", url)
        yield simulator


def test_a_paper_account_skips_with_the_reason_and_asks_kis_nothing(warehouse_with_stocks, kis_server, monkeypatch):
    monkeypatch.setenv("AZAK_KIS_ENV", "paper")
    result = run("market_wide_job", ("2025-06-17", "2025-06-17"))
    daily = run("index_overtime_job", ("2025-06-17", "2025-06-17"), assets=["raw/index_daily"])
    for meta, trs in ((materialization(result, "raw/market_rankings"), "FHPST01700000, FHPST01710000"),
                      (materialization(result, "raw/index_snapshots"), "FHPUP02100000"),
                      (materialization(daily, "raw/index_daily"), "FHPUP02120000")):
        assert meta["dagster/row_count"] == 0
        assert meta["skipped"].startswith(f"not collected: KIS offers {trs} on real accounts only")
        assert "paper (모의투자) account (AZAK_KIS_ENV=paper)" in meta["skipped"]
    assert kis_server.requests == [] and kis_server.token_requests == 0
    assert rows(warehouse_with_stocks, "SELECT to_regclass('raw.market_rankings')") == [(None,)]


def test_live_on_a_real_account_takes_the_ranking_now(warehouse_with_stocks, kis_server, monkeypatch):
    monkeypatch.setenv("AZAK_KIS_ENV", "real")
    at = datetime(2025, 6, 17, 15, 45, tzinfo=KST)  # the closing-price window: the final ranking
    codes = ["0001", *sector_codes()]  # the local server has no KOSDAQ or KOSPI 200 recording
    config = {"ops": {"raw__index_snapshots": {"config": {"index_codes": codes}}}}
    with clock.simulated(lambda: at):
        result = run("market_wide_job", ("2025-06-17", "2025-06-17"), run_config=config)
    assert materialization(result, "raw/market_rankings")["source"] == "kis:live"
    taken = rows(warehouse_with_stocks, "SELECT DISTINCT captured_at, source FROM raw.market_rankings")
    assert taken == [(at, "kis:live")]
    assert materialization(result, "raw/index_snapshots")["rows_written"] == 1 + SECTORS
    assert [tr for _, tr in kis_server.requests].count("FHPUP02100000") == 1 + SECTORS
