"""The news vector store: one Milvus collection per embedder, written by the pipelines and read by
the API and ``azak similar``, through pymilvus.

Collection ``news_s<schema>_<embedder>_<version>`` (characters Milvus refuses become ``_``):
article id (primary key), KST publication day (``yyyymmdd``), publication time (epoch seconds,
UTC), linked stock codes, source, content type, story cluster and the unit vector.

The stock codes are one delimited string, ``|005930|000660|``, filtered with ``like
"%|005930|%"``: milvus-lite evaluates ``array_contains`` on an array field row by row in Python,
``like`` natively (a filtered top-10 search, p50: 4.1 s against 35 ms at 20,000 articles, 6.9 s
against 80 ms at 50,000, the same hits; ``python -m benchmarks.embeddings N --before``).
The schema version is in the collection name, so a collection of an older schema is never
searched with this filter: it is rebuilt under the new name by ``milvus/news_embeddings`` (its
code version carries the schema version), then dropped.

The metric is cosine — the inner product (``IP``) of unit vectors — and it is written only here,
so a threshold means the same thing everywhere. The index is HNSW (M=16, efConstruction=200;
searches use ef = max(64, 2·limit)): exact enough at a few million articles, where a flat index
would scan everything per query.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from azak_core.market import is_stock_code

METRIC = "IP"

# The similar-news thresholds, in one place. Similarities are cosines, but each embedder has its own
# scale: on the team's labelled set (424 items) kiwi-hash@2 puts unrelated articles at 0.005
# (median; 95th percentile 0.11, 2.5% of pairs reach 0.15), other articles about the same company
# at 0.30 (71% reach 0.15) and the same story from two outlets at 0.69 (the least 0.43); @1 had
# the same 2.5% of unrelated pairs above 0.15 but only 62% of the same company's. OpenAI's
# text-embedding-3-small sits higher for everything.
NEIGHBOURS = 10
MIN_SIMILARITY = {"kiwi-hash": 0.15, "openai": 0.35}


def min_similarity(embedder_name: str) -> float:
    """The least similarity at which an earlier article counts as similar, for this embedder."""
    if embedder_name not in MIN_SIMILARITY:
        raise KeyError(f"no similarity threshold for embedder {embedder_name!r}: add one to MIN_SIMILARITY")
    return MIN_SIMILARITY[embedder_name]

INDEX = {"index_type": "HNSW", "metric_type": METRIC, "params": {"M": 16, "efConstruction": 200}}
MIN_EF = 64
MAX_LIMIT = 16384  # Milvus's largest topk
MAX_STOCKS = 64
STOCK_TEXT_LENGTH = 1 + MAX_STOCKS * 7  # "|" + 64 × "005930|"
# pymilvus pings idle connections every 10 s; gRPC servers that keep gRPC's defaults (milvus-lite)
# answer that with GOAWAY "too many pings", so long-lived clients (the API) ping only while busy.
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 600_000, "grpc.keepalive_permit_without_calls": 0}
PREFIX = "news_"
# Bump when the fields change: collections get new names, and the assets a new code version.
# 1 (no version in the name): stock codes as ARRAY<VARCHAR>; 2: as one delimited VARCHAR.
SCHEMA_VERSION = 2
STOCK_DELIMITER = "|"


class VectorStoreError(RuntimeError):
    """Milvus is unreachable or refused an operation; the message says which and what to do."""


class UnknownCollection(VectorStoreError):
    """No collection for this embedder: its articles were never embedded."""


def collection_name(embedder_key: str, schema_version: int = SCHEMA_VERSION) -> str:
    """``kiwi-hash@2`` → ``news_s2_kiwi_hash_2``; one collection per schema, embedder name and
    version (schema 1 had no version in the name: ``news_kiwi_hash_2``)."""
    embedder = re.sub(r"[^0-9A-Za-z_]", "_", embedder_key).lower()
    return PREFIX + (embedder if schema_version == 1 else f"s{schema_version}_{embedder}")


def schema_code_version(embedder_key: str) -> str:
    """The embedding assets' code version: a new embedder or a new schema makes every partition stale."""
    return f"{embedder_key}/schema-{SCHEMA_VERSION}"


def stock_text(codes: Sequence[str]) -> str:
    """``["005930", "000660"]`` → ``|005930|000660|`` (``""`` for none), what :func:`mentions_stock` matches."""
    codes = list(codes)[:MAX_STOCKS]
    return STOCK_DELIMITER + STOCK_DELIMITER.join(codes) + STOCK_DELIMITER if codes else ""


def day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


@dataclass(frozen=True)
class ArticleVector:
    news_id: int
    published_day: date
    published_at: datetime
    stock_codes: Sequence[str]
    source: str
    content_type: str
    cluster_id: int
    vector: np.ndarray

    def entity(self) -> dict[str, Any]:
        return {
            "id": self.news_id, "published_day": day_number(self.published_day),
            "published_at": int(self.published_at.timestamp()), "stock_codes": stock_text(self.stock_codes),
            "source": self.source[:64], "content_type": self.content_type[:16], "cluster_id": self.cluster_id,
            "vector": self.vector.astype(np.float32).tolist(),
        }


@dataclass(frozen=True)
class Hit:
    news_id: int
    similarity: float
    published_at: int
    cluster_id: int


def milvus_client(uri: str, timeout: float = 10.0, dedicated: bool = False) -> Any:
    """A pymilvus client with the keep-alive settings every Azak process (and test) uses; a
    ``dedicated`` one has a connection of its own (pymilvus otherwise shares one per address)."""
    from pymilvus import MilvusClient  # importing pymilvus takes seconds: only when used
    from pymilvus.exceptions import MilvusException

    try:
        return MilvusClient(uri=uri, timeout=timeout, grpc_options=GRPC_OPTIONS, dedicated=dedicated)
    except MilvusException as error:
        raise VectorStoreError(f"cannot connect to Milvus at {uri}: {error.message}") from error


class NewsVectors:
    """One embedder's collection in the Milvus at ``uri`` (``name`` overrides it for throw-away ones;
    ``dedicated``: on a connection of its own, for clients used side by side)."""

    def __init__(self, uri: str, embedder_key: str, dimension: int, timeout: float = 10.0, name: str | None = None,
                 dedicated: bool = False):
        self.uri = uri
        self.name = name or collection_name(embedder_key)
        self.embedder_key = embedder_key
        self.dimension = dimension
        self.timeout = timeout
        self.dedicated = dedicated
        self._milvus: Any = None
        self._loaded = False

    @property
    def milvus(self) -> Any:
        if self._milvus is None:
            self._milvus = milvus_client(self.uri, self.timeout, self.dedicated)
        return self._milvus

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        from pymilvus.exceptions import MilvusException

        try:
            yield
        except VectorStoreError:
            raise
        except MilvusException as error:
            self._loaded = False  # a restarted Milvus released the collection: load it again next time
            raise VectorStoreError(f"Milvus at {self.uri} failed while {doing}: {error.message}") from error

    def close(self) -> None:
        if self._milvus is not None:
            self._milvus.close()
            self._milvus = None

    # -- schema ---------------------------------------------------------------------------------

    def exists(self) -> bool:
        with self._errors("listing collections"):
            return bool(self.milvus.has_collection(self.name, timeout=self.timeout))

    def ensure(self) -> bool:
        """Create the collection and its index if missing, and load it. True when created now."""
        from pymilvus import DataType, MilvusClient

        with self._errors(f"creating {self.name}"):
            created = False
            if not self.milvus.has_collection(self.name, timeout=self.timeout):
                schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False,
                                                    description=f"news vectors of {self.embedder_key}")
                schema.add_field("id", DataType.INT64, is_primary=True)
                schema.add_field("published_day", DataType.INT64)
                schema.add_field("published_at", DataType.INT64)
                schema.add_field("stock_codes", DataType.VARCHAR, max_length=STOCK_TEXT_LENGTH)
                schema.add_field("source", DataType.VARCHAR, max_length=64)
                schema.add_field("content_type", DataType.VARCHAR, max_length=16)
                schema.add_field("cluster_id", DataType.INT64)
                schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
                index = self.milvus.prepare_index_params()
                index.add_index(field_name="vector", index_name="vector", **INDEX)
                self.milvus.create_collection(self.name, schema=schema, index_params=index)
                created = True
            else:
                self._check_dimension()
            self.milvus.load_collection(self.name, timeout=self.timeout)
            self._loaded = True
            return created

    def _check_dimension(self) -> None:
        fields = self.milvus.describe_collection(self.name, timeout=self.timeout)["fields"]
        dim = next(int(f["params"]["dim"]) for f in fields if f["name"] == "vector")
        if dim != self.dimension:
            raise VectorStoreError(
                f"collection {self.name} holds {dim}-dimensional vectors, the embedder makes {self.dimension}; "
                "drop the collection or bump the embedder's version")

    def superseded(self) -> list[str]:
        """This embedder's collections of older schemas that exist (none for a named, throw-away one)."""
        if self.name != collection_name(self.embedder_key):
            return []
        older = [collection_name(self.embedder_key, version) for version in range(1, SCHEMA_VERSION)]
        with self._errors("listing collections"):
            return [name for name in older if self.milvus.has_collection(name, timeout=self.timeout)]

    def drop_superseded(self) -> list[str]:
        """Drop this embedder's collections of older schemas (no reader opens them any more); their names."""
        dropped = self.superseded()
        with self._errors("dropping superseded collections"):
            for name in dropped:
                self.milvus.drop_collection(name, timeout=self.timeout)
        return dropped

    def drop(self) -> None:
        with self._errors(f"dropping {self.name}"):
            if self.milvus.has_collection(self.name, timeout=self.timeout):
                self.milvus.drop_collection(self.name, timeout=self.timeout)
            self._loaded = False

    def _require(self) -> None:
        """The collection exists and is loaded: a restarted Milvus keeps collections but releases them."""
        if self._loaded:
            return
        if not self.exists():
            older = self.superseded()
            raise UnknownCollection(
                f"no Milvus collection {self.name} for embedder {self.embedder_key}"
                + (f" ({', '.join(older)} has an older schema and is not read)" if older else "")
                + ": materialize milvus/news_embeddings with this embedder first")
        with self._errors(f"loading {self.name}"):
            self.milvus.load_collection(self.name, timeout=self.timeout)
        self._loaded = True

    # -- writes ---------------------------------------------------------------------------------

    def replace_days(self, days: Sequence[date], articles: Sequence[ArticleVector], batch: int = 1000) -> int:
        """Make the collection hold exactly ``articles`` for ``days``: upsert them, then delete that
        window's entities that are no longer there. Readers never see the days empty. Returns the
        number of entities removed."""
        self.ensure()
        numbers = [day_number(d) for d in days]
        with self._errors(f"writing {self.name}"):
            for start in range(0, len(articles), batch):
                self.milvus.upsert(self.name, [a.entity() for a in articles[start:start + batch]],
                                   timeout=self.timeout)
            keep = {a.news_id for a in articles}
            stale = [row["id"] for row in self.milvus.query(
                self.name, filter=f"published_day in {numbers}", output_fields=["id"], timeout=self.timeout)
                if row["id"] not in keep] if numbers else []
            for start in range(0, len(stale), batch):
                self.milvus.delete(self.name, ids=stale[start:start + batch], timeout=self.timeout)
            self.milvus.flush(self.name, timeout=self.timeout)
        return len(stale)

    # -- reads ----------------------------------------------------------------------------------

    def count_by_day(self, days: Sequence[date] | None = None) -> dict[date, int]:
        """Entities per KST day (all days when ``days`` is None)."""
        self._require()
        filter_ = f"published_day in {[day_number(d) for d in days]}" if days is not None else ""
        counts: dict[date, int] = {}
        with self._errors(f"counting {self.name}"):
            iterator = self.milvus.query_iterator(self.name, batch_size=5000, filter=filter_,
                                                  output_fields=["published_day"], timeout=self.timeout)
            try:
                while rows := iterator.next():
                    for row in rows:
                        number = int(row["published_day"])
                        day = date(number // 10000, number // 100 % 100, number % 100)
                        counts[day] = counts.get(day, 0) + 1
            finally:
                iterator.close()
        return counts

    def vectors(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Stored entities (vector included) by article id."""
        self._require()
        if not ids:
            return {}
        with self._errors(f"reading {self.name}"):
            rows = self.milvus.get(self.name, ids=list(ids), timeout=self.timeout)
        return {int(row["id"]): row for row in rows}

    def search(self, vector: np.ndarray, limit: int, filter_: str = "", min_similarity: float = -1.0) -> list[Hit]:
        """The ``limit`` nearest entities passing the Milvus boolean ``filter_``, most similar first."""
        return self.search_many([vector], limit, filter_, min_similarity)[0]

    def search_many(self, vectors: Sequence[np.ndarray], limit: int, filter_: str = "",
                    min_similarity: float = -1.0) -> list[list[Hit]]:
        """One request for several query vectors sharing a filter: a list of hits per vector."""
        data = [np.asarray(v, dtype=np.float32).tolist() for v in vectors]
        retry = self._loaded  # a collection loaded earlier may have been released since: load, then once more
        while True:
            self._require()
            try:
                with self._errors(f"searching {self.name}"):
                    result = self.milvus.search(
                        self.name, data=data, limit=min(limit, MAX_LIMIT), filter=filter_,
                        output_fields=["published_at", "cluster_id"], anns_field="vector",
                        search_params={"metric_type": METRIC, "params": {"ef": max(MIN_EF, 2 * limit)}},
                        timeout=self.timeout)
                break
            except VectorStoreError:
                if not retry:
                    raise
                retry = False
        return [[hit for hit in (Hit(int(h["id"]), float(h["distance"]), int(h["entity"]["published_at"]),
                                     int(h["entity"]["cluster_id"])) for h in hits)
                 if hit.similarity >= min_similarity] for hits in result]


def packed(vector: np.ndarray) -> bytes:
    """A vector as PostgreSQL keeps it beside its article (``computed.news_vectors``): float32,
    little-endian, the same numbers Milvus holds."""
    return np.asarray(vector, dtype="<f4").tobytes()


def unpacked(data: bytes) -> np.ndarray:
    """The inverse of :func:`packed`."""
    return np.frombuffer(data, dtype="<f4")


def earlier_than(published_at: datetime, news_id: int, cluster_id: int) -> str:
    """The filter for an article's point-in-time neighbours: published strictly before it, not
    itself, not a copy of its story."""
    return (f"published_at < {int(published_at.timestamp())} and id != {news_id} "
            f"and cluster_id != {cluster_id}")


def is_earlier_neighbour(hit: Hit, published_at: datetime, news_id: int, cluster_id: int) -> bool:
    """:func:`earlier_than` in Python, for hits of a search shared by several articles."""
    return hit.published_at < int(published_at.timestamp()) and hit.news_id != news_id and hit.cluster_id != cluster_id


def mentions_stock(code: str) -> str:
    """The filter for entities linked to ``code``; the code is validated, so nothing else reaches
    the expression (``%``, ``_`` and quotes never pass :func:`is_stock_code`)."""
    if not is_stock_code(code):
        raise ValueError(f"not a stock code: {code!r}")
    return f'stock_codes like "%{STOCK_DELIMITER}{code}{STOCK_DELIMITER}%"'
