"""The ledger's expectations on warehouse rows written as the platform writes them: each one
fails on the case it is stated for (so a clean ledger means something)."""

from collections import Counter
from datetime import date, datetime, timedelta

import psycopg

from azak_api.admin import run_migrations
from azak_cli.simulate.engine import TICK, RunRecord
from azak_cli.simulate.ledger import (
    LINKS_ASSET,
    articles_linked_within_a_tick,
    asset_children,
    closed_horizons_final,
    links_predicted_in_time,
    marts_follow_raw,
    notifications_once_outside_quiet_hours,
    reports_at_each_slot,
)
from azak_cli.simulate.requests import Request
from azak_core.runs import range_tags
from azak_pipelines.defs.evaluation.tables import PREDICTION_SCORES
from azak_pipelines.defs.matching.tables import NEWS_STOCK_MATCHES
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS
from azak_pipelines.defs.reference.tables import STOCKS
from azak_pipelines.lib.calendar.krx_calendar import KST
from azak_pipelines.lib.warehouse import ensure_partitions, ensure_table
from tests.pipelines.runs import definitions

DAY = datetime(2025, 6, 7, 0, 0, tzinfo=KST)


def test_a_notification_sent_twice_or_in_quiet_hours_is_an_expectation_failed(db_url):
    sent = [(1, "prediction:a", datetime(2025, 6, 7, 23, 30, tzinfo=KST), "삼성전자 뉴스"),  # quiet 22-07
            (1, "prediction:b", datetime(2025, 6, 7, 12, 0, tzinfo=KST), "삼성전자 뉴스"),   # the same text again
            (2, "prediction:a", datetime(2025, 6, 7, 23, 30, tzinfo=KST), "삼성전자 뉴스")]  # no quiet hours
    run_migrations(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO app.telegram_subscribers (chat_id, quiet_start, quiet_end) "
                     "VALUES (1, 22, 7), (2, NULL, NULL)")
        for chat, key, at, body in sent:
            conn.execute("INSERT INTO app.telegram_notifications (chat_id, kind, dedup_key, day, body, not_before, "
                         "status, sent_at) VALUES (%s, 'prediction', %s, %s, %s, %s, 'sent', %s)",
                         (chat, key, at.date(), body, at, at))
        failed = notifications_once_outside_quiet_hours(conn, DAY, datetime(2025, 6, 8, tzinfo=KST))
        assert notifications_once_outside_quiet_hours(conn, datetime(2025, 6, 8, tzinfo=KST),
                                                      datetime(2025, 6, 9, tzinfo=KST)) == []
    assert failed == ["notification sent to chat 1 at 2025-06-07 23:30 KST, inside its quiet hours 22-07",
                      "notification sent twice to chat 1 (again at 2025-06-07 23:30 KST): '삼성전자 뉴스'"]


def _run(at: datetime, job: str, days: list[str], materialized: tuple[str, ...], seconds: float = 10.0,
         success: bool = True) -> RunRecord:
    """A run record as the engine makes one (a fixed cost of ``seconds``)."""
    tags = tuple(sorted(range_tags(days[0], days[-1]).items())) if len(days) > 1 else ()
    request = Request("schedule", job, (), days[0] if len(days) == 1 else None, tags)
    return RunRecord(at, request, f"run-{at:%H%M}-{job}", success, seconds, materialized=materialized)


def test_an_article_linked_later_than_a_tick_after_its_collection_is_an_expectation_failed(db_url):
    # collected at 10:00 (linked by the same news run), 10:10 (linked only by the run of 10:20: late)
    # and 10:15 (no linker run for its day since: never)
    seen = {1: datetime(2025, 6, 9, 10, 0, tzinfo=KST), 2: datetime(2025, 6, 9, 10, 10, tzinfo=KST),
            3: datetime(2025, 6, 9, 10, 15, tzinfo=KST)}
    days = {1: "2025-06-09", 2: "2025-06-09", 3: "2025-06-08"}
    runs = [_run(seen[1], "news_job", ["2025-06-08", "2025-06-09"], ("computed/news_articles", LINKS_ASSET)),
            _run(seen[2], "news_job", ["2025-06-09"], ("computed/news_articles",)),  # the links' step failed
            _run(datetime(2025, 6, 9, 10, 20, tzinfo=KST), "news_job", ["2025-06-09"], (LINKS_ASSET,))]
    with psycopg.connect(db_url, autocommit=True) as conn:
        ensure_table(conn, NEWS_ARTICLES)
        ensure_partitions(conn, NEWS_ARTICLES, date(2025, 6, 8), date(2025, 6, 10))
        for news_id, at in seen.items():
            _article(conn, news_id, days[news_id], at)
        end = datetime(2025, 6, 9, 11, 0, tzinfo=KST)
        failed = articles_linked_within_a_tick(conn, runs, DAY, end)
        assert articles_linked_within_a_tick(conn, runs[:1], DAY, seen[2]) == []  # only the first article
        # collected less than a tick before the window's end: not due yet
        assert articles_linked_within_a_tick(conn, runs, seen[3], seen[3] + TICK / 2) == []
        for news_id in range(10, 30):  # 20 more never linked: listed up to 20, then counted
            _article(conn, news_id, "2025-06-08", seen[3])
        many = articles_linked_within_a_tick(conn, runs, DAY, end)
        assert len(many) == 21 and many[:2] == failed and many[-1] == "2 more articles not linked within 0:05:00"
    assert failed == ["article 2 collected 2025-06-09 10:10:00 KST not linked within 0:05:00: linked at "
                      "2025-06-09 10:20:10 KST",
                      "article 3 collected 2025-06-09 10:15:00 KST not linked within 0:05:00: linked never"]


def _article(conn: psycopg.Connection, news_id: int, day: str, seen: datetime) -> None:
    conn.execute("INSERT INTO computed.news_articles (news_id, published_day, published_at, published_precision, "
                 "title, summary, url, source, sources, content_type, stock_code_hints, cluster_id, is_canonical, "
                 "cluster_size, first_seen_at) VALUES (%s, %s, %s, 'minute', 't', '', %s, 'naver', '{naver}', "
                 "'news', '{}', %s, true, 1, %s)", (news_id, day, seen, f"https://n/{news_id}", news_id, seen))


def test_a_mart_rebuilt_later_than_5_minutes_after_a_raw_write_is_an_expectation_failed():
    # the code location's own graph: the news marts are dbt models below the raw news and the
    # articles; the marts below the predictions (the outcomes) wait for the predictions' own run
    children = asset_children(definitions())
    news = ("raw/naver_finance_news", "computed/news_articles", LINKS_ASSET)
    news_run = _run(datetime(2025, 6, 9, 10, 0, tzinfo=KST), "news_job", ["2025-06-09"], news)
    every_mart = tuple(sorted({c for kids in children.values() for c in kids if c.startswith("marts/")}))
    on_time = _run(datetime(2025, 6, 9, 10, 5, tzinfo=KST), "", ["2025-06-09"], every_mart)  # ends 10:05:10
    late = _run(datetime(2025, 6, 9, 10, 5, 1, tzinfo=KST), "", ["2025-06-09"], every_mart)  # ends 10:05:11
    end = datetime(2025, 6, 9, 11, 0, tzinfo=KST)
    assert marts_follow_raw([news_run, on_time], children, end) == []
    assert marts_follow_raw([news_run, late], children, end) == [
        "marts/news_articles, marts/news_figures, marts/news_price_impact, marts/news_stock_matches, "
        "marts/similar_news_outcomes not written within 0:05:00 of news_job[2025-06-09], which wrote raw "
        "data until 2025-06-09 10:00:10 KST"]
    # a failed marts run does not count; a raw write less than 5 minutes before the end is not due
    assert len(marts_follow_raw([news_run, _failed(on_time)], children, end)) == 1
    assert marts_follow_raw([news_run], children, news_run.ended + TICK / 2) == []


def _failed(record: RunRecord) -> RunRecord:
    return RunRecord(record.at, record.request, record.run_id, False, record.seconds,
                     materialized=record.materialized)


def test_a_prediction_left_partial_by_the_evaluation_after_its_horizon_closed_is_an_expectation_failed(db_url):
    # horizons closing on Friday 5 June 15:30 (two predictions) and on Monday 9 June 15:30; the
    # nightly evaluation ran on 5 June at 20:00 only
    scores = [("a", "2025-06-04", "final", date(2025, 6, 5)), ("b", "2025-06-04", "partial", date(2025, 6, 5)),
              ("c", "2025-06-05", "partial", date(2025, 6, 9))]
    evaluation = _run(datetime(2025, 6, 5, 20, 0, tzinfo=KST), "evaluation_job", ["2025-06-05"],
                      ("computed/prediction_scores",), seconds=60)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ensure_table(conn, PREDICTION_SCORES)
        conn.execute("CREATE SCHEMA IF NOT EXISTS marts")  # the dbt mart: only the columns read here
        conn.execute("CREATE TABLE marts.prediction_outcomes (evaluation_id text, window_end_date date)")
        for evaluation_id, made, status, last_session in scores:
            conn.execute("INSERT INTO computed.prediction_scores (evaluation_id, made_day, source_kind, model_name, "
                         "mode, stock_code, status) VALUES (%s, %s, 'news_prediction', 'demo', 'live', '005930', %s)",
                         (evaluation_id, made, status))
            conn.execute("INSERT INTO marts.prediction_outcomes VALUES (%s, %s)", (evaluation_id, last_session))
        week = (datetime(2025, 6, 2, tzinfo=KST), datetime(2025, 6, 10, tzinfo=KST))
        failed = closed_horizons_final(conn, [evaluation], *week)
        # no evaluation since the close (c), or none at all: nothing is due yet
        assert closed_horizons_final(conn, [], *week) == []
        assert closed_horizons_final(conn, [_failed(evaluation)], *week) == []
        # an evaluation run of the automation (not the nightly job) is not the one due
        automation = RunRecord(evaluation.at, Request("automation", None, (), None), "x", True, 10,
                               materialized=evaluation.materialized)
        assert closed_horizons_final(conn, [automation], *week) == []
    assert failed == ["demo's prediction b on 005930 is partial after the evaluation of 2025-06-05 20:00 KST: "
                      "its horizon closed 2025-06-05 15:30 KST"]


def test_a_link_predicted_later_than_30_minutes_after_publication_is_an_expectation_failed(db_url):
    """Judged: the canonical articles the window collected. Not: one the home held before it (the
    demo predicts what it imports at the wall clock's time), one whose 30 minutes end after the
    window, a duplicate of a predicted story; for one published before the window the 30 minutes
    run from its start."""
    start, end = datetime(2025, 6, 7, 21, 0, tzinfo=KST), datetime(2025, 6, 7, 23, 0, tzinfo=KST)
    at = {1: start + timedelta(minutes=10), 2: start + timedelta(minutes=20), 3: start - timedelta(hours=3),
          4: end - timedelta(minutes=10), 5: start + timedelta(minutes=30), 6: start + timedelta(minutes=10),
          7: start - timedelta(hours=5), 8: datetime(2025, 6, 7, 0, 0, tzinfo=KST)}
    # 5: the demo's; 7: a post that passed the filter 45 minutes into the window; 8: dated by its day only
    seen = {**at, 3: start + timedelta(minutes=5), 5: datetime(2026, 12, 7, 9, 0, tzinfo=KST),
            7: start + timedelta(minutes=45), 8: start + timedelta(minutes=10)}
    run_migrations(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        for spec in (NEWS_ARTICLES, NEWS_STOCK_MATCHES, NEWS_PREDICTIONS):
            ensure_table(conn, spec)
            ensure_partitions(conn, spec, date(2025, 6, 7), date(2025, 6, 8))
        ensure_table(conn, STOCKS)
        conn.execute("INSERT INTO raw.stocks (code, name, is_watchlist, source) "
                     "VALUES ('005930', '삼성전자', true, 't')")
        conn.execute("UPDATE app.models SET active = (name = 'baseline')")
        model = conn.execute("SELECT id FROM app.models WHERE name = 'baseline'").fetchone()[0]
        made = {1: at[1] + timedelta(minutes=25), 2: at[2] + timedelta(minutes=40), 3: start + timedelta(minutes=20),
                5: seen[5], 7: seen[7] + timedelta(minutes=5)}
        for news_id in at:
            _article(conn, news_id, "2025-06-07", seen[news_id])
            conn.execute("UPDATE computed.news_articles SET published_at = %s WHERE news_id = %s",
                         (at[news_id], news_id))
            conn.execute("INSERT INTO computed.news_stock_matches VALUES (%s, '2025-06-07', '005930', 0.9, true, '{}', "
                         "'text', 'v', %s)", (news_id, seen[news_id]))
            if news_id in made:
                conn.execute("INSERT INTO computed.news_predictions (prediction_id, published_day, news_id, "
                             "stock_code, model_id, model_name, made_at, mode, status, prompt_version, input_hash, "
                             "tokens_in, tokens_out, cost_usd, latency_ms, cached, created_at) "
                             "VALUES (%s, '2025-06-07', %s, '005930', %s, 'baseline', %s, 'live', 'ok', 'p', 'h', "
                             "0, 0, 0, 0, false, %s)",
                             (f"p{news_id}", news_id, model, made[news_id], made[news_id]))
        # 6 tells 1's story in another outlet: its cluster's canonical article is 1, predicted once
        conn.execute("UPDATE computed.news_articles SET is_canonical = false, cluster_id = 1 WHERE news_id = 6")
        # 8 is known from the next midnight (after the window): not due, though never predicted
        conn.execute("UPDATE computed.news_articles SET published_precision = 'day' WHERE news_id = 8")
        failed = links_predicted_in_time(conn, start, end)
        assert links_predicted_in_time(conn, start, at[2] + timedelta(minutes=29)) == []  # 2's 30 minutes not over
        # the 08:30 report slot of a window started at 09:00 is not due; of one started at 08:25 it is
        monday = date(2025, 6, 9)
        assert reports_at_each_slot(conn, Counter(), monday, monday, datetime(2025, 6, 9, 9, 0, tzinfo=KST),
                                    datetime(2025, 6, 9, 10, 0, tzinfo=KST)) == []
        assert reports_at_each_slot(conn, Counter(), monday, monday, datetime(2025, 6, 9, 8, 25, tzinfo=KST),
                                    datetime(2025, 6, 9, 10, 0, tzinfo=KST)) == [
            "2025-06-09 08:30: 0 of 1 watch-list reports by baseline"]
    assert failed == ["link not predicted within 0:30:00: 005930 by baseline, published 2025-06-07 21:20 KST, "
                      "predicted 2025-06-07 22:00 KST"]
