"""Embeddings and the vector store.

* offline embedding throughput on one core (the labelled and duplicate-story sets cycled), against
  the char 2–4-gram TF-IDF baseline in the same process, and both on the retrieval metrics;
* Milvus (the embedded milvus-lite server `azak` runs, or with ``--uri`` a Milvus server): write
  and HNSW build time, recall@10 of the index against exact search (numpy) on N synthetic
  news-like unit vectors of the offline embedder's dimension (1,024; clustered by company and
  story, see :func:`news_like` — not embedded text), and p50/p99 of a filtered top-10 search (one
  stock, a year), against the same queries with the year only and with no filter, in the same run;
  with ``--before``, also the same stock-filtered queries on a collection of the schema before
  (stock codes as an array, ``array_contains``: schema 1 in azak_core/vectors.py), same vectors and
  index, and whether both return the same hits.

    python -m benchmarks.embeddings [vectors] [--filtered 100] [--before] [--milvus-only]
                                    [--uri http://127.0.0.1:19530 [--schema 1]]

A run at 100,000 vectors takes ~6 min on the shared 2-core machine: 1 min writing, 3–4 min
building the index, seconds for the searches. ``--before`` adds a second load and index build and
the old filter's searches, which milvus-lite evaluates row by row in Python, converting every row
of every segment (the 1,024 floats of its vector included) to Python objects on each search:
~2.4 s a search at 20,000 vectors, ~7.8 s at 100,000.

Scale: milvus-lite's write (~700 vectors/s) and index build (~250–300 vectors/s) were measured at
50,000 and 250,000 vectors; its server held ~14 KB a vector (3.6 GB at 250,000), so a million
(~14 GB, and ~5 GB for this process's vectors and rows) does not fit beside other work in 24 GB,
nor in time (~25 min writing, ~1 h indexing at those rates). A million was measured on a Milvus
standalone server instead: the PyPI package ``milvus`` 2.3.5 (the old "Milvus Lite": the real
server with embedded etcd, local storage and rocksmq; never a project dependency) in a throw-away
venv, started in a network namespace of its own (``unshare --net``, loopback only), this run
inside it with ``--uri``. Milvus 2.3 refuses schema 2's stock filter (``like "%|005930|%"``:
"only prefix pattern match like ab% ... supported"; infix ``like`` came in 2.4), so ``--schema 1``
measures there on a schema-1 collection alone, with ``array_contains``, which that server evaluates
natively. A million took it ~8.5 min to write and ~33 min more until every segment was indexed
(it indexes 30,000-row segments as they seal, then again after compaction merges them) and 43 s
to load; ``--reuse`` searches a collection an earlier run left on the server.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_average, percentile, report

ROOT = Path(__file__).resolve().parents[1]
SETS = (ROOT / "tests/linker/labelled_news.jsonl", ROOT / "tests/embeddings/duplicate_stories.jsonl")


def labelled() -> list[dict[str, Any]]:
    from azak_core.embeddings import EmbeddingError, prepare_text

    items = []
    for path in SETS:
        for line in path.read_text().splitlines():
            item = json.loads(line)
            try:
                prepare_text(item["title"], item.get("content", ""))
            except EmbeddingError:
                continue
            items.append(item)
    return items


def embedding_figures() -> list[tuple[str, str]]:
    from azak_core.embeddings.offline import OfflineEmbedder, _kiwi
    from azak_core.embeddings.quality import char_ngram_tfidf, evaluate, evaluate_baseline, texts_of

    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    items = labelled()
    texts = texts_of(items)
    work = (texts * (3000 // len(texts) + 1))[:3000]
    # distinct texts, so the feature cache does not flatter the figure
    work = [f"{t} {i}" for i, t in enumerate(work)]
    _kiwi()
    embedder = OfflineEmbedder()
    started = time.perf_counter()
    embedder.embed(work)
    ours = len(work) / (time.perf_counter() - started)
    started = time.perf_counter()
    char_ngram_tfidf(work[:1500])
    baseline = 1500 / (time.perf_counter() - started)
    mine, theirs = evaluate(embedder, items), evaluate_baseline(items)
    return [
        (f"offline embedder ({embedder.key}), one core", f"{ours:,.0f} docs/s ({len(work)} docs)"),
        ("char 2-4-gram TF-IDF baseline, same core", f"{baseline:,.0f} docs/s (fit + transform, 1,500 docs)"),
        ("labelled set", f"{mine.queries} company queries, {mine.duplicate_queries} duplicate-story queries"),
        ("P@1 shared salient company", f"{mine.p_at_1:.3f} vs baseline {theirs.p_at_1:.3f}"),
        ("hit@5 shared salient company", f"{mine.hit_at_5:.3f} vs baseline {theirs.hit_at_5:.3f}"),
        ("duplicate story P@1", f"{mine.duplicate_p_at_1:.3f} vs baseline {theirs.duplicate_p_at_1:.3f}"),
        ("duplicate story hit@5", f"{mine.duplicate_hit_at_5:.3f} vs baseline {theirs.duplicate_hit_at_5:.3f}"),
    ]


# Similarity scales of the offline embedder kiwi-hash@2 on the labelled set (docs/analyst-guide.md, azak_core.vectors):
# the same story from two outlets ≈ 0.69, other articles about the same company ≈ 0.30, unrelated ≈ 0.
TOPIC, STORY = 0.30, 0.39


@dataclass
class Corpus:
    vectors: np.ndarray  # (n, dim) float32, unit rows
    topics: np.ndarray  # company per article (its stock code is f"{topic + 1:06d}")
    stories: np.ndarray  # story per article (its copies share it)
    published: list[datetime]

    def code(self, i: int) -> str:
        return f"{int(self.topics[i]) + 1:06d}"


def news_like(n: int, dim: int, rng: np.random.Generator, topics: int = 2000) -> Corpus:
    """Unit vectors with the structure of news rather than uniform noise (on which HNSW looks worse
    than on real data): each article is about one of ``topics`` companies (Zipf-like popularity,
    weight 1/rank^0.8: the largest holds ~5% of the articles, the smallest ~12 in 100,000) and
    belongs to a story (1.5 articles a story on average, Poisson). Its vector is
    √0.30·company + √0.39·story + √0.31·noise (independent random unit directions), so a copy of
    the same story scores ≈ 0.69, another article about the company ≈ 0.30 and anything else ≈ 0
    (±0.03), the scales kiwi-hash@2 measures on the labelled set. Each article mentions its
    company's stock; publication times are spread over five years, in id order."""
    def unit(rows: int) -> np.ndarray:
        # 50,000 rows at a time: the same draws as one call (a Generator keeps nothing between
        # calls), without a float64 copy of the whole (5.5 GB for a million articles' stories)
        out = np.empty((rows, dim), dtype=np.float32)
        for at in range(0, rows, 50_000):
            v = rng.normal(size=(min(50_000, rows - at), dim)).astype(np.float32)
            out[at:at + len(v)] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out

    weights = 1.0 / np.arange(1, topics + 1) ** 0.8
    n_stories = max(1, int(n / 1.5))
    story_topic = rng.choice(topics, n_stories, p=weights / weights.sum())
    stories = rng.integers(0, n_stories, n)
    company, story = unit(topics), unit(n_stories)
    vectors = np.empty((n, dim), dtype=np.float32)
    for at in range(0, n, 10_000):
        s = stories[at:at + 10_000]
        vectors[at:at + 10_000] = (np.sqrt(TOPIC) * company[story_topic[s]] + np.sqrt(STORY) * story[s]
                                   + np.sqrt(1 - TOPIC - STORY) * unit(len(s)))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    start = datetime(2020, 1, 1, 9, tzinfo=UTC)
    minutes = np.sort(rng.integers(0, 5 * 365 * 24 * 60, n))
    return Corpus(vectors, story_topic[stories], stories, [start + timedelta(minutes=int(m)) for m in minutes])


def bulk_load(milvus: Any, name: str, articles: list[Any], entity: Callable[[Any], dict[str, Any]],
              batch: int = 5000, wait_for_index: bool = False) -> tuple[float, float]:
    """Fill a new, empty collection (``entity`` makes each article's row): (seconds writing, seconds
    building the HNSW index).

    Not ``NewsVectors.replace_days``, which keeps the collection loaded: milvus-lite then builds each
    flushed segment's HNSW index in a background thread while writes go on, and until that thread
    gets to a segment, searches brute-force it — a recall measured right after loading is that of
    exact search (this benchmark reported 1.000 at 20,000 vectors, whose index was written to disk
    77 s after the flush), and a ``load_collection`` issued to wait for the index builds the same
    segments a second time, concurrently (158 s instead of 87 s for 40,000 vectors). So the
    collection is released while written and loaded afterwards, which builds every segment's index
    before returning. The ids are new, so ``insert`` (``upsert`` costs the same on new ids, and
    batch size makes no difference between 500 and 10,000: measured).

    A Milvus server (standalone) builds the index of each sealed segment in its index node, in the
    background and while writes go on, and loads segments whose index is not built yet without it
    (brute force): with ``wait_for_index`` the index seconds run until the index covers every row
    (``describe_index``'s indexed rows; its pending rows are no guide: Milvus 2.3.5 went on
    counting ~900,000 pending at 1,000,000 indexed of 1,000,000, the segments compaction had
    replaced), then the load."""
    milvus.release_collection(name)
    started = time.perf_counter()
    for at in range(0, len(articles), batch):
        milvus.insert(name, [entity(a) for a in articles[at:at + batch]])
    milvus.flush(name)
    written = time.perf_counter()
    while wait_for_index:
        index = milvus.describe_index(name, "vector")
        if int(index.get("indexed_rows", 0)) >= max(len(articles), int(index.get("total_rows", 0))):
            break
        time.sleep(2)
    milvus.load_collection(name)
    return written - started, time.perf_counter() - written


def exact_top(vectors: np.ndarray, query: np.ndarray, candidates: np.ndarray | None = None, k: int = 10) -> set[int]:
    """Ids (1-based) of the exact top-k by inner product, among ``candidates`` (indexes) if given."""
    pool = np.arange(len(vectors)) if candidates is None else candidates
    scores = vectors[pool] @ query
    return {int(pool[i]) + 1 for i in np.argsort(-scores)[:k]}


def exact_tops(vectors: np.ndarray, queries: np.ndarray, k: int = 10, rows: int = 50_000) -> list[set[int]]:
    """:func:`exact_top` of each of ``queries`` (indexes), in one pass over the vectors, ``rows`` at
    a time: a million 1,024-d vectors are 4 GB to read, per query when done one by one."""
    wanted = vectors[queries]
    best_ids = np.empty((len(queries), 0), dtype=np.int64)
    best_scores = np.empty((len(queries), 0), dtype=np.float32)
    for at in range(0, len(vectors), rows):
        scores = wanted @ vectors[at:at + rows].T
        top = np.argpartition(-scores, min(k, scores.shape[1]) - 1, axis=1)[:, :k]
        ids = np.concatenate([best_ids, top + at], axis=1)
        merged = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
        keep = np.argsort(-merged, axis=1)[:, :k]
        best_ids, best_scores = np.take_along_axis(ids, keep, axis=1), np.take_along_axis(merged, keep, axis=1)
    return [{int(i) + 1 for i in row} for row in best_ids]


def percentiles(ms: list[float]) -> str:
    return f"p50 {percentile(ms, 0.5):,.0f} ms, p99 {percentile(ms, 0.99):,.0f} ms"


@contextmanager
def milvus_at(uri: str | None) -> Iterator[str]:
    """``uri``, or the embedded milvus-lite server ``azak`` runs, started for the run in a temporary home."""
    from azak_cli.runtime.milvus import EmbeddedMilvus
    from tests.conftest import free_port

    if uri is not None:
        yield uri
        return
    with tempfile.TemporaryDirectory() as home:
        server = EmbeddedMilvus(Path(home), free_port())
        server.start()
        try:
            yield server.uri
        finally:
            server.stop()


def milvus_figures(n: int, filtered: int = 100, before: bool = False, uri: str | None = None,
                   schema: int | None = None, reuse: bool = False) -> list[tuple[str, str]]:
    """The figures on the embedded milvus-lite, or on the Milvus server at ``uri`` (its collections
    are dropped at the end). ``schema`` 1 measures on a schema-1 collection alone (stock filter
    ``array_contains``): for a server that rejects schema 2's infix ``like`` (Milvus before 2.4).
    ``reuse``: the server's collection already holds these ``n`` vectors (an earlier run's, the
    same seed) with its index built; it is loaded and searched, neither written nor dropped."""
    from azak_core.embeddings.offline import DIMENSION
    from azak_core.vectors import (
        INDEX,
        MIN_EF,
        SCHEMA_VERSION,
        ArticleVector,
        NewsVectors,
        collection_name,
        day_number,
        mentions_stock,
    )
    from tests.conftest import schema_1_collection

    schema = schema or SCHEMA_VERSION
    if schema == 1 and before:
        raise ValueError("--before compares schema 1 with the current schema: not with --schema 1")
    if reuse and (uri is None or before):
        raise ValueError("--reuse needs --uri (a server that kept the collection) and no --before")
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    before_load = load_average()
    rng = np.random.default_rng(7)
    dim = DIMENSION  # the offline embedder's vectors
    started = time.perf_counter()
    corpus = news_like(n, dim, rng)
    vectors, when = corpus.vectors, corpus.published
    days = np.array([day_number(w.date()) for w in when])
    queries = rng.choice(n, 200, replace=False)
    articles = [ArticleVector(i + 1, when[i].date(), when[i], [corpus.code(i)], "bench", "news",
                              int(corpus.stories[i]) + 1, vectors[i]) for i in range(n)]
    generated = time.perf_counter() - started

    def array_entity(a: ArticleVector) -> dict[str, Any]:  # the stock codes as schema 1 stored them
        return {**a.entity(), "stock_codes": list(a.stock_codes)}

    def array_filter(code: str) -> str:
        return f'array_contains(stock_codes, "{code}")'

    external = uri is not None
    timeout = 6 * 3600  # loading a million vectors into milvus-lite builds the index for ~35 min
    with milvus_at(uri) as at:
        if reuse:
            name: str | None = collection_name("bench@1", schema_version=schema)
        else:
            name = schema_1_collection(at, "bench@1", dim, []) if schema == 1 else None
        store = NewsVectors(at, "bench@1", dim, timeout=timeout, name=name)
        old = None
        try:
            version = store.milvus.get_server_version()
            stock_filter = mentions_stock if schema != 1 else array_filter
            if reuse:
                began = time.perf_counter()
                store.milvus.load_collection(store.name)
                write_seconds, index_seconds = 0.0, time.perf_counter() - began
            else:
                if schema != 1:
                    store.ensure()  # the production schema and INDEX
                write_seconds, index_seconds = bulk_load(store.milvus, store.name, articles,
                                                         ArticleVector.entity if schema != 1 else array_entity,
                                                         wait_for_index=external)
            after_load = load_average()
            found: list[list[int]] = []
            for at_ in range(0, len(queries), 50):
                batch = queries[at_:at_ + 50]
                found += [[h.news_id for h in hits] for hits in store.search_many([vectors[q] for q in batch], 10)]
            exact = exact_tops(vectors, queries)
            recall = statistics.mean(len(set(f) & e) / 10 for f, e in zip(found, exact, strict=True))
            if before:  # the same rows, stock codes as the array schema 1 stored
                old = NewsVectors(at, "bench@1", dim, timeout=timeout,
                                  name=schema_1_collection(at, "bench@1", dim, []))
                bulk_load(old.milvus, old.name, articles, array_entity, wait_for_index=external)
            timings: dict[str, list[float]] = {"stock": [], "array": [], "days": [], "none": []}
            filtered_recall, same_hits = [], 0
            for q in queries[:filtered]:
                first, last = day_number(when[q].date() - timedelta(days=365)), day_number(when[q].date())
                in_range = f"published_day >= {first} and published_day <= {last}"
                searches = [("stock", store, f"{stock_filter(corpus.code(q))} and {in_range}"),
                            ("days", store, in_range), ("none", store, "")]
                if old is not None:
                    searches.append(("array", old, f"{array_filter(corpus.code(q))} and {in_range}"))
                hits_of = {}
                for kind, collection, filter_ in searches:
                    began = time.perf_counter()
                    hits_of[kind] = collection.search(vectors[q], 10, filter_)
                    timings[kind].append((time.perf_counter() - began) * 1000)
                candidates = np.flatnonzero((corpus.topics == corpus.topics[q]) & (days >= first) & (days <= last))
                nearest = exact_top(vectors, vectors[q], candidates)
                filtered_recall.append(len({h.news_id for h in hits_of["stock"]} & nearest) / len(nearest))
                if old is not None:
                    same_hits += [h.news_id for h in hits_of["array"]] == [h.news_id for h in hits_of["stock"]]
        finally:
            for collection in [c for c in (store, old) if c is not None]:
                if external and not reuse:  # a server outlives the run: leave nothing behind
                    collection.drop()
                collection.close()
    ratio = statistics.median(timings["stock"]) / statistics.median(timings["none"])
    how = "like" if schema != 1 else "array_contains"
    rows = [
        ("Milvus", f"{f'server at {uri}' if external else 'embedded milvus-lite'}, version {version}"),
        ("vectors", f"{n:,} × {dim}, unit, news-like (2,000 companies, stories; see news_like), index "
                    f"{INDEX['index_type']} {INDEX['params']}, ef = max({MIN_EF}, 2k); generated in "
                    f"{generated:.0f} s"),
        *([("write, HNSW build", f"not in this run (--reuse); load_collection {index_seconds:.0f} s")] if reuse else [
            ("write (insert 5,000 a batch, flush)", f"{write_seconds:.0f} s ({n / write_seconds:,.0f} vectors/s)"),
            ("HNSW build (every row indexed, then load_collection)" if external else "HNSW build (load_collection)",
             f"{index_seconds:.0f} s ({n / index_seconds:,.0f} vectors/s)"
             + (" after the write; the server builds sealed segments' indexes during it too" if external else ""))]),
        ("recall@10 vs exact search", f"{recall:.3f} ({len(queries)} queries, no filter)"),
        (f"filtered top-10 (one stock, one year; schema {schema}: {how})",
         f"{percentiles(timings['stock'])}; recall@10 vs exact filtered {statistics.mean(filtered_recall):.3f} "
         f"({filtered} queries)"),
    ]
    if before:
        slower = statistics.median(timings["array"]) / statistics.median(timings["stock"])
        rows.append(("the same, schema 1 (array_contains)",
                     f"{percentiles(timings['array'])}; {slower:,.0f}× schema {SCHEMA_VERSION}'s (medians); "
                     f"the same hits in {same_hits} of {filtered} queries"))
    return [*rows,
            ("the same queries, the year only", percentiles(timings["days"])),
            ("the same queries, no filter", f"{percentiles(timings['none'])}; the stock filter costs "
                                            f"{ratio:,.1f}× (medians)"),
            ("load average (1/5/15 min)", f"{before_load} at start, {after_load} after loading, "
                                          f"{load_average()} at end")]


def main(n: int = 100_000, filtered: int = 100, embedder: bool = True, before: bool = False,
         uri: str | None = None, schema: int | None = None, reuse: bool = False) -> None:
    if embedder:
        report("offline embeddings (benchmarks/embeddings.py)", embedding_figures())
    where = f"server at {uri}" if uri else "embedded milvus-lite"
    report(f"Milvus, {where} (benchmarks/embeddings.py, {date.today()})",
           milvus_figures(n, filtered, before, uri, schema, reuse))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vectors", type=int, nargs="?", default=100_000)
    parser.add_argument("--filtered", type=int, default=100, help="filtered searches timed (each also without "
                                                                   "the stock, and without any filter; at most 200)")
    parser.add_argument("--before", action="store_true", help="also time the stock filter of schema 1 "
                                                              "(array_contains), on a second collection")
    parser.add_argument("--milvus-only", action="store_true", help="skip the offline embedder's figures")
    parser.add_argument("--uri", help="a running Milvus server (e.g. standalone) instead of the embedded "
                                      "milvus-lite; the run's collections are dropped at the end")
    parser.add_argument("--schema", type=int, choices=(1, 2), help="1: measure on a schema-1 collection only "
                                                                   "(array_contains), for Milvus before 2.4")
    parser.add_argument("--reuse", action="store_true", help="with --uri: the collection an earlier run of the same "
                                                             "vectors wrote and indexed; load and search it only")
    arguments = parser.parse_args()
    main(arguments.vectors, arguments.filtered, not arguments.milvus_only, arguments.before, arguments.uri,
         arguments.schema, arguments.reuse)
