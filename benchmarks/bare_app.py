"""The baseline of benchmarks/api.py: a bare Litestar app with one JSON endpoint (no auth, no
database, no cache), served by the same uvicorn in the same way."""

from litestar import Litestar, get


@get("/bare", sync_to_thread=False)
def bare() -> dict[str, object]:
    return {"status": "ok", "items": [1, 2, 3]}


app = Litestar([bare], openapi_config=None)
