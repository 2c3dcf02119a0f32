"""News parsers against the real pages and payloads in ../shared and against our own fixtures."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from azak_core.market import KST
from azak_pipelines.lib.news import dart, naver, reddit, rss
from azak_pipelines.lib.news.jsonl import read_news_file
from azak_pipelines.lib.sample_data import BUNDLED
from tests.pipelines.lib.zip_bomb import zip_bomb

FETCHED = datetime(2025, 12, 1, 14, 30, tzinfo=KST)
FIXTURES = BUNDLED / "news"


def fixture(*parts: str) -> bytes:
    return gzip.decompress(FIXTURES.joinpath(*parts).read_bytes())


def test_the_real_naver_stock_news_page(shared_data):
    page = (shared_data / "html" / "naver_finance_item_news_005930_20251201.html").read_bytes()
    result = naver.parse_stock_list(page, "005930", FETCHED)
    assert result.rows_seen == 27 and len(result.items) == 27 and not result.rejected
    first = result.items[0]
    assert first.item_key == "naver:056:0012076855"
    assert first.url == "https://n.news.naver.com/mnews/article/056/0012076855"
    assert first.press == "KBS" and first.published_at == datetime(2025, 12, 1, 14, 17, tzinfo=KST)
    assert first.stock_code_hint == "005930"
    related = [i for i in result.items if i.extra.get("naver_cluster") == "naver:016:0002565526"]
    assert len(related) >= 4  # Naver's own related-news cluster under the 헤럴드경제 report
    assert "&hellip;" not in result.items[1].title and "…" in result.items[1].title


def test_the_same_page_served_as_cp949_bytes_parses_identically(shared_data):
    text = (shared_data / "html" / "naver_finance_item_news_005930_20251201.html").read_text(encoding="utf-8")
    as_served = text.encode("cp949")  # the live page is EUC-KR/CP949
    utf8 = naver.parse_stock_list(text.encode("utf-8"), "005930", FETCHED)
    cp949 = naver.parse_stock_list(as_served, "005930", FETCHED, "text/html;charset=EUC-KR")
    assert [i.title for i in cp949.items] == [i.title for i in utf8.items]


def test_our_market_list_fixture_in_euc_kr():
    result = naver.parse_market_list(fixture("naver", "market", "20250604.html.gz"), FETCHED)
    assert result.rows_seen == len(result.items) > 3 and not result.missing
    item = next(i for i in result.items if i.title.startswith("KB금융"))
    assert item.summary.startswith("KB금융은 이날") and "샘플일보" not in item.summary
    assert item.press == "샘플일보" and item.published_at.date().isoformat() == "2025-06-04"


def test_the_press_and_date_tail_is_removed_from_summaries():
    page = """<html><head><meta charset="utf-8"></head><body><ul class="realtimeNewsList"><li><dl>
      <dd class="articleSubject"><a href="/news/news_read.naver?article_id=1&office_id=2">제목</a></dd>
      <dd class="articleSummary">요약 문장입니다 …머니투데이|2025-11-04 13:22
        <span class="press">머니투데이</span><span class="wdate">2025-11-04 13:22</span></dd>
    </dl></li></ul></body></html>""".encode()
    [item] = naver.parse_market_list(page, FETCHED).items
    assert item.summary == "요약 문장입니다 …"


def test_real_dart_list_payload(shared_data):
    page = dart.parse_list((shared_data / "api_samples" / "dart" / "disclosure__list_samsung.json").read_bytes())
    assert (page.page_no, page.total_page) == (1, 8)
    first = page.result.items[0]
    assert first.item_key == "dart:20240131000326" and first.title == "특수관계인과의내부거래"
    assert first.content_type == "disclosure" and first.published_precision == "day"
    assert first.stock_code_hint == "005930" and first.extra["corp_code"] == "00126380"
    assert first.url == "https://dart.fss.or.kr/dsaf001/main.do?rcpNo=20240131000326"


@pytest.mark.parametrize(("status", "error"), [
    ("020", dart.DartQuotaExceeded), ("010", dart.DartApiError), ("800", dart.DartApiError)])
def test_dart_status_codes_are_typed_errors(status, error):
    with pytest.raises(error) as caught:
        dart.parse_list(json.dumps({"status": status, "message": "m"}).encode())
    assert caught.value.status == status and dart.STATUS[status].split(" (")[0] in str(caught.value)


def test_dart_no_data_is_an_empty_page_not_an_error():
    page = dart.parse_list(json.dumps({"status": "013", "message": "조회된 데이타가 없습니다."}).encode())
    assert page.result.items == [] and page.total_page == 0


def test_corp_codes_from_the_zipped_list():
    corps = dart.parse_corp_codes((FIXTURES / "dart" / "corpCode.zip").read_bytes())
    assert corps["005930"].corp_code == "00126380" and len(corps) == 20  # unlisted rows are skipped


def test_a_corp_code_zip_inflating_beyond_the_cap_is_refused():
    with pytest.raises(ValueError, match=f"CORPCODE.xml declares {dart.CORP_CODES_MAX_BYTES + 1:,} bytes "
                                         f"uncompressed, over the cap of {dart.CORP_CODES_MAX_BYTES:,} bytes"):
        dart.parse_corp_codes(zip_bomb("CORPCODE.xml", dart.CORP_CODES_MAX_BYTES + 1))


def test_real_reddit_listing_and_filters(shared_data):
    posts = reddit.listing_posts((shared_data / "social" / "reddit_r_askreddit_hot_listing.json").read_bytes())
    newest = max(p["created_utc"] for p in posts)
    at = datetime.fromtimestamp(newest, UTC) + timedelta(hours=1)
    everything, _ = reddit.parse_posts(posts, reddit.RedditFilter(()), at)
    strict, filtered = reddit.parse_posts(posts, reddit.RedditFilter(("contest",), 10, 2), at)
    assert len(everything.items) + 0 <= len(posts) and filtered == len(posts) - len(strict.items)
    item = everything.items[0]
    assert item.content_type == "social" and item.url.startswith("https://www.reddit.com/r/AskReddit/")
    assert item.published_at.tzinfo is UTC  # created_utc, not local time


def test_rss_fixture_and_rss_defects():
    feed = rss.parse_feed(fixture("rss", "hankyung.xml.gz"), "hankyung", "한국경제", FETCHED)
    assert len(feed.items) == 40 and feed.items[0].published_at.utcoffset() == timedelta(hours=9)
    broken = b"""<?xml version="1.0" encoding="UTF-8"?><rss><channel>
      <item><title>no link</title><pubDate>Mon, 02 Jun 2025 09:00:00 +0900</pubDate></item>
      <item><title>no zone</title><link>https://x.example/1</link><pubDate>Mon, 02 Jun 2025 09:00:00</pubDate></item>
      <item><title>bad date</title><link>https://x.example/2</link><pubDate>yesterday</pubDate></item>
      <item><title>ok</title><link>https://x.example/3?utm_source=rss</link>
            <pubDate>Mon, 02 Jun 2025 09:00:00 +0900</pubDate></item>
    </channel></rss>"""
    result = rss.parse_feed(broken, "hankyung", "한국경제", FETCHED)
    reasons = sorted(r.reason for r in result.rejected)
    assert reasons == ["RSS item without a link", "pubDate 'Mon, 02 Jun 2025 09:00:00' has no time zone",
                       "unreadable pubDate 'yesterday'"]
    assert [i.url for i in result.items] == ["https://x.example/3"]
    with pytest.raises(rss.FeedError, match="not well-formed"):
        rss.parse_feed(b"<rss><channel><item>", "hankyung", "한국경제", FETCHED)


def test_bad_naver_rows_get_specific_reasons_never_now():
    page = """<html><body><ul class="realtimeNewsList"><li><dl>
      <dd class="articleSubject"><a href="/news/news_read.naver?article_id=1&office_id=2">좋은 제목</a></dd>
      <dd class="articleSummary">요약<span class="press">언론</span><span class="wdate">어제 오후</span></dd>
    </dl></li><li><dl>
      <dd class="articleSubject"><a href="/news/other.naver?x=1">링크 없음</a></dd>
      <dd class="articleSummary">요약<span class="press">언론</span><span class="wdate">2025-06-02 10:00</span></dd>
    </dl></li><li><dl>
      <dd class="articleSubject"><a href="/news/news_read.naver?article_id=3&office_id=2">상대 시각</a></dd>
      <dd class="articleSummary">요약<span class="press">언론</span><span class="wdate">5분 전</span></dd>
    </dl></li></ul></body></html>""".encode()
    result = naver.parse_market_list(page, FETCHED)
    assert sorted(r.reason for r in result.rejected) == [
        "link has no office_id/article_id", "unreadable date '어제 오후'"]
    [relative] = result.items
    assert relative.published_at == datetime(2025, 12, 1, 14, 25, tzinfo=KST)  # from the fetch time


def test_empty_and_truncated_pages_do_not_crash():
    assert naver.parse_market_list(b"", FETCHED).items == []
    truncated = ("<html><body><ul class='realtimeNewsList'><li><dl><dd class='articleSubject'>"
                 "<a href='/news/news_read.naver?article_id=9&office_id=8'>잘린 페이지").encode()
    result = naver.parse_market_list(truncated, FETCHED)
    assert result.rows_seen == 1 and result.missing == {"dd.articleSummary": 1}
    assert result.rejected and "unreadable date" in result.rejected[0].reason


def test_jsonl_news_files(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join([
        json.dumps({"title": "삼성전자 신제품", "summary": "요약", "published_at": "2025-06-02T09:15:00+09:00",
                    "source": "team", "url": "https://example.com/a?utm_source=x"}, ensure_ascii=False),
        json.dumps({"title": "시각 없음", "published_at": "2025-06-02T09:15:00", "source": "team"}),
        json.dumps({"title": "", "published_at": "2025-06-02T09:15:00+09:00", "source": "team"}),
        "{not json",
        json.dumps({"title": "본문만", "content": "내용", "published_at": "2025-06-02T00:15:00Z", "source": "t"}),
    ]), encoding="utf-8")
    result = read_news_file(path)
    assert [i.title for i in result.items] == ["삼성전자 신제품", "본문만"]
    assert result.items[0].url == "https://example.com/a"
    assert result.items[1].summary == "내용" and result.items[1].url.startswith("urn:azak:file:")
    reasons = {r.locator: r.reason for r in result.rejected}
    assert "has no UTC offset" in reasons["news.jsonl:2"]
    assert reasons["news.jsonl:3"] == "title is missing or empty"
    assert reasons["news.jsonl:4"].startswith("not JSON")
