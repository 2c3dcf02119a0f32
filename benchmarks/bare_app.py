"""The baselines of benchmarks/api.py: a bare Litestar app (no auth, no database, no cache), served
by the same uvicorn in the same way. ``/bare`` answers a tiny JSON object; ``/bare/prices`` answers
the same document as ``GET /api/stocks/005930/prices`` (read from ``AZAK_BENCH_PAYLOAD`` at start-up
and serialized on every request, as any handler's return value is)."""

import os
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, get

PAYLOAD: Any = msgspec.json.decode(Path(os.environ["AZAK_BENCH_PAYLOAD"]).read_bytes())


@get("/bare", sync_to_thread=False)
def bare() -> dict[str, object]:
    return {"status": "ok", "items": [1, 2, 3]}


@get("/bare/prices", sync_to_thread=False)
def bare_prices() -> Any:
    return PAYLOAD


app = Litestar([bare, bare_prices], openapi_config=None)
