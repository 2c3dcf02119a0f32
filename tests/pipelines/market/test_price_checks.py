"""The daily-price checks' queries against a real PostgreSQL: what they find, and on which days."""

import itertools
import random
from datetime import date, timedelta

import psycopg

from azak_pipelines.defs.market import tables
from azak_pipelines.defs.market.checks import CHECKS, EVERY_DAY, _rows, _share, _unique_keys
from azak_pipelines.lib.warehouse import ensure_partitions, ensure_table

FIRST = date(2024, 12, 2)


def _store(url: str, bars: list[tuple[str, date, str, float]]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_table(conn, tables.DAILY_PRICES)
        ensure_partitions(conn, tables.DAILY_PRICES, date(2024, 1, 1), date(2026, 1, 1))
        with conn.cursor().copy("COPY raw.daily_prices (stock_code, trade_date, price_basis, open, high, low, "
                                "close, volume, source, fetched_at) FROM STDIN") as copy:
            for code, day, basis, close in bars:
                copy.write_row((code, day, basis, close, close, close, close, 1000, "test", "2025-01-01T00:00Z"))


def _breaches(url: str, first: date, last: date) -> list[tuple[str, date]]:
    with psycopg.connect(url) as conn:
        _, rows = _rows(conn, "limit_breaches", {"first": first, "last": last})
    return [(code, day) for code, day, *_ in rows]


def test_a_move_is_judged_against_the_bar_before_the_days_written(db_url):
    closes = [100, 100, 140, 141, 141, 60]  # +40 % on the third day, -57 % on the sixth
    days = [FIRST + timedelta(days=i) for i in range(len(closes))]
    _store(db_url, [("000001", day, "adjusted", close) for day, close in zip(days, closes, strict=True)]
           + [("000001", day, "raw", 1.0) for day in days])  # the other basis is not compared
    assert _breaches(db_url, days[2], days[4]) == [("000001", days[2])]  # against the day before the range
    assert _breaches(db_url, days[3], days[4]) == []
    assert _breaches(db_url, days[5], days[5]) == [("000001", days[5])]  # a run of one day
    assert _breaches(db_url, EVERY_DAY["first"], EVERY_DAY["last"]) == [("000001", days[2]), ("000001", days[5])]


def test_the_breaches_of_any_range_are_those_of_the_whole_history_in_it(db_url):
    rng = random.Random(29)
    history: dict[str, list[tuple[date, float]]] = {}
    for code in ("000010", "000020", "000030", "000040"):
        day, close = FIRST, 1000.0
        for _ in range(120):
            day += timedelta(days=rng.choice([1, 1, 1, 3, 9]))  # gaps: weekends, halts, a delisting pause
            close = round(close * rng.choice([1.0, 1.02, 0.97, 1.45, 0.6, 1.1]), 2)
            history.setdefault(code, []).append((day, close))
    _store(db_url, [(code, day, "adjusted", close) for code, bars in history.items() for day, close in bars])
    expected = sorted((code, day) for code, bars in history.items()
                      for (_, before), (day, close) in itertools.pairwise(bars) if abs(close / before - 1) > 0.30)
    assert expected  # the walk does jump
    last = max(day for bars in history.values() for day, _ in bars)
    for _ in range(25):
        first = FIRST + timedelta(days=rng.randrange((last - FIRST).days))
        end = first + timedelta(days=rng.randrange(60))
        assert _breaches(db_url, first, end) == [(c, d) for c, d in expected if first <= d <= end], (first, end)
    assert _breaches(db_url, EVERY_DAY["first"], EVERY_DAY["last"]) == expected


def test_duplicate_keys_are_proved_absent_by_the_constraint_and_found_without_it(db_url):
    _store(db_url, [("000001", FIRST, "adjusted", 100.0)])
    with psycopg.connect(db_url) as conn:
        verdict = _unique_keys(conn)
    assert verdict.passed and verdict.metadata["enforced_by"] == "daily_prices_natural_key"
    with psycopg.connect(db_url) as conn:  # a throw-away database: the table without its constraint
        conn.execute("ALTER TABLE raw.daily_prices DROP CONSTRAINT daily_prices_natural_key")
    _store(db_url, [("000001", FIRST, "adjusted", 101.0)])
    with psycopg.connect(db_url) as conn:
        verdict = _unique_keys(conn)
    assert not verdict.passed and verdict.metadata["count"] == 1 and "enforced_by" not in verdict.metadata


def test_the_costliest_checks_get_connections_of_their_own():
    groups = _share(sorted(CHECKS), 2)
    assert sorted(name for group in groups for name in group) == sorted(CHECKS)
    windowed = next(group for group in groups if "probable_corporate_actions" in group)
    assert "ohlc_sanity" not in windowed  # the two that scan the table most run side by side
