"""Raw items of every source → articles: one per canonical URL, clustered into stories."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from azak_pipelines.lib.calendar.krx_calendar import kst_day
from azak_pipelines.lib.news.dedup import Headline, cluster_headlines

# which source's copy represents an article seen in several (the most specific first)
SOURCE_RANK = {"dart": 0, "naver_finance": 1, "hankyung": 2, "maeil": 3, "reddit": 4}


@dataclass(frozen=True)
class RawItem:
    item_key: str
    published_at: datetime
    published_precision: str
    title: str
    summary: str
    url: str
    press: str | None
    source: str
    content_type: str
    stock_code_hint: str | None
    first_seen_at: datetime


@dataclass(frozen=True)
class Article:
    news_id: int
    published_day: date
    published_at: datetime
    published_precision: str
    title: str
    summary: str
    url: str
    press: str | None
    source: str
    sources: list[str]
    content_type: str
    stock_code_hints: list[str]
    cluster_id: int
    is_canonical: bool
    cluster_size: int
    first_seen_at: datetime


def news_id(url: str) -> int:
    """A stable positive 63-bit id for a canonical URL."""
    return int.from_bytes(hashlib.sha256(url.encode()).digest()[:8], "big") & (2**63 - 1)


def build_articles(items: Iterable[RawItem], threshold: float = 0.6,
                   window: timedelta = timedelta(hours=48)) -> list[Article]:
    """Exact duplicates (same canonical URL) merge; near-duplicate headlines share a cluster.
    Disclosures never cluster (filings with the same form name are different filings)."""
    by_url: dict[str, list[RawItem]] = {}
    for item in items:
        by_url.setdefault(item.url, []).append(item)
    merged = []
    for url, copies in by_url.items():
        first = min(copies, key=lambda i: (i.published_at, SOURCE_RANK.get(i.source, 9), i.item_key))
        summary = first.summary or max((c.summary for c in copies), key=len)
        merged.append((news_id(url), first, summary, sorted({c.source for c in copies}),
                       sorted({c.stock_code_hint for c in copies if c.stock_code_hint}),
                       min(c.first_seen_at for c in copies)))
    headlines = [Headline(str(nid), first.title, first.published_at)
                 for nid, first, *_ in merged if first.content_type != "disclosure"]
    clusters = cluster_headlines(headlines, threshold, window)
    articles = []
    for nid, first, summary, sources, hints, seen in merged:
        cluster = clusters.get(str(nid))
        articles.append(Article(
            news_id=nid, published_day=kst_day(first.published_at), published_at=first.published_at,
            published_precision=first.published_precision, title=first.title, summary=summary,
            url=first.url, press=first.press, source=first.source, sources=sources,
            content_type=first.content_type, stock_code_hints=hints,
            cluster_id=int(cluster.cluster_key) if cluster else nid,
            is_canonical=cluster.is_canonical if cluster else True,
            cluster_size=cluster.size if cluster else 1, first_seen_at=seen,
        ))
    return articles
