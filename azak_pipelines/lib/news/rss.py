"""RSS 2.0 feeds (Hankyung, Maeil Business) → items. Pure; external entities are never resolved."""

from datetime import datetime

from lxml import etree

from azak_pipelines.lib.news.dates import DateError, parse_rfc822
from azak_pipelines.lib.news.items import NewsItem, ParseResult, Rejected
from azak_pipelines.lib.news.text import clean_or_reason, decode, strip_press_tail
from azak_pipelines.lib.news.urls import UnsafeUrl, canonical_url

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=False)


class FeedError(ValueError):
    """The payload is not an RSS feed (the whole fetch is unusable)."""


def _html_text(fragment: str) -> str:
    if "<" not in fragment:
        return fragment
    from lxml import html as lxml_html

    try:
        text: str = lxml_html.fromstring(f"<div>{fragment}</div>").text_content()
        return text
    except (etree.ParserError, ValueError):
        return fragment


def parse_feed(data: bytes, source: str, press: str, fetched_at: datetime,
               content_type: str | None = None) -> ParseResult:
    text, _charset = decode(data, content_type)
    result = ParseResult(container="rss > channel > item")
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER) if text.strip() else None
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not well-formed XML: {exc}") from None
    if root is None:
        return result
    if root.tag not in {"rss", "{http://www.w3.org/2005/Atom}feed"} and root.find("channel") is None:
        raise FeedError(f"the root element is <{root.tag}>, not <rss>")
    for node in root.iter("item"):
        result.rows_seen += 1
        title_raw = node.findtext("title") or ""
        link = (node.findtext("link") or "").strip()
        guid = (node.findtext("guid") or "").strip()
        locator = link or guid or f"item #{result.rows_seen}"
        if not link:
            result.lack("item > link")
            result.rejected.append(Rejected(locator, "RSS item without a link", title_raw[:200]))
            continue
        title, problem = clean_or_reason(title_raw)
        if not title:
            result.lack("item > title")
            result.rejected.append(Rejected(locator, "RSS item without a title", ""))
            continue
        if problem:
            result.rejected.append(Rejected(locator, f"title {problem}", title[:200]))
            continue
        pub = node.findtext("pubDate")
        if pub is None:
            result.lack("item > pubDate")
            result.rejected.append(Rejected(locator, "RSS item without a pubDate", title))
            continue
        try:
            published = parse_rfc822(pub)
        except DateError as exc:
            result.rejected.append(Rejected(locator, str(exc), title))
            continue
        summary, summary_problem = clean_or_reason(_html_text(node.findtext("description") or ""))
        extra = {"guid": guid} if guid else {}
        if summary_problem:
            summary, extra["summary_dropped"] = "", summary_problem
        author = node.findtext("author") or node.findtext("{http://purl.org/dc/elements/1.1/}creator")
        if author:
            extra["author"] = clean_or_reason(author)[0]
        try:
            url = canonical_url(link)
        except UnsafeUrl as exc:
            result.rejected.append(Rejected(locator, str(exc), title))
            continue
        result.items.append(NewsItem(
            source=source, item_key=f"{source}:{url}", title=title,
            summary=strip_press_tail(summary)[:1000], url=url, press=press,
            published_at=published, published_precision="second", extra=extra,
        ))
    return result
