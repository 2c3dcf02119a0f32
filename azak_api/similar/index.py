"""The API's handle on the vector store: the pipelines' embedder and its Milvus collection.

One :class:`NewsIndex` per configuration, shared by requests; its blocking calls (embedding a
query, gRPC to Milvus) run in worker threads. Milvus searches run concurrently, each on a client
of its own from a pool of ``AZAK_MILVUS_CLIENTS`` (a pymilvus client is not made for concurrent
use; one client for the whole process made every search wait for the one before). Embedding a
query stays one at a time (Kiwi is not made for concurrent use either)."""

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import anyio.to_thread
import numpy as np
from litestar.exceptions import HTTPException

from azak_api.settings import Settings
from azak_core.embeddings import Embedder, EmbedderSettings, EmbeddingError, select_embedder
from azak_core.vectors import NewsVectors, UnknownCollection, VectorStoreError

T = TypeVar("T")
MILVUS_TIMEOUT_SECONDS = 3.0
POOL_WAIT_S = 10.0  # a few searches' worth (each bounded by MILVUS_TIMEOUT_SECONDS)


class Unavailable(HTTPException):
    """The vector store (or the embedding provider) cannot answer: 503 with what to do."""

    status_code = 503


class NewsIndex:
    def __init__(self, milvus_uri: str | None, embedder_settings: EmbedderSettings, clients: int = 1):
        self.milvus_uri = milvus_uri
        self.embedder_settings = embedder_settings
        self.embedder_key = embedder_settings.embedder_key()  # without loading the embedder
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()  # loading it
        self._embedding_lock = threading.Lock()  # using it
        # free slots, each holding its own client once it has connected (None before); taken in
        # turn, so every client stays in use and none idles until its connection is dropped
        self._slots: queue.Queue[NewsVectors | None] = queue.Queue()
        for _ in range(clients):
            self._slots.put(None)

    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    self._embedder = select_embedder(self.embedder_settings)
        return self._embedder

    async def embed(self, text: str) -> np.ndarray:
        """The query's vector, one embedding at a time; a failing provider is a clear 503."""

        def locked() -> np.ndarray:
            embedder = self.embedder()
            with self._embedding_lock, self._errors():
                vector: np.ndarray = embedder.embed([text]).vectors[0]
            return vector

        return await anyio.to_thread.run_sync(locked)

    async def call(self, work: Callable[[NewsVectors], T]) -> T:
        """Run ``work(store)`` in a thread on a free client of the pool (waiting for one when all
        are busy); vector-store failures become a clear 503."""

        def pooled() -> T:
            with self._errors(), self._client() as slot:
                try:
                    return work(slot.store())
                except UnknownCollection:
                    raise
                except VectorStoreError:  # a dropped connection: once more on a fresh one
                    slot.reset()
                    return work(slot.store())

        return await anyio.to_thread.run_sync(pooled)

    @contextlib.contextmanager
    def _client(self) -> Iterator["_Slot"]:
        if self.milvus_uri is None:
            raise Unavailable("similar-news search needs Milvus: set AZAK_MILVUS_URI (`azak serve` starts the "
                              "embedded one and sets it)")
        try:  # bounded: a waiting request holds one of the worker threads
            slot = _Slot(self, self._slots.get(timeout=POOL_WAIT_S))
        except queue.Empty:
            raise Unavailable(f"every Milvus client of this process stayed busy for {POOL_WAIT_S:g} s; "
                              "try again") from None
        try:
            yield slot
        except VectorStoreError as error:
            if not isinstance(error, UnknownCollection):
                slot.reset()  # broken: the next borrower connects afresh
            raise
        finally:
            self._slots.put(slot.vectors)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except UnknownCollection as error:
            raise Unavailable(f"{error}; until then there is nothing to search") from error
        except VectorStoreError as error:
            raise Unavailable(f"the vector store is unavailable: {error}") from error
        except EmbeddingError as error:  # the text was checked: the provider failed
            raise Unavailable(f"the embedder {self.embedder_settings.embedder_key()} failed: {error}") from error


class _Slot:
    """One borrowed place in the pool: its client, connected on first use, dropped when broken."""

    def __init__(self, index: NewsIndex, vectors: NewsVectors | None):
        self.index = index
        self.vectors = vectors

    def store(self) -> NewsVectors:
        if self.vectors is None:
            embedder = self.index.embedder()
            assert self.index.milvus_uri is not None  # checked when the slot was taken
            self.vectors = NewsVectors(self.index.milvus_uri, embedder.key, embedder.dimension,
                                       timeout=MILVUS_TIMEOUT_SECONDS, dedicated=True)
        return self.vectors

    def reset(self) -> None:
        if self.vectors is not None:
            with contextlib.suppress(Exception):  # the connection is broken; a new one is made next time
                self.vectors.close()
            self.vectors = None


_INDEXES: dict[tuple[object, ...], NewsIndex] = {}
_INDEXES_LOCK = threading.Lock()


def provide_news_index(settings: Settings) -> NewsIndex:
    """The index for these settings (the embedder loads once per process, not per request)."""
    embedder_settings = EmbedderSettings(settings.embedder, settings.openai_api_key, settings.openai_base_url,
                                         settings.openai_embedding_model)
    key = (settings.milvus_uri, embedder_settings, settings.milvus_clients)
    with _INDEXES_LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = NewsIndex(settings.milvus_uri, embedder_settings, settings.milvus_clients)
        return _INDEXES[key]

