"""`azak dev generate`: the scale dataset, generated and loaded through the real imports."""

import csv
import itertools
import json
import math
import statistics
from datetime import date
from pathlib import Path

import psycopg

from azak_cli.dev.generate import ScaleOptions, generate, select_listings
from tests.cli.test_market_commands import cli_env  # noqa: F401 - fixture
from tests.conftest import run_azak


def csv_rows(paths: list[Path]) -> list[dict[str, str]]:
    rows = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            rows += [{**row, "code": path.stem} for row in csv.DictReader(handle)]
    return rows


def test_a_small_dataset_loads_through_the_imports_with_halts_a_split_and_linked_news(cli_env, db_url,
                                                                                       warehouse_with_stocks,
                                                                                       tmp_path):
    """… and the KOSPI/KOSDAQ levels, so the marts' excess returns over KOSPI are there (the marts
    anchor news on the trading calendar: reference_job's, materialized by the fixture)."""
    out = tmp_path / "scale"
    result = run_azak("dev", "generate", "--out", str(out), "--stocks", "5", "--years", "0.25",
                      "--minute-stocks", "1", "--minute-days", "5", "--articles", "200", "--load",
                      env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "200 articles in 1 file(s)" in result.stdout and "loaded into" in result.stdout
    assert "0 delisted listings" in result.stdout  # 3% of 5 rounds to none
    adjusted = csv_rows(sorted((out / "daily" / "adjusted").glob("*.csv")))
    levels = csv_rows(sorted((out / "index").glob("*.csv")))
    raw = csv_rows(sorted((out / "daily" / "raw").glob("*.csv")))
    minutes = csv_rows(sorted((out / "minute").glob("*.csv")))
    articles = [json.loads(line) for line in (out / "news" / "news-001.jsonl").read_text().splitlines()]
    with psycopg.connect(db_url) as conn:
        counts = dict(conn.execute("SELECT price_basis, count(*) FROM raw.daily_prices GROUP BY 1").fetchall())
        halts = conn.execute("SELECT count(*) FROM raw.daily_prices WHERE price_basis = 'adjusted' "
                             "AND volume = 0 AND open IS NULL").fetchone()[0]
        # the largest one-day close move per basis of the stock with a split
        moves = dict(conn.execute("""
            SELECT price_basis, max(greatest(close / prev, prev / close)) FROM (
                SELECT price_basis, close, lag(close) OVER (PARTITION BY price_basis ORDER BY trade_date) AS prev
                FROM raw.daily_prices WHERE stock_code = %s) AS moves GROUP BY 1""",
                                  (raw[0]["code"],)).fetchall())
        minute_count = conn.execute("SELECT count(*) FROM raw.minute_prices").fetchone()[0]
        first_bar = conn.execute("SELECT min(bar_time AT TIME ZONE 'Asia/Seoul')::time::text "
                                 "FROM raw.minute_prices").fetchone()[0]
        index_rows = conn.execute("SELECT index_code, trade_date::text, close::text, source FROM raw.index_daily "
                                  "ORDER BY 1, 2").fetchall()
        links = dict(conn.execute("""
            SELECT a.url, coalesce(array_agg(m.stock_code ORDER BY m.stock_code) FILTER (WHERE m.salient), '{}')
            FROM computed.news_articles a LEFT JOIN computed.news_stock_matches m USING (news_id, published_day)
            GROUP BY a.url""").fetchall())
    assert counts == {"adjusted": len(adjusted), "raw": len(raw)}
    assert len({row["code"] for row in adjusted}) == 5 and len({row["code"] for row in raw}) == 1
    assert halts == sum(row["volume"] == "0" for row in adjusted) > 0
    assert moves["raw"] >= 1.9  # the split day: the raw close drops by the split ratio
    assert moves["adjusted"] < 1.35  # adjusted prices stay continuous (within KRX's ±30% limit)
    assert minute_count == len(minutes) == 5 * 381 and first_bar == "09:00:00"
    assert len(links) == len(articles) == 200
    assert {article["url"]: [article["generated_for"]] for article in articles} == links
    # the index levels went in through the writer, one row per session and index, as the files say
    assert index_rows == [(row["code"], row["date"], row["close"], f"file:{row['code']}.csv") for row in levels]
    assert {row[0] for row in index_rows} == {"0001", "1001"}
    assert {row[1] for row in index_rows} == {row["date"] for row in adjusted if row["code"] == "005930"}

    built = run_azak("marts", env=cli_env)
    assert built.returncode == 0, built.stderr
    with psycopg.connect(db_url) as conn:
        names = dict(conn.execute("SELECT index_code, min(index_name) FROM marts.index_daily GROUP BY 1").fetchall())
        matured, excess, kospi_base = conn.execute("""
            SELECT count(*), count(excess_1d), count(kospi_base_close) FROM marts.news_price_impact
            WHERE return_1d IS NOT NULL""").fetchone()
        excess_20d = conn.execute("SELECT count(*) FILTER (WHERE return_20d IS NOT NULL), count(excess_20d) "
                                  "FROM marts.news_price_impact").fetchone()
    assert names == {"0001": "KOSPI", "1001": "KOSDAQ"}
    # every link whose next session has closed has its excess return over KOSPI
    assert matured > 100 and excess == kospi_base == matured
    assert excess_20d[0] > 0 and excess_20d[1] == excess_20d[0]


def test_generation_is_deterministic_and_listings_start_on_their_listing_day(tmp_path):
    options = ScaleOptions(stocks=5, years=4, minute_stocks=1, minute_days=2, articles=50)
    first, second = generate(options, tmp_path / "a"), generate(options, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert first.daily_rows == second.daily_rows and first.splits == second.splits
    lges = csv_rows([tmp_path / "a" / "daily" / "adjusted" / "373220.csv"])  # listed 2022-01-27
    samsung = csv_rows([tmp_path / "a" / "daily" / "adjusted" / "005930.csv"])
    assert lges[0]["date"] == "2022-01-27" and samsung[0]["date"] == str(options.start) == "2021-09-27"
    # the walks end on the listing's real closes of 2025-09-26
    assert (lges[-1]["date"], lges[-1]["close"]) == ("2025-09-26", "349500")
    assert (samsung[-1]["date"], samsung[-1]["close"]) == (str(date(2025, 9, 26)), "79700")
    # the index levels cover the same sessions and end at KOSPI's real close of that day
    kospi = csv_rows([tmp_path / "a" / "index" / "0001.csv"])
    kosdaq = csv_rows([tmp_path / "a" / "index" / "1001.csv"])
    assert [row["date"] for row in kospi] == [row["date"] for row in kosdaq] == [row["date"] for row in samsung]
    assert kospi[-1]["close"] == "3386.05" and kosdaq[-1]["close"] == "850.00"
    assert all(float(r["low"]) <= min(float(r["open"]), float(r["close"])) <= max(float(r["open"]), float(r["close"]))
               <= float(r["high"]) for r in kospi + kosdaq)
    assert first.index_rows == 2 * len(samsung) and first.delisted == {}


def returns(rows: list[dict[str, str]]) -> dict[str, float]:
    return {b["date"]: math.log(float(b["close"]) / float(a["close"])) for a, b in itertools.pairwise(rows)}


def test_some_listings_are_delisted_and_stocks_move_with_their_market(tmp_path):
    options = ScaleOptions(stocks=70, years=1, minute_stocks=3, minute_days=2, articles=2_000)
    result = generate(options, tmp_path)
    with (tmp_path / "delistings.csv").open(encoding="utf-8", newline="") as handle:
        delisted = list(csv.DictReader(handle))
    assert len(delisted) == len(result.delisted) == round(70 * 0.03) == 2
    biggest = {row.code for row in select_listings(35)}  # drawn from the smaller half, never a minute stock
    for row in delisted:
        bars = csv_rows([tmp_path / "daily" / "adjusted" / f"{row['code']}.csv"])
        assert row["code"] not in biggest and result.delisted[row["code"]] == date.fromisoformat(row["last_session"])
        assert bars[-1]["date"] == row["last_session"] < str(options.end)
    ended = {path.stem: csv_rows([path])[-1]["date"] for path in (tmp_path / "daily" / "adjusted").glob("*.csv")}
    assert {code for code, day in ended.items() if day != str(options.end)} == {row["code"] for row in delisted}
    # no news about a company after its last session
    articles = [json.loads(line) for path in result.news_files for line in path.read_text().splitlines()]
    assert len(articles) == 2_000
    assert not [a for a in articles if a["generated_for"] in result.delisted
                and a["published_at"][:10] > str(result.delisted[a["generated_for"]])]
    # a shared market factor: KOSPI stocks' daily returns follow the KOSPI's
    kospi = returns(csv_rows([tmp_path / "index" / "0001.csv"]))
    correlations = []
    for listing in select_listings(70):
        if listing.market == "KOSPI":
            own = returns(csv_rows([tmp_path / "daily" / "adjusted" / f"{listing.code}.csv"]))
            days = sorted(set(own) & set(kospi))
            correlations.append(statistics.correlation([own[d] for d in days], [kospi[d] for d in days]))
    assert len(correlations) > 20 and statistics.mean(correlations) > 0.3


def test_bad_options_are_refused_with_the_reason(tmp_path):
    result = run_azak("dev", "generate", "--out", str(tmp_path), "--stocks", "none")
    assert result.returncode == 2 and "--stocks must be a positive number or 'all'" in result.stderr
    result = run_azak("dev", "generate", "--out", str(tmp_path), "--years", "40")
    assert result.returncode == 2 and "--years must be between" in result.stderr
