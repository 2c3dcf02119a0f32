"""Retention: dropping a month of minute bars by whole child versus deleting the same rows.

Fills ``raw.minute_prices`` (the real spec) server-side with three months of one-minute bars for
``STOCKS`` stocks (381 bars a session, every weekday), then times, on neighbouring months
(January 2025 has 23 weekdays, February 20):

* dry run  — :func:`drop_partitions_before` with ``dry_run``: the catalog read and the exact
  ``count(*)`` of the child (outside any lock);
* drop     — the same call for real: count, then ``DETACH`` + ``DROP`` in one short transaction;
* no-op    — the call again: nothing is past the cutoff, only the catalog is read;
* delete   — ``DELETE FROM raw.minute_prices WHERE trade_date < …`` of the next month, what
  retention never does: row by row, WAL for every row, and the space stays with the table until
  a ``VACUUM`` (shown as the table's size before and after).

    python -m benchmarks.retention [stocks]
"""

import sys
import time
from datetime import date

from benchmarks.common import report, scratch_database

STOCKS = 200
MONTHS = (date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1))


def fill(url: str, stocks: int) -> int:
    from azak_pipelines.defs.market.tables import MINUTE_PRICES
    from azak_pipelines.lib.warehouse import connect, ensure_partitions, ensure_table

    with connect(url) as conn:
        ensure_table(conn, MINUTE_PRICES)
        ensure_partitions(conn, MINUTE_PRICES, MONTHS[0], MONTHS[-1])
        conn.execute(
            "INSERT INTO raw.minute_prices SELECT lpad(s::text, 6, '0'), d::date, "
            "d + interval '9 hours' + m * interval '1 minute', 100, 101, 99, 100, 10, 'bench', now() "
            "FROM generate_series(1, %s) s, generate_series(%s::date, %s::date - 1, interval '1 day') d, "
            "generate_series(0, 380) m WHERE extract(isodow FROM d) < 6",
            (stocks, MONTHS[0], MONTHS[-1]))
        conn.execute("ANALYZE raw.minute_prices")
        return int(conn.execute("SELECT count(*) FROM raw.minute_prices").fetchone()[0])  # type: ignore[index]


def main(stocks: int = STOCKS) -> None:
    from azak_pipelines.defs.market.tables import MINUTE_PRICES
    from azak_pipelines.lib.warehouse import connect, drop_partitions_before

    with scratch_database("azak_bench_retention") as url:
        rows = fill(url, stocks)
        with connect(url) as conn:
            def size() -> int:
                return int(conn.execute("SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                                        "WHERE inhparent = 'raw.minute_prices'::regclass").fetchone()[0])  # type: ignore[index]

            def clock(fn):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                result = fn()
                return time.perf_counter() - started, result

            dry, planned = clock(lambda: drop_partitions_before(conn, MINUTE_PRICES, MONTHS[1], dry_run=True))
            dropped_s, dropped = clock(lambda: drop_partitions_before(conn, MINUTE_PRICES, MONTHS[1]))
            noop, again = clock(lambda: drop_partitions_before(conn, MINUTE_PRICES, MONTHS[1]))
            before = size()
            deleted_s, deleted = clock(lambda: conn.execute(
                "DELETE FROM raw.minute_prices WHERE trade_date < %s", (MONTHS[2],)).rowcount)
            after = size()
    [child] = dropped
    assert planned == dropped and again == []
    mib = 1024 * 1024
    report(f"retention, {stocks} stocks x 381 bars x weekdays ({rows:,} rows over {len(MONTHS) - 1} months)", [
        ("dry run (catalog + exact count)", f"{dry:.2f} s for {child.rows:,} rows"),
        ("drop one month (count + DETACH + DROP)",
         f"{dropped_s:.2f} s, {child.rows:,} rows, {child.bytes / mib:.0f} MiB freed at once"),
        ("no-op run (nothing past the cutoff)", f"{noop * 1000:.1f} ms"),
        ("DELETE the next month row by row", f"{deleted_s:.2f} s for {deleted:,} rows "
                                              f"({deleted_s / dropped_s:.1f}x the drop); "
                                              f"size {before / mib:.0f} -> {after / mib:.0f} MiB until VACUUM"),
    ])


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
