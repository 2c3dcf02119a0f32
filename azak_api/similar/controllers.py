"""Similar news (``/api/news/{id}/similar``) and semantic search (``/api/news/search``) over Milvus.

Neighbours of an article are published before it (what happened after similar news *before*),
itself and its story's copies excluded; the default threshold is the embedder's, from the one
place thresholds live (``azak_core.vectors``). A search query is embedded with the pipelines'
embedder. An unreachable Milvus, a collection that was never built and a failing provider are
503s saying what to do. An article's vector comes with the article from PostgreSQL
(``computed.news_vectors``), so the search is the request's one Milvus call. Without a stock, a
threshold or more than ``NEIGHBOURS``, the answer is the neighbours the pipelines stored
(``computed.similar_news``) when they are what the search would find now: one query, no Milvus.
"""

from datetime import date
from typing import Annotated, Any

import numpy as np
from litestar import Controller, get
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED
from azak_api.errors import NotFound, error_responses
from azak_api.json_sql import answer, raw_items
from azak_api.news.schemas import NEWS_ID_PATTERN
from azak_api.similar import queries
from azak_api.similar.index import NewsIndex, Unavailable, provide_news_index
from azak_api.similar.schemas import Neighbour, SearchResults, SimilarNews
from azak_core.embeddings import EmbeddingError, prepare_text
from azak_core.market import STOCK_CODE_PATTERN
from azak_core.vectors import (
    NEIGHBOURS,
    Hit,
    NewsVectors,
    day_number,
    earlier_than,
    mentions_stock,
    min_similarity,
    unpacked,
)

MAX_K = 50


def article_vector(store: NewsVectors, row: Any) -> np.ndarray:
    """The article's vector as PostgreSQL keeps it beside the article (then the search is the one
    Milvus call); from Milvus for an article embedded before the pipelines kept it there."""
    if row.vector is not None and len(row.vector) == 4 * store.dimension:
        return unpacked(row.vector)
    stored = store.vectors([row.news_id])
    if row.news_id not in stored:
        raise Unavailable(f"article {row.news_id} has no vector in {store.name} yet: materialize "
                          f"milvus/news_embeddings for {row.published_day}")
    vector: np.ndarray = stored[row.news_id]["vector"]
    return vector


class SimilarNewsController(Controller):
    path = "/api/news"
    tags = ["news"]
    security = SECURED
    dependencies = {"news_index": Provide(provide_news_index, sync_to_thread=False)}

    @get("/{news_id:str}/similar", operation_id="getSimilarNews", opt={"cache": "similar"}, cache=True,
         summary="Earlier articles most similar to this one, with what their stocks did next",
         responses=error_responses(401, 404))
    async def similar(
        self, db: AsyncConnection, news_index: NewsIndex,
        news_id: Annotated[str, Parameter(pattern=NEWS_ID_PATTERN, description="the article id (decimal)")],
        k: Annotated[int, Parameter(ge=1, le=MAX_K, description="how many neighbours")] = NEIGHBOURS,
        min_similarity_: Annotated[float | None, Parameter(
            query="min_similarity", ge=-1.0, le=1.0,
            description="least cosine similarity (default: the embedder's threshold)")] = None,
        stock: Annotated[str | None, Parameter(pattern=STOCK_CODE_PATTERN,
                                               description="only neighbours linked to this stock")] = None,
    ) -> SimilarNews:
        article_id = int(news_id)
        # the pipelines stored each article's NEIGHBOURS under the default threshold, without a stock
        stored = k <= NEIGHBOURS and min_similarity_ is None and stock is None
        default = min_similarity(news_index.embedder_key.partition("@")[0])
        row = (await queries.article(db, article_id, news_index.embedder_key, k if stored else None, default)
               if article_id <= 2**63 - 1 else None)
        if row is None:
            raise NotFound(f"no article {news_id}")
        if row.stored is not None:
            return answer(row.stored.encode(), SimilarNews)

        def search(store: NewsVectors) -> tuple[str, float, list[Hit]]:
            embedder = news_index.embedder()
            threshold = min_similarity(embedder.name) if min_similarity_ is None else min_similarity_
            filter_ = earlier_than(row.published_at, article_id, row.cluster_id)
            if stock:
                filter_ += " and " + mentions_stock(stock)
            return embedder.key, threshold, store.search(article_vector(store, row), k, filter_, threshold)

        embedder_key, threshold, hits = await news_index.call(search)
        return answer(await queries.similar_news(db, news_id, embedder_key, k, threshold, hits, stock), SimilarNews)

    @get("/search", operation_id="searchNews", opt={"cache": "search"}, cache=True,
         summary="Semantic search: articles closest in meaning to the query", responses=error_responses(401))
    async def search(
        self, db: AsyncConnection, news_index: NewsIndex,
        q: Annotated[str, Parameter(min_length=1, max_length=500, description="what to look for, in any language")],
        stock: Annotated[str | None, Parameter(pattern=STOCK_CODE_PATTERN, description="linked to this stock")] = None,
        start: Annotated[date | None, Parameter(query="from", description="first KST day (YYYY-MM-DD)")] = None,
        end: Annotated[date | None, Parameter(query="to", description="last KST day (YYYY-MM-DD)")] = None,
        k: Annotated[int, Parameter(ge=1, le=MAX_K, description="how many results")] = NEIGHBOURS,
    ) -> SearchResults:
        if start and end and start > end:
            raise ValidationException(f"'from' ({start}) is after 'to' ({end})")
        try:
            text = prepare_text(q)
        except EmbeddingError as error:
            raise ValidationException(f"q: {error}; search with words or numbers") from error
        conditions = [mentions_stock(stock)] if stock else []
        if start:
            conditions.append(f"published_day >= {day_number(start)}")
        if end:
            conditions.append(f"published_day <= {day_number(end)}")

        vector = await news_index.embed(text)
        hits = await news_index.call(lambda store: store.search(vector, k, " and ".join(conditions)))
        items = await queries.neighbours(db, hits, stock)
        return SearchResults(q, news_index.embedder().key, raw_items(items, Neighbour))

