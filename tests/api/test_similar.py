"""/api/news/{id}/similar and /api/news/search against the warehouse and the Milvus the pipelines
filled (offline embedder), over the real app."""

from datetime import datetime

from litestar.testing import AsyncTestClient

from azak_api.app import create_app
from azak_api.settings import Settings
from azak_core.vectors import MIN_SIMILARITY, NEIGHBOURS
from tests.api.conftest import bearer, settings_for, sql
from tests.conftest import free_port, schema_1_collection

SAMSUNG = "005930"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def article_with_neighbours(url: str) -> tuple[int, datetime, int]:
    [(news_id, published_at, cluster)] = sql(url, """
        SELECT s.news_id, a.published_at, a.cluster_id FROM computed.similar_news s
        JOIN computed.news_articles a USING (news_id) WHERE s.rank = 3 ORDER BY a.published_at DESC LIMIT 1""")
    return news_id, published_at, cluster


async def test_neighbours_are_earlier_and_match_the_similar_news_table(client, user, api_warehouse):
    news_id, published_at, cluster = article_with_neighbours(api_warehouse)
    response = await client.get(f"/api/news/{news_id}/similar", headers=bearer(user.token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(news_id) and body["embedder"] == "kiwi-hash@2"
    assert body["k"] == NEIGHBOURS and body["min_similarity"] == MIN_SIMILARITY["kiwi-hash"]
    stored = sql(api_warehouse, "SELECT neighbor_id, similarity FROM computed.similar_news WHERE news_id = %s "
                                "ORDER BY rank", (news_id,))
    assert [int(n["id"]) for n in body["items"]] == [r[0] for r in stored]
    assert [n["similarity"] for n in body["items"]] == [round(r[1], 4) for r in stored]
    clusters = dict(sql(api_warehouse, "SELECT news_id, cluster_id FROM computed.news_articles"))
    for item in body["items"]:
        assert when(item["published_at"]) < published_at and clusters[int(item["id"])] != cluster
        assert item["title"] and item["url"]
        for outcome in item["outcomes"]:
            assert set(outcome["returns"]) == {"1d", "3d", "5d", "20d"}


async def test_k_threshold_and_stock_filters(client, user, api_warehouse):
    news_id, _, _ = article_with_neighbours(api_warehouse)
    two = (await client.get(f"/api/news/{news_id}/similar", params={"k": 2}, headers=bearer(user.token))).json()
    assert len(two["items"]) == 2
    strict = (await client.get(f"/api/news/{news_id}/similar", params={"min_similarity": 0.99},
                               headers=bearer(user.token))).json()
    assert strict["items"] == [] and strict["min_similarity"] == 0.99
    [(samsung_article,)] = sql(api_warehouse, """
        SELECT m.news_id FROM computed.news_stock_matches m JOIN computed.news_articles a USING (news_id)
        WHERE m.stock_code = %s AND m.salient ORDER BY a.published_at DESC LIMIT 1""", (SAMSUNG,))
    about = (await client.get(f"/api/news/{samsung_article}/similar", params={"stock": SAMSUNG, "k": 5},
                              headers=bearer(user.token))).json()
    assert about["items"]
    linked = {r[0] for r in sql(api_warehouse, "SELECT news_id FROM computed.news_stock_matches WHERE stock_code = %s",
                                (SAMSUNG,))}
    assert all(int(item["id"]) in linked for item in about["items"])
    assert all(o["code"] == SAMSUNG for item in about["items"] for o in item["outcomes"])
    matured = [o for item in about["items"] for o in item["outcomes"] if o["returns"]["1d"] is not None]
    assert matured  # earlier Samsung news has realised returns


async def test_semantic_search_finds_the_topic_with_filters(client, user, api_warehouse):
    response = await client.get("/api/news/search", params={"q": "삼성전자 반도체", "k": 5},
                                headers=bearer(user.token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["embedder"] == "kiwi-hash@2" and len(body["items"]) == 5
    assert any("삼성" in item["title"] for item in body["items"][:3])
    similarities = [item["similarity"] for item in body["items"]]
    assert similarities == sorted(similarities, reverse=True)
    dated = (await client.get("/api/news/search", params={"q": "반도체", "from": "2025-06-02", "to": "2025-06-05",
                                                          "stock": "000660"}, headers=bearer(user.token))).json()
    assert dated["items"]
    for item in dated["items"]:
        assert "2025-06-01T15:00:00+00:00" <= item["published_at"].replace("Z", "+00:00") < "2025-06-05T15:00:00"
        assert "000660" in [o["code"] for o in item["outcomes"]]


async def test_bad_input_is_a_400_and_unknown_articles_a_404(client, user):
    cases = [
        ("/api/news/search", {"q": "🚀🚀🚀"}, 400, "no letters or digits"),
        ("/api/news/search", {"q": ""}, 400, None),
        ("/api/news/search", {"q": "x" * 501}, 400, None),
        ("/api/news/search", {"q": "삼성", "from": "2025-06-05", "to": "2025-06-01"}, 400, "after"),
        ("/api/news/search", {"q": "삼성", "stock": "samsung"}, 400, None),
        ("/api/news/1/similar", {"k": 0}, 400, None),
        ("/api/news/1/similar", {"min_similarity": 2}, 400, None),
        ("/api/news/1/similar", {}, 404, "no article 1"),
        ("/api/news/99999999999999999999/similar", {}, 400, None),
    ]
    for path, params, status, detail in cases:
        response = await client.get(path, params=params, headers=bearer(user.token))
        assert response.status_code == status, (path, params, response.text)
        if detail:
            assert detail in response.json()["detail"]


async def test_a_down_milvus_or_a_missing_collection_is_a_clear_503(api_warehouse, user, api_milvus):
    news_id, _, _ = article_with_neighbours(api_warehouse)
    down = settings_for(api_warehouse, milvus_uri=f"http://127.0.0.1:{free_port()}")
    async with AsyncTestClient(app=create_app(down)) as client:
        for path in (f"/api/news/{news_id}/similar?k={NEIGHBOURS + 1}", "/api/news/search?q=삼성전자"):
            response = await client.get(path, headers=bearer(user.token))
            assert response.status_code == 503, response.text
            assert "vector store is unavailable" in response.json()["detail"]
    unset = settings_for(api_warehouse, milvus_uri=None)
    async with AsyncTestClient(app=create_app(unset)) as client:
        response = await client.get("/api/news/search?q=삼성전자", headers=bearer(user.token))
        assert response.status_code == 503 and "AZAK_MILVUS_URI" in response.json()["detail"]
    # an embedder whose collection was never built (e.g. OpenAI switched on, nothing embedded yet)
    other = settings_for(api_warehouse, milvus_uri=api_milvus, embedder="openai", openai_api_key="sk-unused")
    async with AsyncTestClient(app=create_app(other)) as client:
        response = await client.get(f"/api/news/{news_id}/similar", headers=bearer(user.token))
        assert response.status_code == 503  # its neighbours were never stored either
        assert "news_s2_openai_text_embedding_3_small" in response.json()["detail"]


async def test_a_milvus_of_the_older_schema_is_a_503_naming_the_rebuild(api_warehouse, user, milvus_uri):
    """Vectors written before the stock codes became a delimited string are not searched with the
    new filter (they would match nothing): the answer says to re-materialize the embeddings."""
    from azak_core.embeddings.offline import DIMENSION

    news_id, _, _ = article_with_neighbours(api_warehouse)
    old = schema_1_collection(milvus_uri, "kiwi-hash@2", DIMENSION, [])
    async with AsyncTestClient(app=create_app(settings_for(api_warehouse, milvus_uri=milvus_uri))) as client:
        for path in (f"/api/news/{news_id}/similar?stock={SAMSUNG}", f"/api/news/search?q=삼성전자&stock={SAMSUNG}"):
            response = await client.get(path, headers=bearer(user.token))
            assert response.status_code == 503, response.text
            detail = response.json()["detail"]
            assert f"{old} has an older schema" in detail and "materialize milvus/news_embeddings" in detail


def stored_vector(url: str, news_id: int) -> bytes | None:
    found = sql(url, "SELECT vector FROM computed.news_vectors WHERE news_id = %s", (news_id,))
    return bytes(found[0][0]) if found else None


async def test_the_search_uses_the_vector_kept_beside_the_article(api_warehouse, user, api_milvus):
    """The article's vector comes from computed.news_vectors (one Milvus call per request): with
    another article's vector put there, the neighbours are that vector's, under this article's
    point-in-time filter."""
    import numpy as np

    from azak_core.embeddings.offline import DIMENSION
    from azak_core.vectors import NewsVectors, earlier_than, unpacked

    news_id, published_at, cluster = article_with_neighbours(api_warehouse)
    own = stored_vector(api_warehouse, news_id)
    store = NewsVectors(api_milvus, "kiwi-hash@2", DIMENSION)
    try:
        assert own is not None and np.array_equal(unpacked(own), store.vectors([news_id])[news_id]["vector"])
        [(other,)] = sql(api_warehouse, "SELECT news_id FROM computed.news_articles WHERE news_id <> %s "
                                        "AND cluster_id <> %s ORDER BY published_at LIMIT 1", (news_id, cluster))
        other_vector = stored_vector(api_warehouse, other)
        assert other_vector is not None
        expected = store.search(unpacked(other_vector), 5, earlier_than(published_at, news_id, cluster), -1.0)
    finally:
        store.close()
    uncached = settings_for(api_warehouse, milvus_uri=api_milvus, cache_ttls={"similar": 0})
    sql(api_warehouse, "UPDATE computed.news_vectors SET vector = %s WHERE news_id = %s", (other_vector, news_id))
    try:
        async with AsyncTestClient(app=create_app(uncached)) as client:
            response = await client.get(f"/api/news/{news_id}/similar", params={"k": 5, "min_similarity": -1},
                                        headers=bearer(user.token))
    finally:
        sql(api_warehouse, "UPDATE computed.news_vectors SET vector = %s WHERE news_id = %s", (own, news_id))
    assert response.status_code == 200, response.text
    assert [int(item["id"]) for item in response.json()["items"]] == [hit.news_id for hit in expected]


async def test_an_article_without_a_kept_vector_is_searched_with_the_one_in_milvus(api_warehouse, user, api_milvus):
    """Articles embedded before the pipelines kept vectors in PostgreSQL (or by another embedder)
    are still answered, the same way: their vector is read from Milvus."""
    news_id, _, _ = article_with_neighbours(api_warehouse)
    uncached = settings_for(api_warehouse, milvus_uri=api_milvus, cache_ttls={"similar": 0})
    async with AsyncTestClient(app=create_app(uncached)) as client:
        path = f"/api/news/{news_id}/similar"
        kept = await client.get(path, headers=bearer(user.token))
        own = stored_vector(api_warehouse, news_id)
        sql(api_warehouse, "UPDATE computed.news_vectors SET embedder = 'kiwi-hash@1' WHERE news_id = %s", (news_id,))
        try:
            other_embedder = await client.get(path, headers=bearer(user.token))
            sql(api_warehouse, "DELETE FROM computed.news_vectors WHERE news_id = %s", (news_id,))
            absent = await client.get(path, headers=bearer(user.token))
        finally:
            sql(api_warehouse, "DELETE FROM computed.news_vectors WHERE news_id = %s", (news_id,))
            sql(api_warehouse, "INSERT INTO computed.news_vectors SELECT news_id, published_day, 'kiwi-hash@2', %s "
                               "FROM computed.news_articles WHERE news_id = %s", (own, news_id))
    assert kept.status_code == other_embedder.status_code == absent.status_code == 200, absent.text
    assert kept.json()["items"] and kept.json() == other_embedder.json() == absent.json()


def down_milvus(url: str) -> Settings:
    return settings_for(url, milvus_uri=f"http://127.0.0.1:{free_port()}", cache_ttls={"similar": 0})


def same_but_ties(stored: dict, searched: dict, k: int) -> bool:
    """The same answer, except that neighbours of equal similarity may come in another order, and
    when k of them are listed, the last similarity's may be others of that similarity: Milvus
    orders equally similar hits as its search happens to meet them (articles with the same text)."""
    if {**stored, "items": None} != {**searched, "items": None}:
        return False
    if [i["similarity"] for i in stored["items"]] != [i["similarity"] for i in searched["items"]]:
        return False
    last = stored["items"][-1]["similarity"] if len(stored["items"]) == k else None
    for similarity in {i["similarity"] for i in stored["items"]} - {last}:
        tied = [sorted((i for i in answer["items"] if i["similarity"] == similarity), key=lambda i: i["id"])
                for answer in (stored, searched)]
        if tied[0] != tied[1]:
            return False
    return True


async def test_stored_neighbours_answer_what_the_search_answers(api_warehouse, user, api_milvus):
    """Without a stock, a threshold or more than NEIGHBOURS, /similar answers from
    computed.similar_news with no Milvus call (it answers with Milvus down): what the search
    answers (the same request with the default threshold given, which searches Milvus) for every
    embedded article, byte for byte but for the order of equally similar neighbours."""
    articles = [r[0] for r in sql(api_warehouse, "SELECT news_id FROM computed.news_vectors ORDER BY news_id")]
    live = settings_for(api_warehouse, milvus_uri=api_milvus, cache_ttls={"similar": 0})
    threshold = MIN_SIMILARITY["kiwi-hash"]
    answered, identical, tied = 0, 0, []
    async with AsyncTestClient(app=create_app(down_milvus(api_warehouse))) as stored, \
            AsyncTestClient(app=create_app(live)) as searched:
        for news_id in articles:
            for k in (NEIGHBOURS, 3):
                path = f"/api/news/{news_id}/similar"
                from_table = await stored.get(path, params={"k": k}, headers=bearer(user.token))
                from_milvus = await searched.get(path, params={"k": k, "min_similarity": threshold},
                                                 headers=bearer(user.token))
                assert from_table.status_code == from_milvus.status_code == 200, (news_id, from_table.text)
                answered += bool(from_table.json()["items"])
                if from_table.content == from_milvus.content:
                    identical += 1
                else:
                    assert same_but_ties(from_table.json(), from_milvus.json(), k), news_id
                    tied.append(news_id)
    assert len(articles) > 100 and answered > len(articles)  # most articles have neighbours
    assert identical > 0.9 * 2 * len(articles), tied  # ties are rare: articles with the same text


async def test_vectors_written_after_the_search_send_the_request_to_milvus(api_warehouse, user):
    """A day's stored neighbours stop being served once vectors of that day or earlier are written
    after their search (the search would find other articles now): the request searches Milvus
    (here down: 503). Vectors of later days do not count."""
    [(news_id, day)] = sql(api_warehouse, """
        SELECT s.news_id, s.published_day FROM computed.similar_news s
        WHERE s.published_day > (SELECT min(published_day) FROM computed.similar_news)
          AND s.published_day < (SELECT max(published_day) FROM computed.similar_news)
        ORDER BY s.published_day, s.news_id LIMIT 1""")
    saved = sql(api_warehouse, "SELECT published_day, vectors_written_at, neighbours_searched_at "
                               "FROM computed.similar_news_days")
    path = f"/api/news/{news_id}/similar"
    statuses = []
    try:
        async with AsyncTestClient(app=create_app(down_milvus(api_warehouse))) as client:
            statuses.append((await client.get(path, headers=bearer(user.token))).status_code)
            sql(api_warehouse, "UPDATE computed.similar_news_days SET vectors_written_at = now() "
                               "WHERE published_day > %s", (day,))
            statuses.append((await client.get(path, headers=bearer(user.token))).status_code)
            sql(api_warehouse, "UPDATE computed.similar_news_days SET vectors_written_at = now() "
                               "WHERE published_day < %s", (day,))
            statuses.append((await client.get(path, headers=bearer(user.token))).status_code)
            sql(api_warehouse, "UPDATE computed.similar_news_days SET vectors_written_at = NULL, "
                               "neighbours_searched_at = NULL")
            statuses.append((await client.get(path, headers=bearer(user.token))).status_code)
    finally:
        for stamp in saved:
            sql(api_warehouse, "UPDATE computed.similar_news_days SET vectors_written_at = %s, "
                               "neighbours_searched_at = %s WHERE published_day = %s", (stamp[1], stamp[2], stamp[0]))
    assert statuses == [200, 200, 503, 503]
