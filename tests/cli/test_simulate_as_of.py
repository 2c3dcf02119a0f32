"""The simulation's news sites answer what was published by the simulated now, parsed by the
platform's own parsers: nothing from the future, a day with nothing yet as a missing day, and
generated (labelled) RSS items on the days the recordings miss."""

from datetime import datetime

from azak_cli.simulate.as_of import GENERATED_SLOTS, as_of_now
from azak_core import clock
from azak_pipelines.lib.calendar.krx_calendar import KST
from azak_pipelines.lib.news import naver, rss
from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.sample_data import sample_data_dir

MONDAY_NOON = datetime(2025, 6, 9, 12, 0, tzinfo=KST)


def _get(now: datetime, path: str, **query: str) -> tuple[int, dict[str, str], bytes]:
    handler = as_of_now(NewsSites(sample_data_dir() / "news").handle)
    with clock.simulated(lambda: now):
        return handler("GET", path, {}, query, b"")


def test_pages_hold_only_what_was_published_by_the_simulated_now():
    whole = NewsSites(sample_data_dir() / "news").handle("GET", "/item/news_news.naver", {}, {"code": "000270"}, b"")
    assert max(i.published_at for i in naver.parse_stock_list(whole[2], "000270", MONDAY_NOON).items) > MONDAY_NOON
    status, headers, page = _get(MONDAY_NOON, "/item/news_news.naver", code="000270")
    stock = naver.parse_stock_list(page, "000270", MONDAY_NOON, headers["content-type"])
    assert status == 200 and stock.items and not stock.rejected and "etag" not in headers
    assert max(i.published_at for i in stock.items) <= MONDAY_NOON
    status, headers, page = _get(MONDAY_NOON, "/news/news_list.naver", date="20250609")
    market = naver.parse_market_list(page, MONDAY_NOON, headers["content-type"])
    assert status == 200 and market.items and not market.rejected
    assert max(i.published_at for i in market.items) <= MONDAY_NOON
    # at midnight nothing of the day is out yet: the day's list answers like a day never recorded
    assert _get(MONDAY_NOON.replace(hour=0), "/news/news_list.naver", date="20250609")[0] == 404


def test_rss_feeds_get_generated_items_on_days_the_recordings_miss():
    status, _, feed = _get(MONDAY_NOON, "/feed/finance")
    items = rss.parse_feed(feed, "hankyung", "한국경제", MONDAY_NOON).items
    assert status == 200 and max(i.published_at for i in items) <= MONDAY_NOON
    generated = [i for i in items if i.title.startswith("[generated]")]
    # Sunday 8 June has no recorded item: the three slots; Monday is recorded: none generated
    assert sorted(i.published_at for i in generated) == [
        datetime.combine(MONDAY_NOON.date().replace(day=8), slot, KST) for slot in GENERATED_SLOTS]
    assert all("/generated/" in i.url for i in generated)
    recorded = [i for i in items if i not in generated]
    assert {i.published_at.date() for i in recorded} >= {MONDAY_NOON.date()}
