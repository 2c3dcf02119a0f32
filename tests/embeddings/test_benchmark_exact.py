"""The exact-search helpers benchmarks/embeddings.py measures Milvus's recall against."""

import numpy as np

from benchmarks.embeddings import exact_top, exact_tops, news_like


def test_exact_tops_matches_one_query_at_a_time_across_blocks() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(2_345, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = rng.choice(len(vectors), 25, replace=False)
    one_by_one = [exact_top(vectors, vectors[q]) for q in queries]
    for rows in (7, 10, 500, 10_000):  # blocks smaller than k, of k, and one block for everything
        assert exact_tops(vectors, queries, rows=rows) == one_by_one


def test_news_like_is_seeded_and_unit() -> None:
    first, second = news_like(3_000, 16, np.random.default_rng(7)), news_like(3_000, 16, np.random.default_rng(7))
    assert np.array_equal(first.vectors, second.vectors)
    assert np.allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-5)
