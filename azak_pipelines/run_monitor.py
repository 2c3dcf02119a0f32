"""Runs whose process died, and the pool slots they hold.

Dagster's run monitoring (dagster.yaml) watches the runs the daemon launches. The CLI executes its
runs in its own process (imports stay in process, for speed), which nothing watches: a killed
``azak import prices`` left its run ``STARTED`` and both slots of the ``kis`` pool claimed for good.
So every run the CLI starts carries its process in its tags (:func:`process_tags`), and
:func:`reap_dead_runs` (the ``dead_runs_sensor`` in the daemon, and every CLI process that waits for
a slot) marks the runs of a process that is gone FAILURE and frees every slot still held by a run
that has ended. :func:`wait_for_pools` is that waiting: it says which pool and which runs hold it,
and sleeps (Dagster's in-process executor re-polls a claim without sleeping, spinning a core).
"""

import os
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

import dagster as dg
import psutil

PID_TAG = "azak/pid"
HOST_TAG = "azak/host"
STARTED_TAG = "azak/process_started"  # the process's creation time: a reused pid is another process
START_TOLERANCE_S = 2.0
PARENT_TAG = "dagster/parent_run_id"
LIVE_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_tags() -> dict[str, str]:
    """The tags that tie a run to this process, so that its death can be seen."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(),
            STARTED_TAG: f"{psutil.Process().create_time():.2f}"}


def process_gone(tags: dict[str, str]) -> bool:
    """Whether the process a run's tags name is gone; False for a run of another host (its own
    host sees it) or without the tags (the daemon's runs: run monitoring sees them)."""
    if tags.get(HOST_TAG) != socket.gethostname() or PID_TAG not in tags or PARENT_TAG in tags:
        return False  # a re-execution (Dagit copies the parent's tags) runs in the daemon's process
    try:
        process = psutil.Process(int(tags[PID_TAG]))
        # the start time tells a reused pid apart; psutil derives it from the boot time, which a
        # wall-clock step moves, hence the tolerance (a reused pid starts much later than that)
        started = float(process.create_time())
        return bool(process.status() == psutil.STATUS_ZOMBIE
                    or abs(started - float(tags.get(STARTED_TAG) or 0)) > START_TOLERANCE_S)
    except psutil.NoSuchProcess:
        return True


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark FAILURE every live run of this host whose process is gone, then free the pool slots
    held by runs that have ended; returns the ids of the runs marked failed."""
    reaped = []
    for run in instance.get_runs(dg.RunsFilter(statuses=LIVE_STATUSES, tags={HOST_TAG: socket.gethostname()})):
        if process_gone(dict(run.tags)):
            instance.report_run_failed(run, f"its process (pid {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}) "
                                            "is gone: killed or crashed mid-run")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    free_slots_of_ended_runs(instance)
    return reaped


def free_slots_of_ended_runs(instance: dg.DagsterInstance) -> list[str]:
    """Free the slots (and places in line) still held by runs that ended (canceled by hand,
    failed, succeeded): marking a run canceled does not free them."""
    storage = instance.event_log_storage
    holders = storage.get_concurrency_run_ids()
    ended = [run.run_id for run in instance.get_runs(dg.RunsFilter(run_ids=list(holders)))
             if run.is_finished] if holders else []
    for run_id in ended:
        storage.free_concurrency_slots_for_run(run_id)
    return ended


def job_pools(job: dg.JobDefinition) -> set[str]:
    """The pools the steps of ``job`` claim a slot of (all of them: a run of a subset of its
    assets waits for the job's pools, a slot more careful than it needs to be)."""
    return {op.pool for op in job.graph.iterate_op_defs() if op.pool}


def holders_line(info: Any, instance: dg.DagsterInstance) -> str:
    """Which runs hold the slots of one pool: "pool kis (2 slots) held by run 1a2b… (raw__daily_prices,
    pid 123 on host, started 10:02:03 UTC), …"."""
    described = []
    for slot in info.claimed_slots:
        run = instance.get_run_by_id(slot.run_id)
        where = f", pid {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}" if run and PID_TAG in run.tags else ""
        status = f", {run.status.value}" if run else ", run not found"
        described.append(f"run {slot.run_id} ({slot.step_key}{where}{status})")
    return f"pool {info.concurrency_key} ({info.slot_count} slots) held by " + "; ".join(described)


def full_pools(instance: dg.DagsterInstance, pools: Iterable[str]) -> list[Any]:
    """The pools of ``pools`` with no free slot (their concurrency info)."""
    infos = instance.event_log_storage.get_concurrency_infos(sorted(pools))
    return [info for info in infos.values() if info.slot_count and len(info.claimed_slots) >= info.slot_count]


def wait_for_pools(instance: dg.DagsterInstance, pools: Iterable[str], say: Callable[[str], None],
                   poll_seconds: float) -> float:
    """Return once every pool of ``pools`` has a free slot; until then reap dead runs, say who holds
    the full pools (again whenever that changes) and sleep ``poll_seconds`` between looks. Ctrl-C
    and SIGTERM interrupt the sleep (``KeyboardInterrupt``). Returns the seconds waited."""
    started = time.monotonic()
    said = ""
    while True:
        reap_dead_runs(instance)
        full = full_pools(instance, pools)
        if not full:
            return time.monotonic() - started
        line = "waiting for a free slot: " + " | ".join(holders_line(info, instance) for info in full)
        if line != said:
            say(line)
            said = line
        time.sleep(poll_seconds)
