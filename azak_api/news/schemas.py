"""News: response types. Full article bodies are never served.

Article ids are 63-bit hashes of the canonical URL; they travel as decimal strings because a
JavaScript client's numbers are exact only to 2**53."""

from datetime import date, datetime
from typing import Annotated

import msgspec

from azak_api.analysis.schemas import Prediction
from azak_api.pages import Paged
from azak_core.patterns import whole

NEWS_ID_PATTERN = whole("[1-9][0-9]{0,18}")
NewsId = Annotated[str, msgspec.Meta(pattern=NEWS_ID_PATTERN, description="a 63-bit id as a decimal string")]


class Article(msgspec.Struct):
    id: NewsId
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
    cluster_id: NewsId
    cluster_size: int
    is_canonical: bool


class ArticlePage(Paged):
    items: list[Article]
    next_cursor: Annotated[str | None, msgspec.Meta(
        description="pass as cursor for the page after this one; null on the last page")]


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
    id: NewsId
    title: str
    source: str
    published_at: datetime


class ArticleDetail(msgspec.Struct):
    article: Article
    links: list[Link]
    price_impact: list[Impact]
    same_story: list[StoryItem]
    predictions: list[Prediction]  # every model's attempt for this article, failures included
