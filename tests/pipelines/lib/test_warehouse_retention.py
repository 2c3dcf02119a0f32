"""Retention drops whole child partitions by their catalog bounds, against a real PostgreSQL."""

from datetime import date

import psycopg
import pytest

from azak_pipelines.lib.warehouse import (
    TableSpec,
    child_partitions,
    connect,
    drop_partitions_before,
    months_before,
    replace_slice,
)
from tests.pipelines.lib.test_warehouse import PREDICTIONS, PRICES, fetch, rows_for

CODES = ["005930", "000660", "035420"]


def load_months(url: str, spec: TableSpec, days: list[date]) -> None:
    with connect(url) as conn:
        for day in days:
            replace_slice(conn, spec, rows_for(day, CODES), day, date.fromordinal(day.toordinal() + 1))


def counts_by_day(url: str) -> dict[date, int]:
    return dict(fetch(url, "SELECT trade_date, count(*) FROM raw.test_prices GROUP BY 1"))


def test_children_ending_by_the_cutoff_are_dropped_and_the_straddling_one_is_kept_whole(db_url):
    days = [date(2024, 12, 31), date(2025, 1, 15), date(2025, 2, 28), date(2025, 3, 2), date(2025, 3, 20),
            date(2025, 4, 1)]
    load_months(db_url, PRICES, days)
    with connect(db_url) as conn:
        dropped = drop_partitions_before(conn, PRICES, date(2025, 3, 15))
        remaining = child_partitions(conn, PRICES)
    assert [(d.name, d.lower, d.upper, d.rows) for d in dropped] == [
        ("test_prices_y2024m12", date(2024, 12, 1), date(2025, 1, 1), 3),
        ("test_prices_y2025m01", date(2025, 1, 1), date(2025, 2, 1), 3),
        ("test_prices_y2025m02", date(2025, 2, 1), date(2025, 3, 1), 3),
    ]
    assert all(d.bytes > 0 for d in dropped)
    # March straddles the cutoff: its rows before the 15th stay too
    assert [name for name, _, _ in remaining] == ["test_prices_y2025m03", "test_prices_y2025m04"]
    assert counts_by_day(db_url) == {date(2025, 3, 2): 3, date(2025, 3, 20): 3, date(2025, 4, 1): 3}
    gone = fetch(db_url, "SELECT count(*) FROM pg_class WHERE relname LIKE 'test_prices_y2025m0_' "
                         "OR relname = 'test_prices_y2024m12'")
    assert gone == [(2,)]  # dropped, not just detached


def test_an_upper_bound_equal_to_the_cutoff_is_dropped(db_url):
    load_months(db_url, PRICES, [date(2025, 2, 10), date(2025, 3, 1)])
    with connect(db_url) as conn:
        dropped = drop_partitions_before(conn, PRICES, date(2025, 3, 1))
    assert [d.name for d in dropped] == ["test_prices_y2025m02"]
    assert counts_by_day(db_url) == {date(2025, 3, 1): 3}


def test_running_twice_is_a_no_op(db_url):
    load_months(db_url, PRICES, [date(2025, 1, 10), date(2025, 5, 10)])
    with connect(db_url) as conn:
        first = drop_partitions_before(conn, PRICES, date(2025, 4, 1))
        second = drop_partitions_before(conn, PRICES, date(2025, 4, 1))
    assert [d.name for d in first] == ["test_prices_y2025m01"]
    assert second == []
    assert counts_by_day(db_url) == {date(2025, 5, 10): 3}


def test_a_dry_run_counts_what_would_go_and_drops_nothing(db_url):
    load_months(db_url, PRICES, [date(2025, 1, 10), date(2025, 5, 10)])
    with connect(db_url) as conn:
        planned = drop_partitions_before(conn, PRICES, date(2025, 4, 1), dry_run=True)
    assert [(d.name, d.rows) for d in planned] == [("test_prices_y2025m01", 3)]
    assert counts_by_day(db_url) == {date(2025, 1, 10): 3, date(2025, 5, 10): 3}


def test_bounds_come_from_the_catalog_not_from_child_names(db_url):
    load_months(db_url, PRICES, [date(2025, 5, 10)])
    with psycopg.connect(db_url, autocommit=True) as conn:  # a child someone named freely
        conn.execute("CREATE TABLE raw.test_prices_archive PARTITION OF raw.test_prices "
                     "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")
        conn.execute("INSERT INTO raw.test_prices VALUES ('005930', '2020-06-01', 1, 1)")
        conn.execute("CREATE TABLE raw.test_prices_rest PARTITION OF raw.test_prices DEFAULT")
    with connect(db_url) as conn:
        dropped = drop_partitions_before(conn, PRICES, date(2025, 1, 1))
    assert [(d.name, d.upper, d.rows) for d in dropped] == [("test_prices_archive", date(2021, 1, 1), 1)]
    assert fetch(db_url, "SELECT to_regclass('raw.test_prices_rest') IS NOT NULL") == [(True,)]


def test_a_missing_table_has_nothing_to_drop(db_url):
    with connect(db_url) as conn:
        assert drop_partitions_before(conn, PRICES, date(2025, 1, 1)) == []


def test_tables_without_partitions_or_append_only_are_refused(db_url):
    unpartitioned = TableSpec("raw", "test_plain", PRICES.columns, PRICES.natural_key)
    with connect(db_url) as conn:
        with pytest.raises(ValueError, match=r"raw\.test_plain is not partitioned"):
            drop_partitions_before(conn, unpartitioned, date(2025, 1, 1))
        with pytest.raises(ValueError, match=r"raw\.test_predictions is append-only"):
            drop_partitions_before(conn, PREDICTIONS, date(2025, 1, 1))


@pytest.mark.parametrize(("day", "months", "cutoff"), [
    (date(2026, 11, 30), 12, date(2025, 11, 1)),
    (date(2026, 3, 1), 3, date(2025, 12, 1)),
    (date(2026, 1, 15), 1, date(2025, 12, 1)),
    (date(2026, 12, 31), 24, date(2024, 12, 1)),
])
def test_months_before_is_the_first_of_a_whole_month(day, months, cutoff):
    assert months_before(day, months) == cutoff
