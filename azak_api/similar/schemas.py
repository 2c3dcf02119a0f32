"""Similar news and semantic search: response types."""

from datetime import datetime

import msgspec

from azak_api.news.schemas import NewsId


class Outcome(msgspec.Struct):
    """What a stock did after the neighbour (close-to-close from its anchor session); NULL until matured."""

    code: str
    returns: dict[str, float | None]


class Neighbour(msgspec.Struct):
    id: NewsId
    similarity: float
    title: str
    source: str
    press: str | None
    url: str
    published_at: datetime
    stock_codes: list[str]
    outcomes: list[Outcome]


class SimilarNews(msgspec.Struct):
    """The article's most similar articles published before it (itself and its story's copies excluded)."""

    id: NewsId
    embedder: str
    k: int
    min_similarity: float
    items: list[Neighbour]


class SearchResults(msgspec.Struct):
    query: str
    embedder: str
    items: list[Neighbour]
