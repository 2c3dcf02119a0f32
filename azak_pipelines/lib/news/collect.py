"""Fetching the news sources politely, live or from recordings, into :class:`ParseResult`s.

Every fetch goes through :class:`~azak_pipelines.lib.http.HttpClient` (one per run) with a
per-host interval, an honest User-Agent, timeouts and retries. A page that still fails becomes a
rejected row with the HTTP reason — one bad page never sinks the other pages of a run. Reddit goes
through PRAW, whose HTTP session is swapped for the recordings in replay mode.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from lxml import html as lxml_html

from azak_core import clock
from azak_core.redact import redacted_repr
from azak_pipelines.lib.http import HttpClient, HttpError, redact_secrets
from azak_pipelines.lib.news import dart, naver, reddit, rss
from azak_pipelines.lib.news.items import ParseResult, Rejected
from azak_pipelines.lib.news.text import clean_or_reason, decode

NAVER_PAGE_SIZE = 20  # rows on a full Naver list page


@dataclass(frozen=True)
class NewsSettings:
    """Where the sources live and how politely to read them (the news resource's fields)."""

    naver_base: str = "https://finance.naver.com"
    naver_market_pages: int = 5
    naver_stock_pages: int = 2
    hankyung_rss: str = "https://www.hankyung.com/feed/finance"
    maeil_rss: str = "https://www.mk.co.kr/rss/50200011/"
    dart_base: str = "https://opendart.fss.or.kr"
    dart_key: str = ""
    reddit_client_id: str = ""
    reddit_client_secret: str = ""
    reddit_user_agent: str = "Azak/0.1 (Korean market research platform)"
    reddit_base: str = ""  # Reddit's own hosts (PRAW's); one local server for both in simulation and tests
    reddit_subreddits: tuple[str, ...] = ("KoreaStocks", "stocks", "investing")
    reddit_keywords: tuple[str, ...] = ("Samsung", "SK Hynix", "Hyundai", "Kia", "KOSPI", "Korea",
                                        "Naver", "Hanwha", "Kakao", "LG Energy")
    reddit_min_score: int = 10
    reddit_min_comments: int = 2
    reddit_lookback_hours: int = 24
    host_interval: float = 1.0
    fetch_bodies: bool = False

    __repr__ = redacted_repr  # the DART key and the Reddit secret stay out of logs


@dataclass
class Collection:
    """What one run fetched from a source, before the window filter. ``by_kind`` keeps each
    kind of page apart (a market list and a stock list break independently)."""

    result: ParseResult = field(default_factory=ParseResult)
    fetches: int = 0
    not_modified: int = 0
    missing_recordings: int = 0
    errors: list[str] = field(default_factory=list)
    by_kind: dict[str, ParseResult] = field(default_factory=dict)

    def add(self, kind: str, parsed: ParseResult) -> None:
        self.result.extend(parsed)
        self.by_kind.setdefault(kind, ParseResult(container=parsed.container)).extend(parsed)

    def failed(self, locator: str, reason: str) -> None:
        locator, reason = redact_secrets(locator), redact_secrets(reason)  # URLs carry DART's key
        self.errors.append(f"{locator}: {reason}")
        self.result.rejected.append(Rejected(locator, reason))


async def _get(client: HttpClient, collection: Collection, url: str, replay: bool,
               **kwargs: Any) -> Any:
    """GET a page; ``None`` when it failed (recorded) or has no recording (replay)."""
    collection.fetches += 1
    try:
        response = await client.get(url, **kwargs)
    except HttpError as exc:
        collection.failed(url, str(exc))
        return None
    if response.status_code == 304:
        collection.not_modified += 1
        return None
    if response.status_code == 404 and replay:
        collection.missing_recordings += 1
        return None
    if response.status_code >= 400:
        collection.failed(str(response.url), f"HTTP {response.status_code}")
        return None
    return response


async def naver_market(client: HttpClient, settings: NewsSettings, days: list[date],
                       fetched_at: datetime, replay: bool) -> Collection:
    """The securities news list, day by day (its ``date`` parameter), page by page."""
    collection = Collection()
    for day in days:
        seen: set[str] = set()
        for page in range(1, settings.naver_market_pages + 1):
            response = await _get(client, collection, f"{settings.naver_base}/news/news_list.naver",
                                  replay, params={"mode": "LSS2D", "section_id": "101",
                                                  "section_id2": "258", "date": f"{day:%Y%m%d}",
                                                  "page": str(page)})
            if response is None:
                break
            parsed = naver.parse_market_list(response.content, fetched_at,
                                             response.headers.get("content-type"))
            fresh = [item for item in parsed.items if item.item_key not in seen]
            seen.update(item.item_key for item in parsed.items)
            parsed.items = fresh
            collection.add("market list", parsed)
            if len(fresh) < NAVER_PAGE_SIZE:
                break  # a short page is the last one (Naver repeats the last page past the end)
    return collection


async def naver_stocks(client: HttpClient, settings: NewsSettings, codes: list[str],
                       since: date, fetched_at: datetime, replay: bool) -> Collection:
    """Each watch-list stock's news list, newest first, until items predate ``since``."""
    collection = Collection()
    for code in codes:
        seen: set[str] = set()
        for page in range(1, settings.naver_stock_pages + 1):
            response = await _get(client, collection, f"{settings.naver_base}/item/news_news.naver",
                                  replay, params={"code": code, "page": str(page)})
            if response is None:
                break
            parsed = naver.parse_stock_list(response.content, code, fetched_at,
                                            response.headers.get("content-type"))
            fresh = [item for item in parsed.items if item.item_key not in seen]
            seen.update(item.item_key for item in parsed.items)
            parsed.items = fresh
            collection.add("stock list", parsed)
            if not fresh or min(item.published_day for item in fresh) < since:
                break
    return collection


async def feed(client: HttpClient, url: str, source: str, press: str, fetched_at: datetime,
               replay: bool) -> Collection:
    collection = Collection()
    response = await _get(client, collection, url, replay)
    if response is not None:
        try:
            collection.add("feed", rss.parse_feed(response.content, source, press, fetched_at,
                                                  response.headers.get("content-type")))
        except rss.FeedError as exc:
            collection.failed(url, str(exc))
    return collection


async def dart_corps(client: HttpClient, settings: NewsSettings, cache_dir: Path | None) -> dict[str, dart.Corp]:
    """DART's corp-code list (a few MB), cached for a day under ``cache_dir``."""
    cached = cache_dir / f"dart-corpcode-{clock.kst_today():%Y%m%d}.zip" if cache_dir else None
    if cached is not None and cached.exists():
        return dart.parse_corp_codes(cached.read_bytes())
    response = await client.get(f"{settings.dart_base}/api/corpCode.xml",
                                params={"crtfc_key": settings.dart_key}, max_bytes=dart.CORP_CODES_ZIP_MAX_BYTES)
    if response.headers.get("content-type", "").startswith("application/json") or response.content[:1] == b"{":
        payload = json.loads(response.content)
        raise dart.DartApiError(str(payload.get("status")), str(payload.get("message")))
    if response.status_code != 200:
        raise dart.DartApiError("900", f"corpCode.xml answered HTTP {response.status_code}")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(response.content)
    return dart.parse_corp_codes(response.content)


async def dart_disclosures(client: HttpClient, settings: NewsSettings, corps: list[dart.Corp],
                           start: date, end: date, replay: bool) -> Collection:
    """``list.json`` per company over ``[start, end]``, following ``total_page``. A quota or key
    error stops the collection (recorded); other pages' results are kept."""
    collection = Collection()
    for corp in corps:
        page = 1
        while True:
            response = await _get(client, collection, f"{settings.dart_base}/api/list.json", replay,
                                  params={"crtfc_key": settings.dart_key, "corp_code": corp.corp_code,
                                          "bgn_de": f"{start:%Y%m%d}", "end_de": f"{end:%Y%m%d}",
                                          "page_no": str(page), "page_count": "100"})
            if response is None:
                break
            try:
                parsed = dart.parse_list(response.content)
            except dart.DartApiError as exc:
                collection.failed(f"dart:{corp.corp_code}", str(exc))
                if isinstance(exc, dart.DartQuotaExceeded) or exc.status in {"010", "011", "012", "901"}:
                    return collection  # the key cannot go on today; do not hammer
                break
            collection.add("list.json", parsed.result)
            if parsed.page_no >= parsed.total_page:
                break
            page += 1
    return collection


async def naver_body(client: HttpClient, url: str) -> str | None:
    """The article text of a Naver news page (opt-in; never served by the API)."""
    response = await client.get(url)
    if response.status_code != 200:
        return None
    text, _ = decode(response.content, response.headers.get("content-type"))
    tree = lxml_html.fromstring(text)
    nodes = tree.cssselect("#dic_area, #newsct_article, #articleBodyContents")
    if not nodes:
        return None
    body, problem = clean_or_reason(nodes[0].text_content())
    return None if problem else body


# -- Reddit through PRAW ---------------------------------------------------------------------------


class RedditRecordings(requests.adapters.BaseAdapter):
    """A requests adapter that answers PRAW's OAuth and listing calls from recorded Listings."""

    def __init__(self, fixtures: Path):
        super().__init__()
        self.fixtures = fixtures
        self.requests: list[str] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float | None, float | None] | None = None, verify: bool | str = True,
             cert: str | tuple[str, str] | None = None, proxies: dict[str, str] | None = None) -> requests.Response:
        from urllib.parse import urlsplit

        parts = urlsplit(request.url or "")
        self.requests.append(parts.path)
        response = requests.Response()
        response.request = request
        response.url = request.url or ""
        response.headers["content-type"] = "application/json; charset=UTF-8"
        if parts.path == "/api/v1/access_token":
            body: bytes = json.dumps({"access_token": "replay", "token_type": "bearer",
                                      "expires_in": 3600, "scope": "*"}).encode()
            response.status_code = 200
        else:
            segments = [s for s in parts.path.split("/") if s]
            recording = None
            if len(segments) >= 3 and segments[0] == "r":
                for suffix in (".json.gz", ".json"):
                    path = self.fixtures / f"{segments[1]}_{segments[2]}{suffix}"
                    if path.exists():
                        import gzip

                        recording = path.read_bytes()
                        recording = gzip.decompress(recording) if suffix.endswith(".gz") else recording
                        break
            if recording is None:
                recording = json.dumps({"kind": "Listing", "data": {"children": [], "after": None}}).encode()
            response.status_code, body = 200, recording
        response._content = body
        return response

    def close(self) -> None:
        return None


def reddit_posts(settings: NewsSettings, recordings: Path | None) -> tuple[list[dict[str, Any]], int]:
    """Hot and new posts of the configured subreddits, as plain dicts (deduplicated by id)."""
    import praw

    session = requests.Session()
    if recordings is not None:
        session.mount("https://", RedditRecordings(recordings))
    hosts: dict[str, Any] = ({"oauth_url": settings.reddit_base, "reddit_url": settings.reddit_base}
                             if settings.reddit_base else {})
    client = praw.Reddit(
        client_id=settings.reddit_client_id or "replay",
        client_secret=settings.reddit_client_secret or "replay",
        user_agent=settings.reddit_user_agent, check_for_updates=False, check_for_async=False,
        requestor_kwargs={"session": session}, **hosts,
    )
    posts: dict[str, dict[str, Any]] = {}
    fetches = 0
    for name in settings.reddit_subreddits:
        subreddit = client.subreddit(name)
        for listing in (subreddit.hot(limit=25), subreddit.new(limit=25)):
            fetches += 1
            for submission in listing:
                post = reddit.submission_fields(submission)
                posts[str(post["id"])] = post
    return list(posts.values()), fetches


def reddit_filter(settings: NewsSettings) -> reddit.RedditFilter:
    return reddit.RedditFilter(settings.reddit_keywords, settings.reddit_min_score,
                               settings.reddit_min_comments,
                               timedelta(hours=settings.reddit_lookback_hours))
