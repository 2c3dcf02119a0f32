"""The point-in-time context: what could be known about a stock at ``as_of``, and nothing later.

Each section is read by a named query in ``context.sql`` that filters on when a row became
available (``available_at``); :func:`build_context` also refuses a row newer than ``as_of``, so a
query that forgot its filter fails loudly instead of leaking the future into a prompt.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from azak_core.market import COMPOSITE_INDICES
from azak_pipelines.lib.sql_files import load_queries
from azak_pipelines.lib.warehouse import missing_tables, table_exists

QUERIES = Path(__file__).with_name("context.sql")
# sections and the tables they need (a section whose table does not exist yet is empty)
SECTIONS: dict[str, str] = {
    "bars": "marts.daily_prices", "flows": "staging.stg_kis__investor_flows",
    "ratios": "staging.stg_kis__financial_ratios", "product": "staging.stg_kis__product_info",
    "indices": "marts.index_daily", "sectors": "marts.index_daily", "dart": "marts.news_articles",
    "impact_history": "marts.news_price_impact", "recent_predictions": "computed.news_predictions",
}
NEEDS_CALENDAR = {"bars", "flows", "indices", "sectors", "impact_history"}
SIMILAR = "marts.similar_news_outcomes"
# an article's own sections: the outcomes of its similar earlier articles, and the three closest cases
ARTICLE_SECTIONS: dict[str, tuple[str, ...]] = {
    "similar_outcomes": (SIMILAR,),
    "similar_cases": ("computed.similar_news", "marts.news_articles", "marts.news_price_impact",
                      "marts.trading_days"),
}


class LookAheadError(RuntimeError):
    """A context row is newer than the as-of time: a query lost its point-in-time filter."""


@dataclass(frozen=True)
class Article:
    news_id: int
    stock_code: str
    title: str
    summary: str | None
    published_at: datetime
    published_day: date
    score: float
    available_at: datetime


@dataclass
class Context:
    """Everything one prompt (or the baseline) may use, each row with its ``available_at``."""

    stock_code: str
    stock_name: str
    as_of: datetime
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    article: Article | None = None

    def rows(self, section: str) -> list[dict[str, Any]]:
        return self.sections.get(section, [])

    def present(self) -> list[str]:
        """The sections that had data (stored with every report as ``data_sources``)."""
        return [name for name, rows in self.sections.items() if rows]

    def completeness(self) -> float:
        """The share of the report's sections (:data:`SECTIONS`) that had data: stored with every
        report as ``data_completeness``, computed here and never asked of a model."""
        return round(sum(bool(self.rows(s)) for s in SECTIONS) / len(SECTIONS), 3)

    def newest_input(self) -> datetime | None:
        stamps = [r["available_at"] for rows in self.sections.values() for r in rows
                  if r.get("available_at") is not None]
        if self.article is not None:
            stamps.append(self.article.available_at)
        return max(stamps) if stamps else None


def existing_tables(conn: psycopg.Connection[Any]) -> set[str]:
    names = {*SECTIONS.values(), *(t for ts in ARTICLE_SECTIONS.values() for t in ts), "marts.stocks",
             "marts.trading_days"}
    return names - set(missing_tables(conn, sorted(names)))


def _read(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(load_queries(QUERIES)[name], params).fetchall()


def build_context(conn: psycopg.Connection[Any], code: str, as_of: datetime,
                  article: Article | None = None, tables: set[str] | None = None) -> Context:
    """The context of ``code`` as of ``as_of`` (and of ``article``, for a news prediction)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    tables = existing_tables(conn) if tables is None else tables
    params = {"code": code, "as_of": as_of, "composites": list(COMPOSITE_INDICES)}
    stock = _read(conn, "stock", params) if "marts.stocks" in tables else []
    context = Context(code, stock[0]["stock_name"] if stock else code, as_of, article=article)
    calendar = "marts.trading_days" in tables
    for section, table in SECTIONS.items():
        ok = table in tables and (calendar or section not in NEEDS_CALENDAR)
        context.sections[section] = _read(conn, section, params) if ok else []
    if article is not None:
        for section, needed in ARTICLE_SECTIONS.items():
            context.sections[section] = (_read(conn, section, {**params, "news_id": article.news_id})
                                         if set(needed) <= tables else [])
    newest = context.newest_input()
    if newest is not None and newest > as_of:
        raise LookAheadError(f"context for {code} as of {as_of.isoformat()} holds a row from "
                             f"{newest.isoformat()}")
    return context


def articles_to_predict(conn: psycopg.Connection[Any], start: date, end: date,
                        codes: list[str]) -> list[Article]:
    """Salient (article, stock) links of ``[start, end)`` for the watch-list ``codes``."""
    tables = existing_tables(conn)
    if not {"marts.news_articles"} <= tables or not table_exists(conn, "marts.news_stock_matches"):
        return []
    rows = _read(conn, "articles", {"start": start, "end": end, "codes": codes})
    return [Article(**row) for row in rows]
