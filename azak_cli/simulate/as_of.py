"""The recorded news sites as they stood at the simulated now: a recording holds a whole day (a
Naver day list), or days after it (a stock's list, an RSS feed), so a simulation served it whole
would collect articles before their publication. Each page is cut to the items published at or
before ``clock.utc_now()``; a day's list with nothing published yet answers 404, as a day the
recordings lack does (an empty list would read as a broken layout to the drift check), and the RSS
feeds get generated items on the days the recordings miss (:func:`generated_times`)."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from email.utils import format_datetime

import lxml.etree
import lxml.html

from azak_core import clock
from azak_core.market import KST
from azak_pipelines.lib.news.dates import DateError, parse_kst, parse_rfc822
from azak_pipelines.lib.replay_http import Answer, Handler

NOTHING_YET: Answer = (404, {"content-type": "text/plain"}, b"nothing published yet")
# an RSS feed always lists something: on a day the recording has no item of (weekends, holidays,
# days before it starts), the feed gets generated items at these KST times, labelled generated
GENERATED_SLOTS = (time(7, 30), time(12, 0), time(18, 30))
GENERATED_DAYS = 2  # today and yesterday: what the news schedule collects
GENERATED_NOTE = "Azak simulation: a generated item for a day the recordings do not cover."
# named in each generated title: a watch-list company, so that an item of a weekend, a holiday or an
# evening is linked and predicted, and the ledger's 30-minute expectation judges those hours too
GENERATED_COMPANY = "삼성전자"
GENERATED_COMPANY_EN = "Samsung Electronics"  # its English name (a linker alias), for Reddit's generated posts


def _rss(data: bytes, now: datetime) -> bytes | None:
    root = lxml.etree.fromstring(data)
    recorded_days = set()
    for item in list(root.iter("item")):
        try:
            published = parse_rfc822(item.findtext("pubDate") or "")
        except DateError:
            continue  # unreadable: the parser quarantines it with its reason
        recorded_days.add(published.astimezone(KST).date())
        if published > now:
            item.getparent().remove(item)
    channel = root.find("channel")
    for at in generated_times(now, recorded_days):
        channel.append(generated_item(channel.findtext("link") or "", at))
    return bytes(lxml.etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def generated_times(now: datetime, recorded_days: set[date]) -> list[datetime]:
    """When generated items appear on the days around ``now`` the recording holds no item of."""
    today = now.astimezone(KST).date()
    days = [today - timedelta(days=back) for back in range(GENERATED_DAYS)]
    return [at for day in days if day not in recorded_days
            for at in (datetime.combine(day, slot, KST) for slot in GENERATED_SLOTS) if at <= now]


def generated_item(site: str, at: datetime) -> lxml.etree._Element:
    item = lxml.etree.Element("item")
    url = f"{site.rstrip('/')}/generated/{at.astimezone(KST):%Y%m%d%H%M}"
    for tag, text in (("title", f"[generated] {GENERATED_COMPANY} {at.astimezone(KST):%m월 %d일 %H시} 주가 시황"),
                      ("link", url), ("description", GENERATED_NOTE),
                      ("pubDate", format_datetime(at.astimezone(KST))), ("guid", url)):
        lxml.etree.SubElement(item, tag).text = text
    return item


def _html_cut(row_of_date: str, date_selector: str) -> Callable[[bytes, datetime], bytes | None]:
    def cut(data: bytes, now: datetime) -> bytes | None:
        document = lxml.html.fromstring(data.decode("euc-kr"))
        dates = document.cssselect(date_selector)
        kept = 0
        for node in dates:
            row = next(node.iterancestors(row_of_date), None)
            try:
                published, _ = parse_kst(node.text_content().strip(), now)
            except DateError:
                kept += 1
                continue
            if published > now and row is not None:
                row.drop_tree()
            else:
                kept += 1
        if dates and not kept:
            return None
        html: str = lxml.html.tostring(document, encoding="unicode")
        return html.encode("euc-kr", errors="xmlcharrefreplace")
    return cut


CUTS: dict[str, Callable[[bytes, datetime], bytes | None]] = {
    "/feed/finance": _rss, "/rss/50200011": _rss, "/rss/50200011/": _rss,
    "/news/news_list.naver": _html_cut("li", "span.wdate"),
    "/item/news_news.naver": _html_cut("tr", "td.date"),
}


def as_of_now(handler: Handler) -> Handler:
    """``handler``'s pages cut to what was published by the simulated now (no ``ETag``: the page
    changes with the clock, so a conditional request must not be answered from the whole day's)."""
    def answer(method: str, path: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> Answer:
        cut = CUTS.get(path)
        if cut is None:
            return handler(method, path, headers, query, body)
        unconditional = {k: v for k, v in headers.items() if k.lower() != "if-none-match"}
        status, answer_headers, payload = handler(method, path, unconditional, query, body)
        if status != 200 or not isinstance(payload, bytes):
            return status, answer_headers, payload
        page = cut(payload, clock.utc_now())
        if page is None:
            return NOTHING_YET
        return status, {k: v for k, v in answer_headers.items() if k.lower() != "etag"}, page
    return answer
