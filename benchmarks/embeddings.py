"""Embeddings and the vector store.

* offline embedding throughput on one core (the labelled and duplicate-story sets cycled), against
  the char 2–4-gram TF-IDF baseline in the same process, and both on the retrieval metrics;
* Milvus (the embedded milvus-lite server `azak` runs): recall@10 of the HNSW index against exact
  search (numpy) on 100,000 unit vectors, and p50/p99 of a filtered top-10 search (one stock,
  a date range).

    python -m benchmarks.embeddings [vectors]
"""

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from benchmarks.common import report

ROOT = Path(__file__).resolve().parents[1]
SETS = (ROOT / "tests/linker/labelled_news.jsonl", ROOT / "tests/embeddings/duplicate_stories.jsonl")


def labelled() -> list[dict]:
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


def clustered(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around 2,000 topics: news vectors cluster; uniform noise would not."""
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), n)] + rng.normal(scale=0.6, size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def milvus_figures(n: int) -> list[tuple[str, str]]:
    from azak_cli.milvus import EmbeddedMilvus
    from azak_core.embeddings.offline import DIMENSION
    from azak_core.vectors import INDEX, ArticleVector, NewsVectors, day_number, mentions_stock
    from tests.conftest import free_port

    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    rng = np.random.default_rng(7)
    dim = DIMENSION  # the offline embedder's vectors
    vectors = clustered(n, dim, rng)
    codes = [f"{c:06d}" for c in rng.integers(1, 200, n)]
    start = datetime(2020, 1, 1, 9, tzinfo=UTC)
    when = [start + timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 5 * 365 * 24 * 60, n))]
    with tempfile.TemporaryDirectory() as home:
        server = EmbeddedMilvus(Path(home), free_port())
        server.start()
        try:
            store = NewsVectors(server.uri, "bench@1", dim, timeout=600)
            started = time.perf_counter()
            articles = [ArticleVector(i + 1, when[i].date(), when[i], [codes[i]], "bench", "news", i + 1, vectors[i])
                        for i in range(n)]
            store.replace_days([], articles, batch=2000)
            load_seconds = time.perf_counter() - started
            queries = rng.choice(n, 200, replace=False)
            exact = np.argsort(-(vectors[queries] @ vectors.T), axis=1)[:, :10] + 1
            found = []
            for start_at in range(0, len(queries), 50):
                batch = queries[start_at:start_at + 50]
                found += [[h.news_id for h in hits] for hits in store.search_many([vectors[q] for q in batch], 10)]
            recall = statistics.mean(len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True))
            latencies = []
            for q in queries[:100]:
                first = when[q].date() - timedelta(days=365)
                filter_ = (f"{mentions_stock(codes[q])} and published_day >= {day_number(first)} "
                           f"and published_day <= {day_number(when[q].date())}")
                started = time.perf_counter()
                store.search(vectors[q], 10, filter_)
                latencies.append((time.perf_counter() - started) * 1000)
            store.close()
        finally:
            server.stop()
    latencies.sort()
    return [
        ("vectors", f"{n:,} × {dim} (clustered, unit), index {INDEX['index_type']} {INDEX['params']}"),
        ("load (upsert + flush + index)", f"{load_seconds:.0f} s ({n / load_seconds:,.0f} vectors/s)"),
        ("recall@10 vs exact search", f"{recall:.3f} (200 queries)"),
        ("filtered top-10 (one stock, one year)", f"p50 {latencies[49]:.0f} ms, p99 {latencies[98]:.0f} ms "
                                                  f"(100 queries)"),
    ]


def main(n: int = 100_000) -> None:
    report("offline embeddings (benchmarks/embeddings.py)", embedding_figures())
    report(f"Milvus, embedded milvus-lite (benchmarks/embeddings.py, {date.today()})", milvus_figures(n))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
