"""The dashboard's figures from the rows: percentages, gainers and losers."""

from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.dashboard import queries
from azak_api.dashboard.schemas import (
    DashboardSummary,
    ImpactFigures,
    MarketFigures,
    Mover,
    NewsFigures,
    NewsLeader,
)

TOP = 5


def market(kospi: queries.IndexClose | None) -> MarketFigures:
    if kospi is None:
        return MarketFigures(as_of=None, kospi_close=None, kospi_change_pct=None)
    change = kospi.return_1d * 100 if kospi.return_1d is not None else None
    return MarketFigures(as_of=kospi.trade_date, kospi_close=float(kospi.close), kospi_change_pct=change)


def gainers_and_losers(rows: list[queries.MoverRow]) -> tuple[list[Mover], list[Mover]]:
    """Watch-list stocks' last session, best first: the top rises and the worst falls."""
    movers = [Mover(r.stock_code, r.name, float(r.close), r.return_1d * 100) for r in rows]
    return [m for m in movers if m.change_pct > 0][:TOP], [m for m in reversed(movers) if m.change_pct < 0][:TOP]


def news(totals: queries.NewsTotals, by_source: dict[str, int], by_type: dict[str, int]) -> NewsFigures:
    return NewsFigures(
        as_of=totals.as_of, total=totals.total, last_24_hours=totals.day, last_7_days=totals.week,
        stories=totals.stories, with_a_subject_pct=totals.with_subject / totals.total * 100 if totals.total else None,
        by_source=by_source, by_content_type=by_type)


async def summary(conn: AsyncConnection) -> DashboardSummary:
    universe = await queries.universe(conn)
    gainers, losers = gainers_and_losers(await queries.movers(conn))
    return DashboardSummary(
        stocks_in_universe=universe.total,
        watchlist_size=universe.watchlist,
        market=market(await queries.kospi(conn)),
        gainers=gainers,
        losers=losers,
        news=news(await queries.news(conn), await queries.news_breakdown(conn, "source"),
                  await queries.news_breakdown(conn, "content_type")),
        most_covered=[NewsLeader(r.code, r.name, r.n) for r in await queries.most_covered(conn)],
        impact_after_news=[ImpactFigures(r.h, r.matured, float(r.mean_pct) if r.mean_pct is not None else None)
                           for r in await queries.impact(conn)],
    )
