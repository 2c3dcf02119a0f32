"""Bounded cost per request, over the real app: a statement past the API's timeout is cancelled
(503 naming it), ``q`` is text not a pattern, every page's total is capped the same way, and
Milvus searches of one process run side by side."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial

import httpx
import psycopg
import pytest

from tests.api.conftest import bearer, serving, sql
from tests.api.test_similar import article_with_neighbours
from tests.conftest import free_port


async def test_a_statement_past_the_timeout_is_cancelled_and_answered_503(app_settings, user, api_warehouse):
    # a real slow query: another session holds the table the news list reads (as a long
    # migration or a VACUUM FULL would); the lock is let go after 3 s, so without a timeout the
    # request would answer 200 late instead of hanging the suite: the 503 is the proof (no clock)
    settings = replace(app_settings, statement_timeout_ms=300)
    with serving(settings) as base, psycopg.connect(api_warehouse) as locker:
        locker.execute("LOCK TABLE marts.news_articles IN ACCESS EXCLUSIVE MODE")
        release = threading.Timer(3.0, locker.rollback)
        release.start()
        try:
            response = httpx.get(f"{base}/api/news", headers=bearer(user.token), timeout=30)
        finally:
            release.join()
    assert response.status_code == 503, response.text
    assert "statement timeout (AZAK_API_STATEMENT_TIMEOUT_MS)" in response.json()["detail"]


@pytest.mark.parametrize("wildcard", ["%", "_"])
async def test_like_wildcards_in_q_are_literal_characters(app_settings, user, api_warehouse, wildcard):
    [(articles,)] = sql(api_warehouse, "SELECT count(*) FROM marts.news_articles")
    literal = {str(r[0]) for r in sql(api_warehouse, "SELECT news_id FROM marts.news_articles "
                                                     "WHERE strpos(title, %s) > 0 OR strpos(summary, %s) > 0",
                                      (wildcard, wildcard))}
    with serving(app_settings) as base:  # the attack over real HTTP
        news = httpx.get(f"{base}/api/news", params={"q": wildcard, "page_size": 100},
                         headers=bearer(user.token), timeout=30).json()
        stocks = httpx.get(f"{base}/api/stocks", params={"q": wildcard}, headers=bearer(user.token),
                           timeout=30).json()
    assert news["total"] == len(literal) < articles
    assert {item["id"] for item in news["items"]} <= literal
    # the stock search too: a name containing it, or a code starting with it (none has either)
    assert stocks["total"] == 0 and stocks["items"] == []


async def test_every_page_carries_a_capped_total(client):
    components = (await client.get("/docs/openapi.json")).json()["components"]["schemas"]
    pages = {name: schema for name, schema in components.items()
             if {"items", "total"} <= set(schema.get("properties", {}))}
    assert {"ArticlePage", "PredictionPage", "EvaluationPage", "StockPage", "UserPage", "SubscriberPage",
            "NotificationPage"} <= set(pages)
    for name, schema in pages.items():
        assert schema["properties"]["total_is_estimate"]["type"] == "boolean", name
        assert {"total", "total_is_estimate"} <= set(schema["required"]), name


async def test_a_short_page_is_counted_exactly(client, admin):
    users = (await client.get("/api/users", params={"page_size": 200}, headers=bearer(admin.token))).json()
    assert users["total"] == len(users["items"]) and users["total_is_estimate"] is False
    past = (await client.get("/api/users", params={"page": 2, "page_size": 200}, headers=bearer(admin.token))).json()
    assert past["items"] == [] and past["total"] == users["total"] and past["total_is_estimate"] is False


DELAY = 0.3  # seconds each way between the API and Milvus, once connected: a far-away vector store
PREFACE = len(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")  # what a gRPC client sends before its frames
HEADERS, DATA, RST_STREAM, END_STREAM = 0x1, 0x0, 0x3, 0x1


class Frames:
    """The HTTP/2 frames of one direction of one connection, read as the bytes pass: each frame's
    type, flags and stream go to ``on_frame`` (what gRPC calls the API makes, without a clock)."""

    def __init__(self, on_frame: Callable[[int, int, int], None], preface: bool):
        self.on_frame, self.skip, self.buffer = on_frame, PREFACE if preface else 0, b""

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        skipped = min(self.skip, len(self.buffer))
        self.buffer, self.skip = self.buffer[skipped:], self.skip - skipped
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                break
            self.on_frame(self.buffer[3], self.buffer[4], int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF)
            self.buffer = self.buffer[9 + length:]


class Wire:
    """A TCP relay to the real Milvus whose latency can be raised (``delay`` seconds each way),
    counting the gRPC calls it carries: ``calls`` started by the API, and the most that were in
    flight at once (started, not yet answered by Milvus)."""

    def __init__(self, milvus_uri: str):
        self.host, port = milvus_uri.removeprefix("http://").rsplit(":", 1)
        self.port = int(port)
        self.delay = 0.0
        self.calls = self.most_in_flight = 0
        self.in_flight: set[tuple[int, int]] = set()  # (connection, stream)
        self.connections = 0

    def count(self) -> None:
        """Count from now on (what connecting cost is not counted)."""
        self.calls, self.most_in_flight = 0, len(self.in_flight)

    def _client_frame(self, connection: int, kind: int, flags: int, stream: int) -> None:
        if kind == HEADERS and stream and (connection, stream) not in self.in_flight:
            self.in_flight.add((connection, stream))
            self.calls += 1
            self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        elif kind == RST_STREAM:
            self.in_flight.discard((connection, stream))

    def _server_frame(self, connection: int, kind: int, flags: int, stream: int) -> None:
        if kind == RST_STREAM or (kind in (HEADERS, DATA) and flags & END_STREAM):
            self.in_flight.discard((connection, stream))

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, frames: Frames) -> None:
        """Forward bytes ``delay`` seconds late, in order, without limiting the rate (a long wire)."""
        due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                at, chunk = await due.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                writer.write(chunk)
                await writer.drain()
            writer.close()

        sender = asyncio.ensure_future(send())
        while chunk := await reader.read(65536):
            frames.feed(chunk)
            due.put_nowait((time.monotonic() + self.delay, chunk))
        due.put_nowait((0.0, b""))
        await sender

    async def relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(self.host, self.port)
        self.connections += 1
        connection = self.connections
        await asyncio.gather(
            self.pump(client_reader, server_writer, Frames(partial(self._client_frame, connection), preface=True)),
            self.pump(server_reader, client_writer, Frames(partial(self._server_frame, connection), preface=False)),
            return_exceptions=True)


@contextmanager
def wired(milvus_uri: str) -> Iterator[tuple[Wire, str]]:
    """A :class:`Wire` to the Milvus at ``milvus_uri``, served from a thread of its own (the test
    client blocks its own loop while the app answers), and the URI to reach it through."""
    wire = Wire(milvus_uri)
    port = free_port()
    loop = asyncio.new_event_loop()
    listening = threading.Event()

    def serve() -> None:
        loop.run_until_complete(asyncio.start_server(wire.relay, "127.0.0.1", port))
        listening.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="milvus-wire", daemon=True)
    thread.start()
    listening.wait(timeout=10)
    try:
        yield wire, f"http://127.0.0.1:{port}"
    finally:
        async def stop() -> None:  # the relays' tasks end before the loop does (no "Task was destroyed")
            tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), loop)
        thread.join(timeout=10)
        loop.close()


async def test_milvus_searches_of_one_process_overlap(app_settings, user, api_warehouse):
    news_id, _, _ = article_with_neighbours(api_warehouse)
    cache_off = {**app_settings.cache_ttls, "similar": 0}
    with wired(app_settings.milvus_uri or "") as (wire, far_milvus):
        settings = replace(app_settings, milvus_uri=far_milvus, cache_ttls=cache_off, milvus_clients=4)
        with serving(settings) as base:
            async with httpx.AsyncClient(base_url=base, headers=bearer(user.token), timeout=30) as client:

                async def similar(k: int) -> None:
                    # a threshold of its own: searched in Milvus, not the stored neighbours
                    response = await client.get(f"/api/news/{news_id}/similar", params={"k": k, "min_similarity": 0})
                    assert response.status_code == 200, response.text

                for k in range(1, 5):  # connected while the wire is short (a connection takes ~20 round trips)
                    await similar(k)
                wire.delay = DELAY
                wire.count()
                await similar(5)
                alone = (wire.calls, wire.most_in_flight)
                wire.count()
                await asyncio.gather(*(similar(k) for k in range(6, 10)))
                together = (wire.calls, wire.most_in_flight)
    # counted on the wire, not timed (a loaded machine stretches any time): each request makes one
    # Milvus call (the search: the article's vector comes from PostgreSQL), not two (a get of the
    # vector first); four requests side by side have their searches in flight at once, where
    # searches serialized per process would have one at a time (the wire's 0.3 s each way keeps
    # each search in flight long enough to overlap the others)
    assert alone == (1, 1), alone
    assert together[0] == 4 and together[1] >= 2, together
