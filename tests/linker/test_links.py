"""Link rows computed in spawned worker processes are exactly those of one process."""

import multiprocessing
import os
import threading
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, date, datetime

from azak_pipelines.lib.matching.links import link_processes, linked_rows
from tests.linker.test_labelled_set import items, replay_linker


def test_spawned_workers_link_exactly_what_one_process_links():
    linker = replay_linker()
    articles = [(number, date.fromisoformat(item.get("day") or "2025-09-01"), item["title"],
                 item["content"], "dart" if number % 50 == 0 else "file", [],
                 [next(iter(item["expect"]), "005930")] if number % 25 == 0 else [])
                for number, item in enumerate(items())]
    at = datetime.now(UTC)
    alone = list(linked_rows(linker, articles, "test", at, processes=0))
    pooled = list(linked_rows(linker, articles, "test", at, processes=2, chunk=7))
    assert len(alone) > len(articles) * 0.8 and pooled == alone
    assert {row[6] for row in alone} >= {"text", "dart_filer", "naver_stock_list"}


def test_workers_only_for_many_articles_one_per_core():
    cores = os.cpu_count() or 1
    assert link_processes(19_999, 20_000) == 0 and link_processes(5_000_000, 0) == 0
    assert link_processes(20_000, 20_000) == (cores if cores > 1 else 0)


def test_no_workers_from_a_daemonic_process():
    """A pool's worker (daemonic, as a Celery worker's child may be) cannot start processes."""
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        assert pool.apply(link_processes, (50_000, 1)) == 0
    finally:
        pool.close()
        pool.join()


class _DiesWhenUnpickled:
    """A linker whose worker dies as it starts (as one killed or out of memory would)."""

    def __reduce__(self):
        return os._exit, (3,)


def test_a_worker_that_dies_fails_the_link_instead_of_hanging():
    articles = [(n, date(2025, 9, 1), "삼성전자 실적", "", "file", [], []) for n in range(10)]
    outcome: list[BaseException | None] = []

    def consume() -> None:
        try:
            list(linked_rows(_DiesWhenUnpickled(), articles, "test", datetime.now(UTC), processes=2, chunk=5))
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    thread.join(120)  # a Pool's imap waited here for ever
    assert outcome and isinstance(outcome[0], BrokenProcessPool), outcome
