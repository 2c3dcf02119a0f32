"""The partitioned warehouse writer against a real PostgreSQL."""

import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, timedelta

import psycopg
import pytest

from azak_pipelines.lib.warehouse import (
    Column,
    TableSpec,
    WarehouseError,
    append_rows,
    connect,
    merge_rows,
    missing_tables,
    partition_bounds,
    replace_slice,
    table_exists,
)

PRICES = TableSpec(
    schema="raw",
    name="test_prices",
    columns=(
        Column("stock_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("close", "numeric(14,2)", nullable=False),
        Column("volume", "bigint"),
    ),
    natural_key=("stock_code", "trade_date"),
    partition_column="trade_date",
)

NEWS = TableSpec(
    schema="raw",
    name="test_news",
    columns=(
        Column("item_key", "text", nullable=False),
        Column("published_day", "date", nullable=False),
        Column("title", "text", nullable=False),
        Column("first_seen_at", "text", nullable=False),
        Column("fetched_at", "text", nullable=False),
    ),
    natural_key=("item_key", "published_day"),
    partition_column="published_day",
    keep_on_merge=("first_seen_at",),
)


def rows_for(day: date, codes: list[str], close: float = 100.0) -> list[tuple]:
    return [(code, day, close + i, 1000 * (i + 1)) for i, code in enumerate(codes)]


def fetch(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_rerunning_a_partition_leaves_exactly_one_copy(db_url):
    day = date(2025, 6, 2)
    with connect(db_url) as conn:
        first = replace_slice(conn, PRICES, rows_for(day, ["005930", "000660"]), day, day + timedelta(1))
        second = replace_slice(conn, PRICES, rows_for(day, ["005930", "000660"], 200.0), day,
                               day + timedelta(1))
    assert (first.written, first.deleted) == (2, 0)
    assert (second.written, second.deleted) == (2, 2)
    rows = fetch(db_url, "SELECT stock_code, close FROM raw.test_prices ORDER BY stock_code")
    assert rows == [("000660", 201), ("005930", 200)]


def test_table_is_range_partitioned_with_children_on_demand_and_a_database_key(db_url):
    with connect(db_url) as conn:
        result = replace_slice(conn, PRICES, rows_for(date(2025, 1, 31), ["005930"]),
                               date(2025, 1, 1), date(2025, 3, 1))
    assert result.partitions_created == ("test_prices_y2025m01", "test_prices_y2025m02")
    strategy = fetch(db_url, "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = "
                             "'raw.test_prices'::regclass")
    assert strategy == [("r",)]
    constraint = fetch(db_url, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conname = 'test_prices_natural_key'")
    assert constraint == [("UNIQUE (stock_code, trade_date)",)]


def test_replacing_a_scoped_slice_keeps_other_keys(db_url):
    day = date(2025, 6, 2)
    end = day + timedelta(1)
    with connect(db_url) as conn:
        replace_slice(conn, PRICES, rows_for(day, ["005930", "000660"]), day, end)
        replace_slice(conn, PRICES, [("005930", day, 555, 1)], day, end, scope={"stock_code": ["005930"]})
    rows = fetch(db_url, "SELECT stock_code, close FROM raw.test_prices ORDER BY stock_code")
    assert rows == [("000660", 101), ("005930", 555)]


def test_the_stored_rows_of_rejected_keys_stay_and_a_valid_row_for_the_key_wins(db_url):
    days = [date(2025, 6, 2) + timedelta(i) for i in range(3)]
    end = days[-1] + timedelta(1)
    with connect(db_url) as conn:
        replace_slice(conn, PRICES, [r for day in days for r in rows_for(day, ["005930", "000660"])], days[0], end)
        rejected = []

        def rows():  # a streaming parser: the rejections are known once the rows are written
            rejected.extend([("005930", days[1]), ("000660", days[0])])
            yield ("000660", days[0], 500, 1)  # 000660 on day 0: rejected on one line, valid on another
            yield ("005930", days[0], 300, 1)

        result = replace_slice(conn, PRICES, rows(), days[0], end, keep=lambda: rejected)
    assert (result.written, result.kept, result.deleted) == (2, 1, 5)  # 6 stored: 1 kept, 5 replaced
    assert result.metadata()["rows_kept"] == 1
    stored = fetch(db_url, "SELECT stock_code, trade_date, close FROM raw.test_prices ORDER BY 2, 1")
    assert stored == [("000660", days[0], 500), ("005930", days[0], 300), ("005930", days[1], 100)]


def test_two_partitions_written_concurrently_both_land(db_url):
    days = [date(2025, 7, 1), date(2025, 8, 1)]  # different months: both create a child table
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(day: date) -> None:
        try:
            with connect(db_url) as conn:
                barrier.wait()
                replace_slice(conn, PRICES, rows_for(day, [f"{i:06d}" for i in range(500)]), day,
                              day + timedelta(1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = fetch(db_url, "SELECT trade_date, count(*) FROM raw.test_prices GROUP BY 1 ORDER BY 1")
    assert counts == [(days[0], 500), (days[1], 500)]


def test_a_write_killed_midway_leaves_the_previous_slice(db_url, tmp_path):
    day = date(2025, 6, 2)
    with connect(db_url) as conn:
        replace_slice(conn, PRICES, rows_for(day, ["005930", "000660"]), day, day + timedelta(1))
    marker = tmp_path / "copy-started"
    script = textwrap.dedent(f"""
        import time
        from datetime import date
        from azak_pipelines.lib.warehouse import connect, replace_slice
        from tests.pipelines.lib.test_warehouse import PRICES

        def slow_rows():
            for i in range(1_000_000):
                if i == 1000:
                    open({str(marker)!r}, "w").close()
                if i >= 1000:
                    time.sleep(0.01)
                yield (f"{{i:06d}}", date(2025, 6, 2), 1, 1)

        with connect({db_url!r}) as conn:
            replace_slice(conn, PRICES, slow_rows(), date(2025, 6, 2), date(2025, 6, 3))
    """)
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=str(_project_root()))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert writer.poll() is None, "writer exited before it started copying"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    writer.kill()  # SIGKILL in the middle of the COPY: no cleanup runs in the writer
    writer.wait()
    rows = fetch(db_url, "SELECT stock_code FROM raw.test_prices ORDER BY stock_code")
    assert rows == [("000660",), ("005930",)]


def test_a_row_violating_the_natural_key_fails_clearly_and_changes_nothing(db_url):
    day = date(2025, 6, 2)
    with connect(db_url) as conn:
        replace_slice(conn, PRICES, rows_for(day, ["005930"]), day, day + timedelta(1))
        duplicate = [("000660", day, 1, 1), ("000660", day, 2, 2)]
        with pytest.raises(WarehouseError) as caught:
            replace_slice(conn, PRICES, duplicate, day, day + timedelta(1))
    message = str(caught.value)
    assert "raw.test_prices" in message
    assert "natural key (stock_code, trade_date)" in message
    assert "(000660, 2025-06-02)" in message
    assert fetch(db_url, "SELECT stock_code, close FROM raw.test_prices") == [("005930", 100)]


def test_a_row_outside_the_slice_aborts_the_write(db_url):
    day = date(2025, 6, 2)
    with connect(db_url) as conn:
        replace_slice(conn, PRICES, rows_for(day, ["005930"]), day, day + timedelta(1))
        with pytest.raises(WarehouseError, match="outside the slice"):
            replace_slice(conn, PRICES, [("005930", day + timedelta(5), 1, 1)], day, day + timedelta(1))
    assert fetch(db_url, "SELECT count(*) FROM raw.test_prices") == [(1,)]


def test_merge_keeps_items_from_earlier_runs_and_first_seen(db_url):
    day = date(2025, 6, 2)
    end = day + timedelta(1)
    with connect(db_url) as conn:
        merge_rows(conn, NEWS, [("a", day, "A", "09:00", "09:00"), ("b", day, "B", "09:00", "09:00")],
                   day, end)
        later = merge_rows(conn, NEWS, [("b", day, "B edited", "15:00", "15:00"),
                                        ("c", day, "C", "15:00", "15:00")], day, end)
    assert later.new_rows == 1
    rows = fetch(db_url, "SELECT item_key, title, first_seen_at, fetched_at FROM raw.test_news "
                         "ORDER BY item_key")
    assert rows == [("a", "A", "09:00", "09:00"), ("b", "B edited", "09:00", "15:00"),
                    ("c", "C", "15:00", "15:00")]


def test_append_never_overwrites_existing_rows(db_url):
    day = date(2025, 6, 2)
    end = day + timedelta(1)
    news = TableSpec(NEWS.schema, NEWS.name, NEWS.columns, NEWS.natural_key, NEWS.partition_column,
                     append_only=True)
    with connect(db_url) as conn:
        append_rows(conn, news, [("a", day, "A", "09:00", "09:00")], day, end)
        later = append_rows(conn, news, [("a", day, "A rewritten", "15:00", "15:00"),
                                         ("b", day, "B", "15:00", "15:00")], day, end)
        with pytest.raises(WarehouseError, match="outside the slice"):
            append_rows(conn, news, [("c", end, "C", "15:00", "15:00")], day, end)
    assert later.new_rows == 1
    rows = fetch(db_url, "SELECT item_key, title, fetched_at FROM raw.test_news ORDER BY item_key")
    assert rows == [("a", "A", "09:00"), ("b", "B", "15:00")]


def test_a_table_whose_shape_changed_is_refused_with_instructions(db_url):
    with connect(db_url) as conn:
        replace_slice(conn, PRICES, [], date(2025, 1, 1), date(2025, 1, 2))
        changed = TableSpec("raw", "test_prices", PRICES.columns[:3], PRICES.natural_key,
                            partition_column="trade_date")
        with pytest.raises(WarehouseError, match="exists with columns"):
            replace_slice(conn, changed, [], date(2025, 1, 1), date(2025, 1, 2))


def test_columns_appended_to_a_spec_are_added_to_the_table_keeping_its_rows(db_url):
    narrow = TableSpec("raw", "test_prices", PRICES.columns[:3], PRICES.natural_key, partition_column="trade_date")
    with connect(db_url) as conn:
        replace_slice(conn, narrow, [("005930", date(2025, 1, 2), 70000)], date(2025, 1, 1), date(2025, 2, 1))
        replace_slice(conn, PRICES, [("000660", date(2025, 1, 3), 180000, 5)], date(2025, 1, 3), date(2025, 1, 4))
        required = TableSpec("raw", "test_prices", (*PRICES.columns, Column("basis", "text", nullable=False)),
                             PRICES.natural_key, partition_column="trade_date")
        with pytest.raises(WarehouseError, match=r"gains required column\(s\) \['basis'\]"):
            replace_slice(conn, required, [], date(2025, 1, 1), date(2025, 1, 2))
    assert fetch(db_url, "SELECT stock_code, volume FROM raw.test_prices ORDER BY 1") == [
        ("000660", 5), ("005930", None)]


PREDICTIONS = TableSpec("raw", "test_predictions", (
    Column("prediction_id", "text", nullable=False), Column("made_day", "date", nullable=False),
    Column("direction", "text", nullable=False)), ("prediction_id", "made_day"), "made_day", append_only=True)


def test_append_only_tables_keep_what_was_written_and_refuse_changes(db_url):
    day, next_day = date(2025, 3, 4), date(2025, 3, 5)
    with connect(db_url) as conn:
        first = append_rows(conn, PREDICTIONS, [("a", day, "up"), ("b", day, "down")], day, next_day)
        again = append_rows(conn, PREDICTIONS, [("a", day, "down"), ("c", day, "up")], day, next_day)
        with pytest.raises(ValueError, match="append-only: write it with append_rows"):
            replace_slice(conn, PREDICTIONS, [], day, next_day)
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE raw.test_predictions SET direction = 'up' WHERE prediction_id = 'b'")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM raw.test_predictions")
    assert (first.new_rows, again.new_rows) == (2, 1)
    assert fetch(db_url, "SELECT prediction_id, direction FROM raw.test_predictions ORDER BY 1") == [
        ("a", "up"), ("b", "down"), ("c", "up")]


def test_partition_bounds_cover_the_window_by_month_and_year():
    assert [b[0] for b in partition_bounds(PRICES, date(2024, 12, 15), date(2025, 2, 1))] == [
        "test_prices_y2024m12", "test_prices_y2025m01"]
    yearly = TableSpec("raw", "t", PRICES.columns, PRICES.natural_key, "trade_date", "year")
    assert partition_bounds(yearly, date(2024, 12, 15), date(2025, 1, 2)) == [
        ("t_y2024", date(2024, 1, 1), date(2025, 1, 1)), ("t_y2025", date(2025, 1, 1), date(2026, 1, 1))]


def _project_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[3]


def test_table_exists_and_missing_tables_name_what_is_not_there(db_url):
    with connect(db_url) as conn:
        replace_slice(conn, PRICES, [], date(2025, 1, 1), date(2025, 1, 2))
        assert table_exists(conn, PRICES) and table_exists(conn, "raw.test_prices")
        assert not table_exists(conn, "raw.no_such_table") and not table_exists(conn, NEWS)
        # in the order asked, whether named or given as specs
        assert missing_tables(conn, ["raw.zz_missing", PRICES, NEWS, "raw.aa_missing"]) == [
            "raw.zz_missing", NEWS.key, "raw.aa_missing"]
        assert missing_tables(conn, []) == []
