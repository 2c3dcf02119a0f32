"""Faults the replay servers inject (``azak simulate --fault X``), each with the behaviour the ledger
must then show instead of the clean run's expectations.

A fault names what it does to a source, which failed expectations it accounts for (and nothing
else: any other failure still fails the simulation), and what must be seen for the platform to have
coped: ``azak simulate`` exits 0 if and only if each fault's behaviour was shown and nothing else
failed.
"""

import abc
import contextlib
import copy
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import psycopg

from azak_cli.errors import UsageError
from azak_cli.runtime.postgres import EmbeddedPostgres
from azak_cli.simulate.db_restart import Outage, probe, serve_api
from azak_cli.simulate.engine import CheckOutcome, RunRecord
from azak_cli.simulate.requests import Request
from azak_core import clock
from azak_core.market import KST
from azak_pipelines.lib.kis.client import TOKEN_EXPIRED
from azak_pipelines.lib.kis.replay import KisSimulator
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
    needs_provider = False  # the simulation registers a model calling a local provider (azak_cli/simulate/llm.py)

    def serve(self, window: Window, handler: Handler) -> Handler:
        """The news sites' handler with this fault switched on (unchanged by default)."""
        return handler

    def serve_kis(self, window: Window, kis: KisSimulator, handler: Handler) -> Handler:
        """The KIS server's handler with this fault switched on (unchanged by default)."""
        return handler

    def victim(self, request: Request) -> str | None:
        """The table inside whose write the simulation should SIGKILL this run (the first run a
        fault names), or None."""
        return None

    def accounts_for_run(self, record: RunRecord) -> bool:
        """Whether a failed run is this fault's doing."""
        return False

    def serve_llm(self, window: Window, handler: Handler) -> Handler:
        """The model provider's handler with this fault switched on (unchanged by default)."""
        return handler

    def observed(self) -> dict[str, int]:
        """What the fault's server saw, for the ledger (answers it spoiled, say)."""
        return {}

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


TOKEN_PATH = "/oauth2/tokenP"


@dataclass(frozen=True)
class ServerFault(Fault):
    """A fault that spoils a server's answers and fails no asset check: what the platform must do
    shows in what the server saw (``seen``: counted by the handler, reset when it is served)."""

    seen: Counter[str] = field(default_factory=Counter, compare=False)

    def accounts_for(self, check: CheckOutcome) -> bool:
        return False

    def observed(self) -> dict[str, int]:
        return dict(self.seen)


def _kis_runs(runs: list[RunRecord], since: datetime | None = None) -> list[RunRecord]:
    """The runs of KIS's schedules (tagged ``azak/source=kis``), from ``since``."""
    return [r for r in runs if dict(r.request.tags).get("azak/source") == "kis" and (since is None or r.at >= since)]


class KisBursts(ServerFault):
    """On the window's first KST day, KIS answers HTTP 500 to the first two attempts of every third
    distinct request (token requests aside): bursts the client's retries (five attempts) must absorb."""

    EVERY, BURST = 3, 2

    def serve_kis(self, window: Window, kis: KisSimulator, handler: Handler) -> Handler:
        day_end = datetime.combine(window.start.astimezone(KST).date() + timedelta(days=1), datetime.min.time(), KST)
        self.seen.clear()
        attempts: Counter[str] = Counter()
        order: dict[str, int] = {}
        lock = threading.Lock()

        def answer(method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
            if path == TOKEN_PATH or clock.utc_now() >= day_end:
                return handler(method, path, headers, query, body)
            request = f"{path}?{sorted(query.items())}|{headers.get('tr_cont', '')}"
            with lock:
                number = order.setdefault(request, len(order))
                attempts[request] += 1
                bursty = number % self.EVERY == 0  # the same request again (a later run) counts once
                spoiled = bursty and attempts[request] <= self.BURST
                self.seen["answered 500" if spoiled else "answered"] += 1
                self.seen["requests met a burst"] += spoiled and attempts[request] == 1
                self.seen["requests answered after a burst"] += bursty and attempts[request] == self.BURST + 1
            if spoiled:
                return 500, {}, {"rt_cd": "1", "msg_cd": "EGW00500", "msg1": "injected burst"}
            return handler(method, path, headers, query, body)
        return answer

    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        if not self.seen["requests met a burst"]:
            return ["no KIS request met a burst (no KIS run on the fault's day)"]
        lost = self.seen["requests met a burst"] - self.seen["requests answered after a burst"]
        failed = [r.request.label for r in _kis_runs(runs) if not r.success and r.killed is None]
        return ([f"{lost} request(s) that met a burst were never answered after it"] * bool(lost)
                + [f"KIS runs failed: {failed}"] * bool(failed))


class TokenExpired(ServerFault):
    """At the window's midpoint, every token KIS issued so far expires early: KIS then answers
    ``EGW00123`` (HTTP 500) to it."""


    def serve_kis(self, window: Window, kis: KisSimulator, handler: Handler) -> Handler:
        at = window.start + (window.end - window.start) / 2
        self.seen.clear()
        lock = threading.Lock()

        def answer(method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
            now = clock.utc_now()
            with lock:
                if now >= at and not self.seen["expired"]:
                    kis.tokens = {token: (key, min(expires, at)) for token, (key, expires) in kis.tokens.items()}
                    self.seen["expired"] = 1
            status, answer_headers, payload = handler(method, path, headers, query, body)
            with lock:
                if isinstance(payload, dict) and payload.get("msg_cd") in TOKEN_EXPIRED:
                    self.seen["answered EGW00123"] += 1
                if path == TOKEN_PATH and status == 200:
                    self.seen["issued after the expiry" if self.seen["expired"] else "issued before"] += 1
            return status, answer_headers, payload
        return answer

    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        at = window.start + (window.end - window.start) / 2
        if not self.seen["answered EGW00123"]:
            return ["no KIS request used the expired token (no KIS run after the window's midpoint)"]
        issued = self.seen["issued after the expiry"]
        failed = [r.request.label for r in _kis_runs(runs, at) if not r.success and r.killed is None]
        return ([f"the token was issued {issued} time(s) after it expired, not once"] * (issued != 1)
                + [f"KIS runs after the expiry failed: {failed}"] * bool(failed))


class LlmRateLimited(ServerFault):
    """The model provider answers HTTP 429 (``Retry-After: 1``) to the first attempt of every
    prompt for the whole window."""

    needs_provider = True
    MODEL = "simulated-llm"  # azak_cli/simulate/llm.py's MODEL_NAME
    NOT_OK = """SELECT count(*) FROM computed.news_predictions WHERE model_name = %s AND status <> 'ok'
    AND created_at >= %s"""

    def victim(self, request: Request) -> str | None:
        """The table inside whose write the simulation should SIGKILL this run, or None."""
        return None

    def accounts_for_run(self, record: RunRecord) -> bool:
        """Whether a failed run is this fault's doing."""
        return False

    def serve_llm(self, window: Window, handler: Handler) -> Handler:
        self.seen.clear()
        attempts: Counter[bytes] = Counter()
        lock = threading.Lock()

        def answer(method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
            with lock:
                attempts[body] += 1
                first = attempts[body] == 1
                self.seen["answered 429" if first else "answered"] += 1
                self.seen["prompts met a 429"] += first
                self.seen["prompts answered after a 429"] += attempts[body] == 2
            if first:
                return 429, {"retry-after": "1"}, {"error": {"message": "injected rate limit", "type": "rate_limit"}}
            return handler(method, path, headers, query, body)
        return answer

    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        if not self.seen["prompts met a 429"]:
            return [f"no call reached the provider ({self.MODEL} had nothing to predict or report)"]
        lost = self.seen["prompts met a 429"] - self.seen["prompts answered after a 429"]
        not_ok = conn.execute(self.NOT_OK, (self.MODEL, window.start)).fetchone()[0]  # type: ignore[index]
        return ([f"{lost} prompt(s) that met a 429 were never answered after it"] * bool(lost)
                + [f"{not_ok} prediction(s) of {self.MODEL} not ok"] * bool(not_ok))


@dataclass(frozen=True)
class KillRun(Fault):
    """The window's second ``market_wide_job`` run (the first stores the day's rankings: the old
    slice) runs in a child process, SIGKILLed inside its write transaction of ``raw.market_rankings``
    (the old slice deleted and the new one copied, uncommitted: :meth:`Simulation.kill`)."""

    JOB, TABLE, NTH = "market_wide_job", "raw.market_rankings", 2
    SLICES = """SELECT trade_date, ranking, count(*), count(DISTINCT captured_at), max(rank)
    FROM raw.market_rankings WHERE trade_date = ANY(%s::date[]) GROUP BY 1, 2 ORDER BY 1, 2"""
    requested: Counter[str] = field(default_factory=Counter, compare=False)  # the job's runs asked for so far

    def victim(self, request: Request) -> str | None:
        if request.job != self.JOB:
            return None
        self.requested[self.JOB] += 1
        return self.TABLE if self.requested[self.JOB] == self.NTH else None

    def accounts_for(self, check: CheckOutcome) -> bool:
        return False

    def accounts_for_run(self, record: RunRecord) -> bool:
        return record.killed is not None

    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        killed = [r for r in runs if r.killed is not None]
        if not killed:
            return [f"no {self.JOB} run to kill in the window (the {self.NTH}nd is killed)"]
        record, seen = killed[0], killed[0].killed or {}
        missing = [f"the run was not killed: {seen['signal']}"] * (seen["signal"] != "SIGKILL")
        if seen.get("inside_write") != self.TABLE:
            missing.append(f"the kill did not land inside the write of {self.TABLE}: {seen.get('why_not')}")
        elif not seen["old_rows_deleted_uncommitted"] or not seen["rows_before"]:
            missing.append(f"no old slice was deleted by the killed write ({seen['rows_before']} rows before, "
                           f"{seen['old_rows_deleted_uncommitted']} deleted): the old slice was not shown to survive")
        missing += [f"{self.TABLE} changed by the killed run (not the old slice)"] * (not seen["table_unchanged"])
        missing += [f"the killed run was left {seen['status']}, not FAILURE"] * (seen["status"] != "FAILURE")
        missing += [f"the killed run still holds {seen['slots_claimed_after']} pool slot(s)"] * bool(
            seen["slots_claimed_after"])
        for day, ranking, rows, captures, last in conn.execute(self.SLICES, (record.days,)):
            if captures != 1 or rows != last:  # one ranking taken at one time, ranks 1..n: a whole slice
                missing.append(f"{day} {ranking}: a torn slice ({rows} rows, ranks up to {last}, {captures} captures)")
        later = [r for r in runs if r.request.job == self.JOB and r.success and r.at > record.at
                 and set(record.days) <= set(r.days)]
        return missing + [f"no later {self.JOB} run completed {record.days}"] * (not later)


@dataclass(frozen=True)
class DbRestart(ServerFault):
    """The simulation's own embedded PostgreSQL (the warehouse and the Dagster instance) is stopped
    once the first ``market_wide_job`` run's first step has started and started again when the run
    has ended (:mod:`azak_cli.simulate.db_restart`); the real API is asked ``GET /health`` during the
    outage and after it."""

    JOB = "market_wide_job"
    place: dict[str, Any] = field(default_factory=dict, compare=False)  # the cluster, the API, the instance

    @contextlib.contextmanager
    def attached(self, cluster: EmbeddedPostgres | None, env: dict[str, str],
                 instance: dg.DagsterInstance) -> Iterator[None]:
        """The fault ready to restart ``cluster`` (None: the home's database is not the simulation's
        own embedded one, which is refused), with the API served with ``env`` meanwhile."""
        own = self.own_cluster(cluster)
        self.seen.clear()
        with serve_api(env, own.root.parent / "logs") as api:  # the home's logs, as `azak serve`'s
            self.place.update(cluster=own, api=api, instance=instance, hit=[])
            self.seen[f"API {probe(api)} before"] += 1
            yield

    @staticmethod
    def own_cluster(cluster: EmbeddedPostgres | None) -> EmbeddedPostgres:
        """``cluster``, or a ``UsageError`` (exit 2) when the home's database is not its own embedded one."""
        if cluster is None:
            raise UsageError("--fault db-restart restarts the simulation's own embedded PostgreSQL; this home's "
                             "database is a server named by AZAK_DATABASE_URL, which a simulation never restarts "
                             "(unset it to simulate on the home's embedded cluster)")
        return cluster

    def disruption(self, request: Request, token: str) -> contextlib.AbstractContextManager[Any]:
        """The outage around the first run of ``JOB`` (nothing around the others)."""
        if request.job != self.JOB or self.seen["stopped"] or not self.place:
            return contextlib.nullcontext()
        return self._outage(token)

    @contextlib.contextmanager
    def _outage(self, token: str) -> Iterator[None]:
        outage = Outage(self.place["cluster"], self.place["api"], self.place["instance"], token, self.seen)
        try:
            with outage:
                yield
        finally:
            if self.seen["stopped"]:
                self.place["hit"].append(outage.run_id)

    def accounts_for_run(self, record: RunRecord) -> bool:
        return record.run_id in self.place.get("hit", [])

    def missing(self, window: Window, runs: list[RunRecord], conn: psycopg.Connection[Any]) -> list[str]:
        hit = self.place.get("hit", [])
        if not hit:
            return [f"no {self.JOB} run was in flight to restart the database under"]
        instance, run_id = self.place["instance"], hit[0]
        down = sorted(k for k in self.seen if k.startswith("API ") and k.endswith(" while down"))
        after = [k for k in self.seen if k.startswith("API ") and k.endswith(" after")]
        missing = [f"the API answered {down} during the outage, not 503"] * (down != ["API 503 while down"])
        missing += [f"the API did not answer 200 after the restart: {after}"] * ("API 200 after" not in after)
        run = instance.get_run_by_id(run_id)
        status = run.status.value if run else "no run"
        missing += [f"the run in flight {run_id} was left {status}, not FAILURE"] * (status != "FAILURE")
        failed = [r for r in runs if r.run_id == run_id and not r.success]
        missing += [f"the run in flight {run_id} did not fail"] * (not failed)
        retried = [r for r in runs if r.retry_of == run_id and r.success]
        missing += [f"no retry of {run_id} completed it"] * (not retried)
        held = run_id in instance.event_log_storage.get_concurrency_run_ids()
        return missing + [f"the run in flight {run_id} still holds a pool slot"] * held


FAULTS: dict[str, Fault] = {
    "kill-run": KillRun(
        "kill-run", "the window's second market_wide_job run is SIGKILLed in its child process inside its write "
        "of raw.market_rankings (the old slice deleted, the new one copied, uncommitted): the table is then "
        "exactly as before (the first run's slice, whole), the run is reaped (FAILURE, not STARTED) with no "
        "pool slot left claimed, and a later tick's run completes the day with a whole slice"),
    "llm-429": LlmRateLimited(
        "llm-429", "the model provider answers 429 (Retry-After: 1) to the first attempt of every prompt: "
        "the client backs off and retries, every prompt is answered after it, and every prediction of "
        "simulated-llm is ok"),
    "kis-5xx": KisBursts(
        "kis-5xx", "on the window's first day KIS answers HTTP 500 to the first two attempts of every third "
        "request: the client retries, every request that met a burst is answered after it, no KIS run fails"),
    "token-expired": TokenExpired(
        "token-expired", "at the window's midpoint KIS expires the token it issued (EGW00123): the client "
        "asks for a new one exactly once and no KIS run after the expiry fails"),
    "source-down:naver": SourceDown(
        "source-down:naver", "Naver answers 503 for the window's first hour: each naver run then fails its "
        "layout_drift check naming naver (the run itself ends: fetch errors are collected, not raised), "
        "the first run after the outage passes, and it collects every day the outage hit (no gap)"),
    "layout-drift:hankyung": LayoutDrift(
        "layout-drift:hankyung", "the Hankyung feed's items lose <title>: every hankyung run fails its "
        "layout_drift check naming the title, and no hankyung row is stored from the drifted feed "
        "(the rejected items go to ops.quarantine)"),
    "db-restart": DbRestart(
        "db-restart", "the simulation's own embedded PostgreSQL is stopped once the first market_wide_job run's "
        "first step has started and started again when the run has ended: the run fails (marked FAILURE once "
        "the database is back, its pool slot freed), the platform's run retries (dagster.yaml) re-execute it "
        "and the retry completes it; the real API answers GET /health 503 during the outage and 200 after"),
}


def victim_of(faults: Sequence[Fault]) -> Callable[[Request], str | None]:
    """The simulation's ``victim``: the table inside whose write the first fault naming a run kills it."""
    return lambda request: next(filter(None, (f.victim(request) for f in faults)), None)


def parse(names: list[str]) -> list[Fault]:
    """The faults named on the command line (fresh copies: a fault counts what it served), or a
    ``ValueError`` listing those there are."""
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault {', '.join(unknown)}: the faults built are {', '.join(FAULTS)}")
    return [copy.deepcopy(FAULTS[n]) for n in dict.fromkeys(names)]

