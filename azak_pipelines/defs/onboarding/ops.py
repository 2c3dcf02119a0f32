"""The steps of a stock's onboarding run: its price history, its news links over the stored
articles, the marts with its indicators, and a first report by every active model."""

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from azak_core.market import STOCK_CODE
from azak_core.settings_registry import read_or
from azak_pipelines.defs import pools
from azak_pipelines.defs.common import Window, kst_today
from azak_pipelines.defs.dbt.project import ensure_manifest, invocation_target, keep_partial_parse
from azak_pipelines.defs.market.assets import fetch_daily_bars
from azak_pipelines.defs.market.resources import KisResource
from azak_pipelines.defs.market.tables import DAILY_PRICES
from azak_pipelines.defs.matching.assets import ARTICLES_SQL, current_linker
from azak_pipelines.defs.matching.tables import NEWS_STOCK_MATCHES
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.predictions.assets import ReportsConfig, _models, write_reports
from azak_pipelines.defs.predictions.resources import LlmResource
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import written_by
from azak_pipelines.lib import onboarding
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR, dbt_env
from azak_pipelines.lib.matching.linker import tables_version
from azak_pipelines.lib.matching.links import link_articles
from azak_pipelines.lib.quarantine import reasons_summary, record_quarantine
from azak_pipelines.lib.warehouse import replace_slice, table_exists

# the marts a report reads that the stock's new rows change (dbt's "+" adds their staging views)
MARTS = ("+daily_prices", "+news_price_impact", "+stocks")


class OnboardStockConfig(dg.Config):
    code: str  # the stock (on the watch-list)
    request_id: int = 0  # its row in app.stock_onboarding; 0 (a run from Dagit's launchpad): one is made
    history_days: int = 0  # calendar days of prices to fill; 0: AZAK_ONBOARDING_HISTORY_DAYS (730)


@dataclass(frozen=True)
class Onboarding:
    request_id: int
    code: str
    window: Window  # the history it should have


def _history_days(config: OnboardStockConfig) -> int:
    days = config.history_days or int(read_or("AZAK_ONBOARDING_HISTORY_DAYS", "730"))
    if not 1 <= days <= 366 * 40:
        raise dg.Failure(f"history_days must be 1 … {366 * 40}, got {days}")
    return days


@dg.op
def onboarding_started(context: dg.OpExecutionContext, config: OnboardStockConfig,
                       warehouse: Warehouse) -> Onboarding:
    """Check the stock is on the watch-list and mark its request running in this run."""
    if not STOCK_CODE.match(config.code):
        raise dg.Failure(f"code must be 6 characters [0-9A-Z], got {config.code!r}")
    days = _history_days(config)
    with warehouse.connect() as conn:
        listed = conn.execute("SELECT is_watchlist FROM raw.stocks WHERE code = %s", (config.code,)).fetchone() \
            if table_exists(conn, "raw.stocks") else None
        if not listed or not listed[0]:
            raise dg.Failure(f"{config.code} is not on the watch-list in raw.stocks: add it (API, `azak stocks "
                             "add`), let reference_job run, then onboard it")
        request_id = config.request_id or onboarding.request(conn, config.code, "dagit")
        if onboarding.started(conn, request_id, context.run_id, utc_now()) != config.code:
            raise dg.Failure(f"onboarding request {request_id} is not for {config.code}")
    today = kst_today()
    return Onboarding(request_id, config.code, Window(today - timedelta(days=days), today + timedelta(days=1)))


@dg.op(ins={"plan": dg.In(Onboarding)}, out=dg.Out(Onboarding), pool=pools.KIS)
def onboarding_prices(context: dg.OpExecutionContext, plan: Onboarding, warehouse: Warehouse,
                      kis: KisResource) -> Onboarding:
    """Daily bars (adjusted) from KIS for the days after the stock's latest stored bar: history
    that is already there (imported from files, say) stays."""
    with warehouse.connect() as conn:
        row = conn.execute(f"SELECT max(trade_date) FROM {DAILY_PRICES.key} WHERE stock_code = %s "
                           "AND price_basis = 'adjusted'", (plan.code,)).fetchone()
    latest = row[0] if row else None
    start = max(plan.window.start, latest + timedelta(days=1)) if latest else plan.window.start
    if start >= plan.window.end:
        context.log.info("%s already has bars up to %s: nothing to fetch", plan.code, latest)
        return plan
    window = Window(start, plan.window.end)
    rows, rejected, collected = fetch_daily_bars(context.log, kis, warehouse, [plan.code], window, "adjusted")
    with warehouse.connect() as conn:
        written = replace_slice(conn, DAILY_PRICES, rows, window.start, window.end,
                                scope={"stock_code": [plan.code], "price_basis": ["adjusted"]}) if rows else None
        if rejected:
            record_quarantine(conn, f"raw/daily_prices onboarding {plan.code}", window.start, window.end,
                              rejected, utc_now())
    metadata: dict[str, Any] = {
        "window": str(window), "code": plan.code, "source": f"kis:{collected.mode}",
        "kis_requests": collected.requests, "rows_written": written.written if written else 0,
        "rows_rejected": len(rejected), "rejected": dg.MetadataValue.md(reasons_summary(rejected)),
        "codes_without_recording": collected.missing}
    for day in sorted({r[DAILY_PRICES.column_names.index("trade_date")] for r in rows}):
        context.log_event(dg.AssetMaterialization(DAILY_PRICES.key.split("."), partition=day.isoformat(),
                                                  metadata=metadata, tags=written_by(context.run_id)))
    context.log.info("%s: %s bars over %s (%s rejected)", plan.code, len(rows), window, len(rejected))
    return plan


LINK_CHUNK = timedelta(days=92)  # articles are linked a quarter at a time (memory stays flat)


@dg.op(out=dg.Out(Onboarding))
def onboarding_links(context: dg.OpExecutionContext, plan: Onboarding, warehouse: Warehouse) -> Onboarding:
    """The stock's links over every stored article, by the current linker (the other stocks' links
    are untouched)."""
    with warehouse.connect() as conn:
        onboarding.step(conn, plan.request_id, "links")
        if not table_exists(conn, NEWS_ARTICLES):
            context.log.info("no stored articles (%s does not exist): no links", NEWS_ARTICLES.key)
            return plan
        span = conn.execute(f"SELECT min(published_day), max(published_day) FROM {NEWS_ARTICLES.key}").fetchone()
        if span is None or span[0] is None:
            return plan
        first, last = span
        linker, version = current_linker(conn), tables_version(DBT_PROJECT_DIR / "seeds")
        rows, start = [], first
        while start <= last:
            articles = conn.execute(ARTICLES_SQL, (start, start + LINK_CHUNK)).fetchall()
            rows += [r for r in link_articles(linker, articles, version, utc_now()) if r[2] == plan.code]
            start += LINK_CHUNK
        result = replace_slice(conn, NEWS_STOCK_MATCHES, rows, first, last + timedelta(days=1),
                               scope={"stock_code": [plan.code]})
    for day in sorted({r[1] for r in rows}):
        context.log_event(dg.AssetMaterialization(NEWS_STOCK_MATCHES.key.split("."), partition=day.isoformat(),
                                                  metadata={"onboarded": plan.code}, tags=written_by(context.run_id)))
    context.log.info("%s: %s links (%s salient) over the articles of %s … %s", plan.code, result.written,
                     sum(1 for r in rows if r[4]), first, last)
    return plan


@dg.op(out=dg.Out(Onboarding))
def onboarding_marts(context: dg.OpExecutionContext, plan: Onboarding, warehouse: Warehouse,
                     dbt: DbtCliResource) -> Onboarding:
    """The marts a report reads, rebuilt with the stock's new rows: its indicators (moving averages,
    RSI, MACD, Bollinger bands in marts.daily_prices), its links and their price impact."""
    with warehouse.connect() as conn:
        onboarding.step(conn, plan.request_id, "marts")
    build_models(context, dbt, warehouse, MARTS, {"onboarded": plan.code})
    return plan


def build_models(context: dg.OpExecutionContext, dbt: DbtCliResource, warehouse: Warehouse,
                 selection: tuple[str, ...], metadata: dict[str, Any]) -> None:
    """``dbt build`` of ``selection`` (its tests too, not the unit tests) inside an onboarding run,
    each model built logged as a materialization of its asset with ``metadata``."""
    env = dbt_env(warehouse.database_url)
    os.environ.update(env)
    manifest = ensure_manifest()
    target = invocation_target(f"{context.op.name}-{context.run_id[:7]}", env)
    invocation = dbt.cli(["build", "--select", " ".join(selection), "--exclude-resource-type", "unit_test"],
                         manifest=manifest, target_path=target)
    invocation.wait()
    keep_partial_parse(invocation.target_path, env=env)
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    for result in invocation.get_artifact("run_results.json")["results"]:
        node = nodes.get(result["unique_id"], {})
        if node.get("resource_type") == "model" and result["status"] == "success":
            context.log_event(dg.AssetMaterialization([node["schema"], node["name"]], metadata=metadata,
                                                      tags=written_by(context.run_id)))


@dg.op(out=dg.Out(Onboarding), pool=pools.LLM)
def onboarding_reports(context: dg.OpExecutionContext, plan: Onboarding, warehouse: Warehouse,
                       llm: LlmResource) -> Onboarding:
    """A first report on the stock by every active model, as of now (live), like the report
    schedules' own; a model that fails is stored as a failed row, as there."""
    today, now = kst_today(), utc_now()
    window = Window(today, today + timedelta(days=1))
    with warehouse.connect() as conn:
        onboarding.step(conn, plan.request_id, "reports")
        models = _models(conn, ReportsConfig(stocks=[plan.code]))
        attempts, _, rows, result = write_reports(conn, context, llm, models, [plan.code], [(now, "live")],
                                                  window, now)
    context.log_event(dg.AssetMaterialization(["computed", "stock_reports"], partition=today.isoformat(), metadata={
        "onboarded": plan.code, "models": [m.name for m in models], "dagster/row_count": result.new_rows,
        "ok": sum(a.status == "ok" for a in attempts), "report_ids": [r[0] for r in rows]},
        tags=written_by(context.run_id)))
    return plan


@dg.op
def onboarding_done(context: dg.OpExecutionContext, plan: Onboarding, warehouse: Warehouse) -> None:
    """The request succeeded: GET /api/stocks/{code} shows it done."""
    with warehouse.connect() as conn:
        onboarding.finished(conn, context.run_id, utc_now())


@dg.failure_hook(required_resource_keys={"warehouse"})
def onboarding_failed(context: dg.HookContext) -> None:
    """A failed step fails the request, with the reason (the run's log has the rest)."""
    reason = f"{context.op.name}: {context.op_exception}" if context.op_exception else context.op.name
    with context.resources.warehouse.connect() as conn:
        onboarding.finished(conn, context.run_id, utc_now(), error=reason[:500])
