"""Checks on the realised outcomes: no leak from the future, no final without all its sessions."""

from typing import Any

import dagster as dg

from azak_pipelines.defs.common import preview
from azak_pipelines.defs.evaluation.assets import OUTCOMES, QUERIES
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.sql_files import load_queries
from azak_pipelines.lib.warehouse import table_exists


def _violations(warehouse: Warehouse, name: str) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    with warehouse.connect() as conn, conn.cursor() as cursor:
        if not table_exists(conn, "marts.prediction_outcomes"):
            return None
        cursor.execute(load_queries(QUERIES)[name])
        return [c.name for c in cursor.description or []], cursor.fetchall()


def _result(found: tuple[list[str], list[tuple[Any, ...]]] | None, what: str) -> dg.AssetCheckResult:
    if found is None:
        return dg.AssetCheckResult(passed=True, description="marts.prediction_outcomes is not built yet")
    columns, rows = found
    return dg.AssetCheckResult(passed=not rows, metadata={"count": len(rows), what: preview(rows, columns, 20)})


@dg.asset_check(asset=OUTCOMES, blocking=True)
def no_anchor_before_prediction(warehouse: Warehouse) -> dg.AssetCheckResult:
    """No evaluation is anchored on a session that closed before its prediction was made."""
    return _result(_violations(warehouse, "anchored_before_made"), "anchored_before_made")


@dg.asset_check(asset=OUTCOMES, blocking=True)
def no_final_with_missing_session(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Every final evaluation has a price bar for each of its h window sessions (counted again from
    marts.daily_prices and the calendar, independently of the mart)."""
    return _result(_violations(warehouse, "final_with_missing_session"), "finals_missing_sessions")
