"""News: response types. Full article bodies are never served."""

from datetime import date, datetime

import msgspec


class Article(msgspec.Struct):
    id: int
    title: str
    summary: str
    url: str
    press: str | None
    source: str
    sources: list[str]
    content_type: str
    published_at: datetime
    published_precision: str
    stock_codes: list[str]
    cluster_id: int
    cluster_size: int
    is_canonical: bool


class ArticlePage(msgspec.Struct):
    items: list[Article]
    total: int
    page: int
    page_size: int
    pages: int


class Link(msgspec.Struct):
    code: str
    name: str | None
    score: float
    salient: bool
    surfaces: list[str]
    evidence: str


class Impact(msgspec.Struct):
    code: str
    anchor_date: date | None
    base_close: float | None
    returns: dict[str, float | None]
    excess_over_kospi: dict[str, float | None]


class StoryItem(msgspec.Struct):
    id: int
    title: str
    source: str
    published_at: datetime


class ArticleDetail(msgspec.Struct):
    article: Article
    links: list[Link]
    price_impact: list[Impact]
    same_story: list[StoryItem]
