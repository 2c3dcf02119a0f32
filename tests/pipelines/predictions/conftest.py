"""A small warehouse in the shapes the prediction context reads (the marts' contracts), with rows
before and after the as-of times the tests use, and a local OpenAI-compatible server."""

import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from azak_api.admin import run_migrations
from azak_core.market import KST
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from tests.pipelines.predictions.openai_server import OpenAIServer

CODE, OTHER = "005930", "000660"
FIRST, LAST = date(2024, 10, 1), date(2025, 3, 31)
# the article the tests predict: published 2025-02-12 10:00 KST (a Wednesday)
ARTICLE_ID = 9001
ARTICLE_AT = datetime(2025, 2, 12, 10, 0, tzinfo=KST)
# its similar earlier articles about the stock (computed.similar_news), most similar first
NEIGHBOURS = (115, 112, 104, 101)
# sector indices beside the composites: each day's return is the code's rank order of that day
SECTORS = {"0013": "전기전자", "0015": "운수장비", "0016": "유통업", "0017": "전기가스업", "0018": "건설업",
           "0021": "금융업", "0024": "증권"}

DDL = """
CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE raw.stocks (code text PRIMARY KEY, name text, is_watchlist boolean);
CREATE TABLE marts.stocks (stock_code text, stock_name text, market text, industry text, is_watchlist boolean);
CREATE TABLE marts.trading_days (trading_date date, session_number integer, open_at timestamptz,
    close_at timestamptz);
CREATE TABLE marts.daily_prices (stock_code text, trade_date date, open numeric(14,2), high numeric(14,2),
    low numeric(14,2), close numeric(14,2), volume bigint, trading_value bigint, is_halt boolean,
    return_1d double precision, ma_5 double precision, ma_20 double precision, ma_60 double precision,
    rsi_14 double precision, macd double precision, macd_signal double precision,
    macd_histogram double precision, bollinger_mid double precision, bollinger_upper double precision,
    bollinger_lower double precision, source text);
CREATE TABLE marts.index_daily (index_code text, index_name text, trade_date date, open numeric,
    high numeric, low numeric, close numeric, return_1d double precision);
CREATE TABLE staging.stg_kis__investor_flows (stock_code text, trade_date date, close numeric,
    individual_net_qty bigint, foreign_net_qty bigint, institution_net_qty bigint);
CREATE TABLE staging.stg_kis__financial_ratios (stock_code text, period text, period_kind text,
    period_last_day date, revenue_growth numeric, operating_income_growth numeric, net_income_growth numeric,
    roe numeric, eps numeric, bps numeric, debt_ratio numeric, reserve_ratio numeric);
CREATE TABLE staging.stg_kis__product_info (stock_code text, product_name text, classification text,
    product_type text, risk_grade text, first_registered_on date);
CREATE TABLE marts.news_articles (news_id bigint, published_at timestamptz, published_day date,
    published_precision text, title text, summary text, url text, press text, source text, sources text[],
    content_type text, cluster_id bigint, is_canonical boolean, cluster_size integer, stock_codes text[],
    mentioned_codes text[]);
CREATE TABLE marts.news_stock_matches (news_id bigint, stock_code text, stock_name text, score numeric(4,3),
    salient boolean, surfaces text[], evidence text, linker_version text, published_at timestamptz);
CREATE TABLE marts.news_price_impact (news_id bigint, stock_code text, salient boolean, score numeric(4,3),
    published_at timestamptz, anchor_date date, base_close double precision,
    return_1d double precision, return_5d double precision, return_20d double precision);
CREATE SCHEMA IF NOT EXISTS computed;
CREATE TABLE computed.similar_news (news_id bigint, published_day date, neighbor_id bigint, rank integer,
    similarity double precision, embedder text);
CREATE TABLE marts.similar_news_outcomes (news_id bigint, stock_code text, horizon_days integer,
    published_day date, published_at timestamptz, n integer, mean_return double precision,
    min_return double precision, max_return double precision);
"""


def _sessions() -> list[date]:
    return krx_calendar().sessions_between(FIRST, LAST + timedelta(days=1))


def _article(conn, news_id: int, at: datetime, title: str, code: str, source: str = "naver_finance",
             precision: str = "minute") -> None:
    conn.execute("INSERT INTO marts.news_articles VALUES (%s,%s,%s,%s,%s,%s,%s,'',%s,%s,'news',%s,true,1,%s,%s)",
                 (news_id, at, at.astimezone(KST).date(), precision, title, f"{title} 요약", f"https://x/{news_id}",
                  source, [source], news_id, [code], [code]))
    conn.execute("INSERT INTO marts.news_stock_matches VALUES (%s,%s,'',0.9,true,'{}','text','t',%s)",
                 (news_id, code, at))


def build_warehouse(url: str) -> None:
    sessions = _sessions()
    calendar = krx_calendar()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute("INSERT INTO raw.stocks VALUES (%s,'삼성전자',true), (%s,'SK하이닉스',true)", (CODE, OTHER))
        conn.execute("INSERT INTO marts.stocks VALUES (%s,'삼성전자','KOSPI','전자',true), "
                     "(%s,'SK하이닉스','KOSPI','반도체',true)", (CODE, OTHER))
        with conn.cursor() as cur:
            for number, day in enumerate(sessions, start=1):
                session = calendar.session(day)
                cur.execute("INSERT INTO marts.trading_days VALUES (%s,%s,%s,%s)",
                            (day, number, session.open, session.close))
                for code, base in ((CODE, 70000.0), (OTHER, 180000.0)):
                    close = round(base * (1 + 0.08 * math.sin(number / 9)) * (1 + 0.002 * number), 0)
                    prev = round(base * (1 + 0.08 * math.sin((number - 1) / 9)) * (1 + 0.002 * (number - 1)), 0)
                    cur.execute(
                        "INSERT INTO marts.daily_prices (stock_code, trade_date, open, high, low, close, volume, "
                        "return_1d, ma_5, ma_20, ma_60, rsi_14, macd, macd_signal, bollinger_upper, "
                        "bollinger_lower) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                        (code, day, prev, close * 1.01, close * 0.99, close, 1_000_000 + number,
                         close / prev - 1 if number > 1 else None, close, close, close,
                         50 + 30 * math.sin(number / 7), 1.0, 0.5, close * 1.05, close * 0.95))
                    cur.execute("INSERT INTO staging.stg_kis__investor_flows VALUES (%s,%s,%s,%s,%s,%s)",
                                (code, day, close, -1000 * number, 800 * number, 200 * number))
                for index_code, name in (("0001", "KOSPI"), ("1001", "KOSDAQ")):
                    cur.execute("INSERT INTO marts.index_daily VALUES (%s,%s,%s,0,0,0,%s,%s)",
                                (index_code, name, day, 2500 + number, 0.001))
                for k, (index_code, name) in enumerate(SECTORS.items()):
                    cur.execute("INSERT INTO marts.index_daily VALUES (%s,%s,%s,0,0,0,%s,%s)",
                                (index_code, name, day, 1000 + number, round(0.01 * math.sin(number + k), 5)))
        for code in (CODE, OTHER):
            for period, kind, last in (("2023", "annual", date(2023, 12, 31)), ("202409", "quarterly",
                                       date(2024, 9, 30)), ("2024", "annual", date(2024, 12, 31))):
                conn.execute("INSERT INTO staging.stg_kis__financial_ratios (stock_code, period, period_kind, "
                             "period_last_day, roe, eps, bps, debt_ratio) VALUES (%s,%s,%s,%s,8.5,5000,50000,30)",
                             (code, period, kind, last))
            conn.execute("INSERT INTO staging.stg_kis__product_info VALUES (%s,'보통주','전기전자','주식','보통',%s)",
                         (code, date(1975, 6, 11)))
        # earlier news of the stock with their realised impact, one article per week
        for i, day in enumerate(sessions[:80:5]):
            at = datetime.combine(day, time(9, 30), KST)
            _article(conn, 100 + i, at, f"과거 항목 {i}", CODE)
            conn.execute("INSERT INTO marts.news_price_impact VALUES (%s,%s,true,0.9,%s,%s,70000,%s,%s,%s)",
                         (100 + i, CODE, at, day, 0.01, 0.02 if i % 3 else -0.01, 0.03))
        # DART filings around the article: one 3 days before (in), one 10 days before (out), one after
        for news_id, days in ((201, -3), (202, -10), (203, 1)):
            _article(conn, news_id, ARTICLE_AT + timedelta(days=days), f"공시 {news_id}", CODE, source="dart")
        _article(conn, ARTICLE_ID, ARTICLE_AT, "삼성전자, 신형 메모리 양산", CODE)
        _article(conn, ARTICLE_ID + 1, ARTICLE_AT + timedelta(hours=2), "SK하이닉스 증설", OTHER)
        for rank, neighbour in enumerate(NEIGHBOURS, start=1):
            conn.execute("INSERT INTO computed.similar_news VALUES (%s,%s,%s,%s,%s,'test@1')",
                         (ARTICLE_ID, ARTICLE_AT.date(), neighbour, rank, 0.9 - rank / 20))
        for horizon, mean in ((1, 0.004), (3, 0.01), (5, 0.02), (20, 0.05)):
            conn.execute("INSERT INTO marts.similar_news_outcomes VALUES (%s,%s,%s,%s,%s,12,%s,-0.03,0.08)",
                         (ARTICLE_ID, CODE, horizon, ARTICLE_AT.date(), ARTICLE_AT, mean))
    run_migrations(url)


@pytest.fixture
def predictions_warehouse(db_url: str) -> str:
    build_warehouse(db_url)
    return db_url


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer().start()
    yield server
    server.stop()


def add_model(url: str, name: str, model: str, base_url: str | None, structured: str | None = "json_schema",
              kind: str = "chat", params: str = '{"max_tokens": 800}', price: tuple[float, float] = (1.0, 4.0),
              provider: str = "openai-compatible", api_key_env: str | None = None) -> int:
    """A registry row written by SQL, as an operator (or an intruder) could: no API check applies."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "INSERT INTO app.models (name, provider, model, base_url, kind, structured, params, price_in_per_m, "
            "price_out_per_m, api_key_env) VALUES (%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s,%s) RETURNING id",
            (name, provider, model, base_url, kind, structured, params, *price, api_key_env)).fetchone()[0]
