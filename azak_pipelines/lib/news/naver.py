"""Naver Finance news lists → items. Pure: page bytes in, records out.

* Market news list (``news/news_list.naver?mode=LSS2D&section_id=101&section_id2=258``): rows are
  ``dl`` entries with ``.articleSubject a`` (title, link) and ``dd.articleSummary`` holding the
  summary text plus ``span.press`` and ``span.wdate``.
* Per-stock list (``item/news_news.naver?code=…``): ``table.type5`` rows with ``td.title a``,
  ``td.info`` (press) and ``td.date``; ``tr.relation_tit`` starts a cluster of related reports whose
  members follow in ``tr.relation_lst``'s nested table (kept as items, cluster noted).

The live pages are EUC-KR; :func:`~azak_pipelines.lib.news.text.decode` reads them as CP949.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from lxml import html as lxml_html

from azak_pipelines.lib.news.dates import DateError, parse_kst
from azak_pipelines.lib.news.items import NewsItem, ParseResult, Rejected
from azak_pipelines.lib.news.text import clean_or_reason, decode, strip_press_tail
from azak_pipelines.lib.news.urls import UnsafeUrl, canonical_url, naver_article

BASE = "https://finance.naver.com"
SOURCE = "naver_finance"


def _text(node: Any) -> str:  # lxml elements (lxml has no type information here)
    text: str = node.text_content() if node is not None else ""
    return text


def _first(node: Any, selector: str) -> Any:
    found = node.cssselect(selector)
    return found[0] if found else None


def _item(result: ParseResult, href: str, title_raw: str, summary_raw: str, press_raw: str,
          date_raw: str, fetched_at: datetime, extra: dict[str, Any], stock_code: str | None) -> None:
    locator = href or "(no link)"
    article = naver_article(href) if href else None
    if article is None:
        result.rejected.append(Rejected(locator, "link has no office_id/article_id", title_raw[:200]))
        return
    title, title_problem = clean_or_reason(title_raw)
    if not title:
        result.rejected.append(Rejected(locator, "empty title", ""))
        return
    if title_problem:
        result.rejected.append(Rejected(locator, f"title {title_problem}", title[:200]))
        return
    summary, summary_problem = clean_or_reason(summary_raw)
    if summary_problem:
        summary = ""  # the title is good; an unreadable summary is dropped, not stored
        extra = {**extra, "summary_dropped": summary_problem}
    try:
        published, precision = parse_kst(date_raw.strip(), fetched_at)
    except DateError as exc:
        result.rejected.append(Rejected(locator, str(exc), title))
        return
    office, article_id = article
    try:
        url = canonical_url(href, BASE)
    except UnsafeUrl as exc:
        result.rejected.append(Rejected(locator, str(exc), title))
        return
    result.items.append(NewsItem(
        source=SOURCE, item_key=f"naver:{office}:{article_id}", title=title,
        summary=strip_press_tail(summary), url=url,
        press=clean_or_reason(press_raw)[0] or None, published_at=published,
        published_precision=precision, stock_code_hint=stock_code,
        extra={"office_id": office, "article_id": article_id, **extra},
    ))


def parse_market_list(data: bytes, fetched_at: datetime, content_type: str | None = None) -> ParseResult:
    """The securities news list (one page)."""
    text, _ = decode(data, content_type)
    tree = lxml_html.fromstring(text) if text.strip() else None
    result = ParseResult(container="dl > .articleSubject")
    if tree is None:
        return result
    for entry in tree.cssselect("ul.realtimeNewsList dl, div.mainNewsList dl, dl"):
        subject = _first(entry, ".articleSubject a")
        if subject is None:
            continue
        result.rows_seen += 1
        summary_node = _first(entry, "dd.articleSummary")
        press = wdate = ""
        summary = ""
        if summary_node is None:
            result.lack("dd.articleSummary")
        else:
            press_node = _first(summary_node, "span.press")
            date_node = _first(summary_node, "span.wdate")
            press, wdate = _text(press_node), _text(date_node)
            if press_node is None:
                result.lack("span.press")
            if date_node is None:
                result.lack("span.wdate")
            parts = [summary_node.text or ""]
            for child in summary_node:
                if child.tag != "span":
                    parts.append(child.text_content())
                parts.append(child.tail or "")
            summary = " ".join(parts)
        _item(result, subject.get("href", ""), subject.get("title") or _text(subject), summary,
              press, wdate, fetched_at, {"list": "market"}, None)
    return result


def parse_stock_list(data: bytes, stock_code: str, fetched_at: datetime,
                     content_type: str | None = None) -> ParseResult:
    """One page of a stock's news list (with Naver's related-news clusters)."""
    text, _ = decode(data, content_type)
    result = ParseResult(container="table.type5 td.title")
    if not text.strip():
        return result
    tree = lxml_html.fromstring(text)
    cluster_head: str | None = None
    for row in tree.cssselect("table.type5 tr"):
        cells = {(td.get("class") or "").strip(): td for td in row.xpath("./td")}
        cell = cells.get("title")
        if cell is None:
            continue  # headers, spacers, and the row that only wraps a related-news table
        link = _first(cell, "a")
        classes = (row.get("class") or "").split()
        nested = row.xpath("ancestor::tr[contains(@class, 'relation_lst')]")
        row_cells = StockRow(link, cells.get("info"), cells.get("date"), classes, bool(nested))
        cluster_head = stock_row(result, row_cells, cluster_head, stock_code, fetched_at, _text)
    return result


class StockRow(NamedTuple):
    """The cells of one row of a stock's news list, as the page's parser found them."""

    link: Any
    info: Any
    when: Any
    classes: list[str]
    nested: bool  # inside a related-news cluster


def stock_row(result: ParseResult, row: StockRow, cluster_head: str | None, stock_code: str,
              fetched_at: datetime, text: Callable[[Any], str]) -> str | None:
    """One row into ``result`` (or what it lacks); the cluster head the next row belongs to."""
    result.rows_seen += 1
    if row.link is None:
        result.lack("td.title a")
        return cluster_head
    if row.info is None:
        result.lack("td.info")
    if row.when is None:
        result.lack("td.date")
    href = row.link.get("href", "")
    article = naver_article(href)
    key = f"naver:{article[0]}:{article[1]}" if article else None
    extra: dict[str, Any] = {"list": f"stock:{stock_code}"}
    if "relation_tit" in row.classes:
        cluster_head = key
    elif row.nested and cluster_head:
        extra["naver_cluster"] = cluster_head
    elif not row.nested:
        cluster_head = None
    _item(result, href, text(row.link), "", text(row.info), text(row.when), fetched_at, extra, stock_code)
    return cluster_head
