"""Reddit in a simulation: the platform's own client (PRAW, ``collect.reddit_posts``) in live mode
against the local server of ``azak simulate`` over real HTTP, on a simulated clock."""

import os
from datetime import UTC, datetime

import psycopg
import pytest

from azak_cli.simulate.as_of import generated_item as rss_item
from azak_cli.simulate.reddit import GENERATED_NOTE, generated_post
from azak_cli.simulate.sources import SIMULATION_KEY, live_reddit
from azak_core import clock
from azak_pipelines.lib.calendar.krx_calendar import KST
from azak_pipelines.lib.matching.linker import load_linker
from azak_pipelines.lib.news import collect
from azak_pipelines.lib.news.reddit import parse_posts
from azak_pipelines.lib.sample_data import BUNDLED
from tests.conftest import PROJECT_ROOT
from tests.pipelines.runs import materialization, run

# Monday 9 June 2025, 13:00 KST: the recordings (r/KoreaStocks only) hold posts of 2, 4, 9, 12, 16
# and 17 June; 8 June (a Sunday) and the two other subreddits have none
NOW = datetime(2025, 6, 9, 13, 0, tzinfo=KST)


def _collect(now: datetime) -> tuple[list[dict], list[str]]:
    with live_reddit() as reddit, clock.simulated(lambda: now):
        settings = collect.NewsSettings(reddit_client_id=SIMULATION_KEY, reddit_client_secret=SIMULATION_KEY,
                                        reddit_base=os.environ["AZAK_REDDIT_BASE_URL"])  # live_reddit's
        posts, fetches = collect.reddit_posts(settings, None)
    assert fetches == 6  # hot and new of three subreddits
    return posts, reddit.requests


def test_reddit_answers_what_was_posted_by_the_simulated_now_with_generated_posts_on_the_days_it_lacks():
    posts, requests = _collect(NOW)
    created = {p["id"]: datetime.fromtimestamp(float(p["created_utc"]), UTC) for p in posts}
    assert max(created.values()) <= NOW  # nothing from after the simulated now
    recorded = sorted(i for i in created if not i.startswith("gen"))
    assert recorded == ["az0000", "az0001", "az0002"]  # 12, 16 and 17 June are still to come
    generated = [p for p in posts if p["id"].startswith("gen")]
    assert all(p["title"].startswith("[generated] ") and p["selftext"] == GENERATED_NOTE for p in generated)
    by_subreddit: dict[str, list[str]] = {}
    for post in generated:
        by_subreddit.setdefault(str(post["subreddit"]), []).append(
            datetime.fromtimestamp(float(post["created_utc"]), UTC).astimezone(KST).strftime("%d %H:%M"))
    # r/KoreaStocks: only 8 June lacks a post; the others lack both days (9 June up to 12:00)
    assert {s: sorted(times) for s, times in by_subreddit.items()} == {
        "KoreaStocks": ["08 07:30", "08 12:00", "08 18:30"],
        "stocks": ["08 07:30", "08 12:00", "08 18:30", "09 07:30", "09 12:00"],
        "investing": ["08 07:30", "08 12:00", "08 18:30", "09 07:30", "09 12:00"]}
    assert requests[0] == "/api/v1/access_token" and len(requests) == 7  # one token, six listings
    # the platform's live filter (24 hours back, score, comments, keyword) keeps the generated posts
    # of the last day as it keeps the recorded one
    result, filtered = parse_posts(posts, collect.reddit_filter(collect.NewsSettings()), NOW)
    kept = sorted((i.press, i.published_at.astimezone(KST).strftime("%d %H:%M")) for i in result.items)
    assert kept == [("r/KoreaStocks", "08 18:30"), ("r/KoreaStocks", "09 09:30"),
                    ("r/investing", "08 18:30"), ("r/investing", "09 07:30"), ("r/investing", "09 12:00"),
                    ("r/stocks", "08 18:30"), ("r/stocks", "09 07:30"), ("r/stocks", "09 12:00")]
    assert filtered == len(posts) - 8 and not result.rejected


def test_a_post_is_not_served_before_it_was_posted():
    posts, _ = _collect(datetime(2025, 6, 9, 9, 29, tzinfo=KST))  # a minute before az0002
    assert "az0002" not in {p["id"] for p in posts}
    posts, _ = _collect(datetime(2025, 6, 9, 9, 30, tzinfo=KST))  # at it
    assert "az0002" in {p["id"] for p in posts}


@pytest.mark.slow
def test_the_platforms_reddit_asset_stores_the_generated_posts_in_live_mode(warehouse_with_stocks):
    # the news job's Reddit step, live against the server at 13:00 on Monday 9 June, for the
    # partitions the news schedule asks (yesterday and today)
    with live_reddit(), clock.simulated(lambda: NOW):
        result = run("news_job", ("2025-06-08", "2025-06-09"), assets=["raw/reddit_posts"])
    assert materialization(result, "raw/reddit_posts")["rows_written"] == 8  # the posts the filter keeps
    with psycopg.connect(warehouse_with_stocks) as conn:
        stored = conn.execute("SELECT title LIKE '[generated] %', count(*) FROM raw.reddit_posts GROUP BY 1 "
                              "ORDER BY 1").fetchall()
    assert stored == [(False, 1), (True, 7)]  # the recorded post of 09:30 and seven generated ones


def test_the_generated_posts_and_rss_items_are_about_a_watch_list_company():
    """What the generated items are for: weekend, holiday and evening news the ledger's 30-minute
    expectation judges, which needs a salient link (the platform's linker, its real tables)."""
    linker = load_linker(BUNDLED / "universe" / "krx_listed_2025_09.csv", PROJECT_ROOT / "dbt_project" / "seeds")
    saturday = datetime(2025, 6, 7, 18, 30, tzinfo=KST)
    post = generated_post("stocks", saturday)
    rss_title = rss_item("https://www.hankyung.com", saturday).findtext("title")
    for title, content in ((post["title"], post["selftext"]), (rss_title, GENERATED_NOTE)):
        links = linker.link(title, content, saturday.date())
        assert [(m.code, m.salient) for m in links] == [("005930", True)], title
    assert "Samsung" in post["title"] and "KOSPI" in post["title"]  # the default Reddit keywords keep it
