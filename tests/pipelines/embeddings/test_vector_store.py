"""The Milvus store on a real embedded Milvus: one collection per embedder, never mixed; a changed
embedder means new code versions and a new collection, the old one untouched."""

from datetime import UTC, date, datetime

import numpy as np
import pytest

from azak_core.embeddings import EmbedderSettings
from azak_core.vectors import (
    ArticleVector,
    NewsVectors,
    UnknownCollection,
    VectorStoreError,
    collection_name,
    milvus_client,
)
from azak_pipelines.defs.embeddings.assets import NEWS_EMBEDDINGS, embedding_assets


def articles(n: int, dim: int, day: date) -> list[ArticleVector]:
    rng = np.random.default_rng(n)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    at = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
    return [ArticleVector(i + 1, day, at, ["005930"], "test", "news", i + 1, vectors[i]) for i in range(n)]


def test_each_embedder_has_its_own_collection(milvus_uri):
    day = date(2025, 5, 12)
    offline = NewsVectors(milvus_uri, "kiwi-hash@1", 16)
    offline.replace_days([day], articles(5, 16, day))
    openai = NewsVectors(milvus_uri, "openai@text-embedding-3-small", 32)
    assert openai.name == "news_openai_text_embedding_3_small" != offline.name
    with pytest.raises(UnknownCollection, match="materialize milvus/news_embeddings"):
        openai.count_by_day()
    openai.replace_days([day], articles(3, 32, day))
    assert offline.count_by_day() == {day: 5} and openai.count_by_day() == {day: 3}
    # a new version of the same embedder is a new vector space: a new collection
    assert collection_name("kiwi-hash@2") != offline.name
    # a collection is never written with vectors of another size
    with pytest.raises(VectorStoreError, match="holds 16-dimensional vectors"):
        NewsVectors(milvus_uri, "kiwi-hash@1", 32).ensure()
    offline.close()
    openai.close()


def test_replacing_a_day_keeps_the_others(milvus_uri):
    first, second = date(2025, 5, 12), date(2025, 5, 13)
    store = NewsVectors(milvus_uri, "kiwi-hash@1", 16)
    store.replace_days([first], articles(4, 16, first))
    later = [ArticleVector(a.news_id + 100, second, a.published_at.replace(day=13), [], "t", "news", a.cluster_id,
                           a.vector) for a in articles(2, 16, second)]
    store.replace_days([second], later)
    assert store.replace_days([first], articles(3, 16, first)) == 1  # one article gone from the first day
    assert store.count_by_day() == {first: 3, second: 2}
    store.close()


def test_a_released_collection_is_loaded_again_before_searching(milvus_uri):
    """A restarted Milvus keeps its collections but releases them (the demo's serve phase after its
    materialize phase): readers load the collection instead of failing."""
    day = date(2025, 5, 12)
    written = articles(4, 16, day)
    NewsVectors(milvus_uri, "kiwi-hash@1", 16).replace_days([day], written)
    client = milvus_client(milvus_uri)
    client.release_collection(collection_name("kiwi-hash@1"))
    reader = NewsVectors(milvus_uri, "kiwi-hash@1", 16)
    assert reader.search(written[0].vector, 1)[0].news_id == 1
    client.release_collection(collection_name("kiwi-hash@1"))  # released under a long-lived reader (the API)
    assert reader.search(written[0].vector, 1)[0].news_id == 1  # loaded again and searched once more
    reader.close()
    client.close()


def test_a_changed_embedder_changes_the_code_version():
    offline = EmbedderSettings("offline").embedder_key()
    openai = EmbedderSettings("auto", openai_api_key="set").embedder_key()
    versions = {key: {a.key: a.code_versions_by_key[a.key] for a in embedding_assets(key)}
                for key in (offline, openai)}
    assert versions[offline][NEWS_EMBEDDINGS] == "kiwi-hash@2"
    assert versions[openai][NEWS_EMBEDDINGS] == "openai@text-embedding-3-small"
