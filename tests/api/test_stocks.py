"""Stocks, prices and watch-list management against the warehouse the pipelines built.

Expected values are computed here from the raw tables (what KIS answered), not read back from the
marts the API serves, so a wrong join or window in either place fails.
"""

import math
import statistics
from datetime import date, timedelta

import pytest

from tests.api.conftest import bearer, sql

SAMSUNG = "005930"


def adjusted_closes(url: str, code: str) -> list[tuple[date, float, float | None, float | None, int]]:
    rows = sql(url, "SELECT trade_date, close, high, low, volume FROM raw.daily_prices "
                    "WHERE stock_code = %s AND price_basis = 'adjusted' ORDER BY trade_date", (code,))
    return [(d, float(c), float(h) if h is not None else None, float(lo) if lo is not None else None, v)
            for d, c, h, lo, v in rows]


async def test_search_by_name_and_code_prefix_with_totals(client, user, api_warehouse):
    response = await client.get("/api/stocks", params={"q": "삼성", "page_size": 200}, headers=bearer(user.token))
    body = response.json()
    [(expected,)] = sql(api_warehouse, "SELECT count(*) FROM raw.stocks WHERE name LIKE '%%삼성%%'")
    assert response.status_code == 200 and body["total"] == expected > 3
    assert all("삼성" in s["name"] for s in body["items"]) and len(body["items"]) == expected
    by_code = (await client.get("/api/stocks", params={"q": "00593"}, headers=bearer(user.token))).json()
    assert {s["code"] for s in by_code["items"]} >= {SAMSUNG, "005935"}
    assert all(s["code"].startswith("00593") or "00593" in s["name"] for s in by_code["items"])


async def test_market_and_watchlist_filters(client, user, api_warehouse):
    kosdaq = (await client.get("/api/stocks", params={"market": "KOSDAQ", "page_size": 1},
                               headers=bearer(user.token))).json()
    [(expected,)] = sql(api_warehouse, "SELECT count(*) FROM raw.stocks WHERE market = 'KOSDAQ'")
    assert kosdaq["total"] == expected > 0 and kosdaq["items"][0]["market"] == "KOSDAQ"
    watched = (await client.get("/api/stocks", params={"watchlist": "true", "page_size": 200},
                                headers=bearer(user.token))).json()
    expected_codes = {c for (c,) in sql(api_warehouse, "SELECT code FROM raw.stocks WHERE is_watchlist")}
    assert {s["code"] for s in watched["items"]} == expected_codes and watched["total"] == len(expected_codes)


async def test_pages_are_disjoint_and_cover_the_total(client, user):
    seen, page = [], 1
    while True:
        body = (await client.get("/api/stocks", params={"market": "KOSPI", "page": page, "page_size": 37},
                                 headers=bearer(user.token))).json()
        if not body["items"]:
            break
        seen += [s["code"] for s in body["items"]]
        page += 1
    assert len(seen) == len(set(seen)) == body["total"] and page == math.ceil(body["total"] / 37) + 1
    # the biggest companies come first (watch-list stocks before the rest)
    first = (await client.get("/api/stocks", params={"page_size": 3}, headers=bearer(user.token))).json()["items"]
    assert all(s["is_watchlist"] for s in first) and first[0]["market_cap"] >= first[1]["market_cap"]


async def test_one_stock_has_its_latest_close_change_and_52_week_range(client, user, api_warehouse):
    body = (await client.get(f"/api/stocks/{SAMSUNG}", headers=bearer(user.token))).json()
    bars = adjusted_closes(api_warehouse, SAMSUNG)
    (last_day, last_close, *_), (_, previous, *_) = bars[-1], bars[-2]
    assert body["name"] == "삼성전자" and body["market"] == "KOSPI" and body["is_watchlist"]
    assert body["latest"]["date"] == last_day.isoformat() and body["latest"]["close"] == last_close
    assert body["latest"]["change"] == pytest.approx(last_close - previous)
    assert body["latest"]["change_pct"] == pytest.approx((last_close / previous - 1) * 100)
    year = [b for b in bars if b[0] >= last_day - timedelta(days=364)]
    assert body["range_52_weeks"]["high"] == max(b[2] if b[2] is not None else b[1] for b in year)
    assert body["range_52_weeks"]["low"] == min(b[3] if b[3] is not None else b[1] for b in year)
    news = (await client.get("/api/news", params={"stock": SAMSUNG}, headers=bearer(user.token))).json()
    assert body["news"]["total"] == news["total"] > 0
    assert body["news"]["latest_at"] == news["items"][0]["published_at"]


async def test_daily_prices_carry_the_marts_indicators(client, user, api_warehouse):
    response = await client.get(f"/api/stocks/{SAMSUNG}/prices",
                                params={"from": "2025-04-01", "to": "2025-06-17"}, headers=bearer(user.token))
    body = response.json()
    bars = adjusted_closes(api_warehouse, SAMSUNG)
    closes = {d: c for d, c, *_ in bars}
    days = [d for d in closes if date(2025, 4, 1) <= d <= date(2025, 6, 17)]
    assert response.status_code == 200 and body["interval"] == "daily" and body["minute"] is None
    assert [b["date"] for b in body["daily"]] == [d.isoformat() for d in days]
    ordered = list(closes.values())
    for bar in body["daily"][-5:]:
        i = list(closes).index(date.fromisoformat(bar["date"]))
        assert bar["close"] == ordered[i]
        assert bar["return_1d"] == pytest.approx(ordered[i] / ordered[i - 1] - 1)
        assert bar["ma_5"] == pytest.approx(statistics.fmean(ordered[i - 4:i + 1]))
        assert bar["ma_20"] == pytest.approx(statistics.fmean(ordered[i - 19:i + 1]))
        assert bar["bollinger_mid"] == pytest.approx(bar["ma_20"])
        assert bar["bollinger_upper"] == pytest.approx(
            bar["ma_20"] + 2 * statistics.pstdev(ordered[i - 19:i + 1]))
        assert 0 <= bar["rsi_14"] <= 100


async def test_without_dates_the_last_year_up_to_the_newest_bar(client, user, api_warehouse):
    body = (await client.get(f"/api/stocks/{SAMSUNG}/prices", headers=bearer(user.token))).json()
    last_day = adjusted_closes(api_warehouse, SAMSUNG)[-1][0]
    assert body["end"] == last_day.isoformat() and body["start"] == (last_day - timedelta(days=364)).isoformat()
    assert body["daily"][-1]["date"] == last_day.isoformat()


async def test_minute_bars_are_time_zone_aware_and_complete(client, user, api_warehouse):
    response = await client.get(f"/api/stocks/{SAMSUNG}/prices", params={"interval": "minute", "from": "2025-06-16",
                                "to": "2025-06-17"}, headers=bearer(user.token))
    body = response.json()
    rows = sql(api_warehouse, "SELECT bar_time, close FROM raw.minute_prices WHERE stock_code = %s "
                              "AND trade_date BETWEEN '2025-06-16' AND '2025-06-17' ORDER BY bar_time", (SAMSUNG,))
    assert response.status_code == 200 and body["daily"] is None and len(body["minute"]) == len(rows) > 0
    first = body["minute"][0]
    assert first["time"].endswith(("Z", "+00:00", "+09:00")) and first["close"] == float(rows[0][1])
    assert [b["time"] for b in body["minute"]] == sorted(b["time"] for b in body["minute"])


@pytest.mark.parametrize(("path", "params", "status", "says"), [
    ("/api/stocks/5930", {}, 400, "code"),
    ("/api/stocks/005930a", {}, 400, "code"),
    ("/api/stocks/999999", {}, 404, "no listed stock 999999"),
    ("/api/stocks/999999/prices", {}, 404, "no listed stock 999999"),
    ("/api/stocks/005930/prices", {"from": "2025-13-01"}, 400, "from"),
    ("/api/stocks/005930/prices", {"to": "2025-02-30"}, 400, "YYYY-MM-DD"),
    ("/api/stocks/005930/prices", {"from": "2025-06-01", "to": "2025-05-01"}, 400, "'from' (2025-06-01) is after"),
    ("/api/stocks/005930/prices", {"interval": "minute", "from": "2025-06-01", "to": "2025-06-17"}, 400,
     "at most 7 days"),
    ("/api/stocks/005930/prices", {"from": "1990-01-01", "to": "2025-06-17"}, 400, "at most"),
    ("/api/stocks/005930/prices", {"interval": "hourly"}, 400, "interval"),
    ("/api/stocks", {"page": "-1"}, 400, "page"),
    ("/api/stocks", {"page_size": "0"}, 400, "page_size"),
    ("/api/stocks", {"page_size": "1000"}, 400, "<= 200"),
    ("/api/stocks", {"market": "NYSE"}, 400, "market"),
    ("/api/stocks", {"watchlist": "maybe"}, 400, "watchlist"),
    ("/api/stocks", {"q": "x" * 51}, 400, "q"),
])
async def test_bad_input_is_a_4xx_that_says_what_to_fix(client, user, path, params, status, says):
    response = await client.get(path, params=params, headers=bearer(user.token))
    assert response.status_code == status
    body = response.json()
    assert body["status_code"] == status and says in response.text, body


async def test_admins_manage_the_watch_list_and_deleting_only_deactivates(client, user, admin, api_warehouse):
    new = "0099X0"  # a listing the universe does not know yet
    try:
        nameless = await client.post("/api/admin/stocks", json={"code": new}, headers=bearer(admin.token))
        assert nameless.status_code == 400 and "give its name" in nameless.json()["detail"]
        added = await client.post("/api/admin/stocks", json={"code": new, "name": "아작테크", "market": "KOSDAQ"},
                                  headers=bearer(admin.token))
        assert added.status_code == 201 and added.json()["is_watchlist"] is True
        detail = (await client.get(f"/api/stocks/{new}", headers=bearer(user.token))).json()
        assert detail["name"] == "아작테크" and detail["latest"] is None and detail["news"]["total"] == 0
        renamed = await client.put(f"/api/admin/stocks/{new}", json={"name": "아작테크놀로지"},
                                   headers=bearer(admin.token))
        assert renamed.json()["name"] == "아작테크놀로지" and renamed.json()["is_watchlist"] is True
        removed = await client.delete(f"/api/admin/stocks/{new}", headers=bearer(admin.token))
        assert removed.status_code == 200 and removed.json()["is_watchlist"] is False
        still = await client.get(f"/api/stocks/{new}", headers=bearer(user.token))
        assert still.status_code == 200 and still.json()["is_watchlist"] is False
        [(active, by)] = sql(api_warehouse, "SELECT active, updated_by FROM app.stock_watchlist WHERE code = %s",
                             (new,))
        assert active is False and by == admin.id
        unknown = await client.delete("/api/admin/stocks/999999", headers=bearer(admin.token))
        assert unknown.status_code == 404
    finally:
        sql(api_warehouse, "DELETE FROM app.stock_watchlist WHERE code = %s", (new,))


@pytest.mark.parametrize(("method", "path", "content", "status", "says"), [
    ("POST", "/api/admin/stocks", b'{"code": ', 400, "not valid JSON"),
    ("POST", "/api/admin/stocks", b"[1, 2, 3]", 400, "Expected `object`"),
    ("POST", "/api/admin/stocks", b'{"code": 5930}', 400, "Expected `str`, got `int`"),
    ("POST", "/api/admin/stocks", b'{"code": "005930", "colour": "red"}', 400, "unknown field `colour`"),
    ("POST", "/api/admin/stocks", b'{"code": "005930", "market": "NASDAQ"}', 400, "market"),
    ("PUT", "/api/admin/stocks/005930", b'{"is_watchlist": "yes"}', 400, "is_watchlist"),
    ("POST", "/api/admin/stocks", b'{"code": "005930", "name": "' + b"x" * 70_000 + b'"}', 413, "too large"),
])
async def test_bad_bodies_are_rejected_with_a_reason(client, admin, method, path, content, status, says):
    response = await client.request(method, path, content=content,
                                     headers={**bearer(admin.token), "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["status_code"] == status and says in response.text
