"""News assets materialized for real: replay, and live against local servers speaking each site's
protocol (pages, feeds, DART's API)."""

import asyncio
import gzip
import json
import logging
import secrets
import shutil
from datetime import date

import dagster as dg
import psycopg
import pytest

from azak_pipelines.defs.news.resources import news_from_env
from azak_pipelines.lib.http import HttpClient
from azak_pipelines.lib.news import collect
from azak_pipelines.lib.news.dart import Corp
from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.replay_http import serve
from azak_pipelines.lib.sample_data import BUNDLED
from tests.pipelines.runs import checks, materialization, run


def rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_replayed_news_lands_once_per_item_and_reruns_change_nothing(warehouse_with_stocks, replay):
    first = run("all_news_job", ("2025-05-14", "2025-06-05"))
    naver = materialization(first, "raw/naver_finance_news")
    assert naver["rows_written"] > 10 and naver["rows_rejected"] == 0
    assert materialization(first, "raw/dart_disclosures")["rows_written"] >= 1
    articles = materialization(first, "computed/news_articles")
    assert articles["items_in_multi_item_stories"] >= 3  # the same story on Naver and both feeds
    assert all(e.passed for e in checks(first).values())
    before = rows(warehouse_with_stocks, "SELECT news_id, cluster_id, title FROM computed.news_articles ORDER BY 1")

    second = run("all_news_job", ("2025-05-14", "2025-06-05"))
    assert materialization(second, "raw/naver_finance_news")["rows_new"] == 0
    assert rows(warehouse_with_stocks,
                "SELECT news_id, cluster_id, title FROM computed.news_articles ORDER BY 1") == before
    duplicates = rows(warehouse_with_stocks,
                      "SELECT url, count(*) FROM computed.news_articles GROUP BY 1 HAVING count(*) > 1")
    assert duplicates == []
    story = rows(warehouse_with_stocks,
                 "SELECT array_agg(DISTINCT s) FROM computed.news_articles, unnest(sources) s "
                 "WHERE cluster_id IN (SELECT cluster_id FROM computed.news_articles WHERE cluster_size = 3 LIMIT 1)")
    assert story == [(["hankyung", "maeil", "naver_finance"],)]


@pytest.fixture
def sites(tmp_path, monkeypatch):
    """The recorded sites on a real socket, from a copy of the fixtures the test may edit."""
    fixtures = tmp_path / "news"
    shutil.copytree(BUNDLED / "news", fixtures)
    handler = NewsSites(fixtures, dart_key="dart-key")
    with serve(handler.handle) as url:
        for name, value in {"AZAK_NAVER_MODE": "live", "AZAK_RSS_MODE": "live", "AZAK_DART_MODE": "live",
                            "AZAK_DART_API_KEY": "dart-key", "AZAK_NAVER_BASE_URL": url,
                            "AZAK_DART_BASE_URL": url, "AZAK_HANKYUNG_RSS_URL": f"{url}/feed/finance",
                            "AZAK_NEWS_HOST_INTERVAL": "0", "AZAK_NAVER_STOCK_PAGES": "1"}.items():
            monkeypatch.setenv(name, value)
        yield handler, fixtures


def write_feed(path, items: list[tuple[str, str, str]]) -> None:
    entries = "".join(
        f"<item><title>{title}</title><link>https://www.hankyung.com/article/{key}</link>"
        f"<pubDate>{when}</pubDate></item>" for key, title, when in items)
    path.write_bytes(gzip.compress(f"<?xml version='1.0' encoding='UTF-8'?><rss><channel>{entries}"
                                   "</channel></rss>".encode()))


def test_a_rerun_of_today_keeps_what_earlier_runs_saw(warehouse_with_stocks, sites):
    _handler, fixtures = sites
    feed = fixtures / "rss" / "hankyung.xml.gz"
    write_feed(feed, [("1", "A 기사", "Mon, 02 Jun 2025 09:00:00 +0900"),
                      ("2", "B 기사", "Mon, 02 Jun 2025 10:00:00 +0900")])
    run("news_job", ("2025-06-02", "2025-06-02"), assets=["raw/hankyung_news"])
    first_seen = rows(warehouse_with_stocks, "SELECT title, first_seen_at FROM raw.hankyung_news ORDER BY 1")
    write_feed(feed, [("2", "B 기사 (수정)", "Mon, 02 Jun 2025 10:00:00 +0900"),
                      ("3", "C 기사", "Mon, 02 Jun 2025 11:00:00 +0900")])
    second = run("news_job", ("2025-06-02", "2025-06-02"), assets=["raw/hankyung_news"])
    assert materialization(second, "raw/hankyung_news")["rows_new"] == 1
    now = rows(warehouse_with_stocks, "SELECT title, first_seen_at FROM raw.hankyung_news ORDER BY 1")
    assert [t for t, _ in now] == ["A 기사", "B 기사 (수정)", "C 기사"]
    assert now[1][1] == first_seen[1][1]  # B was first seen by the first run


def test_a_changed_page_layout_fails_the_drift_check_naming_the_selector(warehouse_with_stocks, sites):
    _, fixtures = sites
    page = gzip.decompress((fixtures / "naver" / "market" / "20250604.html.gz").read_bytes()).decode("cp949")
    renamed = page.replace("articleSubject", "newsTitleArea")
    (fixtures / "naver" / "market" / "20250604.html.gz").write_bytes(gzip.compress(renamed.encode("cp949")))
    for stock in (fixtures / "naver" / "stock").iterdir():
        stock.unlink()
    result = run("news_job", ("2025-06-04", "2025-06-04"), assets=["raw/naver_finance_news"])
    drift = checks(result)["layout_drift"]
    assert not drift.passed
    assert "market list: the row selector 'dl > .articleSubject' matched nothing" in drift.description


def test_a_missing_field_fails_the_drift_check_naming_it(warehouse_with_stocks, sites):
    _, fixtures = sites
    path = fixtures / "naver" / "market" / "20250604.html.gz"
    page = gzip.decompress(path.read_bytes()).decode("cp949").replace('class="wdate"', 'class="datetime"')
    path.write_bytes(gzip.compress(page.encode("cp949")))
    result = run("news_job", ("2025-06-04", "2025-06-04"), assets=["raw/naver_finance_news"])
    drift = checks(result)["layout_drift"]
    assert not drift.passed
    assert "market list: the parser dropped 100% of rows — 'span.wdate' was missing" in drift.description
    quarantined = rows(warehouse_with_stocks,
                       "SELECT count(*) FROM ops.quarantine WHERE asset = 'raw/naver_finance_news'")
    assert quarantined[0][0] > 0


def test_dart_pages_and_stops_on_a_quota_error(sites, tmp_path):
    handler, fixtures = sites
    filings = [{"corp_code": "00126380", "corp_name": "삼성전자", "stock_code": "005930", "corp_cls": "Y",
                "report_nm": f"임원ㆍ주요주주특정증권등소유상황보고서 {i}", "flr_nm": "임원", "rm": "",
                "rcept_dt": "20250602", "rcept_no": f"20250602{i:06d}"} for i in range(230)]
    (fixtures / "dart" / "disclosures.json.gz").write_bytes(gzip.compress(json.dumps(filings).encode()))
    settings = news_from_env().process_config_and_initialize().settings()
    samsung = Corp("00126380", "삼성전자", "005930")

    async def fetch():
        async with HttpClient() as client:
            return await collect.dart_disclosures(client, settings, [samsung, samsung],
                                                  date(2025, 6, 1), date(2025, 6, 30), replay=False)

    collection = asyncio.run(fetch())
    assert len(collection.result.items) == 460 and collection.fetches == 6  # 3 pages x 2
    handler.dart_faults = ["020"]
    stopped = asyncio.run(fetch())
    assert stopped.fetches == 1 and stopped.result.items == []
    assert "status 020" in stopped.errors[0] and "daily request limit" in stopped.errors[0]


def test_a_wrong_dart_key_is_reported_not_crashed(warehouse_with_stocks, sites, monkeypatch):
    monkeypatch.setenv("AZAK_DART_API_KEY", "wrong-key")
    result = run("dart_job", ("2025-06-02", "2025-06-05"), assets=["raw/dart_disclosures"])
    drift = checks(result)["layout_drift"]
    assert not drift.passed and "status 010" in drift.description
    assert materialization(result, "raw/dart_disclosures")["rows_written"] == 0


def test_live_naver_sends_an_honest_user_agent_and_reads_euc_kr(warehouse_with_stocks, sites):
    handler, _ = sites
    result = run("news_job", ("2025-06-04", "2025-06-04"), assets=["raw/naver_finance_news"])
    assert materialization(result, "raw/naver_finance_news")["rows_written"] >= 5
    assert any(path == "/news/news_list.naver" and query.get("date") == "20250604"
               for path, query in handler.requests)
    titles = rows(warehouse_with_stocks, "SELECT title FROM raw.naver_finance_news WHERE title LIKE 'KB금융%'")
    assert titles and titles[0][0].startswith("KB금융, ")
    assert handler.user_agents and all(ua.startswith("Azak/") for ua in handler.user_agents)


def test_the_dart_key_is_never_stored_or_logged(warehouse_with_stocks, monkeypatch, caplog):
    """DART takes its key in the query string; a failing page's URL is quarantined, shown in
    Dagit and logged by httpx — with the key redacted everywhere."""
    key = "dart-" + secrets.token_hex(12)
    sites = NewsSites(BUNDLED / "news", dart_key=key)

    def refusing_lists(method, path, headers, query, body):
        if path == "/api/list.json":
            return 403, {"content-type": "text/plain"}, b"forbidden"
        return sites.handle(method, path, headers, query, body)

    caplog.set_level(logging.DEBUG)
    instance = dg.DagsterInstance.ephemeral()
    with serve(refusing_lists) as url:
        for name, value in {"AZAK_DART_MODE": "live", "AZAK_DART_API_KEY": key, "AZAK_DART_BASE_URL": url,
                            "AZAK_NEWS_HOST_INTERVAL": "0"}.items():
            monkeypatch.setenv(name, value)
        result = run("dart_job", ("2025-06-02", "2025-06-03"), assets=["raw/dart_disclosures"], instance=instance)
    assert any(query.get("crtfc_key") == key for _, query in sites.requests)  # the key was really used
    stored = rows(warehouse_with_stocks, "SELECT locator, reason, coalesce(raw, '') FROM ops.quarantine "
                                         "WHERE asset = 'raw/dart_disclosures'")
    assert stored and all("crtfc_key=REDACTED" in locator for locator, _, _ in stored), stored
    assert key not in repr(stored)
    logged = [repr(entry) for entry in instance.all_logs(result.run_id)]
    assert logged and not [entry for entry in logged if key in entry]
    assert "HTTP Request" in caplog.text and "crtfc_key=REDACTED" in caplog.text
    assert key not in caplog.text
