"""Housekeeping of the market tables: intraday history past its retention window is dropped by
whole monthly children, never row by row (an op, not an asset: it writes no table)."""

from datetime import date

import dagster as dg

from azak_pipelines.defs.common import asset_key, kst_today
from azak_pipelines.defs.market import tables
from azak_pipelines.defs.market.resources import RetentionResource
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.warehouse import drop_partitions_before, months_before

# each retained table and the RetentionResource field that holds its window
RETAINED = ((tables.MINUTE_PRICES, "minute_prices_months"),
            (tables.QUOTE_SNAPSHOTS, "quote_snapshots_months"))


class RetentionConfig(dg.Config):
    as_of: str = ""  # YYYY-MM-DD, the day the windows count back from (default: today in KST)
    dry_run: bool = False  # count what would be dropped, drop nothing


@dg.op
def drop_expired_partitions(context: dg.OpExecutionContext, config: RetentionConfig, warehouse: Warehouse,
                            retention: RetentionResource) -> None:
    """Drop the monthly children of the intraday tables that end on or before the first day of the
    month N whole months back (N per table from the retention resource). A child straddling that
    day is kept whole. Each table gets an observation listing the children dropped, the rows they
    held (counted just before the drop) and the bytes freed."""
    try:
        today = date.fromisoformat(config.as_of) if config.as_of else kst_today()
    except ValueError:
        raise dg.Failure(f"as_of must be a date YYYY-MM-DD, got {config.as_of!r}") from None
    windows = [(spec, retention.months(field)) for spec, field in RETAINED]  # all valid before any drop
    with warehouse.connect() as conn:
        for spec, months in windows:
            cutoff = months_before(today, months)
            dropped = drop_partitions_before(conn, spec, cutoff, dry_run=config.dry_run)
            rows = sum(d.rows for d in dropped)
            context.log.info(f"{spec.key}: {'would drop' if config.dry_run else 'dropped'} "
                             f"{[d.name for d in dropped]} ({rows} rows) before {cutoff}")
            context.log_event(dg.AssetObservation(asset_key=asset_key(spec), metadata={
                "retention_months": months,
                "cutoff": str(cutoff),
                "dry_run": config.dry_run,
                "partitions_dropped": dg.MetadataValue.json([
                    {"name": d.name, "from": str(d.lower), "to": str(d.upper), "rows": d.rows}
                    for d in dropped]),
                "rows_freed": rows,
                "bytes_freed": sum(d.bytes for d in dropped),
            }))
