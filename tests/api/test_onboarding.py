"""Onboarding a stock (issue 27 item 1), end to end: an admin adds a stock to the watch-list through
the API, the daemon's sensor (evaluated as the daemon does, through Dagster's public
``build_sensor_context``) requests one run, and that run — executed from the sensor's request,
with no other command — fills the stock's history, links and indicators and writes a first report
by every active model; ``GET /api/stocks/{code}`` follows the request from ``requested`` to done."""

import asyncio
import csv
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_api.settings import DEFAULT_CACHE_TTLS
from azak_cli.runtime.postgres import PgUrl
from azak_core import clock
from azak_core.market import KST
from tests.api.conftest import account, bearer, sensor_tick, settings_for, sql, warehouse_copy
from tests.pipelines.runs import definitions, run

pytestmark = pytest.mark.slow

REPLAYED = "000660"  # a sample stock: the KIS replay has its recordings
FROM_FILES = "005380"  # a sample stock whose history the test imports from a price file instead
NOW = datetime(2025, 6, 17, 18, 0, tzinfo=KST)  # the evening of the last sample session


@pytest.fixture(scope="module")
def warehouse(pg_server: PgUrl, api_warehouse: str, api_milvus: str) -> Iterator[str]:
    """A copy of the API's demo-sized warehouse (replayed sample data, built by real runs)."""
    with warehouse_copy(pg_server, api_warehouse, api_milvus, "api_onboarding") as url:
        yield url


@pytest.fixture
async def client(warehouse: str, api_milvus: str) -> AsyncIterator[AsyncTestClient]:
    # the stock's detail is not cached, so each read shows the request's state of that moment
    settings = settings_for(warehouse, milvus_uri=api_milvus, cache_ttls={**DEFAULT_CACHE_TTLS, "stock": 0})
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


def evaluate_sensor(url: str) -> Any:
    """One tick of the daemon's stock_onboarding_sensor."""
    return sensor_tick("stock_onboarding_sensor", url)


def forget(url: str, code: str) -> int:
    """Take the stock's prices and links out of the warehouse (as if it had never been watched); the
    number of links it had."""
    links = sql(url, "SELECT count(*) FROM computed.news_stock_matches WHERE stock_code = %s", (code,))[0][0]
    for table in ("raw.daily_prices", "computed.news_stock_matches", "marts.daily_prices",
                  "marts.news_stock_matches", "marts.news_price_impact"):
        sql(url, f"DELETE FROM {table} WHERE stock_code = %s", (code,))
    return links


async def remove_and_add(client: AsyncTestClient, token: str, codes: list[str]) -> None:
    """An admin takes the stocks off the watch-list (the watch-list sensor's reference run follows),
    then adds them again."""
    for code in codes:
        assert (await client.delete(f"/api/admin/stocks/{code}", headers=bearer(token))).status_code == 200
        assert (await client.get(f"/api/stocks/{code}", headers=bearer(token))).json()["onboarding"] is None
    run("reference_job")
    for code in codes:
        response = await client.post("/api/admin/stocks/", json={"code": code}, headers=bearer(token))
        assert response.status_code == 201


def onboard(url: str) -> list[Any]:
    """What the daemon does: the reference run the watch-list sensor requests, then each run the
    onboarding sensor requests, executed from the request (its config and tags)."""
    assert isinstance(evaluate_sensor(url), dg.SkipReason)  # the universe does not list them as watched yet
    run("reference_job")
    requests = evaluate_sensor(url).run_requests
    job = definitions().resolve_job_def("stock_onboarding_job")
    with clock.simulated(lambda: NOW):
        results = [job.execute_in_process(run_config=r.run_config, tags=r.tags,
                                          instance=dg.DagsterInstance.ephemeral()) for r in requests]
    assert all(result.success for result in results)
    return [(r, result.run_id) for r, result in zip(requests, results, strict=True)]


def export_prices(url: str, code: str, path: Path) -> int:
    rows = sql(url, "SELECT trade_date, open, high, low, close, volume FROM raw.daily_prices "
                    "WHERE stock_code = %s AND price_basis = 'adjusted' ORDER BY trade_date", (code,))
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["date", "open", "high", "low", "close", "volume"])
        writer.writerows(rows)
    return len(rows)


async def test_stocks_added_again_are_onboarded_by_the_daemon(client, warehouse, tmp_path):
    admin = await account(client, warehouse, admin=True)
    links_before = forget(warehouse, REPLAYED)
    bars = export_prices(warehouse, FROM_FILES, tmp_path / "prices.csv")
    forget(warehouse, FROM_FILES)
    run("daily_prices_job", ("2025-03-03", "2025-06-17"), {"ops": {"raw__daily_prices": {"config": {
        "source": "files", "paths": [str(tmp_path / "prices.csv")], "code": FROM_FILES}}}})
    await remove_and_add(client, admin.token, [REPLAYED, FROM_FILES])
    for code in (REPLAYED, FROM_FILES):
        shown = (await client.get(f"/api/stocks/{code}", headers=bearer(admin.token))).json()
        assert shown["is_watchlist"] and shown["onboarding"]["status"] == "requested"
        assert shown["onboarding"]["run_id"] is None
    launched = await asyncio.to_thread(onboard, warehouse)  # the runs' own event loops need a thread
    assert [r.tags["azak/stock"] for r, _ in launched] == [REPLAYED, FROM_FILES]
    assert all(r.tags["azak/origin"] == "api" and r.tags["dagster/priority"] == "-1" for r, _ in launched)
    after = evaluate_sensor(warehouse)  # nothing left to run for either (the shared warehouse may hold
    assert isinstance(after, dg.SkipReason)  # other tests' additions, still waiting for the universe)
    assert REPLAYED not in (after.skip_message or "") and FROM_FILES not in (after.skip_message or "")

    history = {row[0]: row[1:] for row in sql(
        warehouse, "SELECT stock_code, count(*), min(source), max(source) FROM raw.daily_prices "
                   "WHERE stock_code IN (%s, %s) GROUP BY 1", (FROM_FILES, REPLAYED))}
    assert history[FROM_FILES] == (bars, "file:prices.csv", "file:prices.csv")  # the imported history stays
    assert history[REPLAYED][0] >= 60 and history[REPLAYED][1:] == ("kis:replay", "kis:replay")  # the recordings
    assert sql(warehouse, "SELECT count(*) FROM computed.news_stock_matches WHERE stock_code = %s",
               (REPLAYED,))[0][0] == links_before > 0
    indicators = sql(warehouse, "SELECT count(ma_20), count(rsi_14) FROM marts.daily_prices "
                                "WHERE stock_code = %s", (REPLAYED,))[0]
    assert indicators[0] > 0 and indicators[1] > 0
    assert sql(warehouse, "SELECT count(*) FROM marts.news_price_impact WHERE stock_code = %s", (REPLAYED,))[0][0]

    active = [r[0] for r in sql(warehouse, "SELECT name FROM app.models WHERE active AND provider <> 'external' "
                                           "ORDER BY name")]
    for (_, run_id), code in zip(launched, (REPLAYED, FROM_FILES), strict=True):
        reports = sql(warehouse, "SELECT model_name, status, mode FROM computed.stock_reports "
                                 "WHERE stock_code = %s AND report_day = %s ORDER BY 1", (code, NOW.date()))
        assert [r[0] for r in reports] == active and {r[1:] for r in reports} == {("ok", "live")}
        shown = (await client.get(f"/api/stocks/{code}", headers=bearer(admin.token))).json()["onboarding"]
        assert shown["run_id"] == run_id and shown["status"] == "succeeded" and "error" not in shown
        analysis = (await client.get(f"/api/stocks/{code}/analysis", headers=bearer(admin.token))).json()
        assert sorted(r["provenance"]["model_name"] for r in analysis["reports"]) == active
