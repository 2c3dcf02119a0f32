"""News list and detail, and the dashboard, against the warehouse the pipelines built.

Expected figures come from the raw tables (what the collectors and the linker wrote), so the marts'
joins and the API's filters are both on trial.
"""

import math
from datetime import date, datetime, timedelta

import pytest

from azak_core.market import KST
from tests.api.conftest import bearer, sql

SAMSUNG = "005930"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_the_newest_first_with_totals_and_pages(client, user, api_warehouse):
    [(total,)] = sql(api_warehouse, "SELECT count(*) FROM computed.news_articles")
    first = (await client.get("/api/news", params={"page_size": 25}, headers=bearer(user.token))).json()
    assert first["total"] == total > 100 and first["pages"] == math.ceil(total / 25)
    stamps = [when(a["published_at"]) for a in first["items"]]
    assert stamps == sorted(stamps, reverse=True) and all(s.tzinfo for s in stamps)
    second = (await client.get("/api/news", params={"page_size": 25, "page": 2}, headers=bearer(user.token))).json()
    assert not {a["id"] for a in first["items"]} & {a["id"] for a in second["items"]}
    assert when(second["items"][0]["published_at"]) <= stamps[-1]
    oldest = (await client.get("/api/news", params={"sort": "published_at", "page_size": 1},
                               headers=bearer(user.token))).json()
    [(earliest,)] = sql(api_warehouse, "SELECT min(published_at) FROM computed.news_articles")
    assert when(oldest["items"][0]["published_at"]) == earliest
    assert first["total_is_estimate"] is False  # a few hundred articles: counted
    beyond = (await client.get("/api/news", params={"page": 500}, headers=bearer(user.token))).json()
    assert beyond["items"] == [] and beyond["total"] == total and beyond["next_cursor"] is None
    too_deep = await client.get("/api/news", params={"page": 10_000}, headers=bearer(user.token))
    assert too_deep.status_code == 400 and "next_cursor" in too_deep.text


async def test_filters_by_stock_source_text_and_kst_days(client, user, api_warehouse):
    about = (await client.get("/api/news", params={"stock": SAMSUNG, "page_size": 100},
                              headers=bearer(user.token))).json()
    [(salient,)] = sql(api_warehouse, "SELECT count(DISTINCT news_id) FROM computed.news_stock_matches "
                                      "WHERE stock_code = %s AND salient", (SAMSUNG,))
    assert about["total"] == salient > 0 and all(SAMSUNG in a["stock_codes"] for a in about["items"])
    mentioned = (await client.get("/api/news", params={"stock": SAMSUNG, "mentioned": "true"},
                                  headers=bearer(user.token))).json()
    [(any_link,)] = sql(api_warehouse, "SELECT count(DISTINCT news_id) FROM computed.news_stock_matches "
                                       "WHERE stock_code = %s", (SAMSUNG,))
    assert mentioned["total"] == any_link >= salient

    dart = (await client.get("/api/news", params={"source": "dart", "page_size": 100},
                             headers=bearer(user.token))).json()
    [(filings,)] = sql(api_warehouse, "SELECT count(*) FROM computed.news_articles WHERE 'dart' = ANY(sources)")
    assert dart["total"] == filings > 0 and all("dart" in a["sources"] for a in dart["items"])

    word = "실적"
    found = (await client.get("/api/news", params={"q": word, "page_size": 100}, headers=bearer(user.token))).json()
    [(matching,)] = sql(api_warehouse, "SELECT count(*) FROM computed.news_articles "
                                       "WHERE title LIKE %s OR summary LIKE %s", (f"%{word}%", f"%{word}%"))
    assert found["total"] == matching > 0

    day = date(2025, 6, 2)
    one_day = (await client.get("/api/news", params={"from": day.isoformat(), "to": day.isoformat(),
                                                     "page_size": 100}, headers=bearer(user.token))).json()
    start = datetime(day.year, day.month, day.day, tzinfo=KST)
    [(that_day,)] = sql(api_warehouse, "SELECT count(*) FROM computed.news_articles WHERE published_at >= %s "
                                       "AND published_at < %s", (start, start + timedelta(days=1)))
    assert one_day["total"] == that_day > 0
    assert all(when(a["published_at"]).astimezone(KST).date() == day for a in one_day["items"])


async def test_an_article_with_its_links_impact_and_story(client, user, api_warehouse):
    [(news_id, code)] = sql(api_warehouse, "SELECT news_id, stock_code FROM marts.news_price_impact "
                                           "WHERE salient AND return_5d IS NOT NULL ORDER BY news_id LIMIT 1")
    response = await client.get(f"/api/news/{news_id}", headers=bearer(user.token))
    body = response.json()
    assert response.status_code == 200 and body["article"]["id"] == str(news_id)  # 63 bits: a string
    links = sql(api_warehouse, "SELECT stock_code, score, salient FROM computed.news_stock_matches WHERE news_id = %s",
                (news_id,))
    assert {(x["code"], x["score"], x["salient"]) for x in body["links"]} == {(c, float(s), sal) for c, s, sal in links}
    assert body["links"][0]["salient"] and body["links"][0]["evidence"]
    impact = next(i for i in body["price_impact"] if i["code"] == code)
    closes = sql(api_warehouse, "SELECT trade_date, close FROM raw.daily_prices WHERE stock_code = %s "
                                "AND price_basis = 'adjusted' AND trade_date >= %s ORDER BY trade_date LIMIT 6",
                 (code, impact["anchor_date"]))
    assert impact["base_close"] == float(closes[0][1])
    assert impact["returns"]["5d"] == pytest.approx(float(closes[5][1]) / float(closes[0][1]) - 1)
    assert set(impact["returns"]) == {"1d", "2d", "3d", "5d", "10d", "20d"} == set(impact["excess_over_kospi"])
    story = sql(api_warehouse, "SELECT count(*) - 1 FROM computed.news_articles WHERE cluster_id = "
                               "(SELECT cluster_id FROM computed.news_articles WHERE news_id = %s)", (news_id,))
    assert len(body["same_story"]) == min(story[0][0], 50)


async def test_an_unknown_article_is_404_and_bad_filters_are_400(client, user):
    assert (await client.get("/api/news/999999999", headers=bearer(user.token))).json() == {
        "status_code": 404, "detail": "no article 999999999"}
    beyond = await client.get("/api/news/9999999999999999999", headers=bearer(user.token))  # > 2**63 - 1
    assert beyond.status_code == 404
    for bad in ("abc", "0", "-5", "12345678901234567890"):
        response = await client.get(f"/api/news/{bad}", headers=bearer(user.token))
        assert response.status_code == 400 and "news_id" in response.text, (bad, response.text)
    for params, says in [({"stock": "5930"}, "stock"), ({"source": "twitter"}, "source"),
                         ({"from": "yesterday"}, "from"), ({"from": "2025-06-02", "to": "2025-06-01"}, "is after"),
                         ({"sort": "title"}, "sort"), ({"page": "0"}, "page"), ({"page_size": "101"}, "page_size"),
                         ({"q": ""}, "q")]:
        response = await client.get("/api/news", params=params, headers=bearer(user.token))
        assert response.status_code == 400 and says in response.text, (params, response.text)


async def test_the_dashboard_is_computed_from_the_data(client, user, api_warehouse):
    response = await client.get("/api/dashboard/summary", headers=bearer(user.token))
    body = response.json()
    assert response.status_code == 200
    [(stocks, watched)] = sql(api_warehouse, "SELECT count(*), count(*) FILTER (WHERE is_watchlist) FROM raw.stocks")
    assert body["stocks_in_universe"] == stocks and body["watchlist_size"] == watched
    [(day, close)] = sql(api_warehouse, "SELECT trade_date, close FROM raw.index_daily WHERE index_code = '0001' "
                                        "ORDER BY trade_date DESC LIMIT 1")
    assert body["market"]["as_of"] == day.isoformat() and body["market"]["kospi_close"] == float(close)
    gains = [m["change_pct"] for m in body["gainers"]]
    assert gains == sorted(gains, reverse=True) and all(g > 0 for g in gains)
    assert all(m["change_pct"] < 0 for m in body["losers"])
    for mover in body["gainers"][:1] + body["losers"][:1]:
        last_two = sql(api_warehouse, "SELECT close FROM raw.daily_prices WHERE stock_code = %s AND price_basis = "
                                      "'adjusted' ORDER BY trade_date DESC LIMIT 2", (mover["code"],))
        assert mover["change_pct"] == pytest.approx((float(last_two[0][0]) / float(last_two[1][0]) - 1) * 100)
    [(total, newest, stories)] = sql(api_warehouse, "SELECT count(*), max(published_at), count(DISTINCT cluster_id) "
                                                    "FROM computed.news_articles")
    news = body["news"]
    assert news["total"] == total and when(news["as_of"]) == newest and news["stories"] == stories
    [(last_day,)] = sql(api_warehouse, "SELECT count(*) FROM computed.news_articles WHERE published_at > %s",
                        (newest - timedelta(hours=24),))
    assert news["last_24_hours"] == last_day
    assert sum(news["by_content_type"].values()) == total and news["by_source"]["dart"] > 0
    leader = body["most_covered"][0]
    [(count,)] = sql(api_warehouse, "SELECT count(DISTINCT m.news_id) FROM computed.news_stock_matches m "
                                    "JOIN computed.news_articles a USING (news_id) "
                                    "WHERE m.stock_code = %s AND m.salient "
                                    "AND a.published_at > %s", (leader["code"], newest - timedelta(days=30)))
    assert leader["articles_30_days"] == count > 0
    assert [f["horizon"] for f in body["impact_after_news"]] == ["1d", "5d", "20d"]
    assert body["impact_after_news"][0]["matured_links"] > 0


async def test_dashboard_figures_follow_the_data(client, user, admin, api_warehouse):
    """The legacy dashboard returned hard-coded numbers; these move when the data does."""
    before = (await client.get("/api/dashboard/summary", headers=bearer(user.token))).json()
    try:
        added = await client.post("/api/admin/stocks", json={"code": "0099Y0", "name": "대시보드테스트"},
                                  headers=bearer(admin.token))
        assert added.status_code == 201
        after = (await client.get("/api/dashboard/summary", headers=bearer(user.token))).json()
        assert after["stocks_in_universe"] == before["stocks_in_universe"] + 1
        assert after["watchlist_size"] == before["watchlist_size"] + 1
    finally:
        sql(api_warehouse, "DELETE FROM app.stock_watchlist WHERE code = '0099Y0'")
