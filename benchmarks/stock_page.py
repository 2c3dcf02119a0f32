"""``GET /api/stocks/005930/page`` (the stock page in one call) on loopback, cached and uncached,
the way benchmarks/api.py measures the prices route (and with its helpers): a copy of the demo's
warehouse, one uvicorn worker pinned to CPU 0, keep-alive connections in a closed loop from this
process on CPU 1, a warm-up, then a timed window; every answer must be 200.

Variants, each in a fresh server:

* cached   — the response cache on (memory): the page is kept for the shortest time to live of its
  parts; in the same server, the cached prices route of benchmarks/api.py as the baseline;
* uncached — ``AZAK_CACHE_TTLS=stock=0,quote=0,news=0,analysis=0`` (so the page's is 0): every
  request runs the page's queries (detail, valuation, quote and book, after-hours, calendar,
  reports, predictions, news); with the same connections and with one (one request's time).

Run ``azak demo --no-serve`` first (same AZAK_HOME / AZAK_PG_PORT, or AZAK_DATABASE_URL).

    python -m benchmarks.stock_page [--seconds 10] [--connections 16]
"""

import os

import httpx

from benchmarks.api import EMAIL, PASSWORD, PRICES, _pin, command_line, demo_copy, drive, served, setup
from benchmarks.common import load_average, report

PAGE = "/api/stocks/005930/page"


def main(seconds: float = 10.0, connections: int = 16) -> None:
    _pin(1)
    rows = []
    with demo_copy() as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZAK_")}
        env.update({"AZAK_DATABASE_URL": database_url, "AZAK_JWT_SECRET": "benchmark-" + "x" * 40,
                    "AZAK_ENV": "development", "AZAK_EMBEDDER": "offline"})
        variants = [("cached (memory)", {}, [connections]),
                    ("uncached", {"AZAK_CACHE_TTLS": "stock=0,quote=0,news=0,analysis=0"}, [connections, 1])]
        for label, extra, counts in variants:
            with served("azak_api.app:create_app", {**env, **extra}, factory=True) as port:
                login = httpx.post(f"http://127.0.0.1:{port}/api/auth/login",
                                   json={"email": EMAIL, "password": PASSWORD})
                login.raise_for_status()
                auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
                page = httpx.get(f"http://127.0.0.1:{port}{PAGE}", headers=auth, timeout=60)
                page.raise_for_status()
                shown = page.json()
                what = (f"{len(shown['analysis']['reports'])} reports, {len(shown['predictions'])} predictions, "
                        f"{len(shown['news'])} articles, quote {'yes' if shown['quote'] else 'none'}")
                baseline = drive(port, PRICES, auth, connections, seconds) if not extra else None
                for count in counts:
                    load = drive(port, PAGE, auth, count, seconds)
                    line = f"{load.line()}; {what}; {count} connection{'s' * (count > 1)}"
                    if baseline is not None:
                        line += f"; {load.rps / baseline.rps:.2f}× the cached prices route in the same server"
                    rows.append((f"{PAGE} {label}", f"{line}; load average {load_average()}"))
                if baseline is not None:
                    rows.append((f"{PRICES} cached (memory), same server",
                                 f"{baseline.line()}; load average {load_average()}"))
    rows.append(("setup", setup(seconds, connections)))
    report("the stock page on loopback (benchmarks/stock_page.py)", rows)


if __name__ == "__main__":
    command_line(main, __doc__ or "")
