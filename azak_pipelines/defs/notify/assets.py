"""``telegram_notifications``: the day's Telegram messages, written to the outbox with receipts."""

from typing import Any

import dagster as dg
from psycopg import sql

from azak_core.market import KST
from azak_pipelines.defs.automation import on_change
from azak_pipelines.defs.calendar.partitions import news_days
from azak_pipelines.defs.common import AssetResult, asset_key, kst_today, preview, window_of
from azak_pipelines.defs.notify.resources import TelegramResource
from azak_pipelines.defs.notify.tables import OUTBOX_KEY, READS
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.notify import outbox
from azak_pipelines.lib.notify.build import Rules, Sources, plan_day

DEPS = [asset_key(spec) for spec in READS.values()]

# Runs as soon as predictions, reports (or anything else it reads) change for the latest day —
# a missing input (no prices before the close) does not hold the alerts back — and once more in
# the evening, so the digest has the closing prices.
AUTOMATION = (
    on_change(dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing()))
    | dg.AutomationCondition.on_cron("5 18 * * *", cron_timezone=KST.key)
)


def sources(context: dg.AssetExecutionContext) -> Sources:
    """The tables to read: only those whose asset has been materialized at least once."""
    def ident(key: dg.AssetKey, value: sql.Composable) -> sql.Composable | None:
        return value if context.instance.get_latest_materialization_event(key) is not None else None

    return Sources(**{name: ident(asset_key(spec), spec.ident) for name, spec in READS.items()})


@dg.asset(key=OUTBOX_KEY, group_name="notify", kinds={"postgres", "telegram"}, partitions_def=news_days,
          backfill_policy=dg.BackfillPolicy.single_run(), deps=DEPS, automation_condition=AUTOMATION)
def telegram_notifications(context: dg.AssetExecutionContext, warehouse: Warehouse,
                           telegram: TelegramResource) -> AssetResult:
    """Telegram messages for the day, written first to the outbox ``app.telegram_notifications``
    (subscriber chat, kind, dedup key, body, status, attempts, Telegram message id, error):

    - a high-impact prediction (impact high/critical, or probability ≥ ``high_probability``) about
      a stock a subscriber watches — **once per story**: the key is the news cluster and the stock,
      so five outlets' copies and every model's call make one message;
    - a report whose recommendation changed since the same model's previous one;
    - an evening digest per subscriber (due at ``digest_hour`` KST): their stocks' closes, the
      day's reports, the model leaderboard (or "no leaderboard yet").

    Korean templates, HTML-escaped (model text is never markup), under 4,096 characters, linking
    to ``AZAK_PUBLIC_URL``. Re-running a day never sends twice (``UNIQUE (chat_id, dedup_key)``);
    a message not yet sent gets the newer text. Days older than ``max_age_days`` are recorded as
    skipped, so a backfill shows what it would have sent and sends nothing. With a bot token the
    run then delivers what is due; without one the outbox keeps it."""
    window = window_of(context)
    rules = Rules(telegram.links(), telegram.high_probability, telegram.similarity, telegram.digest_hour)
    read = sources(context)
    totals: dict[str, int] = {"subscribers": 0, "stories": 0, "report_changes": 0, "messages": 0,
                              "rows_new": 0, "rows_refreshed": 0, "rows_unchanged": 0}
    with warehouse.connect() as conn:
        try:
            outbox.require_tables(conn)
        except outbox.OutboxMissing as exc:
            raise dg.Failure(str(exc)) from None
        for day in window.days():
            plan = plan_day(conn, read, day, rules)
            written = outbox.enqueue(conn, plan.messages, stale_before=telegram.stale_before(kst_today()))
            totals["subscribers"] = plan.subscribers
            totals["stories"] += plan.stories
            totals["report_changes"] += plan.report_changes
            totals["messages"] += len(plan.messages)
            totals["rows_new"] += written.new
            totals["rows_refreshed"] += written.refreshed
            totals["rows_unchanged"] += written.unchanged
        rows = conn.execute(
            f"SELECT status, count(*) FROM {outbox.TABLE} WHERE day >= %s AND day < %s GROUP BY 1",
            (window.start, window.end)).fetchall()
        latest = outbox.rows_for_day(conn, window.last, limit=20) if window.start == window.last else []
    delivery = telegram.deliver(warehouse.database_url)
    metadata: dict[str, Any] = {
        "window": str(window), **totals, "dagster/row_count": totals["messages"],
        "outbox_status": dg.MetadataValue.json(dict(rows)),
        "inputs_not_materialized": [name for name, value in vars(read).items() if value is None],
        "delivery": delivery.summary() if delivery else
        "off: no AZAK_TELEGRAM_BOT_TOKEN — the outbox holds what would have been sent",
        "outbox_preview": preview([(r[2], r[3], r[5], r[9].split("\n", 1)[0][:80]) for r in latest],
                            ["chat", "kind", "status", "first line"], limit=20),
    }
    return dg.MaterializeResult(metadata=metadata)
