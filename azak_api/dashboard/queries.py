"""SQL for the dashboard: the whole answer written by PostgreSQL in one round trip
(azak_api/json_sql.py). News windows end at the newest article (so replayed data reads sensibly);
the news figures read the whole corpus, so dbt computes them once per build (marts.news_figures)."""

from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.json_sql import document, json_array, json_float, json_object, json_time
from azak_api.stocks.queries import UNIVERSE, UNIVERSE_SIZE, WATCHLIST
from azak_core.market import KOSPI


def _figure(name: str) -> str:
    return f"(SELECT n FROM marts.news_figures WHERE figure = 'totals' AND key = '{name}')"


def _breakdown(figure: str) -> str:
    return (f"(SELECT coalesce(json_object_agg(key, n ORDER BY n DESC, key), '{{}}') FROM marts.news_figures "
            f"WHERE figure = '{figure}')")


# the watch-list's last session, best first (gainers) or worst first (losers): schemas.Mover
MOVER = {"code": "m.stock_code", "name": "m.name", "close": json_float("m.close"),
         "change_pct": json_float("m.return_1d * 100")}
# what several fields read, each read once per request (a MATERIALIZED CTE): the watch-list for its
# size and its movers, and the movers once for the gainers and the losers
SHARED_READS = f"""watch AS MATERIALIZED ({WATCHLIST}),
    movers AS MATERIALIZED (
        WITH latest AS (SELECT max(trade_date) AS day FROM marts.daily_prices)
        SELECT p.stock_code, u.name, p.close, p.return_1d
        FROM marts.daily_prices p JOIN latest ON p.trade_date = latest.day JOIN watch u ON u.code = p.stock_code
        WHERE p.return_1d IS NOT NULL)"""
TOP = 5
# schemas.DashboardSummary, field by field in its order
SUMMARY = {
    "stocks_in_universe": UNIVERSE_SIZE,
    "watchlist_size": "(SELECT count(*) FROM watch)",
    "market": "(SELECT " + json_object({
        "as_of": "k.trade_date", "kospi_close": json_float("k.close"),
        "kospi_change_pct": json_float("k.return_1d * 100")}) + " FROM (SELECT 1) AS one LEFT JOIN "
        "(SELECT * FROM marts.index_daily WHERE index_code = :kospi ORDER BY trade_date DESC LIMIT 1) k ON TRUE)",
    "gainers": json_array(MOVER, "(SELECT * FROM movers g WHERE g.return_1d * 100 > 0 "
                                 f"ORDER BY g.return_1d DESC LIMIT {TOP}) m", "TRUE", "m.return_1d DESC"),
    "losers": json_array(MOVER, "(SELECT * FROM movers l WHERE l.return_1d * 100 < 0 "
                                f"ORDER BY l.return_1d LIMIT {TOP}) m", "TRUE", "m.return_1d"),
    "news": json_object({
        "as_of": json_time("(SELECT max(as_of) FROM marts.news_figures WHERE figure = 'totals')"),
        "total": f"coalesce({_figure('total')}, 0)", "last_24_hours": f"coalesce({_figure('day')}, 0)",
        "last_7_days": f"coalesce({_figure('week')}, 0)", "stories": f"coalesce({_figure('stories')}, 0)",
        "with_a_subject_pct": f"coalesce({_figure('with_subject')}, 0)::float8 / nullif({_figure('total')}, 0) * 100",
        "by_source": _breakdown("source"), "by_content_type": _breakdown("content_type")}),
    "most_covered": json_array(
        # each name looked up by its code (the universe is not hashed whole for ten rows)
        {"code": "f.key", "name": f"(SELECT u.name FROM ({UNIVERSE}) u WHERE u.code = f.key)",
         "articles_30_days": "f.n"},
        "marts.news_figures f", "f.figure = 'most_covered'",
        "f.n DESC, f.key"),
    "impact_after_news": json_array(
        {"horizon": "f.key", "matured_links": "f.n", "mean_excess_return_pct": json_float("f.mean")},
        "marts.news_figures f", "f.figure = 'impact'", "CASE f.key WHEN '1d' THEN 1 WHEN '5d' THEN 5 ELSE 20 END"),
}


async def summary(conn: AsyncConnection) -> bytes:
    """The whole ``schemas.DashboardSummary`` answer as JSON."""
    return await document(conn, f"WITH {SHARED_READS} SELECT {json_object(SUMMARY)}::text", {"kospi": KOSPI})
