"""Dashboard figures — every one computed from the data."""

from datetime import date, datetime

import msgspec


class MarketFigures(msgspec.Struct):
    as_of: date | None
    kospi_close: float | None
    kospi_change_pct: float | None


class Mover(msgspec.Struct):
    code: str
    name: str
    close: float
    change_pct: float


class NewsFigures(msgspec.Struct):
    as_of: datetime | None
    total: int
    last_24_hours: int
    last_7_days: int
    stories: int
    with_a_subject_pct: float | None
    by_source: dict[str, int]
    by_content_type: dict[str, int]


class NewsLeader(msgspec.Struct):
    code: str
    name: str | None
    articles_30_days: int


class ImpactFigures(msgspec.Struct):
    horizon: str
    matured_links: int
    mean_excess_return_pct: float | None


class DashboardSummary(msgspec.Struct):
    stocks_in_universe: int
    watchlist_size: int
    market: MarketFigures
    gainers: list[Mover]
    losers: list[Mover]
    news: NewsFigures
    most_covered: list[NewsLeader]
    impact_after_news: list[ImpactFigures]
