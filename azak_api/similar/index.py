"""The API's handle on the vector store: the pipelines' embedder and its Milvus collection.

One :class:`NewsIndex` per configuration, shared by requests; its blocking calls (embedding a
query, gRPC to Milvus) run in worker threads, one at a time per index (Kiwi and the Milvus client
are not made for concurrent use)."""

import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from litestar.exceptions import HTTPException

from azak_api.settings import Settings
from azak_core.embeddings import Embedder, EmbedderSettings, EmbeddingError, select_embedder
from azak_core.vectors import NewsVectors, UnknownCollection, VectorStoreError

T = TypeVar("T")
MILVUS_TIMEOUT_SECONDS = 3.0


class Unavailable(HTTPException):
    """The vector store (or the embedding provider) cannot answer: 503 with what to do."""

    status_code = 503


class NewsIndex:
    def __init__(self, milvus_uri: str | None, embedder_settings: EmbedderSettings):
        self.milvus_uri = milvus_uri
        self.embedder_settings = embedder_settings
        self._embedder: Embedder | None = None
        self._vectors: NewsVectors | None = None
        self._lock = threading.Lock()

    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = select_embedder(self.embedder_settings)
        return self._embedder

    def vectors(self) -> NewsVectors:
        if self.milvus_uri is None:
            raise Unavailable("similar-news search needs Milvus: set AZAK_MILVUS_URI (`azak serve` starts the "
                              "embedded one and sets it)")
        if self._vectors is None:
            embedder = self.embedder()
            self._vectors = NewsVectors(self.milvus_uri, embedder.key, embedder.dimension,
                                        timeout=MILVUS_TIMEOUT_SECONDS)
        return self._vectors

    async def call(self, work: Callable[["NewsIndex"], T]) -> T:
        """Run ``work(self)`` in a thread; vector-store and provider failures become a clear 503."""

        def attempt() -> T:
            try:
                return work(self)
            except UnknownCollection:
                raise
            except VectorStoreError:  # a dropped connection: once more on a fresh one
                self._reset()
                return work(self)

        def locked() -> T:
            with self._lock:
                try:
                    return attempt()
                except UnknownCollection as error:
                    raise Unavailable(f"{error}; until then there is nothing to search") from error
                except VectorStoreError as error:
                    self._reset()
                    raise Unavailable(f"the vector store is unavailable: {error}") from error
                except EmbeddingError as error:  # the text was checked: the provider failed
                    raise Unavailable(f"the embedder {self.embedder_settings.embedder_key()} failed: {error}") \
                        from error

        return await anyio.to_thread.run_sync(locked)

    def _reset(self) -> None:
        if self._vectors is not None:
            with contextlib.suppress(Exception):  # the connection is broken; a new one is made next time
                self._vectors.close()
            self._vectors = None


_INDEXES: dict[tuple[object, ...], NewsIndex] = {}
_INDEXES_LOCK = threading.Lock()


def provide_news_index(settings: Settings) -> NewsIndex:
    """The index for these settings (the embedder loads once per process, not per request)."""
    embedder_settings = EmbedderSettings(settings.embedder, settings.openai_api_key, settings.openai_base_url,
                                         settings.openai_embedding_model)
    key = (settings.milvus_uri, embedder_settings)
    with _INDEXES_LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = NewsIndex(settings.milvus_uri, embedder_settings)
        return _INDEXES[key]
