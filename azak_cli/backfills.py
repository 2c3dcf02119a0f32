"""`azak backfill`: real Dagster backfills, submitted through Dagit's GraphQL API (the one client,
:mod:`azak_core.dagit`) and followed in the terminal.

A backfill submitted here is the same object Dagit's "Materialize → backfill" creates: it is listed
in Dagit's Backfills tab, the daemon's backfill loop turns it into runs, and those runs wait in the
run queue under dagster.yaml's limits (one run per ``azak/source`` at a time). The daemon does the
work, so the command needs Dagit and its daemon running (``azak serve``); without them it refuses
rather than starting servers that would die with the terminal it was meant to free.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azak_cli import progress
from azak_cli.errors import UsageError
from azak_core import settings_registry
from azak_core.dagit import DagitUnavailable, graphql

# how often a followed backfill is read again
POLL_SECONDS = 1.0
# the states after which nothing more happens (COMPLETED: what older Dagster versions report)
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
SUCCEEDED = {"COMPLETED", "COMPLETED_SUCCESS"}
NEEDS_SERVERS = ("azak backfill hands the work to Dagster's daemon through Dagit: start both with `azak serve` "
                 "(or `azak serve dagit`), or point AZAK_DAGSTER_URL at a running Dagit")

FIELDS = """
  id status title numPartitions timestamp endTimestamp
  assetSelection { path }
  assetBackfillData { assetBackfillStatuses { __typename
    ... on AssetPartitionsStatusCounts { numPartitionsTargeted numPartitionsInProgress
                                         numPartitionsMaterialized numPartitionsFailed } } }
  runs(limit: 1000) { runId status }
  error { message }
"""
LAUNCH = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""
STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { """ + FIELDS + """ }
    ... on Error { message }
  }
}
"""
RECENT = """
query Backfills($limit: Int!) {
  partitionBackfillsOrError(limit: $limit) {
    __typename
    ... on PartitionBackfills { results { """ + FIELDS + """ } }
    ... on Error { message }
  }
}
"""
CANCEL = """
mutation Cancel($id: String!) {
  cancelPartitionBackfill(backfillId: $id) {
    __typename
    ... on Error { message }
  }
}
"""
LOGS = """
query Logs($run: ID!, $cursor: String) {
  logsForRun(runId: $run, afterCursor: $cursor, limit: 1000) {
    __typename
    ... on EventConnection { cursor events { __typename ... on LogMessageEvent { message } } }
    ... on Error { message }
  }
}
"""
DAEMON = """
query { instance { daemonHealth { daemonStatus(daemonType: "BACKFILL") { healthy } } } }
"""


def dagit_url() -> str:
    """AZAK_DAGSTER_URL, or the Dagit `azak serve` starts (AZAK_DAGIT_BIND_HOST, AZAK_DAGIT_PORT)."""
    from azak_cli.runtime.services import endpoints

    return settings_registry.read_or("AZAK_DAGSTER_URL", "").rstrip("/") or endpoints()[0].url


def call(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return asyncio.run(graphql(url, query, variables or {}))
    except DagitUnavailable as exc:
        raise UsageError(f"{exc}. {NEEDS_SERVERS}") from None


@dataclass(frozen=True)
class Snapshot:
    """A backfill as Dagit reports it: its state and its partitions' and runs' counts."""

    id: str
    status: str
    title: str
    targeted: int
    materialized: int
    in_progress: int
    failed: int
    runs: dict[str, int] = field(default_factory=dict)  # run status -> runs
    error: str | None = None
    started: tuple[str, ...] = ()  # the ids of the runs under way

    @classmethod
    def read(cls, node: dict[str, Any]) -> "Snapshot":
        counts = [s for s in (node.get("assetBackfillData") or {}).get("assetBackfillStatuses", [])
                  if s["__typename"] == "AssetPartitionsStatusCounts"]
        return cls(node["id"], node["status"], node.get("title") or "",
                   sum(c["numPartitionsTargeted"] for c in counts) or node.get("numPartitions") or 0,
                   sum(c["numPartitionsMaterialized"] for c in counts),
                   sum(c["numPartitionsInProgress"] for c in counts), sum(c["numPartitionsFailed"] for c in counts),
                   dict(Counter(run["status"] for run in node.get("runs") or [])),
                   (node.get("error") or {}).get("message"),
                   tuple(run["runId"] for run in node.get("runs") or [] if run["status"] == "STARTED"))

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCEEDED

    def as_dict(self, url: str) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "title": self.title,
                "partitions": {"targeted": self.targeted, "materialized": self.materialized,
                               "in_progress": self.in_progress, "failed": self.failed},
                "runs": self.runs, "error": self.error, "dagit": f"{url}/runs/b/{self.id}"}

    def note(self) -> str:
        runs = ", ".join(f"{n} {s.lower()}" for s, n in sorted(self.runs.items())) or "no run yet"
        return f"{self.in_progress} in progress, {self.failed} failed; runs: {runs}; {self.status}"

    def line(self) -> str:
        return f"backfill {self.id}: {self.materialized}/{self.targeted} partitions done, {self.note()}"


def require_daemon(url: str) -> None:
    """Refuse when no daemon serves this Dagit: the backfill would sit unstarted."""
    status = call(url, DAEMON)["instance"]["daemonHealth"]["daemonStatus"]
    if not status.get("healthy"):
        raise UsageError(f"Dagit at {url} answers, but no Dagster daemon is running for it (its backfill "
                         f"loop has no recent heartbeat). {NEEDS_SERVERS}")


def submit(url: str, asset: tuple[str, ...], first: str, last: str, run_config: dict[str, Any],
           tags: dict[str, str], title: str) -> str:
    """Submit a backfill of ``asset``'s partitions ``first`` … ``last`` (inclusive); its id."""
    require_daemon(url)
    params = {
        "partitionsByAssets": [{"assetKey": {"path": list(asset)},
                                "partitions": {"range": {"start": first, "end": last}}}],
        "runConfigData": run_config,
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
        "title": title,
    }
    result = call(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] == "LaunchBackfillSuccess":
        backfill_id: str = result["backfillId"]
        return backfill_id
    detail = result.get("message") or "; ".join(e["message"] for e in result.get("errors", []))
    raise RuntimeError(f"Dagster refused the backfill ({result['__typename']}): {detail}")


def status(url: str, backfill_id: str) -> Snapshot:
    found = call(url, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
    if found["__typename"] == "BackfillNotFoundError":
        raise UsageError(f"no backfill {backfill_id!r} in this Dagster instance; `azak backfill status` "
                         "lists the recent ones")
    if found["__typename"] != "PartitionBackfill":
        raise RuntimeError(f"Dagit could not read backfill {backfill_id}: {found.get('message')}")
    return Snapshot.read(found)


def recent(url: str, limit: int) -> list[Snapshot]:
    found = call(url, RECENT, {"limit": limit})["partitionBackfillsOrError"]
    if found["__typename"] != "PartitionBackfills":
        raise RuntimeError(f"Dagit could not list the backfills: {found.get('message')}")
    return [Snapshot.read(node) for node in found["results"]]


def cancel(url: str, backfill_id: str) -> Snapshot:
    """Ask Dagster to cancel the backfill (its queued and running runs are cancelled); its state after."""
    status(url, backfill_id)  # an unknown id is a usage error, not Dagster's stack trace
    result = call(url, CANCEL, {"id": backfill_id})["cancelPartitionBackfill"]
    if result["__typename"] != "CancelBackfillSuccess":
        raise RuntimeError(f"Dagster refused to cancel backfill {backfill_id}: {result.get('message')}")
    return status(url, backfill_id)


class RunLogs:
    """The newest log line of the backfill's runs under way: a run over a long range is one step,
    and its log says how far that step got (the KIS asset logs "daily bars: 1200/2900 stocks
    fetched")."""

    def __init__(self, url: str):
        self.url = url
        self.cursors: dict[str, str | None] = {}
        self.latest = ""

    def read(self, run_ids: tuple[str, ...]) -> str:
        for run_id in run_ids:
            found = call(self.url, LOGS, {"run": run_id, "cursor": self.cursors.get(run_id)})["logsForRun"]
            if found["__typename"] != "EventConnection":
                continue
            self.cursors[run_id] = found["cursor"]
            lines = [e["message"] for e in found["events"] if e["__typename"] == "LogMessageEvent"]
            self.latest = lines[-1] if lines else self.latest
        return self.latest


def follow(url: str, backfill_id: str, bars: bool, say: Callable[[str], None]) -> Snapshot:
    """Read the backfill every POLL_SECONDS until it has finished: a bar of partitions done (rate,
    time left) when ``bars``, else a line each time something changed. Ctrl-C (KeyboardInterrupt)
    leaves the backfill running."""
    last = ""
    logs = RunLogs(url)
    with progress.bar(f"backfill {backfill_id}", None, "partitions", bars) as shown:
        while True:
            snapshot = status(url, backfill_id)
            said = logs.read(snapshot.started)
            shown.update(snapshot.materialized, snapshot.targeted or None,
                         snapshot.note() + (f" | {said[:80]}" if said else ""))
            if not bars and snapshot.line() != last:
                last = snapshot.line()
                say(last)
            if snapshot.finished:
                return snapshot
            time.sleep(POLL_SECONDS)


def detach_hint(backfill_id: str) -> str:
    return (f"backfill {backfill_id} goes on in Dagster (Dagit's Backfills tab). Follow it: azak backfill "
            f"status {backfill_id}; cancel it: azak backfill cancel {backfill_id}")
