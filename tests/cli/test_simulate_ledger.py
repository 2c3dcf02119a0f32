"""The ledger's expectations on warehouse rows written as the platform writes them: each one
fails on the case it is stated for (so a clean ledger means something)."""

from datetime import datetime

import psycopg

from azak_api.admin import run_migrations
from azak_cli.simulate.ledger import notifications_once_outside_quiet_hours
from azak_pipelines.lib.calendar.krx_calendar import KST

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
