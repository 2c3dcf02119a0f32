"""Single-run price backfills: replay (250 sessions x 50 stocks) and live against a KIS server.

Synthetic daily series for 50 stocks are written as KIS FHKST03010100 recordings, then
``azak backfill prices`` runs as one Dagster run (in-process, like the CLI):

* replay — the bundled-data path (no network, no rate limit): target under 60 s;
* live   — the same backfill over real HTTP against the local KIS protocol server, with the shared
  PostgreSQL rate limiter at KIS's default 19 requests/s and the server enforcing 20/s;
* live, ten years — 50 stocks x ~2,460 sessions in one run (``--ten-years``).

    python -m benchmarks.backfill [--ten-years]
"""

import gzip
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from benchmarks.common import report, scratch_database

STOCKS = [f"{800000 + i}" for i in range(50)]


def write_recordings(directory: Path, sessions: list[date]) -> None:
    target = directory / "kis" / "daily"
    target.mkdir(parents=True, exist_ok=True)
    for code in STOCKS:
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


def backfill(start: date, end: date) -> tuple[float, dict]:
    from azak_cli.market import backfill_prices

    started = time.perf_counter()
    result = backfill_prices(None, start, end, STOCKS)  # type: ignore[arg-type]
    return time.perf_counter() - started, result


def main(ten_years: bool) -> None:
    from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock, serve
    from azak_pipelines.lib.krx_calendar import KST, krx_calendar

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


if __name__ == "__main__":
    main("--ten-years" in sys.argv)
