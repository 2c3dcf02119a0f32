"""What the frontend shows, over a warehouse the real pipelines filled and the offline baselines
predicted on (``predicted_warehouse``): the live quote with its market status and age, point-in-time
valuation, the market overview, the stock page in one call; and HTTP caching (ETag, 304) and
gzip over real HTTP."""

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
import pytest
from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from tests.api.conftest import PASSWORD, account, bearer, make_user, serving, settings_for, sql

CODE = "005930"
# KST moments of the last sample session (2025-06-17, a Tuesday): snapshots every 30 minutes from
# 09:05 to 15:35 KST, after-hours results for 2025-06-16 and 2025-06-17
IN_SESSION = datetime.fromisoformat("2025-06-17T15:10:00+09:00")
LATE = datetime.fromisoformat("2025-06-17T15:29:00+09:00")
AFTER_HOURS = datetime.fromisoformat("2025-06-17T16:30:00+09:00")
EVENING = datetime.fromisoformat("2025-06-17T20:00:00+09:00")
BEFORE_OPEN = datetime.fromisoformat("2025-06-17T08:45:00+09:00")
SUNDAY = datetime.fromisoformat("2025-06-22T11:00:00+09:00")


@asynccontextmanager
async def app_at(url: str, moment: datetime) -> AsyncIterator[tuple[AsyncTestClient, dict[str, str]]]:
    """The app with its clock at ``moment``, and a user's headers."""
    async with AsyncTestClient(app=create_app(settings_for(url), clock=lambda: moment)) as client:
        user = await account(client, url)
        yield client, bearer(user.token)


async def get_at(url: str, moment: datetime, path: str) -> httpx.Response:
    async with app_at(url, moment) as (client, headers):
        return await client.get(path, headers=headers)


async def test_quote_has_the_book_the_market_status_and_says_how_old_it_is(predicted_warehouse):
    response = await get_at(predicted_warehouse, IN_SESSION, f"/api/stocks/{CODE}/quote")
    assert response.status_code == 200, response.text
    quote = response.json()
    # the newest snapshot taken by 15:10 KST is 15:05's: five minutes old, so still fresh
    assert (quote["market_status"], quote["observed_at"], quote["age_seconds"]) == ("open", "2025-06-17T06:05:00Z", 300)
    assert quote["is_fresh"] is True and quote["freshness"].startswith("live")
    asks, bids = quote["order_book"]["asks"], quote["order_book"]["bids"]
    assert len(asks) == len(bids) == 10
    assert [a["price"] for a in asks] == sorted(a["price"] for a in asks) and quote["best_ask"] == asks[0]["price"]
    assert [b["price"] for b in bids] == sorted((b["price"] for b in bids), reverse=True)
    assert bids[0]["price"] < asks[0]["price"] and quote["best_bid"] == bids[0]["price"]
    [(price, volume)] = sql(predicted_warehouse, "SELECT price, volume FROM raw.quote_snapshots WHERE stock_code = %s "
                                                 "AND captured_at = '2025-06-17T06:05:00Z'", (CODE,))
    assert (quote["price"], quote["volume"]) == (float(price), volume)
    # 2025-06-17's after-hours session ends at 18:00: until then the latest result is the day before's
    assert quote["after_hours"]["date"] == "2025-06-16"


async def test_a_late_quote_says_so_while_the_market_is_open(predicted_warehouse):
    quote = (await get_at(predicted_warehouse, LATE, f"/api/stocks/{CODE}/quote")).json()
    assert quote["market_status"] == "open" and quote["age_seconds"] == 24 * 60
    assert quote["is_fresh"] is False and quote["freshness"].startswith("late")


@pytest.mark.parametrize(("moment", "status", "after_hours_day"), [
    (AFTER_HOURS, "after_hours", "2025-06-16"), (EVENING, "closed", "2025-06-17"), (SUNDAY, "holiday", "2025-06-17")])
async def test_market_status_follows_the_krx_calendar(predicted_warehouse, moment, status, after_hours_day):
    quote = (await get_at(predicted_warehouse, moment, f"/api/stocks/{CODE}/quote")).json()
    assert quote["market_status"] == status and quote["after_hours"]["date"] == after_hours_day
    assert quote["observed_at"] == "2025-06-17T06:35:00Z" and quote["is_fresh"] is False
    assert "regular session only" in quote["freshness"]


async def test_no_quote_before_the_first_snapshot_is_a_404_not_a_future_one(predicted_warehouse):
    response = await get_at(predicted_warehouse, BEFORE_OPEN, f"/api/stocks/{CODE}/quote")
    assert response.status_code == 404 and "no quote of 005930" in response.json()["detail"]
    overview = (await get_at(predicted_warehouse, BEFORE_OPEN, "/api/market/overview")).json()
    assert overview["market_status"] == "pre_market"


async def test_valuation_is_point_in_time_and_labelled_synthetic(predicted_warehouse):
    detail = (await get_at(predicted_warehouse, EVENING, f"/api/stocks/{CODE}")).json()
    valuation = detail["valuation"]
    assert (valuation["as_of"], valuation["period"], valuation["period_kind"]) == ("2025-06-17", "202412", "annual")
    assert (valuation["basis"], valuation["synthetic"], valuation["source"]) == ("computed", True, "kis:replay")
    [(eps, bps)] = sql(predicted_warehouse, "SELECT eps, bps FROM raw.financial_ratios WHERE stock_code = %s "
                                            "AND period = '202412' AND period_kind = 'annual'", (CODE,))
    assert valuation["eps"] == float(eps) and valuation["per"] == round(valuation["price"] / float(eps), 2)
    assert valuation["pbr"] == round(valuation["price"] / float(bps), 2)
    [(shares,)] = sql(predicted_warehouse, "SELECT listed_shares FROM marts.stocks WHERE stock_code = %s", (CODE,))
    assert valuation["market_cap"] == int(valuation["price"] * shares)
    # on 2025-03-20 the 2024 business report was not yet due (90 days after the year's end): 2023's figures
    earlier = (await get_at(predicted_warehouse, datetime.fromisoformat("2025-03-20T20:00:00+09:00"),
                            f"/api/stocks/{CODE}")).json()["valuation"]
    assert (earlier["as_of"], earlier["period"]) == ("2025-03-20", "202312")


async def test_market_overview_lists_movers_with_predictions_net_buyers_and_counts(predicted_warehouse):
    overview = (await get_at(predicted_warehouse, EVENING, "/api/market/overview")).json()
    assert overview["market_status"] == "closed" and overview["session"] == "2025-06-17"
    assert [i["code"] for i in overview["indices"]] == ["0001"]
    gainers, losers = overview["gainers"], overview["losers"]
    assert gainers and losers and all(g["change_pct"] > 0 for g in gainers) and all(x["change_pct"] < 0 for x in losers)
    assert [g["change_pct"] for g in gainers] == sorted((g["change_pct"] for g in gainers), reverse=True)
    # every watch-list stock got a report from both baselines on 2025-06-17: the latest is shown
    assert all(m["prediction"]["model_name"] in {"baseline", "momentum"} for m in gainers + losers)
    foreign = overview["net_buying"]["foreign"]
    assert overview["net_buying"]["date"] == "2025-06-17" and foreign
    assert [f["net_value_krw"] for f in foreign] == sorted((f["net_value_krw"] for f in foreign), reverse=True)
    [(top,)] = sql(predicted_warehouse, "SELECT stock_code FROM raw.investor_flows WHERE trade_date = '2025-06-17' "
                                        "ORDER BY foreign_net_value_mkrw DESC, stock_code LIMIT 1")
    assert foreign[0]["code"] == top
    counts = overview["predictions"]
    assert counts["date"] == "2025-06-16" and counts["total"] == sum(counts["by_direction"].values()) > 0


async def test_market_overview_movers_come_from_kis_ranking_and_sectors_from_the_daily_series(predicted_warehouse):
    overview = (await get_at(predicted_warehouse, EVENING, "/api/market/overview")).json()
    assert overview["movers_scope"].startswith("all KRX stocks: KIS's market-wide ranking taken 2025-06-17 15:30 KST")
    assert "replayed" in overview["movers_scope"]
    ranked = sql(predicted_warehouse, "SELECT ranking, stock_code FROM raw.market_rankings WHERE trade_date = "
                                      "'2025-06-17' AND rank <= 5 ORDER BY ranking, rank")
    assert [m["code"] for m in overview["gainers"]] == [c for r, c in ranked if r == "rise"]
    assert (overview["gainers"][0]["code"], overview["gainers"][0]["change_pct"]) == ("042660", 7.5)
    traded = overview["most_traded"]
    assert [m["code"] for m in traded] == [c for r, c in ranked if r == "volume"]
    assert [m["volume"] for m in traded] == sorted((m["volume"] for m in traded), reverse=True)
    assert all(m["prediction"] is not None for m in traded)  # the watch-list's reports reach ranked movers
    sectors = overview["sectors"]
    assert sectors["collected"] is True and len(sectors["items"]) == 23 and sectors["reason"] is None
    assert {s["date"] for s in sectors["items"]} == {"2025-06-17"}
    changes = [s["change_pct"] for s in sectors["items"]]
    assert changes == sorted(changes, reverse=True)
    names = dict(sql(predicted_warehouse, "SELECT index_code, index_name FROM marts.kis_sectors"))
    assert {s["code"]: s["name"] for s in sectors["items"]} == names  # the master-checked names


async def test_a_ranking_taken_after_now_is_not_shown(predicted_warehouse):
    """At 12:00 on the first replayed session no ranking has been taken yet (15:30): the overview
    falls back to the stocks with daily bars and says so."""
    overview = (await get_at(predicted_warehouse, datetime.fromisoformat("2025-03-03T12:00:00+09:00"),
                             "/api/market/overview")).json()
    assert overview["movers_scope"].startswith("the stocks with daily bars") and overview["most_traded"] == []


async def test_stock_page_in_one_call_equals_its_parts(predicted_warehouse):
    async with app_at(predicted_warehouse, EVENING) as (client, headers):
        page = await client.get(f"/api/stocks/{CODE}/page", headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["detail"] == (await client.get(f"/api/stocks/{CODE}", headers=headers)).json()
        assert body["quote"] == (await client.get(f"/api/stocks/{CODE}/quote", headers=headers)).json()
        assert body["analysis"] == (await client.get(f"/api/stocks/{CODE}/analysis", headers=headers)).json()
    # both models' reports side by side, the predictions and the news with their links
    assert sorted(r["provenance"]["model_name"] for r in body["analysis"]["reports"]) == ["baseline", "momentum"]
    assert body["predictions"] and all(p["stock_code"] == CODE for p in body["predictions"])
    assert body["news"] and all(a["url"].startswith("http") and CODE in a["stock_codes"] for a in body["news"])
    assert body["detail"]["valuation"]["per"] and body["quote"]["market_status"] == "closed"
    # cached for the shortest time to live of its parts (stock, quote, news: 30 s; analysis 900 s)
    assert page.headers["cache-control"] == "private, max-age=30"


async def test_a_stock_without_snapshots_still_has_a_page(predicted_warehouse):
    [(code,)] = sql(predicted_warehouse, "SELECT stock_code FROM marts.stocks WHERE NOT is_watchlist "
                                         "ORDER BY stock_code LIMIT 1")
    body = (await get_at(predicted_warehouse, EVENING, f"/api/stocks/{code}/page")).json()
    assert body["quote"] is None and body["detail"]["code"] == code


def test_read_answers_carry_an_etag_revalidate_to_304_and_are_gzipped_over_http(predicted_warehouse):
    with serving(settings_for(predicted_warehouse)) as base, httpx.Client(base_url=base) as http:
        token = http.post("/api/auth/login", json=new_credentials(predicted_warehouse)).json()["access_token"]
        auth = bearer(token)
        path = f"/api/stocks/{CODE}/prices"
        zipped = http.get(path, headers={**auth, "Accept-Encoding": "gzip"})
        assert zipped.status_code == 200 and zipped.headers["content-encoding"] == "gzip"
        assert int(zipped.headers["content-length"]) < len(zipped.content) / 3  # a year of bars compresses well
        assert json.loads(gzip.decompress(_raw(http, path, {**auth, "Accept-Encoding": "gzip"})))["code"] == CODE
        # the cached gzip answer is never served to a client that did not ask for it
        plain = http.get(path, headers={**auth, "Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.json() == zipped.json()
        etag = zipped.headers["etag"]
        assert etag.startswith('W/"') and plain.headers["etag"] == etag
        assert zipped.headers["cache-control"] == "private, max-age=60" and "Authorization" in zipped.headers["vary"]
        again = http.get(path, headers={**auth, "If-None-Match": etag, "Accept-Encoding": "gzip"})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        other = http.get(path, headers={**auth, "If-None-Match": 'W/"something-else"'})
        assert other.status_code == 200 and other.json() == zipped.json()
        small = http.get("/api/users/me", headers={**auth, "Accept-Encoding": "gzip"})
        assert "content-encoding" not in small.headers and small.headers["cache-control"] == "private, max-age=30"
        # errors are neither tagged nor cached by clients
        missing = http.get("/api/stocks/ZZZZZZ/quote", headers=auth)
        assert missing.status_code == 404 and "etag" not in missing.headers


def new_credentials(url: str) -> dict[str, str]:
    _, email = asyncio.run(make_user(url))
    return {"email": email, "password": PASSWORD}


def _raw(http: httpx.Client, path: str, headers: dict[str, str]) -> bytes:
    with http.stream("GET", path, headers=headers) as response:
        return b"".join(response.iter_raw())
