"""news_embeddings and similar_news materialized into a real embedded Milvus and PostgreSQL."""

import dagster as dg
import numpy as np
import psycopg
import pytest

from azak_core.embeddings.offline import DIMENSION, OfflineEmbedder
from azak_core.vectors import (
    MIN_SIMILARITY,
    NEIGHBOURS,
    NewsVectors,
    collection_name,
    earlier_than,
    milvus_client,
    stock_text,
    unpacked,
)
from tests.conftest import schema_1_collection
from tests.pipelines.runs import checks, materialization, run

WINDOW = ("2025-05-12", "2025-05-23")
COLLECTION = collection_name(OfflineEmbedder().key)


def rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture
def embedded_news(warehouse_with_stocks, replay, milvus_uri) -> str:
    run("all_news_job", WINDOW)
    return warehouse_with_stocks


def failure_text(result) -> str:
    return " ".join(str(e.event_specific_data.error.message) for e in result.all_events
                    if e.event_type_value == "STEP_FAILURE")


def milvus_count(uri: str, name: str = COLLECTION) -> int:
    client = milvus_client(uri)
    try:
        return client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]
    finally:
        client.close()


def test_embeds_each_article_once_and_re_runs_replace_the_days(embedded_news, milvus_uri):
    articles = rows(embedded_news, "SELECT count(*) FROM computed.news_articles")[0][0]
    result = run("embeddings_job", WINDOW)
    meta = materialization(result, "milvus/news_embeddings")
    assert meta["count"] == articles > 20
    assert meta["embedder"] == "kiwi-hash@2" and meta["collection"] == COLLECTION
    assert meta["tokens"] == 0 and meta["seconds"] > 0 and meta["quarantined"] == 0
    assert meta["dropped_collections"] == "none"
    assert milvus_count(milvus_uri) == articles
    assert checks(result)["embeddings_match_articles"].passed
    # the same vectors beside the articles in PostgreSQL (what the API searches with)
    assert meta["postgres_vectors"] == articles
    kept = dict(rows(embedded_news, "SELECT news_id, vector FROM computed.news_vectors WHERE embedder = 'kiwi-hash@2'"))
    store = NewsVectors(milvus_uri, "kiwi-hash@2", DIMENSION)
    try:
        in_milvus = store.vectors(list(kept))
    finally:
        store.close()
    assert len(kept) == articles and all(np.array_equal(unpacked(kept[i]), in_milvus[i]["vector"]) for i in kept)

    # an article deleted upstream disappears from Milvus on the next run; nothing is duplicated
    with psycopg.connect(embedded_news, autocommit=True) as conn:
        gone = conn.execute("DELETE FROM computed.news_articles WHERE news_id = (SELECT min(news_id) FROM "
                            "computed.news_articles WHERE published_day = '2025-05-13') "
                            "RETURNING news_id").fetchone()[0]
    again = materialization(run("embeddings_job", ("2025-05-13", "2025-05-13"), assets=["milvus/news_embeddings"]),
                            "milvus/news_embeddings")
    assert again["removed"] == 1
    assert milvus_count(milvus_uri) == articles - 1
    assert rows(embedded_news, "SELECT count(*), count(*) FILTER (WHERE news_id = %s) FROM computed.news_vectors",
                (gone,)) == [(articles - 1, 0)]
    client = milvus_client(milvus_uri)
    assert client.get(COLLECTION, ids=[gone]) == []
    client.close()


def test_similar_news_are_earlier_not_self_not_same_story(embedded_news, milvus_uri):
    meta = materialization(run("embeddings_job", WINDOW), "computed/similar_news")
    assert meta["rows_written"] > 0 and meta["k"] == NEIGHBOURS
    assert meta["min_similarity"] == MIN_SIMILARITY["kiwi-hash"]
    found = rows(embedded_news, """
        SELECT s.news_id, s.neighbor_id, s.rank, s.similarity, s.embedder, a.published_at, n.published_at,
               a.cluster_id, n.cluster_id
        FROM computed.similar_news s JOIN computed.news_articles a ON a.news_id = s.news_id
        JOIN computed.news_articles n ON n.news_id = s.neighbor_id""")
    assert len(found) == meta["rows_written"]
    for news_id, neighbor, rank, similarity, embedder, at, neighbor_at, cluster, neighbor_cluster in found:
        assert neighbor != news_id and neighbor_at < at and neighbor_cluster != cluster
        assert 1 <= rank <= NEIGHBOURS and MIN_SIMILARITY["kiwi-hash"] <= similarity <= 1.0 + 1e-6
        assert embedder == "kiwi-hash@2"
    ranks = rows(embedded_news, "SELECT news_id, array_agg(similarity ORDER BY rank) FROM computed.similar_news "
                                "GROUP BY 1")
    assert all(list(s) == sorted(s, reverse=True) for _, s in ranks)
    # the day-batched search gives exactly what a search per article with the full filter gives
    store = NewsVectors(milvus_uri, OfflineEmbedder().key, DIMENSION)
    articles = rows(embedded_news, "SELECT news_id, published_at, cluster_id FROM computed.news_articles "
                                   "ORDER BY news_id LIMIT 25")
    vectors = store.vectors([a[0] for a in articles])
    for news_id, published_at, cluster in articles:
        alone = store.search(vectors[news_id]["vector"], NEIGHBOURS, earlier_than(published_at, news_id, cluster),
                             MIN_SIMILARITY["kiwi-hash"])
        stored = rows(embedded_news, "SELECT neighbor_id FROM computed.similar_news WHERE news_id = %s ORDER BY rank",
                      (news_id,))
        assert [h.news_id for h in alone] == [r[0] for r in stored], news_id
    store.close()
    # the first day's earliest article has nothing before it in the store
    first = rows(embedded_news,
                 "SELECT news_id FROM computed.news_articles ORDER BY published_at, news_id LIMIT 1")[0][0]
    assert rows(embedded_news, "SELECT count(*) FROM computed.similar_news WHERE news_id = %s", (first,)) == [(0,)]


def test_a_wiped_milvus_fails_the_check_with_the_days_and_a_rerun_refills(embedded_news, milvus_uri):
    run("embeddings_job", WINDOW)
    client = milvus_client(milvus_uri)
    client.delete(COLLECTION, filter="published_day == 20250514")
    client.close()
    report = checks(run("embeddings_job", ("2025-05-22", "2025-05-22")))["embeddings_match_articles"]
    assert not report.passed and "2025-05-14" in report.description and "re-materialize" in report.description

    milvus_client(milvus_uri).drop_collection(COLLECTION)
    # similar_news cannot run on vectors that are not there: it says which asset to run first
    failed = run("embeddings_job", ("2025-05-14", "2025-05-14"), assets=["computed/similar_news"],
                 raise_on_error=False)
    assert not failed.success
    message = failure_text(failed)
    assert "news_embeddings" in message
    refilled = run("embeddings_job", WINDOW)
    assert checks(refilled)["embeddings_match_articles"].passed
    assert milvus_count(milvus_uri) == rows(embedded_news, "SELECT count(*) FROM computed.news_articles")[0][0]


def test_a_day_whose_articles_await_their_embeddings_run_is_pending_not_missing(embedded_news, milvus_uri):
    """The check can run in one day's embeddings run while a news run has just written another day
    (the automation asks for each): that day is due, not lost. Once embedded, a shortfall fails.
    One instance for every run, as the daemon has: pending is read from its materializations."""
    instance = dg.DagsterInstance.ephemeral()
    run("embeddings_job", WINDOW, instance=instance)
    run("all_news_job", ("2025-05-26", "2025-05-26"), instance=instance)  # a later day, not embedded yet
    report = checks(run("embeddings_job", ("2025-05-23", "2025-05-23"), instance=instance))[
        "embeddings_match_articles"]
    assert report.passed, report.description
    assert "1 day(s) await their embeddings run (2025-05-26)" in report.description
    assert report.metadata["days_pending"].value == ["2025-05-26"]
    run("embeddings_job", ("2025-05-26", "2025-05-26"), instance=instance)
    client = milvus_client(milvus_uri)
    client.delete(COLLECTION, filter="published_day == 20250526")
    client.close()
    # a poll that writes the same articles again (the same data version) does not make the day due
    run("all_news_job", ("2025-05-26", "2025-05-26"), instance=instance)
    report = checks(run("embeddings_job", ("2025-05-23", "2025-05-23"), instance=instance))[
        "embeddings_match_articles"]
    assert not report.passed and "missing from Milvus on 2025-05-26" in report.description


def test_unembeddable_articles_are_quarantined_and_the_check_expects_them_missing(embedded_news, milvus_uri):
    run("embeddings_job", WINDOW, assets=["milvus/news_embeddings"])
    with psycopg.connect(embedded_news, autocommit=True) as conn:
        conn.execute("UPDATE computed.news_articles SET title = '🚀🚀🚀', summary = '' WHERE news_id = "
                     "(SELECT min(news_id) FROM computed.news_articles WHERE published_day = '2025-05-15')")
        conn.execute("UPDATE computed.news_articles SET summary = repeat('반도체 수출 급증 HBM ', 6000) "
                     "WHERE news_id = "
                     "(SELECT max(news_id) FROM computed.news_articles WHERE published_day = '2025-05-15')")
    result = run("embeddings_job", ("2025-05-15", "2025-05-15"), assets=["milvus/news_embeddings"])
    meta = materialization(result, "milvus/news_embeddings")
    assert meta["quarantined"] == 1 and "no letters or digits" in meta["quarantine"]
    assert rows(embedded_news, "SELECT reason FROM ops.quarantine WHERE asset = 'milvus/news_embeddings'") == [
        ("no letters or digits to embed (empty, emoji or punctuation only)",)]
    assert checks(result)["embeddings_match_articles"].passed


def test_milvus_down_fails_with_a_clear_message(embedded_news, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("AZAK_MILVUS_URI", f"http://127.0.0.1:{free_port()}")
    failed = run("embeddings_job", ("2025-05-12", "2025-05-12"), assets=["milvus/news_embeddings"],
                 raise_on_error=False)
    assert not failed.success
    message = failure_text(failed)
    assert "Milvus" in message and "AZAK_MILVUS_URI" in message


def test_each_article_is_stored_with_its_linked_stocks_and_unlinked_ones_with_none(embedded_news, milvus_uri):
    run("embeddings_job", ("2025-05-12", "2025-05-16"), assets=["milvus/news_embeddings"])
    links = dict(rows(embedded_news, """
        SELECT a.news_id, coalesce(array_agg(m.stock_code ORDER BY m.salient DESC, m.score DESC, m.stock_code)
                                   FILTER (WHERE m.stock_code IS NOT NULL), '{}')
        FROM computed.news_articles a LEFT JOIN computed.news_stock_matches m USING (news_id)
        WHERE a.published_day < '2025-05-17' GROUP BY 1"""))
    assert any(codes == [] for codes in links.values()) and any(len(codes) > 1 for codes in links.values())
    client = milvus_client(milvus_uri)
    stored = client.get(COLLECTION, ids=list(links), output_fields=["stock_codes"])
    client.close()
    assert {s["id"]: s["stock_codes"] for s in stored} == {i: stock_text(codes) for i, codes in links.items()}
    assert stock_text([]) == "" and stock_text(["005930", "000660"]) == "|005930|000660|"


def test_a_milvus_filled_under_the_older_schema_is_rebuilt_and_the_old_collection_dropped(embedded_news,
                                                                                           milvus_uri):
    """An existing install (the demo's home) holds the schema-1 collection: the next run writes the
    new one and drops the old, and the check then passes."""
    old = schema_1_collection(milvus_uri, OfflineEmbedder().key, DIMENSION, [])
    assert old == "news_kiwi_hash_2" != COLLECTION
    result = run("embeddings_job", WINDOW)
    meta = materialization(result, "milvus/news_embeddings")
    assert meta["collection"] == COLLECTION and meta["dropped_collections"] == old
    client = milvus_client(milvus_uri)
    assert old not in client.list_collections()
    client.close()
    assert milvus_count(milvus_uri) == rows(embedded_news, "SELECT count(*) FROM computed.news_articles")[0][0]
    assert checks(result)["embeddings_match_articles"].passed

