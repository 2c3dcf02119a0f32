"""marts.similar_news_outcomes against an independent computation in Python: the returns of each
article's earlier similar articles about the same stock, counted only once they had matured."""

from collections import defaultdict
from statistics import mean

import psycopg
import pytest

from azak_core.market import RETURN_HORIZONS
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from tests.pipelines.runs import run


@pytest.mark.slow
def test_outcomes_of_similar_earlier_articles_are_point_in_time(warehouse_with_stocks, replay, milvus_uri):
    run("reference_job")
    run("daily_prices_job", ("2025-04-01", "2025-06-17"))
    run("market_raw_job", ("2025-04-01", "2025-06-17"), assets=["raw/index_daily"])
    run("all_news_job", ("2025-05-02", "2025-06-17"))
    run("embeddings_job", ("2025-05-02", "2025-06-17"))
    run("market_marts_job")
    run("news_marts_job")
    run("embeddings_marts_job")
    calendar = krx_calendar()
    with psycopg.connect(warehouse_with_stocks) as conn:
        links = conn.execute("SELECT m.news_id, m.stock_code, a.published_at FROM computed.news_stock_matches m "
                             "JOIN computed.news_articles a USING (news_id)").fetchall()
        neighbours = defaultdict(list)
        for news_id, neighbor in conn.execute("SELECT news_id, neighbor_id FROM computed.similar_news"):
            neighbours[news_id].append(neighbor)
        impact = {(n, s): (anchor, {h: r for h, r in zip(RETURN_HORIZONS, rest, strict=True)})
                  for n, s, anchor, *rest in conn.execute(
                      "SELECT news_id, stock_code, anchor_date, "
                      + ", ".join(f"return_{h}d" for h in RETURN_HORIZONS) + " FROM marts.news_price_impact")}
        mart = {(n, s, h): (day, at, count, avg, low, high) for n, s, h, day, at, count, avg, low, high in conn.execute(
            "SELECT news_id, stock_code, horizon_days, published_day, published_at, n, mean_return, min_return, "
            "max_return FROM marts.similar_news_outcomes")}
    expected = {}
    for news_id, code, published_at in links:
        earlier = [impact[(n, code)] for n in neighbours.get(news_id, []) if (n, code) in impact]
        if not earlier:
            continue
        for h in RETURN_HORIZONS:
            realised = [returns[h] for anchor, returns in earlier if anchor is not None and returns[h] is not None
                        and calendar.session(calendar.add_sessions(anchor, h)).close <= published_at]
            expected[(news_id, code, h)] = realised
    assert set(mart) == set(expected) and len(mart) > 100
    with_history = 0
    for key, realised in expected.items():
        _, _, count, avg, low, high = mart[key]
        assert count == len(realised), key
        if realised:
            with_history += 1
            assert avg == pytest.approx(mean(realised)) and low == pytest.approx(min(realised))
            assert high == pytest.approx(max(realised))
        else:
            assert avg is None and low is None and high is None
    assert with_history > 20
    assert {h for _, _, h in mart} == set(RETURN_HORIZONS)
