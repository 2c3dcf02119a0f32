"""`azak dev generate`: the scale dataset, generated and loaded through the real imports."""

import csv
import json
from datetime import date
from pathlib import Path

import psycopg

from azak_cli.scale import ScaleOptions, generate
from tests.cli.test_market_commands import cli_env  # noqa: F401 - fixture
from tests.conftest import run_azak


def csv_rows(paths: list[Path]) -> list[dict[str, str]]:
    rows = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            rows += [{**row, "code": path.stem} for row in csv.DictReader(handle)]
    return rows


def test_a_small_dataset_loads_through_the_imports_with_halts_a_split_and_linked_news(cli_env, db_url,
                                                                                       tmp_path):
    out = tmp_path / "scale"
    result = run_azak("dev", "generate", "--out", str(out), "--stocks", "5", "--years", "0.25",
                      "--minute-stocks", "1", "--minute-days", "5", "--articles", "200", "--load",
                      env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "200 articles in 1 file(s)" in result.stdout and "loaded into" in result.stdout
    adjusted = csv_rows(sorted((out / "daily" / "adjusted").glob("*.csv")))
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


def test_bad_options_are_refused_with_the_reason(tmp_path):
    result = run_azak("dev", "generate", "--out", str(tmp_path), "--stocks", "none")
    assert result.returncode == 2 and "--stocks must be a positive number or 'all'" in result.stderr
    result = run_azak("dev", "generate", "--out", str(tmp_path), "--years", "40")
    assert result.returncode == 2 and "--years must be between" in result.stderr
