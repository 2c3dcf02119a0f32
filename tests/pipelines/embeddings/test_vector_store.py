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
    mentions_stock,
    milvus_client,
)
from azak_pipelines.defs.embeddings.assets import NEWS_EMBEDDINGS, embedding_assets
from tests.conftest import schema_1_collection


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
    assert openai.name == "news_s2_openai_text_embedding_3_small" != offline.name
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
    assert versions[offline][NEWS_EMBEDDINGS] == "kiwi-hash@2/schema-2"
    assert versions[openai][NEWS_EMBEDDINGS] == "openai@text-embedding-3-small/schema-2"


SAMSUNG = "005930"


def test_a_stock_filter_finds_exactly_the_articles_linked_to_that_stock(milvus_uri):
    """Linked anywhere in the list, and nothing else: not a code that merely contains the digits,
    not two codes whose concatenation does, not a code that only appears in another field."""
    day = date(2025, 5, 12)
    codes = {1: [SAMSUNG], 2: ["000660", SAMSUNG], 3: ["000660", SAMSUNG, "035420"],
             4: ["059300"], 5: ["900593"], 6: ["990059", "300000"], 7: ["00593A"], 8: [], 9: ["000660"]}
    base = articles(len(codes), 16, day)
    written = [ArticleVector(a.news_id, day, a.published_at, codes[a.news_id],
                             SAMSUNG if a.news_id == 8 else "test", "news", a.cluster_id, a.vector) for a in base]
    store = NewsVectors(milvus_uri, "kiwi-hash@1", 16)
    store.replace_days([day], written)
    for code, linked in ((SAMSUNG, {1, 2, 3}), ("000660", {2, 3, 9}), ("035420", {3}), ("300000", {6}),
                         ("005931", set())):
        for article in written:
            found = {h.news_id for h in store.search(article.vector, 50, mentions_stock(code))}
            assert found == linked, (code, article.news_id)
    with_day = f"{mentions_stock(SAMSUNG)} and published_day == 20250512"
    assert {h.news_id for h in store.search(written[0].vector, 50, with_day)} == {1, 2, 3}
    for hostile in ('005930" or id > 0 or "', "%", "00593_", "005930|000660", "005930\n"):
        with pytest.raises(ValueError, match="not a stock code"):
            mentions_stock(hostile)
    store.close()


def test_a_collection_of_the_older_schema_is_never_searched_and_is_dropped_once_rebuilt(milvus_uri):
    """A Milvus filled before the stock codes became a delimited string: the store does not read the
    old collection (its filter would not apply), says what to run, and the rebuild drops it."""
    day = date(2025, 5, 12)
    written = articles(4, 16, day)
    old = schema_1_collection(milvus_uri, "kiwi-hash@1", 16, [
        {**a.entity(), "stock_codes": list(a.stock_codes)} for a in written])
    assert old == "news_kiwi_hash_1" != collection_name("kiwi-hash@1")
    store = NewsVectors(milvus_uri, "kiwi-hash@1", 16)
    assert store.superseded() == [old]
    with pytest.raises(UnknownCollection, match=r"news_kiwi_hash_1 has an older schema.*materialize "
                                                r"milvus/news_embeddings"):
        store.search(written[0].vector, 3, mentions_stock(SAMSUNG))
    # a throw-away collection (azak similar's) never touches the embedder's collections
    scratch = NewsVectors(milvus_uri, "kiwi-hash@1", 16, name="scratch_test")
    assert scratch.superseded() == [] and scratch.drop_superseded() == []
    store.replace_days([day], written)
    assert store.drop_superseded() == [old] and store.superseded() == []
    client = milvus_client(milvus_uri)
    assert old not in client.list_collections()
    client.close()
    assert {h.news_id for h in store.search(written[0].vector, 10, mentions_stock(SAMSUNG))} == {1, 2, 3, 4}
    store.close()
