"""Single-run price backfills: replay (250 sessions x 50 stocks) and live against a KIS server.

Synthetic daily series for 50 stocks are written as KIS FHKST03010100 recordings, then
``azak backfill prices`` runs as one Dagster run (in-process, like the CLI):

* replay — the bundled-data path (no network, no rate limit): target under 60 s;
* live   — the same backfill over real HTTP against the local KIS protocol server, with the shared
  PostgreSQL rate limiter at KIS's default 19 requests/s and the server enforcing 20/s;
* live, ten years — 50 stocks x ~2,460 sessions in one run (``--ten-years``);
* rate bound (``--rate-bound STOCKS``) — STOCKS x ten years live (25 requests a stock), first with
  one app key, then with two (``AZAK_KIS_APP_KEYS``): the run against requests / 19 per key, and
  the fetch (first to last request the server saw) against the same bound;
* scale-out (``--celery STOCKS YEARS``) — the replay path over STOCKS x YEARS: the asset's single
  step in one process; ``daily_prices_backfill_job`` with two shards in one process; the same on
  two ``azak worker`` processes (Celery over the machine's RabbitMQ). Worker start-up is timed
  apart: workers are long-lived.

    python -m benchmarks.backfill [--ten-years]
    nice python -m benchmarks.backfill --rate-bound 200
    nice python -m benchmarks.backfill --celery 300 10
"""

import gzip
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from benchmarks.common import report, scratch_database

STOCKS = [f"{800000 + i}" for i in range(50)]


def write_recordings(directory: Path, sessions: list[date], codes: list[str] = STOCKS) -> None:
    target = directory / "kis" / "daily"
    target.mkdir(parents=True, exist_ok=True)
    for code in codes:
        rng = random.Random(code)
        price, rows = rng.choice([5_000, 30_000, 120_000]), []
        for day in sessions:
            close = max(100, int(price * rng.uniform(0.97, 1.03)))
            rows.append({"stck_bsop_date": day.strftime("%Y%m%d"), "stck_oprc": str(price),
                         "stck_hgpr": str(max(price, close) + 100), "stck_lwpr": str(max(1, min(price, close) - 100)),
                         "stck_clpr": str(close), "acml_vol": str(rng.randint(1_000, 900_000)),
                         "acml_tr_pbmn": "0", "prdy_vrss": str(close - price), "prdy_vrss_sign": "2",
                         "flng_cls_code": "00", "prtt_rate": "0.00", "mod_yn": "N", "revl_issu_reas": ""})
            price = close
        payload = {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "ok",
                   "output1": {"hts_kor_isnm": code}, "output2": list(reversed(rows))}
        (target / f"{code}.json.gz").write_bytes(gzip.compress(json.dumps(payload).encode()))


def backfill(start: date, end: date, codes: list[str] = STOCKS, shards: int = 1) -> tuple[float, dict]:
    from azak_cli.market import backfill_prices

    started = time.perf_counter()
    result = backfill_prices(None, start, end, codes, shards=shards)  # type: ignore[arg-type]
    return time.perf_counter() - started, result


@contextmanager
def celery_workers(count: int, logs: Path) -> Iterator[float]:
    """``count`` `azak worker` processes on a queue of their own; yields their start-up time."""
    from azak_cli.runtime.environment import PROJECT_ROOT

    queue = f"azak-bench-{uuid.uuid4().hex[:8]}"
    os.environ.update({"AZAK_EXECUTOR": "celery", "AZAK_CELERY_QUEUE": queue})
    azak = Path(sys.executable).parent / "azak"
    started = time.perf_counter()
    workers = []
    for number in range(count):
        log = logs / f"worker-{number}.log"
        with log.open("wb") as out:
            workers.append((subprocess.Popen([str(azak), "worker", "--name", f"{queue}-{number}"], cwd=PROJECT_ROOT,
                                             env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT), log))
    try:
        for process, log in workers:
            while " ready." not in log.read_text(errors="replace"):
                if process.poll() is not None:
                    raise RuntimeError(f"a worker exited:\n{log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield time.perf_counter() - started
    finally:
        for process, _ in workers:
            process.send_signal(signal.SIGTERM)
        for process, _ in workers:
            process.wait(60)
        import kombu

        from azak_pipelines.defs.executor import celery_settings

        with kombu.Connection(celery_settings()[0]) as connection:
            connection.default_channel.queue_delete(queue)
        for key in ("AZAK_EXECUTOR", "AZAK_CELERY_QUEUE"):
            os.environ.pop(key, None)


def scale_out(stocks: int, years: int, workers: int = 2) -> None:
    """The same replayed backfill into fresh tables: the asset's single step, the sharded job in one
    process (the in-process executor runs the shards in turn), and on ``workers`` Celery workers."""
    import psycopg

    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

    codes = [f"{800000 + i}" for i in range(stocks)]
    end = date(2025, 6, 17)
    start = date(end.year - years, end.month, end.day)
    sessions = krx_calendar().sessions_between(start, date(2025, 6, 18))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        write_recordings(Path(tmp), sessions, codes)
        os.environ.update({"AZAK_SAMPLE_DATA_DIR": tmp, "AZAK_SOURCE_MODE": "replay", "AZAK_HOME": tmp})
        shape = f"{stocks:,} stocks x {len(sessions):,} sessions"
        from azak_pipelines.definitions import defs

        defs()  # imports and definitions loaded before any side is timed
        timings = {}
        sides = ("one process, the asset's step", f"one process, {workers} shards in turn",
                 f"{workers} Celery workers, {workers} shards")
        for side in sides:
            with scratch_database("azak_bench_scale") as url:
                if side == sides[0]:
                    seconds, meta = backfill(start, end, codes)
                elif side == sides[1]:
                    seconds, meta = backfill(start, end, codes, shards=workers)
                else:
                    with celery_workers(workers, Path(tmp)) as startup:
                        results.append((f"{workers} workers' start-up (not in the timing)", f"{startup:.1f} s"))
                        seconds, meta = backfill(start, end, codes, shards=workers)
                with psycopg.connect(url) as conn:
                    stored = conn.execute("SELECT count(*) FROM raw.daily_prices").fetchall()[0][0]
            timings[side] = seconds
            results.append((f"replay, {shape}, {side}",
                            f"{seconds:.1f} s ({stored:,} rows, {stored / seconds:,.0f} rows/s, "
                            f"{meta['kis_requests']:,} requests)"))
        _, one, many = timings.values()
        results.append((f"ratio (the same {workers} shards: in turn / on Celery)", f"{one / many:.2f}x"))
        full = 2_900 * 2_460
        results.append(("2,900 stocks x ten years by extrapolation",
                        f"{full * one / (stocks * len(sessions)) / 60:.0f} min one process, "
                        f"{full * many / (stocks * len(sessions)) / 60:.0f} min on {workers} workers"))
        for key in ("AZAK_SAMPLE_DATA_DIR", "AZAK_SOURCE_MODE", "AZAK_HOME"):
            os.environ.pop(key, None)
    report(f"price backfill, one process vs {workers} Celery workers (benchmarks/backfill.py --celery)", results)


def main(ten_years: bool) -> None:
    from azak_core.market import KST
    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
    from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve

    calendar = krx_calendar()
    end = date(2025, 6, 17)
    year = calendar.sessions_between(calendar.add_sessions(end, -249), date(2025, 6, 18))
    decade_start = date(2015, 6, 17)
    sessions = calendar.sessions_between(decade_start if ten_years else year[0], date(2025, 6, 18))
    results = []
    with tempfile.TemporaryDirectory() as tmp, scratch_database("azak_bench_backfill"):
        write_recordings(Path(tmp), sessions)
        os.environ.update({"AZAK_SAMPLE_DATA_DIR": tmp, "AZAK_SOURCE_MODE": "replay"})
        seconds, meta = backfill(year[0], end)
        results.append(("replay, 250 sessions x 50 stocks, one run",
                        f"{seconds:.1f} s ({meta['rows_written']:,} rows, {meta['kis_requests']} requests)"))

        simulator = KisSimulator(Path(tmp) / "kis", clock=fixed_clock(datetime(2025, 6, 17, 18, tzinfo=KST)),
                                 app_key="bench", app_secret="bench")
        with serve(simulator) as url:
            os.environ.update({"AZAK_SOURCE_MODE": "live", "AZAK_KIS_APP_KEY": "bench",
                               "AZAK_KIS_APP_SECRET": "bench", "AZAK_KIS_ENV": "real",
                               "AZAK_KIS_BASE_URL": url})
            seconds, meta = backfill(year[0], end)
            results.append(("live over HTTP at 19 req/s, same range",
                            f"{seconds:.1f} s ({meta['kis_requests']} requests, "
                            f"{simulator.throttled} throttled, {simulator.tokens_issued} token)"))
            if ten_years:
                simulator.requests.clear()
                seconds, meta = backfill(decade_start, end)
                results.append(("live, ten years x 50 stocks, one run",
                                f"{seconds:.1f} s ({meta['rows_written']:,} rows, "
                                f"{meta['kis_requests']} requests, {simulator.throttled} throttled)"))
        for key in ("AZAK_SAMPLE_DATA_DIR", "AZAK_SOURCE_MODE", "AZAK_KIS_APP_KEY",
                    "AZAK_KIS_APP_SECRET", "AZAK_KIS_ENV", "AZAK_KIS_BASE_URL"):
            os.environ.pop(key, None)
    report("single-run price backfill (benchmarks/backfill.py)", results)


def rate_bound(stocks: int) -> None:
    from azak_core.market import KST
    from azak_pipelines.definitions import defs
    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
    from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve
    from benchmarks.common import load_average

    codes = [f"{800000 + i}" for i in range(stocks)]
    warm_up = [f"{800000 + stocks}"]  # a stock outside the timed ones: one-time costs before timing
    start, end = date(2015, 6, 17), date(2025, 6, 17)
    results = [("load average at the start", load_average())]
    with tempfile.TemporaryDirectory() as tmp, scratch_database("azak_bench_rate"):
        write_recordings(Path(tmp), krx_calendar().sessions_between(start, date(2025, 6, 18)), codes + warm_up)
        defs()
        for keys in (1, 2):
            simulator = KisSimulator(Path(tmp) / "kis", clock=fixed_clock(datetime(2025, 6, 17, 18, tzinfo=KST)),
                                     app_key="bench", app_secret="bench", more_keys={"bench2": "bench2"})
            with serve(simulator) as url:
                os.environ.update({"AZAK_SOURCE_MODE": "live", "AZAK_KIS_APP_KEY": "bench",
                                   "AZAK_KIS_APP_SECRET": "bench", "AZAK_KIS_ENV": "real",
                                   "AZAK_KIS_BASE_URL": url, "AZAK_SAMPLE_DATA_DIR": tmp,
                                   "AZAK_KIS_APP_KEYS": "bench2:bench2" if keys == 2 else ""})
                backfill(start, end, warm_up)  # the first run's imports, tables, partitions, tokens
                simulator.requests.clear()
                simulator.requests_by_key.clear()
                simulator.throttled = 0
                cpu = resource.getrusage(resource.RUSAGE_SELF)
                began = time.monotonic()
                seconds, meta = backfill(start, end, codes)
                ended = time.monotonic()
                used = resource.getrusage(resource.RUSAGE_SELF)
            requests = meta["kis_requests"]
            bound = requests / (19 * keys)
            first, last = simulator.requests[0][0], simulator.requests[-1][0]
            fetch = last - first
            cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
            results += [
                (f"{keys} key(s): {stocks} stocks x ten years",
                 f"{requests:,} requests, {meta['rows_written']:,} rows, "
                 f"{simulator.throttled} throttled, tokens {dict(simulator.tokens_by_key)}, "
                 f"requests per key {dict(simulator.requests_by_key)}"),
                (f"{keys} key(s): the run", f"{seconds:.1f} s = {bound / seconds:.3f} of the bound "
                 f"(requests / {19 * keys} = {bound:.1f} s), {requests / seconds:.1f} requests/s"),
                (f"{keys} key(s): the fetch", f"{fetch:.1f} s (first to last request) = {bound / fetch:.3f} "
                 f"of the bound, {requests / fetch:.1f} requests/s"),
                (f"{keys} key(s): before the first / after the last request",
                 f"{first - began:.1f} s / {ended - last:.1f} s"),
                (f"{keys} key(s): CPU of this process (client, local server, Dagster)",
                 f"{cpu_seconds:.1f} s = {cpu_seconds / seconds:.2f} of a core, "
                 f"{cpu_seconds / requests * 1000:.1f} ms a request"),
                (f"{keys} key(s): load average after", load_average()),
            ]
            if keys == 1:
                full = 2_900 * requests / stocks
                results.append(("2,900 stocks x ten years by extrapolation",
                                f"{full:,.0f} requests: {full / 19 / 3600:.2f} h at the bound of one key, "
                                f"{full * seconds / requests / 3600:.2f} h at this run's rate"))
        for key in ("AZAK_SAMPLE_DATA_DIR", "AZAK_SOURCE_MODE", "AZAK_KIS_APP_KEY", "AZAK_KIS_APP_KEYS",
                    "AZAK_KIS_APP_SECRET", "AZAK_KIS_ENV", "AZAK_KIS_BASE_URL"):
            os.environ.pop(key, None)
    report("live backfill at the KIS rate bound (benchmarks/backfill.py --rate-bound)", results)


if __name__ == "__main__":
    if "--rate-bound" in sys.argv:
        rate_bound(int(sys.argv[sys.argv.index("--rate-bound") + 1]))
    elif "--celery" in sys.argv:
        at = sys.argv.index("--celery")
        scale_out(int(sys.argv[at + 1]), int(sys.argv[at + 2]))
    else:
        main("--ten-years" in sys.argv)
