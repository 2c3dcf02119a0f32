"""The ledger of a simulation, per KST day, and the expectations it checks.

Each expectation is stated once below with its reason; ``failed`` lists those that did not hold.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg

from azak_cli.simulate.engine import TICK, RunRecord
from azak_cli.simulate.faults import Fault, Window
from azak_core.market import KST
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from azak_pipelines.lib.notify.sender import is_quiet
from azak_pipelines.lib.warehouse import table_exists

REPORT_SLOTS = (time(8, 30), time(13, 5), time(16, 0))  # stock_reports_schedule's cron, KST
PREDICTION_DEADLINE = timedelta(minutes=30)  # DESIGN.md §3: within 30 min of publication, any hour
NOTES = (
    "minute bars: the every-minute schedule's requests within a tick are merged (sampled every 5 minutes)",
    "simulated time advances by each run's measured wall duration",
    "automation: evaluated after every tick that ran something, else every 30 simulated minutes",
    "run-status sensors (Telegram on failures) are not evaluated: they react to runs, not to the clock",
    "KIS runs in live mode against the replay server on the simulated clock (a real account); sessions "
    "without intraday recordings get generated minute bars and quote snapshots (labelled generated)",
    "DART stays in replay mode: its schedule skips (the recordings hold nothing new); Reddit is live against "
    "the recordings as they stood at the simulated now, with [generated] posts on the days they lack",
    "the news sites answer what was published by the simulated now; a recorded day before its first "
    "article answers 404, as a day never recorded does",
    "RSS: labelled [generated] items (07:30, 12:00, 18:30 KST) on the days the recordings hold none",
    "automation: the requested partitions of an asset set become one run per contiguous range "
    "(BackfillPolicy.single_run), unpartitioned assets one run",
    "marts freshness: the simulated time the last run writing a marts table ended, per day",
)

ARTICLES = """SELECT published_day, source, count(*) FROM computed.news_articles
WHERE published_day BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 1, 2"""
LINKS = """SELECT published_day, count(*), count(*) FILTER (WHERE salient) FROM computed.news_stock_matches
WHERE published_day BETWEEN %s AND %s GROUP BY 1"""
SIMILAR = """SELECT published_day, count(DISTINCT news_id) FROM computed.similar_news
WHERE published_day BETWEEN %s AND %s GROUP BY 1"""
EMBEDDINGS = """SELECT published_day, count(*) FROM computed.news_vectors
WHERE published_day BETWEEN %s AND %s GROUP BY 1"""
NOTIFICATIONS = """SELECT day, status, count(*) FROM app.telegram_notifications
WHERE day BETWEEN %s AND %s GROUP BY 1, 2"""
PREDICTIONS = """SELECT published_day, model_name, status, count(*) FROM computed.news_predictions
WHERE published_day BETWEEN %s AND %s GROUP BY 1, 2, 3"""
REPORTS = """SELECT report_day, to_char(made_at AT TIME ZONE 'Asia/Seoul', 'HH24:MI'), model_name, count(*)
FROM computed.stock_reports WHERE report_day BETWEEN %s AND %s AND mode = 'live' GROUP BY 1, 2, 3"""
FINAL_SCORES = """SELECT made_day, model_name, count(*) FROM computed.prediction_scores
WHERE made_day BETWEEN %s AND %s AND status = 'final' GROUP BY 1, 2"""
SENT = """SELECT o.chat_id, o.sent_at, s.quiet_start, s.quiet_end, o.body FROM app.telegram_notifications o
LEFT JOIN app.telegram_subscribers s USING (chat_id)
WHERE o.status = 'sent' AND o.sent_at >= %s AND o.sent_at < %s ORDER BY o.sent_at"""
LATE_LINKS = """
SELECT a.published_at, m.stock_code, mo.name, min(p.created_at)
FROM computed.news_stock_matches m
JOIN computed.news_articles a ON a.news_id = m.news_id AND a.published_day = m.published_day
JOIN raw.stocks s ON s.code = m.stock_code AND s.is_watchlist
CROSS JOIN app.models mo
LEFT JOIN computed.news_predictions p ON p.news_id = m.news_id AND p.stock_code = m.stock_code
     AND p.model_id = mo.id AND p.status = 'ok'
WHERE m.salient AND mo.active AND mo.provider <> 'external' AND a.published_at >= %s AND a.published_at < %s
GROUP BY 1, 2, 3, m.news_id
HAVING min(p.created_at) IS NULL OR min(p.created_at) > a.published_at + %s
ORDER BY 1 LIMIT 20"""


@dataclass
class Ledger:
    days: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = NOTES

    def as_json(self) -> dict[str, Any]:
        return {"days": self.days, "failed_expectations": self.failed, "faults": self.faults,
                "notes": list(self.notes)}


def _day(ledger: Ledger, day: Any) -> dict[str, Any]:
    return ledger.days.setdefault(str(day), {"articles": {}, "links": 0, "salient_links": 0, "with_neighbours": 0,
                                             "predictions": {}, "reports": {}, "runs": 0, "failed_runs": 0,
                                             "runs_by_job": {}, "failed_checks": 0, "embeddings": 0,
                                             "notifications": {}, "final_scores": {}, "marts_refreshed": 0,
                                             "marts_last_refreshed": None})


def build(url: str, runs: list[RunRecord], window: Window, faults: Sequence[Fault] = ()) -> Ledger:
    """Count what the simulated days produced, then check the expectations (a failure a fault
    accounts for is not one) and whether each fault showed its behaviour."""
    ledger = Ledger()
    first, end = window.start.astimezone(KST).date(), window.end
    last = (end - timedelta(microseconds=1)).astimezone(KST).date()
    for day in (first + timedelta(days=i) for i in range((last - first).days + 1)):
        _day(ledger, day)
    with psycopg.connect(url) as conn:
        reports = _count_warehouse(ledger, conn, first, last)
        _count_runs(ledger, runs)
        ledger.failed += [*no_run_failed(runs, faults), *no_check_failed(runs, faults),
                          *links_predicted_in_time(conn, window.start, end),
                          *reports_at_each_slot(conn, reports, first, last, end),
                          *notifications_once_outside_quiet_hours(conn, window.start, end)]
        for fault in faults:
            missing = fault.missing(window, runs, conn)
            ledger.faults[fault.name] = {"behaviour": fault.behaviour, "shown": not missing, "missing": missing,
                                         "observed": fault.observed()}
            ledger.failed += [f"{fault.name} did not show its behaviour: {m}" for m in missing]
    return ledger


def _count_warehouse(ledger: Ledger, conn: psycopg.Connection[Any], first: date,
                     last: date) -> Counter[tuple[str, str, str]]:
    """The day's rows in each table the ledger counts; the live reports per (day, slot, model)."""
    for day, source, n in conn.execute(ARTICLES, (first, last)):
        _day(ledger, day)["articles"][source] = n
    for day, links, salient in conn.execute(LINKS, (first, last)):
        _day(ledger, day).update(links=links, salient_links=salient)
    for day, n in conn.execute(EMBEDDINGS, (first, last)):
        _day(ledger, day)["embeddings"] = n
    for day, n in conn.execute(SIMILAR, (first, last)):
        _day(ledger, day)["with_neighbours"] = n
    for day, model, status, n in conn.execute(PREDICTIONS, (first, last)):
        _day(ledger, day)["predictions"].setdefault(model, {})[status] = n
    for day, status, n in conn.execute(NOTIFICATIONS, (first, last)):
        _day(ledger, day)["notifications"][status] = n
    if table_exists(conn, "computed.prediction_scores"):  # written by the first evaluation run
        for day, model, n in conn.execute(FINAL_SCORES, (first, last)):
            _day(ledger, day)["final_scores"][model] = n
    reports: Counter[tuple[str, str, str]] = Counter()
    for day, slot, model, n in conn.execute(REPORTS, (first, last)):
        _day(ledger, day)["reports"].setdefault(slot, {})[model] = n
        reports[(str(day), slot, model)] += n
    return reports


def _count_runs(ledger: Ledger, runs: list[RunRecord]) -> None:
    for record in runs:
        entry = _day(ledger, record.at.astimezone(KST).date())
        entry["runs"] += 1
        entry["failed_runs"] += not record.success
        name = record.request.job or record.request.origin
        entry["runs_by_job"][name] = entry["runs_by_job"].get(name, 0) + 1
        entry["failed_checks"] += sum(not c.passed for c in record.checks)
        if record.success and any(a.startswith("marts/") for a in record.materialized):
            done = record.at + timedelta(seconds=record.seconds)
            entry["marts_refreshed"] += 1
            entry["marts_last_refreshed"] = f"{done.astimezone(KST):%H:%M:%S} KST"


def no_run_failed(runs: list[RunRecord], faults: Sequence[Fault] = ()) -> list[str]:
    """No run fails: a failed run is work the platform did not do unattended (unless an injected
    fault killed it)."""
    return [f"run failed at {r.at.astimezone(KST):%Y-%m-%d %H:%M} KST: {r.request.label}: {r.failure[:200]}"
            for r in runs if not r.success and not any(f.accounts_for_run(r) for f in faults)]


def no_check_failed(runs: list[RunRecord], faults: Sequence[Fault]) -> list[str]:
    """No asset check fails (a layout drift, a gap, a bad value: data the platform should not have
    let through unnoticed), unless an injected fault accounts for it."""
    return [f"check {c.asset} {c.name} failed at {r.at.astimezone(KST):%Y-%m-%d %H:%M} KST: {c.description[:200]}"
            for r in runs for c in r.checks
            if not c.passed and not any(f.accounts_for(c) for f in faults)]


def links_predicted_in_time(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> list[str]:
    """Every salient watch-list link is predicted by every active model within 30 minutes of the
    article's publication, whatever the hour or day (DESIGN.md §3: news predictions)."""
    return [f"link not predicted within {PREDICTION_DEADLINE}: {code} by {model}, published "
            f"{published.astimezone(KST):%Y-%m-%d %H:%M} KST, predicted "
            f"{'never' if made is None else f'{made.astimezone(KST):%Y-%m-%d %H:%M} KST'}"
            for published, code, model, made in conn.execute(LATE_LINKS, (start, end, PREDICTION_DEADLINE))]


def notifications_once_outside_quiet_hours(conn: psycopg.Connection[Any], start: datetime,
                                           end: datetime) -> list[str]:
    """No notification is sent twice (the same text to the same chat: what a subscriber sees as a
    duplicate, whatever the dedup key) or in its subscriber's quiet hours (``/quiet``, KST)."""
    failed, seen = [], set()
    for chat, at, quiet_start, quiet_end, body in conn.execute(SENT, (start, end)):
        local = at.astimezone(KST)
        if is_quiet(local.hour, quiet_start, quiet_end):
            failed.append(f"notification sent to chat {chat} at {local:%Y-%m-%d %H:%M} KST, inside its quiet "
                          f"hours {quiet_start:02d}-{quiet_end:02d}")
        if (chat, body) in seen:
            failed.append(f"notification sent twice to chat {chat} (again at {local:%Y-%m-%d %H:%M} KST): "
                          f"{body[:80]!r}")
        seen.add((chat, body))
    return failed


def reports_at_each_slot(conn: psycopg.Connection[Any], reports: Counter[tuple[str, str, str]],
                         first: date, last: date, end: datetime) -> list[str]:
    """Every watch-list stock has a report of every active model at each slot of each trading day
    (made within two ticks of the slot) and none on a closed day; a slot whose two ticks end after the
    simulated window (``--hours``) is not due."""
    watchlist = conn.execute("SELECT count(*) FROM raw.stocks WHERE is_watchlist").fetchone()[0]  # type: ignore[index]
    models = [r[0] for r in conn.execute(
        "SELECT name FROM app.models WHERE active AND provider <> 'external' ORDER BY name")]
    calendar, failed = krx_calendar(), []
    for day in (first + timedelta(days=i) for i in range((last - first).days + 1)):
        made = {(slot, model): n for (d, slot, model), n in reports.items() if d == str(day)}
        if not calendar.is_trading_day(day):
            failed += [f"{day} is closed ({calendar.closure_reason(day)}) but has {n} live reports at {slot}"
                       for (slot, _), n in made.items()]
            continue
        for slot in (s for s in REPORT_SLOTS if datetime.combine(day, s, KST) + 2 * TICK <= end):
            window = {f"{(datetime.combine(day, slot) + timedelta(minutes=m)):%H:%M}"
                      for m in range(int(TICK.total_seconds() // 60) * 2)}
            for model in models:
                n = sum(made.get((at, model), 0) for at in window)
                if n < watchlist:
                    failed.append(f"{day} {slot:%H:%M}: {n} of {watchlist} watch-list reports by {model}")
    return failed
