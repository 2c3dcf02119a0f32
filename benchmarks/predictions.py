"""Predictions: point-in-time context build time per stock; predictions per second against a local
OpenAI-compatible server (0.5 s per answer, like a fast hosted model) with 4 models, bounded
concurrency versus one call at a time (the legacy called serially: ~30 s per item for 4 models);
and the cache-hit re-run (no request, no cost).

    python -m benchmarks.predictions
"""

import time
from datetime import datetime, timedelta

import psycopg

from benchmarks.common import report, scratch_database, timed

LATENCY_S = 0.5


def main() -> None:
    from azak_core.market import KST
    from azak_pipelines.lib.predictions.budget import Budget
    from azak_pipelines.lib.predictions.context import build_context
    from azak_pipelines.lib.predictions.models import ModelSpec
    from azak_pipelines.lib.predictions.providers import ProviderSettings
    from azak_pipelines.lib.predictions.runner import Job, Runner
    from tests.pipelines.predictions.conftest import CODE, build_warehouse
    from tests.pipelines.predictions.openai_server import OpenAIServer

    with scratch_database("azak_bench_predictions") as url:
        build_warehouse(url)
        server = OpenAIServer(delay_s=LATENCY_S).start()
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                times = [datetime(2025, 2, 3, 16, 0, tzinfo=KST) + timedelta(days=d) for d in range(40)]
                started = time.perf_counter()
                contexts = [build_context(conn, CODE, at) for at in times]
                per_context_ms = (time.perf_counter() - started) / len(times) * 1000
                models = [ModelSpec(id=i, name=f"m{i}", provider="openai-compatible", model=f"bench/ok-{i}",
                                    base_url=server.base_url, params={"max_tokens": 800}) for i in range(4)]
                settings = ProviderSettings(timeout_s=30, max_retries=0)

                def run(concurrency: int, contexts_: list, budget: Budget | None = None) -> tuple[float, Runner]:
                    runner = Runner(conn, {}, settings, budget or Budget(None), concurrency=concurrency)
                    jobs = [Job(m, "stock_report", c) for c in contexts_ for m in models]
                    started_ = time.perf_counter()
                    attempts = runner.run(jobs)
                    assert all(a.status == "ok" for a in attempts), [a.error_message for a in attempts][:3]
                    return time.perf_counter() - started_, runner

                run(4, contexts[:1])  # warm-up: imports, the first connections
                serial_s, _ = run(1, contexts[1:6])  # 20 calls one at a time
                bounded_s, _ = run(4, contexts[6:16])  # 40 calls, 4 in flight per provider
                wide_s, _ = run(16, contexts[16:40])  # 96 calls, 16 in flight
                cached_s, cached_runner = run(4, contexts[6:16])
                context_ms, _ = timed(lambda: build_context(conn, CODE, times[-1]), repeat=20)
        finally:
            server.stop()
    serial_rate, bounded_rate, wide_rate = 20 / serial_s, 40 / bounded_s, 96 / wide_s
    report("predictions (benchmarks/predictions.py)", [
        ("context build per stock (report, 9 sections)", f"{context_ms * 1000:.1f} ms median, "
                                                         f"{per_context_ms:.1f} ms mean over 40 as-of times"),
        ("server latency per answer", f"{LATENCY_S:.1f} s"),
        ("4 models, one call at a time", f"{serial_rate:.2f} predictions/s ({4 / serial_rate:.1f} s per item)"),
        ("4 models, 4 in flight per provider", f"{bounded_rate:.2f} predictions/s "
                                               f"({bounded_rate / serial_rate:.1f}× serial)"),
        ("4 models, 16 in flight per provider", f"{wide_rate:.2f} predictions/s "
                                                f"({wide_rate / serial_rate:.1f}× serial)"),
        ("cache-hit re-run of 40 predictions", f"{cached_s * 1000:.0f} ms, {cached_runner.requests} requests "
                                               f"({bounded_s / cached_s:.0f}× faster than the first run)"),
    ])


if __name__ == "__main__":
    main()
