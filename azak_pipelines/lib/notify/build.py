"""What to tell whom for one KST day: alerts, report changes and the evening digest.

Reads the day's predictions, reports and prices (through the identifiers the caller passes, so
table moves stay one-line changes) and the active subscribers, and returns outbox messages. A
source that has not been materialized yet is passed as ``None`` and contributes nothing.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from azak_core.market import KST
from azak_pipelines.lib.notify.messages import (
    Links,
    ModelCall,
    Move,
    ReportChange,
    Standing,
    Story,
    digest_key,
    digest_message,
    prediction_message,
    report_change_message,
    report_key,
    story_key,
)
from azak_pipelines.lib.notify.outbox import Outgoing
from azak_pipelines.lib.sql_files import load_queries

QUERIES = Path(__file__).with_name("notifications.sql")


@dataclass(frozen=True)
class Sources:
    """Identifiers of the tables read; ``None`` for one not materialized yet."""

    predictions: sql.Composable | None
    reports: sql.Composable | None
    articles: sql.Composable | None
    stocks: sql.Composable | None
    prices: sql.Composable | None
    leaderboard: sql.Composable | None
    similar: sql.Composable | None = None


@dataclass(frozen=True)
class Rules:
    links: Links
    high_probability: float = 0.8  # a call this sure is an alert whatever its impact
    similarity: float = 0.95  # an earlier article this similar is the same story
    digest_hour: int = 18  # KST


@dataclass(frozen=True)
class Subscriber:
    chat_id: int
    stocks: tuple[str, ...]


def _query(name: str, **tables: sql.Composable) -> sql.Composed:
    return sql.SQL(load_queries(QUERIES)[name]).format(**tables)


def subscribers(conn: psycopg.Connection[Any]) -> list[Subscriber]:
    return [Subscriber(r[0], tuple(r[1])) for r in conn.execute(load_queries(QUERIES)["subscribers"])]


def _watchers(subs: list[Subscriber]) -> dict[str, list[int]]:
    watchers: dict[str, list[int]] = defaultdict(list)
    for sub in subs:
        for code in sub.stocks:
            watchers[code].append(sub.chat_id)
    return watchers


def stock_names(conn: psycopg.Connection[Any], sources: Sources, codes: list[str]) -> dict[str, str]:
    if sources.stocks is None or not codes:
        return {}
    return dict(conn.execute(_query("stock_names", stocks=sources.stocks), {"codes": codes}).fetchall())


def stories(conn: psycopg.Connection[Any], sources: Sources, day: date, codes: list[str],
            rules: Rules, names: dict[str, str]) -> list[Story]:
    if sources.predictions is None or sources.articles is None or not codes:
        return []
    rows = conn.execute(_query("story_calls", predictions=sources.predictions, articles=sources.articles),
                        {"day": day, "codes": codes, "threshold": rules.high_probability}).fetchall()
    grouped: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for row in rows:
        grouped[(row[0], row[1])].append(row)
    found = []
    for (cluster_id, code), calls in grouped.items():
        first = calls[0]
        found.append(Story(
            cluster_id=cluster_id, stock_code=code, stock_name=names.get(code), news_id=first[8],
            title=first[9], press=first[10], outlets=first[11], published_at=first[12],
            made_at=max(r[7] for r in calls),
            calls=tuple(ModelCall(r[2], r[3], r[4], r[5], r[6]) for r in calls)))
    return found


def repeats(conn: psycopg.Connection[Any], sources: Sources, day: date, found: list[Story], rules: Rules
            ) -> set[tuple[int, int, str]]:
    """(chat, cluster, stock) whose story repeats one the chat was already told about: an earlier
    article the embeddings found similar carries the same stock under another cluster."""
    if sources.similar is None or sources.articles is None or not found:
        return set()
    earlier: dict[int, set[int]] = defaultdict(set)
    for cluster, previous in conn.execute(
            _query("earlier_stories", articles=sources.articles, similar=sources.similar),
            {"day": day, "clusters": sorted({s.cluster_id for s in found}), "similarity": rules.similarity}):
        earlier[cluster].add(previous)
    keys = {story_key(c, s.stock_code): (s.cluster_id, s.stock_code) for s in found for c in earlier[s.cluster_id]}
    if not keys:
        return set()
    told = conn.execute(load_queries(QUERIES)["already_told"], {"keys": list(keys)}).fetchall()
    return {(chat_id, *keys[key]) for chat_id, key in told}


def report_changes(conn: psycopg.Connection[Any], sources: Sources, day: date, codes: list[str],
                   names: dict[str, str]) -> list[ReportChange]:
    if sources.reports is None or not codes:
        return []
    rows = conn.execute(_query("report_changes", reports=sources.reports), {"day": day, "codes": codes})
    return [ReportChange(r[0], r[1], names.get(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]


def leaderboard(conn: psycopg.Connection[Any], sources: Sources) -> list[Standing] | None:
    if sources.leaderboard is None:
        return None
    rows = conn.execute(_query("leaderboard", leaderboard=sources.leaderboard)).fetchall()
    if not rows:
        return None
    ranked = sorted(rows, key=lambda r: (r[2] is None, -(r[2] or 0.0), r[0]))
    return [Standing(i + 1, r[0], r[2], r[1]) for i, r in enumerate(ranked)]


def digests(conn: psycopg.Connection[Any], sources: Sources, day: date, subs: list[Subscriber],
            names: dict[str, str], rules: Rules, extra_alerts: dict[int, int]) -> list[Outgoing]:
    """One digest per subscriber whose stocks had a session, a report or an alert that day, due
    at ``digest_hour`` KST. ``extra_alerts`` counts the alerts this run is about to write (they
    are not in the outbox yet)."""
    codes = sorted({c for s in subs for c in s.stocks})
    if not subs:
        return []
    closes: dict[str, tuple[Any, float | None]] = {}
    if sources.prices is not None:
        for code, close, change in conn.execute(_query("moves", prices=sources.prices),
                                                {"day": day, "codes": codes}):
            closes[code] = (close, None if change is None else float(change))
    reports: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    if sources.reports is not None:
        for code, model, recommendation in conn.execute(_query("day_reports", reports=sources.reports),
                                                        {"day": day, "codes": codes}):
            reports[code].append((model, recommendation))
    sent = dict(conn.execute(load_queries(QUERIES)["alerts_sent"], {"day": day}).fetchall())
    standings = leaderboard(conn, sources)
    due = datetime.combine(day, time(rules.digest_hour), KST)
    out = []
    for sub in subs:
        moves = [Move(code, names.get(code), *closes.get(code, (None, None))) for code in sub.stocks]
        day_reports = [(code, names.get(code), model, rec) for code in sub.stocks for model, rec in reports[code]]
        alerts = max(sent.get(sub.chat_id, 0), extra_alerts.get(sub.chat_id, 0))
        if not alerts and not day_reports and all(m.close is None for m in moves):
            continue  # nothing happened to their stocks (a closed day): no digest
        body = digest_message(day, moves, day_reports, alerts, standings, rules.links)
        out.append(Outgoing(sub.chat_id, "digest", digest_key(day), day, body, due))
    return out


@dataclass
class DayPlan:
    messages: list[Outgoing]
    stories: int
    report_changes: int
    subscribers: int


def plan_day(conn: psycopg.Connection[Any], sources: Sources, day: date, rules: Rules) -> DayPlan:
    """Every message the day calls for, for every active subscriber."""
    subs = subscribers(conn)
    watchers = _watchers(subs)
    codes = sorted(watchers)
    names = stock_names(conn, sources, codes)
    messages: list[Outgoing] = []
    alerts: dict[int, int] = defaultdict(int)
    found = stories(conn, sources, day, codes, rules, names)
    repeated = repeats(conn, sources, day, found, rules)
    for story in found:
        body = prediction_message(story, rules.links)
        for chat_id in watchers[story.stock_code]:
            if (chat_id, story.cluster_id, story.stock_code) in repeated:
                continue
            messages.append(Outgoing(chat_id, "prediction", story_key(story.cluster_id, story.stock_code), day,
                                     body, story.made_at))
            alerts[chat_id] += 1
    changes = report_changes(conn, sources, day, codes, names)
    for change in changes:
        body = report_change_message(change, rules.links)
        for chat_id in watchers[change.stock_code]:
            messages.append(Outgoing(chat_id, "report_change", report_key(change), day, body, change.made_at))
            alerts[chat_id] += 1
    messages += digests(conn, sources, day, subs, names, rules, alerts)
    return DayPlan(messages, len(found), len(changes), len(subs))
