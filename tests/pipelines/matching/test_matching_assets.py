"""news_stock_matches materialized on real PostgreSQL, and the freshness of its links."""

import psycopg

from azak_pipelines.defs.matching.assets import SEEDS, news_stock_matches
from azak_pipelines.lib.matching.linker import tables_version
from azak_pipelines.lib.matching.links import link_processes
from tests.pipelines.runs import checks, materialization, run


def rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_links_with_evidence_scores_and_metadata(warehouse_with_stocks, replay):
    result = run("all_news_job", ("2025-05-12", "2025-05-23"))
    meta = materialization(result, "computed/news_stock_matches")
    assert meta["articles"] > 20 and meta["rows_written"] > 20
    assert meta["linker_version"] == tables_version(SEEDS)
    assert "삼성" in meta["top_stocks"] or "SK" in meta["top_stocks"] or meta["top_stocks"]
    evidence = dict(rows(warehouse_with_stocks,
                         "SELECT evidence, count(*) FROM computed.news_stock_matches GROUP BY 1"))
    assert evidence.get("dart_filer", 0) >= 15  # every filing links its filer
    filer = rows(warehouse_with_stocks,
                 "SELECT m.salient, m.score, a.title FROM computed.news_stock_matches m "
                 "JOIN computed.news_articles a USING (news_id) WHERE m.evidence = 'dart_filer' LIMIT 1")
    assert filer[0][0] is True and float(filer[0][1]) == 1.0
    scores = rows(warehouse_with_stocks, "SELECT min(score), max(score) FROM computed.news_stock_matches")
    assert float(scores[0][0]) > 0 and float(scores[0][1]) <= 1
    traps = rows(warehouse_with_stocks,
                 "SELECT a.title, array_agg(m.stock_code) FROM computed.news_articles a "
                 "LEFT JOIN computed.news_stock_matches m USING (news_id) "
                 "WHERE a.title LIKE '네이버웹툰%' GROUP BY 1")
    assert traps == [("네이버웹툰 모회사, 분기 흑자 전환", [None])]  # an unlisted affiliate links nothing


def test_relinking_replaces_and_the_freshness_check_names_stale_partitions(warehouse_with_stocks, replay):
    run("all_news_job", ("2025-06-02", "2025-06-05"))
    before = rows(warehouse_with_stocks, "SELECT count(*) FROM computed.news_stock_matches")
    again = run("matching_job", ("2025-06-02", "2025-06-05"))
    assert rows(warehouse_with_stocks, "SELECT count(*) FROM computed.news_stock_matches") == before
    assert checks(again)["matches_use_current_linker"].passed
    with psycopg.connect(warehouse_with_stocks, autocommit=True) as conn:
        conn.execute("UPDATE computed.news_stock_matches SET linker_version = '0.9+old' "
                     "WHERE published_day = '2025-06-02'")
    stale = checks(run("matching_job", ("2025-06-04", "2025-06-04")))["matches_use_current_linker"]
    assert not stale.passed and "2025-06-02…2025-06-02" in stale.description


def test_the_code_version_follows_the_linker_and_its_tables():
    assert news_stock_matches.code_versions_by_key[news_stock_matches.key] == tables_version(SEEDS)


def test_links_follow_the_listing_history_of_the_publication_day(db_url):
    from datetime import UTC, date, datetime

    from azak_pipelines.defs.matching.assets import current_linker
    from azak_pipelines.lib.matching.links import link_articles

    run("stock_listing_job")  # replay: the rename of 우리기술 and the reuse of 0041L0 are in the history
    with psycopg.connect(db_url) as conn:
        linker = current_linker(conn)
    articles = [(1, date(2025, 9, 10), "우리기술 원전 설비 납품", None, "naver", ["naver"], []),
                (2, date(2025, 12, 1), "우리기술 신규 수주", None, "naver", ["naver"], []),
                (3, date(2025, 10, 1), "하나35호스팩 합병 추진", None, "naver", ["naver"], []),
                (4, date(2025, 12, 1), "하나35호스팩 해산", None, "naver", ["naver"], []),
                (5, date(2025, 12, 1), "세진모빌리티 수주", None, "naver", ["naver"], [])]
    links = [(row[0], row[2]) for row in link_articles(linker, articles, "test", datetime.now(UTC))]
    assert links == [(1, "032820"), (2, "032820"), (3, "0041L0"), (5, "0041L0")]
    assert linker.name_on("0041L0", date(2025, 10, 1)) == "하나35호스팩"
    assert linker.name_on("0041L0", date(2025, 12, 1)) == "세진모빌리티"

    # the same rows give the same linker, built once; a changed name builds a new one
    with psycopg.connect(db_url) as conn:
        assert current_linker(conn) is linker
        conn.execute("UPDATE raw.stocks SET name = '우리기술신규' WHERE code = '032820'")
        renamed = current_linker(conn)
        conn.rollback()
    assert renamed is not linker and "우리기술신규" in {match.surface[0] for match in renamed.link("우리기술신규 수주")}


def test_a_run_links_in_spawned_workers_what_it_links_alone(warehouse_with_stocks, replay, monkeypatch):
    """The workers start from inside a Dagster run (whose process has threads: a forked pool hung
    there) and store exactly the links of the run's own process."""
    query = ("SELECT news_id, published_day, stock_code, score, salient, surfaces, evidence, linker_version "
             "FROM computed.news_stock_matches ORDER BY 1, 3")
    monkeypatch.setenv("AZAK_LINK_WORKERS_FROM", "0")
    run("all_news_job", ("2025-05-12", "2025-05-16"))
    alone = rows(warehouse_with_stocks, query)
    monkeypatch.setenv("AZAK_LINK_WORKERS_FROM", "1")
    meta = materialization(run("matching_job", ("2025-05-12", "2025-05-16")), "computed/news_stock_matches")
    assert meta["linker_processes"] == link_processes(meta["articles"], 1) >= 2
    assert len(alone) > 10 and rows(warehouse_with_stocks, query) == alone
