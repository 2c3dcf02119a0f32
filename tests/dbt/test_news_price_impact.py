"""marts.news_price_impact against an independent computation in Python."""

from datetime import datetime, time, timedelta

import psycopg
import pytest

from azak_core.market import KST
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from tests.pipelines.runs import run

HORIZONS = (1, 2, 3, 5, 10, 20)


@pytest.mark.slow
def test_returns_anchor_on_the_first_close_after_publication(warehouse_with_stocks, replay):
    run("reference_job")  # the calendar and stock marts the impact model joins
    run("daily_prices_job", ("2025-04-01", "2025-06-17"))
    run("market_raw_job", ("2025-04-01", "2025-06-17"), assets=["raw/index_daily"])
    run("all_news_job", ("2025-04-21", "2025-06-17"))
    run("market_marts_job")
    run("news_marts_job")
    calendar = krx_calendar()
    with psycopg.connect(warehouse_with_stocks) as conn:
        closes = {(code, day): float(close) for code, day, close in conn.execute(
            "SELECT stock_code, trade_date, close FROM marts.daily_prices")}
        kospi = {day: float(close) for day, close in conn.execute(
            "SELECT trade_date, close FROM marts.index_daily WHERE index_code = '0001'")}
        impact = conn.execute(
            "SELECT i.news_id, i.stock_code, a.published_at, a.published_precision, i.anchor_date, "
            + ", ".join(f"i.return_{h}d, i.excess_{h}d" for h in HORIZONS)
            + " FROM marts.news_price_impact i JOIN marts.news_articles a USING (news_id)").fetchall()
    assert len(impact) > 50
    checked = matured = 0
    for news_id, code, published, precision, anchor, *values in impact:
        effective = published
        if precision == "day":  # a date-only filing counts from the end of its day
            effective = datetime.combine(published.astimezone(KST).date() + timedelta(days=1), time(0), KST)
        expected_anchor = calendar.anchor_session(effective)
        assert anchor == expected_anchor, (news_id, published, anchor, expected_anchor)
        if published.astimezone(KST).time() > time(15, 30) and precision != "day":
            assert anchor > published.astimezone(KST).date()
        base = closes.get((code, anchor))
        for i, h in enumerate(HORIZONS):
            got_return, got_excess = values[2 * i], values[2 * i + 1]
            later = calendar.add_sessions(anchor, h)
            if base is None or (code, later) not in closes:
                assert got_return is None and got_excess is None  # not matured: NULL, never a guess
                continue
            want = closes[(code, later)] / base - 1
            want_excess = want - (kospi[later] / kospi[anchor] - 1)
            assert got_return == pytest.approx(want, rel=1e-9, abs=1e-12)
            assert got_excess == pytest.approx(want_excess, rel=1e-9, abs=1e-12)
            checked += 1
            matured += h == 20
    assert checked > 100 and matured > 5
