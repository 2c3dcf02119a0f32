"""`azak import news`: JSON Lines through raw/imported_news and news_articles, as one run."""

import json

import psycopg

from tests.cli.test_market_commands import cli_env, materializations  # noqa: F401 - fixture
from tests.conftest import run_azak


def test_news_import_lands_in_articles_rejects_bad_lines_and_is_idempotent(cli_env, db_url, tmp_path):
    path = tmp_path / "team.jsonl"
    path.write_text("\n".join([
        json.dumps({"title": "삼성전자, 신규 파운드리 고객 확보", "summary": "요약", "source": "team",
                    "published_at": "2025-06-02T09:15:00+09:00", "url": "https://example.com/1"},
                   ensure_ascii=False),
        json.dumps({"title": "[속보] 삼성전자, 신규 파운드리 고객 확보", "content": "본문", "source": "team",
                    "published_at": "2025-06-02T10:00:00+09:00"}, ensure_ascii=False),
        json.dumps({"title": "시각 없음", "published_at": "2025-06-02 09:00", "source": "team"},
                   ensure_ascii=False),
    ]), encoding="utf-8")
    first = run_azak("import", "news", str(path), env=cli_env)
    assert first.returncode == 0, first.stderr
    assert "2 valid items, 1 rejected" in first.stdout
    assert "materializing raw/stocks first" in first.stdout  # an empty warehouse still links
    assert "team.jsonl:3: published_at: '2025-06-02 09:00' has no UTC offset (e.g. +09:00)" in first.stdout
    # past days' predictions are named, not made: paid models, an explicit budgeted backfill
    assert ("AZAK_LLM_BUDGET_USD=<cap> dagster asset materialize -m azak_pipelines.definitions "
            "--select computed/news_predictions --partition-range 2025-06-02...2025-06-02") in first.stdout
    with psycopg.connect(db_url) as conn:
        articles = conn.execute("SELECT title, cluster_size, is_canonical FROM computed.news_articles "
                                "ORDER BY published_at").fetchall()
        quarantined = conn.execute("SELECT locator FROM ops.quarantine").fetchall()
        linked = conn.execute("SELECT DISTINCT stock_code FROM computed.news_stock_matches WHERE salient").fetchall()
    assert articles == [("삼성전자, 신규 파운드리 고객 확보", 2, True),
                        ("[속보] 삼성전자, 신규 파운드리 고객 확보", 2, False)]
    assert quarantined == [("team.jsonl:3",)]
    assert linked == [("005930",)]  # the universe loaded first, so the articles were linked
    again = run_azak("import", "news", str(path), env=cli_env)
    assert again.returncode == 0 and "0 new items" in again.stdout
    assert len(materializations(cli_env, "computed/news_articles")) == 2


def test_a_news_file_with_nothing_usable_is_an_error(cli_env, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "x"}\n')
    result = run_azak("import", "news", str(path), env=cli_env)
    assert result.returncode == 2 and "no valid items to import" in result.stderr
