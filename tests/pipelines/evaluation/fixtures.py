"""Hand-made prices and predictions for the evaluation tests, written through the warehouse."""

import hashlib
import math
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from azak_core.market import KST
from azak_pipelines.defs.market.tables import DAILY_PRICES, INDEX_DAILY
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS, STOCK_REPORTS
from azak_pipelines.lib import warehouse
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

FETCHED = datetime(2025, 6, 1, tzinfo=KST)
HISTORY_START = date(2025, 1, 2)


def kst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KST)


def background_bars(code: str, start: date, end: date, seed: int) -> dict[date, dict[str, Any]]:
    """A wiggly series (deterministic) with high/low 1 % around the close, for every session."""
    bars = {}
    for i, day in enumerate(krx_calendar().sessions_between(start, end)):
        close = round(10000 * (1 + 0.03 * math.sin(i * 0.7 + seed)), 0)
        bars[day] = {"open": close, "high": round(close * 1.01, 0), "low": round(close * 0.99, 0),
                     "close": close, "volume": 1000}
    return bars


def write_prices(url: str, bars: dict[str, dict[date, dict[str, Any]]], start: date, end: date) -> None:
    rows = [(code, day, "adjusted", b["open"], b["high"], b["low"], b["close"], b["volume"], None,
             "file:test", FETCHED)
            for code, series in bars.items() for day, b in sorted(series.items()) if start <= day < end]
    with warehouse.connect(url) as conn:
        warehouse.replace_slice(conn, DAILY_PRICES, rows, start, end)


def write_kospi(url: str, closes: dict[date, float], start: date, end: date) -> None:
    rows = [("0001", day, None, None, None, close, None, None, "file:test", FETCHED)
            for day, close in sorted(closes.items()) if start <= day < end]
    with warehouse.connect(url) as conn:
        warehouse.replace_slice(conn, INDEX_DAILY, rows, start, end)


def _provenance(model: str, made_at: datetime, mode: str, status: str) -> tuple:
    """The provenance of a version-1 row, and its nulls in the two columns version 2 added."""
    return (1, model, made_at, mode, status, None if status == "ok" else "timeout", None, "v1", "hash", 0, 0, 0,
            0, False, made_at, None, None)


def report(model: str, code: str, made_at: datetime, direction: str, probability: float, base: float | None,
           target: float | None, stop: float | None, horizon: int, mode: str = "simulated",
           status: str = "ok") -> tuple:
    report_id = hashlib.sha256(f"{model}|{code}|{made_at.isoformat()}".encode()).hexdigest()
    return (report_id, made_at.astimezone(KST).date(), code, "summary", None, "hold", direction, probability,
            base, target, stop, horizon, None, None, None, None, None, None,
            *_provenance(model, made_at, mode, status))


def news_prediction(model: str, news_id: int, code: str, made_at: datetime, direction: str, probability: float,
                    horizon: int, mode: str = "simulated", status: str = "ok") -> tuple:
    prediction_id = hashlib.sha256(f"{model}|{news_id}|{code}|{made_at.isoformat()}".encode()).hexdigest()
    return (prediction_id, made_at.astimezone(KST).date(), news_id, code, direction, probability, "medium", 0.9,
            horizon, "reasoning", *_provenance(model, made_at, mode, status))


def write_predictions(url: str, reports: list[tuple], news: list[tuple]) -> None:
    with warehouse.connect(url) as conn:
        for spec, rows in ((STOCK_REPORTS, reports), (NEWS_PREDICTIONS, news)):
            if rows:
                first = min(r[1] for r in rows)
                last = max(r[1] for r in rows)
                warehouse.append_rows(conn, spec, rows, first, last + timedelta(days=1))


def fetch(url: str, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
