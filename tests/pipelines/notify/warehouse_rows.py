"""Rows the notification tests need, written through the warehouse writer into the real tables."""

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import psycopg

from azak_pipelines.defs.common import asset_key
from azak_pipelines.defs.market.tables import DAILY_PRICES
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS, STOCK_REPORTS
from azak_pipelines.defs.reference.tables import STOCKS
from azak_pipelines.lib.warehouse import Column, TableSpec, append_rows, connect, replace_slice

# the columns of the evaluation issue's computed.model_leaderboard that the digest reads
MODEL_LEADERBOARD = TableSpec(
    schema="computed", name="model_leaderboard",
    columns=(Column("model_name", "text", nullable=False), Column("mode", "text", nullable=False),
             Column("window_days", "integer", nullable=False), Column("n", "integer", nullable=False),
             Column("scores", "jsonb", nullable=False)),
    natural_key=("model_name", "mode", "window_days"))

# the embeddings issue's computed.similar_news
SIMILAR_NEWS = TableSpec(
    schema="computed", name="similar_news",
    columns=(Column("news_id", "bigint", nullable=False), Column("published_day", "date", nullable=False),
             Column("neighbor_id", "bigint", nullable=False), Column("rank", "integer", nullable=False),
             Column("similarity", "double precision", nullable=False), Column("embedder", "text", nullable=False)),
    natural_key=("news_id", "neighbor_id", "published_day"), partition_column="published_day")

HOSTILE = '<b>무조건 매수</b> <a href="https://evil.example">클릭</a> & 끝'


def one_day(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def write_stocks(conn: Any) -> None:
    rows = [(code, name, "KOSPI", None, None, None, None, None, None, True, "test")
            for code, name in [("005930", "삼성전자"), ("000660", "SK하이닉스"), ("035420", "NAVER")]]
    replace_slice(conn, STOCKS, rows)


def article(news_id: int, day: date, cluster: int, canonical: bool, press: str, title: str,
            size: int = 1) -> tuple:
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)
    return (news_id, day, at, "minute", title, "요약", f"https://news.example/{news_id}", press, "naver_finance",
            ["naver_finance"], "news", [], cluster, canonical, size, at)


def prediction(news_id: int, day: date, code: str, impact: str, probability: float, model: str = "baseline",
               reasoning: str = "실적 개선 기대", status: str = "ok") -> tuple:
    made = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=2)
    pid = hashlib.sha256(f"{model}{news_id}{code}".encode()).hexdigest()
    return (pid, day, news_id, code, "up", probability, impact, 0.9, 3, reasoning,
            1, model, made, "live", status, None, None, "v1", "hash", 10, 10, 0, 5, False, made,
            None, None)  # a version-1 row: no urgency, no breakdown


def report(report_id: str, day: date, code: str, recommendation: str, hour: int = 7, model: str = "baseline",
           summary: str = "견조한 실적") -> tuple:
    made = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hour)
    return (report_id, day, code, summary, None, recommendation, "up", 0.6, 70000, 75000, 65000, 5, None, None,
            [], [], None, [], 1, model, made, "live", "ok", None, None, "v1", "hash", 10, 10, 0, 5, False, made,
            None, None)  # a version-1 row: no medium support, no completeness


def price(code: str, day: date, close: int) -> tuple:
    return (code, day, "adjusted", close, close, close, close, 1000, None, "test", datetime.now(UTC))


def write(url: str, day: date, instance: dg.DagsterInstance) -> None:
    """A day with two stories (the first carried by five outlets), a report change and prices;
    every table's asset is reported materialized, as its own run would."""
    prev = day - timedelta(days=1)
    with connect(url) as conn:
        write_stocks(conn)
        articles = [article(100 + i, day, 100, i == 0, p, "삼성전자, 3분기 영업이익 급증", 5)
                    for i, p in enumerate(["한국경제", "매일경제", "연합뉴스", "머니투데이", "이데일리"])]
        articles += [article(200, day, 200, True, "한국경제", "SK하이닉스 HBM 공급 확대"),
                     article(300, day, 300, True, "한국경제", "삼성전자 배당 유지")]
        replace_slice(conn, NEWS_ARTICLES, articles, *one_day(day))
        predictions = [prediction(100 + i, day, "005930", "high", 0.7) for i in range(5)]
        predictions += [prediction(100, day, "005930", "critical", 0.9, model="gpt-4o", reasoning=HOSTILE),
                        prediction(200, day, "000660", "medium", 0.85),  # sure enough to alert
                        prediction(300, day, "005930", "low", 0.55),  # neither: no alert
                        prediction(300, day, "005930", "critical", 0.99, model="broken", status="failed"),
                        prediction(100, day, "035420", "critical", 0.9)]  # nobody watches NAVER
        append_rows(conn, NEWS_PREDICTIONS, predictions, *one_day(day))
        append_rows(conn, STOCK_REPORTS, [report("r-old", prev, "005930", "hold"),
                                            report("r-old2", prev, "000660", "buy")], *one_day(prev))
        append_rows(conn, STOCK_REPORTS, [report("r-new", day, "005930", "buy"),
                                            report("r-new2", day, "000660", "buy")], *one_day(day))
        replace_slice(conn, DAILY_PRICES, [price("005930", prev, 70000), price("005930", day, 71000),
                                           price("000660", prev, 200000)], date(day.year, 1, 1),
                      date(day.year + 1, 1, 1))
    for spec in (STOCKS, NEWS_ARTICLES, NEWS_PREDICTIONS, STOCK_REPORTS, DAILY_PRICES):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key(spec)))


def write_leaderboard(url: str, instance: dg.DagsterInstance) -> None:
    with connect(url) as conn:
        replace_slice(conn, MODEL_LEADERBOARD, [
            ("baseline", "live", 0, 40, '{"hit_rate": 0.55}'), ("gpt-4o", "live", 0, 38, '{"hit_rate": 0.61}'),
            ("gpt-4o", "simulated", 0, 400, '{"hit_rate": 0.9}')])
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key(MODEL_LEADERBOARD)))


def subscribe(url: str, chat_id: int, stocks: list[str], active: bool = True) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO app.telegram_subscribers (chat_id, stocks, active) VALUES (%s, %s, %s)",
                     (chat_id, stocks, active))
