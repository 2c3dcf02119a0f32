"""Concurrency pools: how many steps may talk to one upstream at once, across every run.

Assets name their pool (``pool=``); Dagster claims a slot of it before a step starts, whichever
executor runs the step (in process or on a Celery worker) and whichever run it belongs to. The
limits live in the Dagster instance's database, not in dagster.yaml (which only sets
``default_limit`` for pools not listed here): :func:`ensure_pool_limits` writes them, and every
``azak`` command that opens the instance calls it.
"""

from typing import Any

KIS = "kis"
LLM = "llm"


def news_host(source: str) -> str:
    """The pool of one news host: one crawler per site at a time, however many runs are queued."""
    return f"news:{source}"


POOL_LIMITS: dict[str, int] = {
    # One app key, 19 requests/s shared through PostgreSQL (PgRateLimiter): two steps keep that
    # budget busy while one of them writes; a third would only wait on the limiter.
    KIS: 2,
    # Each step already bounds its calls per provider endpoint; two steps at once is the budget.
    LLM: 2,
    **{news_host(source): 1 for source in ("naver", "hankyung", "maeil", "dart", "reddit")},
}


def ensure_pool_limits(instance: Any) -> dict[str, int]:
    """Set every pool's limit in ``instance`` (a ``DagsterInstance``); returns the ones changed.
    Idempotent: a limit already in place is not rewritten."""
    storage = instance.event_log_storage
    changed = {}
    for pool, limit in POOL_LIMITS.items():
        info = storage.get_concurrency_info(pool)
        if info.slot_count != limit or info.using_default_limit:
            storage.set_concurrency_slots(pool, limit)
            changed[pool] = limit
    return changed
