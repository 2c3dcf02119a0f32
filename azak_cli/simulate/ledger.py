"""The ledger of a simulation, per KST day, and the expectations it checks.

Each expectation is stated once below with its reason; ``failed`` lists those that did not hold.
"""

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import dagster as dg
import psycopg

from azak_cli.simulate.engine import EVERY_TICK, TICK, RunRecord
from azak_cli.simulate.faults import Fault, Window
from azak_core.market import KST
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from azak_pipelines.lib.notify.sender import is_quiet
from azak_pipelines.lib.warehouse import table_exists

REPORT_SLOTS = (time(8, 30), time(13, 5), time(16, 0))  # stock_reports_schedule's cron, KST
PREDICTION_DEADLINE = timedelta(minutes=30)  # DESIGN.md §3: within 30 min of publication, any hour
LINK_DEADLINE = TICK  # issue 24: an article collected at one tick is linked before the next
MARTS_DEADLINE = timedelta(minutes=5)  # issue 24: a marts table reaches the newest raw partition within 5 minutes
LISTED = 20  # late articles listed one by one (a day's news run that failed leaves hundreds), then counted
LINKS_ASSET = "computed/news_stock_matches"
# the nightly evaluation (20:00 KST, trading days, after the daily bars, the index and the price
# healer): the run meant to make final every prediction whose horizon closed that day; the
# automation's eager re-runs of the scores after each new prediction may come before the day's bars
EVALUATION_JOB = "evaluation_job"
DBT_MODELS = ("staging/", "marts/")  # the dbt models' asset keys: the automation rebuilds them (eager)
MEASURED = "simulated time advances by each run's measured wall duration (the 5-minute bounds measure this machine)"
NOTES = (
    "automation: evaluated at a tick's start and after its runs, again after the runs it asks for until it "
    "asks for nothing (the daemon's sensor looks every 30 s); after runs that changed no data (or none), "
    "every 30 simulated minutes",
    "run-status sensors (Telegram on failures) are not evaluated: they react to runs, not to the clock",
    "KIS runs in live mode against the replay server on the simulated clock (a real account); sessions "
    "without intraday recordings get generated minute bars and quote snapshots (labelled generated)",
    "DART stays in replay mode: its schedule skips (the recordings hold nothing new); Reddit is live against "
    "the recordings as they stood at the simulated now, with [generated] posts naming Samsung Electronics "
    "on the days they lack",
    "the news sites answer what was published by the simulated now; a recorded day before its first "
    "article answers 404, as a day never recorded does",
    "RSS: labelled [generated] items naming 삼성전자 (07:30, 12:00, 18:30 KST) on the days the recordings hold none",
    "automation: the requested partitions of an asset set become one run per contiguous range "
    "(BackfillPolicy.single_run), unpartitioned assets one run",
    "marts freshness: the simulated time the last run writing a marts table ended, per day",
    "marts follow raw: due after a run that changed what a raw table holds (its data version), not after a "
    "poll that stored nothing new (the automation follows data versions: docs/automation.md)",
    "articles linked within a tick: by the run records (the links' matched_at is rewritten by each linker run)",
    "predictions final by the next evaluation: read at the window's end (statuses only advance; the "
    "scores keep no history, so one made final by a later evaluation only is not told apart)",
)


def intraday_note(every: int) -> str:
    """How the session's intraday schedules were sampled, for the ledger's notes."""
    if every == EVERY_TICK:
        return ("intraday: the minute-bar schedule's requests within a tick are merged (sampled every 5 "
                "minutes); the quote-snapshot and market-wide schedules fire at each of their cron minutes")
    return (f"intraday: the minute-bar, quote-snapshot and market-wide schedules (every minute and every 5 "
            f"minutes on the daemon) fire every {every} simulated minutes and at 15:55 (--intraday-every); "
            "each minute-bar run tops up the day's bars so far, so none is missing, but the day has fewer "
            "quote snapshots and rankings")


def time_note(run_cost: float | None) -> str:
    """What the simulated clock advanced by, for the ledger's notes."""
    return MEASURED if run_cost is None else f"simulated time advances by a fixed {run_cost:g} s per run (--run-cost)"


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
COLLECTED = """SELECT news_id, published_day, first_seen_at FROM computed.news_articles
WHERE first_seen_at >= %s AND first_seen_at < %s ORDER BY first_seen_at, news_id"""
NOT_FINAL = """SELECT s.evaluation_id, s.model_name, s.stock_code, o.window_end_date, s.status
FROM computed.prediction_scores s JOIN marts.prediction_outcomes o USING (evaluation_id)
WHERE s.status <> 'final' AND o.window_end_date BETWEEN %s AND %s ORDER BY o.window_end_date, 1"""
LATE_LINKS = """
WITH judged AS (
    SELECT a.news_id, a.published_day, a.published_at,
           -- when the article could first be known (a day-precision date: the next midnight, as the
           -- predictions' context reads it); one of before the window: from when the window saw it
           CASE WHEN known.at < %(start)s THEN a.first_seen_at ELSE known.at END AS due_from
    FROM computed.news_articles a
    CROSS JOIN LATERAL (SELECT CASE WHEN a.published_precision = 'day'
                                    THEN (a.published_day + 1)::timestamp AT TIME ZONE 'Asia/Seoul'
                                    ELSE a.published_at END AS at) known
    WHERE coalesce(a.is_canonical, true) AND a.first_seen_at >= %(start)s AND a.first_seen_at < %(end)s)
SELECT j.published_at, m.stock_code, mo.name, min(p.created_at)
FROM judged j
JOIN computed.news_stock_matches m ON m.news_id = j.news_id AND m.published_day = j.published_day
JOIN raw.stocks s ON s.code = m.stock_code AND s.is_watchlist
CROSS JOIN app.models mo
LEFT JOIN computed.news_predictions p ON p.news_id = m.news_id AND p.stock_code = m.stock_code
     AND p.model_id = mo.id AND p.status = 'ok'
WHERE m.salient AND mo.active AND mo.provider <> 'external' AND j.due_from + %(deadline)s <= %(end)s
GROUP BY 1, 2, 3, m.news_id, j.due_from
HAVING min(p.created_at) IS NULL OR min(p.created_at) > j.due_from + %(deadline)s
ORDER BY 1 LIMIT 20"""


@dataclass
class Ledger:
    days: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = (*NOTES, MEASURED)  # build() adds the intraday sampling and the time cost

    def as_json(self) -> dict[str, Any]:
        return {"days": self.days, "failed_expectations": self.failed, "faults": self.faults,
                "notes": list(self.notes)}


def _day(ledger: Ledger, day: Any) -> dict[str, Any]:
    return ledger.days.setdefault(str(day), {"articles": {}, "links": 0, "salient_links": 0, "with_neighbours": 0,
                                             "predictions": {}, "reports": {}, "runs": 0, "failed_runs": 0,
                                             "runs_by_job": {}, "failed_checks": 0, "embeddings": 0,
                                             "notifications": {}, "final_scores": {}, "marts_refreshed": 0,
                                             "marts_last_refreshed": None})


def build(url: str, runs: list[RunRecord], window: Window, faults: Sequence[Fault] = (), *,
          children: Mapping[str, Collection[str]], run_cost: float | None = None,
          intraday_every: int = EVERY_TICK) -> Ledger:
    """Count what the simulated days produced, then check the expectations (a failure a fault
    accounts for is not one) and whether each fault showed its behaviour. ``children``: each asset's
    children in the code location's graph (:func:`asset_children`); ``run_cost``: the simulation's."""
    ledger = Ledger(notes=(*NOTES, intraday_note(intraday_every), time_note(run_cost)))
    first, end = window.start.astimezone(KST).date(), window.end
    last = (end - timedelta(microseconds=1)).astimezone(KST).date()
    for day in (first + timedelta(days=i) for i in range((last - first).days + 1)):
        _day(ledger, day)
    with psycopg.connect(url) as conn:
        reports = _count_warehouse(ledger, conn, first, last)
        _count_runs(ledger, runs)
        ledger.failed += [*no_run_failed(runs, faults), *no_check_failed(runs, faults),
                          *articles_linked_within_a_tick(conn, runs, window.start, end),
                          *marts_follow_raw(runs, children, end),
                          *closed_horizons_final(conn, runs, window.start, end),
                          *links_predicted_in_time(conn, window.start, end),
                          *reports_at_each_slot(conn, reports, first, last, window.start, end),
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
            entry["marts_refreshed"] += 1
            entry["marts_last_refreshed"] = f"{record.ended.astimezone(KST):%H:%M:%S} KST"


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


def articles_linked_within_a_tick(conn: psycopg.Connection[Any], runs: Sequence[RunRecord], start: datetime,
                                  end: datetime) -> list[str]:
    """Every article collected in the window is linked within one tick of its collection (a link
    made later leaves the article out of the predictions, alerts and reports meanwhile): the first
    successful run writing ``computed/news_stock_matches`` for its day that started at or after its
    ``first_seen_at`` ends by then. The links carry no creation time that lasts (each linker run
    rewrites its days' ``matched_at``), so the run records say when. An article collected less than
    a tick before the window's end is not due. The first 20 late articles are listed, the rest counted."""
    linkers: dict[date, list[RunRecord]] = {}
    for record in sorted(runs, key=lambda r: r.at):
        if record.success and LINKS_ASSET in record.materialized:
            for day in record.days:
                linkers.setdefault(date.fromisoformat(day), []).append(record)
    failed = []
    for news_id, day, seen in conn.execute(COLLECTED, (start, end)):
        linker = next((r for r in linkers.get(day, []) if r.at >= seen), None)
        if linker is None and seen + LINK_DEADLINE > end:
            continue
        if linker is None or linker.ended > seen + LINK_DEADLINE:
            when = "never" if linker is None else f"at {linker.ended.astimezone(KST):%Y-%m-%d %H:%M:%S} KST"
            failed.append(f"article {news_id} collected {seen.astimezone(KST):%Y-%m-%d %H:%M:%S} KST not linked "
                          f"within {LINK_DEADLINE}: linked {when}")
    more = [f"{len(failed) - LISTED} more articles not linked within {LINK_DEADLINE}"] if len(failed) > LISTED else []
    return failed[:LISTED] + more


def asset_children(definitions: dg.Definitions) -> dict[str, frozenset[str]]:
    """Each asset's children in the code location's graph (what :func:`marts_follow_raw` follows)."""
    graph = definitions.resolve_asset_graph()
    return {key.to_user_string(): frozenset(c.to_user_string() for c in graph.get(key).child_keys)
            for key in graph.get_all_asset_keys()}


def _dbt_below(written: Collection[str], children: Mapping[str, Collection[str]]) -> set[str]:
    """The marts tables below ``written`` through dbt models only (what the automation rebuilds after
    a write; a mart below a scheduled asset, such as the predictions, waits for that asset's run)."""
    found: set[str] = set()
    todo = [c for a in written for c in children.get(a, ()) if c.startswith(DBT_MODELS)]
    while todo:
        key = todo.pop()
        if key not in found:
            found.add(key)
            todo += [c for c in children.get(key, ()) if c.startswith(DBT_MODELS)]
    return {k for k in found if k.startswith("marts/")}


def marts_follow_raw(runs: Sequence[RunRecord], children: Mapping[str, Collection[str]],
                     end: datetime) -> list[str]:
    """Each marts table reaches the newest raw partition within 5 minutes (what the API and the
    reports read is the marts: a raw write they do not see is not collected yet, for a user): after
    a run writes a raw table, every marts table below what that run changed (through dbt models) is
    written by a successful run ending within 5 simulated minutes of that run's end. What the run
    changed: the assets whose data version it changed (``RunRecord.updated``); a poll that stored
    nothing new changed nothing, and the automation rightly rebuilds nothing after it (the marts
    already hold that data: ``azak_pipelines/defs/automation.py``). A write less than 5 minutes
    before the window's end is not due."""
    failed = []
    for record in runs:
        due = record.ended + MARTS_DEADLINE
        if not record.success or due > end or not any(a.startswith("raw/") for a in record.materialized):
            continue
        late = sorted(mart for mart in _dbt_below(record.updated, children)
                      if not any(r.success and mart in r.materialized and r.at >= record.at
                                 and record.ended <= r.ended <= due for r in runs))
        if late:
            failed.append(f"{', '.join(late)} not written within {MARTS_DEADLINE} of {record.request.label}, "
                          f"which wrote raw data until {record.ended.astimezone(KST):%Y-%m-%d %H:%M:%S} KST")
    return failed


def closed_horizons_final(conn: psycopg.Connection[Any], runs: Sequence[RunRecord], start: datetime,
                          end: datetime) -> list[str]:
    """Every prediction whose horizon closed in the window (the close of its window's last session)
    is final after the first successful nightly evaluation run that started after that close: an
    evaluation that leaves it pending or partial scores it on an incomplete window. Read at the
    window's end. (Only predictions made, status ``ok``, are evaluated: one a spent budget refused is
    a failed attempt, which the ledger counts with the predictions, never a pending score.)"""
    evaluations = sorted(r.at for r in runs if r.success and r.request.job == EVALUATION_JOB)
    if not evaluations or not (table_exists(conn, "computed.prediction_scores")
                               and table_exists(conn, "marts.prediction_outcomes")):
        return []
    calendar, failed = krx_calendar(), []
    days = (start.astimezone(KST).date(), end.astimezone(KST).date())
    for evaluation_id, model, code, last_session, status in conn.execute(NOT_FINAL, days):
        closed = calendar.session(last_session).close
        after = next((at for at in evaluations if at >= closed), None)
        if start <= closed < end and after is not None:
            failed.append(f"{model}'s prediction {evaluation_id} on {code} is {status} after the evaluation of "
                          f"{after.astimezone(KST):%Y-%m-%d %H:%M} KST: its horizon closed "
                          f"{closed.astimezone(KST):%Y-%m-%d %H:%M} KST")
    return failed


def links_predicted_in_time(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> list[str]:
    """Every salient watch-list link of an article collected in the window is predicted by every
    active model within 30 minutes of the article's publication, whatever the hour or day (DESIGN.md
    §3: news predictions). Not judged: an article the home held before the window (the demo predicted
    it when it imported it, at the wall clock's time) and one whose 30 minutes end after the window.
    An article dated by its day only counts from the next midnight (as the predictions' context
    reads it); for one published before the window the 30 minutes run from when the window first saw
    it (a Reddit post may pass the score filter hours after it was posted). A story several outlets
    told is predicted once, on its cluster's canonical article (as ``news_predictions`` selects
    them), so only canonical articles are judged."""
    late = conn.execute(LATE_LINKS, {"start": start, "end": end, "deadline": PREDICTION_DEADLINE})
    return [f"link not predicted within {PREDICTION_DEADLINE}: {code} by {model}, published "
            f"{published.astimezone(KST):%Y-%m-%d %H:%M} KST, predicted "
            f"{'never' if made is None else f'{made.astimezone(KST):%Y-%m-%d %H:%M} KST'}"
            for published, code, model, made in late]


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
                         first: date, last: date, start: datetime, end: datetime) -> list[str]:
    """Every watch-list stock has a report of every active model at each slot of each trading day
    (made within two ticks of the slot) and none on a closed day; a slot before the window's start
    (``--from`` a time of day) or whose two ticks end after it (``--hours``) is not due."""
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
        due = (s for s in REPORT_SLOTS if start <= datetime.combine(day, s, KST) <= end - 2 * TICK)
        for slot in due:
            window = {f"{(datetime.combine(day, slot) + timedelta(minutes=m)):%H:%M}"
                      for m in range(int(TICK.total_seconds() // 60) * 2)}
            for model in models:
                n = sum(made.get((at, model), 0) for at in window)
                if n < watchlist:
                    failed.append(f"{day} {slot:%H:%M}: {n} of {watchlist} watch-list reports by {model}")
    return failed
