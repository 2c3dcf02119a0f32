"""Which news predictions are live: made while the article is news, whatever the hour."""

from datetime import date, datetime

from azak_core.market import KST
from azak_pipelines.defs.predictions.assets import available_by, is_live
from azak_pipelines.lib.predictions.context import Article


def article(published: datetime) -> Article:
    return Article(1, "005930", "title", None, published, published.date(), 0.9, published)


def test_an_article_of_23_58_predicted_after_midnight_is_live():
    sunday_night = article(datetime(2025, 6, 8, 23, 58, tzinfo=KST))  # anchor: Monday 9 June
    assert is_live(sunday_night, date(2025, 6, 9), datetime(2025, 6, 9, 0, 5, tzinfo=KST))


def test_yesterday_s_article_after_its_anchor_session_closed_is_simulated():
    monday_morning = article(datetime(2025, 6, 9, 9, 30, tzinfo=KST))  # anchor: Monday's session
    assert not is_live(monday_morning, date(2025, 6, 10), datetime(2025, 6, 10, 0, 5, tzinfo=KST))
    assert not is_live(monday_morning, date(2025, 6, 12), datetime(2025, 6, 12, 0, 5, tzinfo=KST))


def test_today_s_articles_are_live():
    assert is_live(article(datetime(2025, 6, 9, 9, 30, tzinfo=KST)), date(2025, 6, 9),
                   datetime(2025, 6, 9, 16, 0, tzinfo=KST))


def test_an_article_stamped_later_than_now_waits_for_a_later_run():
    # at 00:05 an article stamped 09:30 the same morning (a source's clock ahead, seen in a
    # simulation) is left to a later run: its context as of 00:05 would refuse it (LookAheadError)
    # and fail the whole run with it
    night, morning = article(datetime(2025, 6, 8, 23, 58, tzinfo=KST)), article(datetime(2025, 6, 9, 9, 30, tzinfo=KST))
    assert available_by([night, morning], datetime(2025, 6, 9, 0, 5, tzinfo=KST)) == ([night], [morning])
    assert available_by([night, morning], datetime(2025, 6, 9, 9, 30, tzinfo=KST)) == ([night, morning], [])
