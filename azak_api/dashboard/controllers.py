"""GET /api/dashboard/summary."""

from typing import Any

from litestar import Controller, Request, get
from litestar.security.jwt import Token

from azak_api.auth import SECURED, CurrentUser
from azak_api.dashboard import queries
from azak_api.dashboard.schemas import (
    DashboardSummary,
    ImpactFigures,
    MarketFigures,
    Mover,
    NewsFigures,
    NewsLeader,
)
from azak_api.errors import error_responses


class DashboardController(Controller):
    path = "/api/dashboard"
    tags = ["dashboard"]
    security = SECURED

    @get("/summary", operation_id="getDashboardSummary", opt={"cache": "dashboard"}, cache=True,
         summary="Platform figures, all computed from the data", responses=error_responses(401))
    async def summary(self, request: Request[CurrentUser, Token, Any]) -> DashboardSummary:
        async with request.app.state.engine.connect() as conn:
            universe = await queries.universe(conn)
            kospi = await queries.kospi(conn)
            movers = await queries.movers(conn)
            news = await queries.news(conn)
            by_source = await queries.news_breakdown(conn, "source")
            by_type = await queries.news_breakdown(conn, "content_type")
            covered = await queries.most_covered(conn)
            impact = await queries.impact(conn)
        as_movers = [Mover(r.stock_code, r.name, float(r.close), r.return_1d * 100) for r in movers]
        return DashboardSummary(
            stocks_in_universe=universe.total,
            watchlist_size=universe.watchlist,
            market=MarketFigures(
                as_of=kospi.trade_date if kospi else None,
                kospi_close=float(kospi.close) if kospi else None,
                kospi_change_pct=kospi.return_1d * 100 if kospi and kospi.return_1d is not None else None),
            gainers=[m for m in as_movers if m.change_pct > 0][:5],
            losers=[m for m in reversed(as_movers) if m.change_pct < 0][:5],
            news=NewsFigures(
                as_of=news.as_of, total=news.total, last_24_hours=news.day, last_7_days=news.week,
                stories=news.stories,
                with_a_subject_pct=news.with_subject / news.total * 100 if news.total else None,
                by_source=by_source, by_content_type=by_type),
            most_covered=[NewsLeader(r.code, r.name, r.n) for r in covered],
            impact_after_news=[ImpactFigures(r.h, r.matured, float(r.mean_pct) if r.mean_pct is not None else None)
                               for r in impact],
        )
