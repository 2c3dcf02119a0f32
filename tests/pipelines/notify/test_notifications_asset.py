"""telegram_notifications materialized on real PostgreSQL: once per story, changes, digests,
re-runs, delivery to a local Bot API server, and the automation that triggers it."""

import html
from datetime import date, timedelta

import dagster as dg
import psycopg

from azak_pipelines.defs.common import asset_key, kst_today
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.predictions.tables import NEWS_PREDICTIONS
from azak_pipelines.defs.versions import written_by
from azak_pipelines.lib.warehouse import append_rows, connect, replace_slice
from tests.pipelines.notify.botapi import BotApi
from tests.pipelines.notify.warehouse_rows import (
    HOSTILE,
    SIMILAR_NEWS,
    article,
    one_day,
    prediction,
    subscribe,
    write,
    write_leaderboard,
)
from tests.pipelines.runs import definitions, materialization, run

DAY = date(2025, 6, 16)
JOB = "telegram_notifications_job"
ASSET = "app/telegram_notifications"


def config(**telegram) -> dict:
    return {"resources": {"telegram": {"config": {"max_age_days": 100_000, "public_url": "https://azak.example",
                                                  **telegram}}}}


def outbox(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT chat_id, kind, dedup_key, status, body, telegram_message_id "
                            "FROM app.telegram_notifications ORDER BY chat_id, kind, dedup_key").fetchall()


def test_one_message_per_story_per_subscriber_and_reruns_add_nothing(app_db):
    instance = dg.DagsterInstance.ephemeral()
    write(app_db, DAY, instance)
    subscribe(app_db, 100, ["005930"])
    subscribe(app_db, 200, ["005930", "000660"])
    subscribe(app_db, 300, ["005930"], active=False)
    result = run(JOB, (str(DAY), str(DAY)), run_config=config(), instance=instance)
    meta = materialization(result, ASSET)
    assert meta["stories"] == 2 and meta["report_changes"] == 1 and meta["subscribers"] == 2
    assert "off: no AZAK_TELEGRAM_BOT_TOKEN" in meta["delivery"]
    assert meta["inputs_not_materialized"] == ["leaderboard", "similar"]  # neither asset was run here
    rows = outbox(app_db)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (100, "digest", "digest:2025-06-16"),
        (100, "prediction", "story:100:005930"),  # five outlets, two models: one message
        (100, "report_change", "report:r-new"),
        (200, "digest", "digest:2025-06-16"),
        (200, "prediction", "story:100:005930"),
        (200, "prediction", "story:200:000660"),
        (200, "report_change", "report:r-new"),
    ]
    assert {r[3] for r in rows} == {"pending"}
    story = rows[1][4]
    assert "한국경제 외 4곳 보도" in story and "영향 높음" in story and "영향 매우 높음" in story
    assert HOSTILE not in story and html.escape(HOSTILE) in story  # model text is text
    assert 'href="https://azak.example/news/100"' in story
    assert "보합" not in story and "broken" not in story  # failed calls never alert
    change = rows[2][4]
    assert "관망 → <b>매수</b>" in change
    digest = rows[3][4]
    assert "71,000원 (+1.43%)" in digest and "SK하이닉스 (000660)</a>: 오늘 시세 없음" in digest
    assert "아직 모델 순위가 없습니다" in digest and "오늘 보낸 주요 알림: 3건" in digest

    again = materialization(run(JOB, (str(DAY), str(DAY)), run_config=config(), instance=instance), ASSET)
    assert again["rows_new"] == 0 and outbox(app_db) == rows

    write_leaderboard(app_db, instance)  # the digest, not sent yet, picks up the leaderboard
    third = materialization(run(JOB, (str(DAY), str(DAY)), run_config=config(), instance=instance), ASSET)
    assert third["rows_new"] == 0 and third["rows_refreshed"] == 2
    digest = outbox(app_db)[3][4]
    assert "1. gpt-4o (점수 0.610, 38건)" in digest and "2. baseline (점수 0.550, 40건)" in digest

    # a range in one run (a backfill); the 17th had no session, report or alert: no digest
    both = materialization(run(JOB, (str(DAY), "2025-06-17"), run_config=config(), instance=instance), ASSET)
    assert both["messages"] == len(rows) and both["rows_new"] == 0 and len(outbox(app_db)) == len(rows)


def test_a_run_with_a_token_delivers_and_a_rerun_never_sends_twice(app_db):
    instance = dg.DagsterInstance.ephemeral()
    write(app_db, DAY, instance)
    subscribe(app_db, 100, ["005930"])
    with BotApi() as api:
        telegram = config(bot_token=api.token, api_url=api.url, chat_interval_s=0.05)
        meta = materialization(run(JOB, (str(DAY), str(DAY)), run_config=telegram, instance=instance), ASSET)
        assert meta["delivery"].startswith("3 sent")
        assert len(api.texts(100)) == 3
        run(JOB, (str(DAY), str(DAY)), run_config=telegram, instance=instance)
        assert len(api.texts(100)) == 3
    rows = outbox(app_db)
    assert {r[3] for r in rows} == {"sent"} and sorted(r[5] for r in rows) == sorted(s.message_id for s in api.sent)


def test_old_days_are_recorded_but_never_sent(app_db):
    instance = dg.DagsterInstance.ephemeral()
    write(app_db, DAY, instance)
    subscribe(app_db, 100, ["005930"])
    with BotApi() as api:
        telegram = {"resources": {"telegram": {"config": {"bot_token": api.token, "api_url": api.url}}}}
        run(JOB, (str(DAY), str(DAY)), run_config=telegram, instance=instance)
        assert api.sent == []
    assert {r[3] for r in outbox(app_db)} == {"skipped"}


def test_new_predictions_trigger_the_latest_day(app_db):
    instance = dg.DagsterInstance.ephemeral()
    defs = definitions()
    key = dg.AssetKey(["app", "telegram_notifications"])
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    # the predictions of today's partition land (the predictions asset is partitioned by KST day)
    today = str(kst_today())
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key(NEWS_PREDICTIONS), partition=today,
                                                                tags=written_by("new-predictions")))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert first.get_requested_partitions(key) == set()  # nothing new upstream: nothing to do
    assert second.get_requested_partitions(key) == {str(kst_today())}  # only the latest day
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.get_num_requested(key) == 0  # handled: not requested again


def test_a_story_the_embeddings_find_again_under_another_cluster_is_not_sent_twice(app_db):
    instance = dg.DagsterInstance.ephemeral()
    write(app_db, DAY, instance)
    subscribe(app_db, 100, ["005930"])
    run(JOB, (str(DAY), str(DAY)), run_config=config(), instance=instance)
    later = DAY + timedelta(days=1)
    with connect(app_db) as conn:
        replace_slice(conn, NEWS_ARTICLES, [article(600, later, 600, True, "뉴스1", "삼성전자 영업이익 급증, 후속"),
                                            article(700, later, 700, True, "뉴스1", "삼성전자 신공장 착공")],
                      *one_day(later))
        append_rows(conn, NEWS_PREDICTIONS, [prediction(600, later, "005930", "high", 0.7),
                                               prediction(700, later, "005930", "high", 0.7)], *one_day(later))
        replace_slice(conn, SIMILAR_NEWS, [(600, later, 103, 1, 0.97, "test@1"),  # a copy of story 100
                                           (700, later, 100, 1, 0.80, "test@1")], *one_day(later))
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key(SIMILAR_NEWS)))
    run(JOB, (str(later), str(later)), run_config=config(), instance=instance)
    keys = [r[2] for r in outbox(app_db) if r[1] == "prediction"]
    assert sorted(keys) == ["story:100:005930", "story:700:005930"]
