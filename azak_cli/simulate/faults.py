"""Faults the replay servers inject (``azak simulate --fault X``), each with the behaviour the ledger
must then show instead of the clean run's expectations.

A fault names what it does to a source, which failed expectations it accounts for (and nothing
else: any other failure still fails the simulation), and what must be seen for the platform to have
coped: ``azak simulate`` exits 0 if and only if each fault's behaviour was shown and nothing else
failed.
"""

import abc
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from azak_cli.simulate.engine import CheckOutcome, RunRecord
from azak_core import clock
from azak_pipelines.lib.replay_http import Answer, Handler

NAVER_PATHS = ("/news/news_list.naver", "/item/news_news.naver")
HANKYUNG_FEED = "/feed/finance"
OUTAGE = timedelta(hours=1)  # source-down lasts the window's first hour (its first half, if shorter)
DRIFT_CHECK = "layout_drift"


@dataclass(frozen=True)
class Window:
    """The simulated window a fault acts in (the replay servers read the simulated now from the one
    clock, :mod:`azak_core.clock`)."""

    start: datetime
    end: datetime

    @property
    def outage_end(self) -> datetime:
        return self.start + min(OUTAGE, (self.end - self.start) / 2)


@dataclass(frozen=True)
class Fault(abc.ABC):
    name: str
    behaviour: str  # what the ledger must show (printed with the ledger)

    @abc.abstractmethod
    def serve(self, window: Window, handler: Handler) -> Handler:
        """The news sites' handler with this fault switched on."""

    @abc.abstractmethod
    def accounts_for(self, check: CheckOutcome) -> bool:
        """Whether a failed asset check is this fault's doing."""

    @abc.abstractmethod
    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        """What of the behaviour the ledger does not show (empty: the platform coped as it should)."""


def _covers(record: RunRecord, asset: str) -> bool:
    """Whether the run collected ``asset`` (its drift check was evaluated: other checks of the asset,
    freshness say, run in jobs of their own)."""
    return any(c.asset == asset and c.name == DRIFT_CHECK for c in record.checks)


class SourceDown(Fault):
    """Naver Finance answers 503 (``Retry-After: 0``) to every page for the window's first hour."""

    ASSET = "raw/naver_finance_news"

    def serve(self, window: Window, handler: Handler) -> Handler:
        def answer(method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
            if path in NAVER_PATHS and clock.utc_now() < window.outage_end:
                return 503, {"content-type": "text/plain", "retry-after": "0"}, b"injected outage"
            return handler(method, path, headers, query, body)
        return answer

    def accounts_for(self, check: CheckOutcome) -> bool:
        return check.asset == self.ASSET and check.name == DRIFT_CHECK and "every fetch failed" in check.description

    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        naver = [r for r in runs if _covers(r, self.ASSET)]
        during = [r for r in naver if r.at < window.outage_end]
        after = [r for r in naver if r.at >= window.outage_end]
        named = [c for r in during for c in r.checks if c.asset == self.ASSET and not c.passed
                 and self.accounts_for(c) and "naver" in c.description]
        missing = [] if named else ["no naver run during the outage failed its check naming naver"]
        caught_up = [r for r in after if all(c.passed for c in r.checks
                                             if c.asset == self.ASSET and c.name == DRIFT_CHECK)]
        if not caught_up:
            return [*missing, "no naver run after the outage passed its check (no catch-up)"]
        gap = {d for r in during for d in r.days} - {d for r in caught_up for d in r.days}
        return missing + [f"days the outage hit that no later naver run collected: {sorted(gap)}"] * bool(gap)


class LayoutDrift(Fault):
    """The Hankyung feed renames every item's ``<title>`` to ``<headline>`` for the whole window."""

    ASSET = "raw/hankyung_news"

    def serve(self, window: Window, handler: Handler) -> Handler:
        def answer(method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
            status, answer_headers, payload = handler(method, path, headers, query, body)
            if path == HANKYUNG_FEED and status == 200 and isinstance(payload, bytes):
                payload = payload.replace(b"<title>", b"<headline>").replace(b"</title>", b"</headline>")
                answer_headers = {k: v for k, v in answer_headers.items() if k != "etag"}
            return status, answer_headers, payload
        return answer

    def accounts_for(self, check: CheckOutcome) -> bool:
        return check.asset == self.ASSET and check.name == DRIFT_CHECK and "title" in check.description

    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        hankyung = [c for r in runs for c in r.checks if c.asset == self.ASSET and c.name == DRIFT_CHECK]
        missing = [] if hankyung else ["no hankyung run in the window"]
        missing += [f"the drift check did not fail naming the title: {c.description}"
                    for c in hankyung if not (not c.passed and self.accounts_for(c))]
        stored = conn.execute("SELECT count(*) FROM raw.hankyung_news WHERE fetched_at >= %s AND fetched_at < %s",
                              (window.start, window.end)).fetchone()[0]  # type: ignore[index]
        return missing + [f"{stored} hankyung rows stored from the drifted feed"] * bool(stored)


FAULTS: dict[str, Fault] = {
    "source-down:naver": SourceDown(
        "source-down:naver", "Naver answers 503 for the window's first hour: each naver run then fails its "
        "layout_drift check naming naver (the run itself ends: fetch errors are collected, not raised), "
        "the first run after the outage passes, and it collects every day the outage hit (no gap)"),
    "layout-drift:hankyung": LayoutDrift(
        "layout-drift:hankyung", "the Hankyung feed's items lose <title>: every hankyung run fails its "
        "layout_drift check naming the title, and no hankyung row is stored from the drifted feed "
        "(the rejected items go to ops.quarantine)"),
}


def parse(names: list[str]) -> list[Fault]:
    """The faults named on the command line, or a ``ValueError`` listing those there are."""
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault {', '.join(unknown)}: the faults built are {', '.join(FAULTS)}")
    return [FAULTS[n] for n in dict.fromkeys(names)]
