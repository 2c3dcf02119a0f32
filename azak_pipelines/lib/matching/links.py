"""Articles → link rows of ``news_stock_matches``, in this process or on every core.

A backfill of years links hundreds of thousands of articles: that work goes to worker processes
while the caller writes the rows that come back (``COPY`` in the caller, linking in the workers).
The workers are *spawned*, never forked: the asset runs inside a Dagster run whose process holds
threads and locks, and a child forked from it can inherit a lock held at that moment and hang
(it did). A spawned worker starts a fresh interpreter, imports only this module and the linker,
and unpickles the caller's linker once (~1 MB, ~40 ms).
"""

import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

from azak_pipelines.lib.matching.linker import Linker, Match

CHUNK = 2_000  # articles a worker links per task: small enough to keep every worker busy to the end

Article = tuple[Any, ...]  # (news_id, day, title, summary, source, sources, stock_code_hints)


def link_articles(linker: Linker, articles: Sequence[Article], version: str,
                  matched_at: datetime) -> list[tuple[Any, ...]]:
    """One row per (article, company): the text's links, plus what the sources themselves name —
    a DART filing's filer (always salient), a company Naver listed the article under (kept, not
    salient, when the text never names it)."""
    rows = []
    for news_id, day, title, summary, source, sources, hints in articles:
        found = {m.code: m for m in linker.link(title, summary, day)}
        evidence = dict.fromkeys(found, "text")
        for code in hints or []:
            if code not in linker.names:
                continue
            if "dart" in (sources or []) or source == "dart":
                # the filing company is the subject of its own filing, named or not
                match = found.get(code)
                if match is None:
                    found[code] = Match(code, linker.name_on(code, day), 1.0, True, [])
                else:
                    match.score, match.salient = 1.0, True
                evidence[code] = "dart_filer"
            elif code not in found:
                # Naver listed it under the stock but the text never names it: keep, not salient
                found[code] = Match(code, linker.name_on(code, day), 0.5, False, [])
                evidence[code] = "naver_stock_list"
        for code, match in found.items():
            rows.append((news_id, day, code, round(match.score, 3), match.salient, match.surface,
                         evidence[code], version, matched_at))
    return rows


def link_processes(articles: int, workers_from: int) -> int:
    """Worker processes for linking ``articles``: none (0) below ``workers_from`` articles or when
    it is 0 — a day's few hundred link faster than workers start — else one per core (none on one
    core, nor in a daemonic process such as a pool's worker, which may not start processes)."""
    cores = os.cpu_count() or 1
    allowed = cores > 1 and not multiprocessing.current_process().daemon
    return cores if allowed and 0 < workers_from <= articles else 0


_worker: tuple[Linker, str, datetime] | None = None  # a spawned worker's linker (see _start_worker)


def _start_worker(linker: Linker, version: str, matched_at: datetime) -> None:
    global _worker
    # a process started with SIGTERM ignored (nohup, some supervisors) passes that on to what it
    # spawns, and then the pool cannot stop the worker: its join hung a benchmark
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _worker = (linker, version, matched_at)


def _link_chunk(chunk: list[Article]) -> list[tuple[Any, ...]]:
    if _worker is None:
        raise RuntimeError("_link_chunk runs in a worker started by linked_rows")
    return link_articles(_worker[0], chunk, _worker[1], _worker[2])


def linked_rows(linker: Linker, articles: Sequence[Article], version: str, matched_at: datetime,
                processes: int, chunk: int = CHUNK) -> Iterator[tuple[Any, ...]]:
    """The link rows of ``articles`` in article order: here when ``processes`` is 0, otherwise
    ``chunk`` articles at a time in that many spawned workers while the caller consumes (writes)
    what they have finished."""
    if processes <= 0:
        yield from link_articles(linker, articles, version, matched_at)
        return
    # an executor, not a multiprocessing.Pool: a worker that dies (killed, out of memory) breaks it
    # and the run fails, where a Pool's imap waits for the lost chunk for ever
    executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(linker, version, matched_at))
    try:
        parts = (list(articles[i:i + chunk]) for i in range(0, len(articles), chunk))
        for rows in executor.map(_link_chunk, parts):
            yield from rows
    finally:  # done, or the caller stopped (its write failed): drop what has not started
        executor.shutdown(wait=True, cancel_futures=True)
