"""News and disclosures: one raw asset per source, then ``news_articles``.

Raw news partitions are KST publication days. Writes are merges on ``(item_key, day)``: a run
re-materializing today never duplicates an item and never loses one an earlier run saw (feeds drop
items as they scroll). Each raw asset reports a ``layout_drift`` check computed from what its parser
saw; rows it could not use go to ``ops.quarantine`` with their reason.
"""

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg

from azak_pipelines.defs import pools
from azak_pipelines.defs.calendar.partitions import news_days
from azak_pipelines.defs.common import AssetOptions, AssetResult, Window, watchlist_codes, window_of
from azak_pipelines.defs.news import tables
from azak_pipelines.defs.news.resources import NewsSources
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import slice_version
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.news import collect, dart, reddit
from azak_pipelines.lib.news.collect import Collection
from azak_pipelines.lib.news.items import NewsItem, Rejected
from azak_pipelines.lib.news.jsonl import NewsFileError, read_news_file
from azak_pipelines.lib.news.reddit import parse_posts
from azak_pipelines.lib.quarantine import reasons_summary, record_quarantine
from azak_pipelines.lib.warehouse import TableSpec, merge_rows

T = TypeVar("T")
STOCKS = dg.AssetKey(["raw", "stocks"])
NEWS: AssetOptions = {"group_name": "news", "kinds": {"postgres"}, "partitions_def": news_days,
        "backfill_policy": dg.BackfillPolicy.single_run()}


def from_host(source: str) -> AssetOptions:
    """The news options plus the pool of the host an asset crawls."""
    return {**NEWS, "pool": pools.news_host(source)}


DROP_TOLERANCE = 0.05  # a parser may lose this share of rows before the drift check fails


def drift_spec(name: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "layout_drift", asset=dg.AssetKey(["raw", name]),
        description="Fails when the source's pages yield no rows, or when its parser drops more "
                    "than 5% of the rows it finds; names the selector or field that broke.")


def _judge(kind: str, result: Any) -> str | None:
    """Why one kind of page no longer looks like itself, or None."""
    if result.rows_seen == 0:
        return (f"{kind}: the row selector '{result.container}' matched nothing — the page layout "
                "has probably changed")
    parse_rejects = [r for r in result.rejected if not r.reason.startswith("HTTP ")]
    share = len(parse_rejects) / result.rows_seen
    if share <= DROP_TOLERANCE:
        return None
    if result.missing:
        field, count = max(result.missing.items(), key=lambda kv: kv[1])
        why = f"'{field}' was missing on {count} of {result.rows_seen} rows"
    else:
        reasons: dict[str, int] = {}
        for rejected in parse_rejects:
            key = rejected.reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
        reason, count = max(reasons.items(), key=lambda kv: kv[1])
        why = f"{count} rows rejected: {reason}"
    return f"{kind}: the parser dropped {share:.0%} of rows — {why}"


def layout_drift(collection: Collection, mode: str, source: str) -> dg.AssetCheckResult:
    """Did each kind of page look like itself? Judged on everything fetched, before the window
    filter: zero rows where pages answered, or a parser losing more than 5% of rows, fails."""
    result = collection.result
    answered = collection.fetches - collection.missing_recordings - collection.not_modified - len(collection.errors)
    meta: dict[str, Any] = {"fetches": collection.fetches, "rows_seen": result.rows_seen,
                            "items": len(result.items), "fetch_errors": len(collection.errors),
                            "missing_fields": result.missing}
    if collection.fetches == 0 or (mode == "replay" and answered <= 0 and not collection.errors):
        return dg.AssetCheckResult(passed=True, metadata=meta,
                                   description=f"{source}: nothing to judge (no pages fetched or recorded)")
    if answered <= 0:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=meta,
                                   description=f"{source}: every fetch failed — {collection.errors[0]}")
    kinds = collection.by_kind or {"pages": result}
    problems = [p for p in (_judge(kind, parsed) for kind, parsed in kinds.items()) if p]
    if problems:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=meta,
                                   description=f"{source}: " + "; ".join(problems))
    return dg.AssetCheckResult(passed=True, metadata=meta,
                               description=f"{source}: {len(result.items)} items from {result.rows_seen} rows")


def _row(item: NewsItem, fetched_at: datetime) -> tuple[Any, ...]:
    return (item.item_key, item.published_day, item.published_at, item.published_precision,
            item.title, item.summary, item.url, item.press, item.source, item.content_type,
            item.stock_code_hint, json.dumps(item.extra, ensure_ascii=False, default=str), item.body,
            fetched_at, fetched_at)


def store(context: dg.AssetExecutionContext, warehouse: Warehouse, spec: TableSpec,
          window: Window, collection: Collection, mode: str, source: str,
          extra: dict[str, Any] | None = None) -> AssetResult:
    """Merge the window's items, quarantine the rejects, report the drift check."""
    fetched_at = utc_now()
    items: dict[str, NewsItem] = {}
    outside = 0
    for item in collection.result.items:
        if window.start <= item.published_day < window.end:
            items[item.item_key] = item  # the same item twice in one run: keep the last seen
        else:
            outside += 1
    rows = [_row(item, fetched_at) for item in items.values()]
    asset = f"raw/{spec.name}"
    with warehouse.connect() as conn:
        result = merge_rows(conn, spec, rows, window.start, window.end)
        rejected = [r for r in collection.result.rejected]
        record_quarantine(conn, asset, window.start, window.end, rejected, fetched_at)
        version = slice_version(conn, spec, window.start, window.end, ignore=("fetched_at",))
    context.log.info("%s %s: %s items (%s new), %s rejected, %s outside the window", source, window,
                     len(rows), result.new_rows, len(rejected), outside)
    by_day: dict[str, int] = {}
    for item in items.values():
        by_day[str(item.published_day)] = by_day.get(str(item.published_day), 0) + 1
    return dg.MaterializeResult(
        metadata={
            "window": str(window), "mode": mode, **result.metadata(),
            "dagster/row_count": len(rows), "items_outside_window": outside,
            "fetches": collection.fetches, "not_modified": collection.not_modified,
            "missing_recordings": collection.missing_recordings,
            "rows_rejected": len(rejected), "rejected": dg.MetadataValue.md(reasons_summary(rejected)),
            "busiest_days": dict(sorted(by_day.items(), key=lambda kv: -kv[1])[:5]),
            **(extra or {}),
        },
        check_results=[layout_drift(collection, mode, source)],
        data_version=version,
    )


def run_async(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(work())


@dg.asset(key=["raw", "naver_finance_news"], deps=[STOCKS],
          check_specs=[drift_spec("naver_finance_news")], **from_host("naver"))
def naver_finance_news(context: dg.AssetExecutionContext, warehouse: Warehouse,
                       news: NewsSources) -> AssetResult:
    """Naver Finance: the securities news list day by day (``date`` parameter, paged) and every
    watch-list stock's news list (newest first, with Naver's related-news clusters). Titles,
    list summaries (press/date tail removed), press, KST times; canonical n.news.naver.com URLs."""
    window = window_of(context)
    mode, settings = news.mode("naver"), news.settings()
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)
    fetched_at = utc_now()

    async def work() -> Collection:
        async with news.client(mode) as client:
            market = await collect.naver_market(client, settings, window.days(), fetched_at, mode == "replay")
            stocks = await collect.naver_stocks(client, settings, codes, window.start, fetched_at,
                                                mode == "replay")
        return merge_collections(market, stocks)

    return store(context, warehouse, tables.NAVER_FINANCE_NEWS, window, run_async(work), mode, "naver_finance")


def merge_collections(*parts: Collection) -> Collection:
    merged = Collection()
    for part in parts:
        merged.result.extend(part.result)
        for kind, parsed in part.by_kind.items():
            merged.by_kind.setdefault(kind, type(parsed)(container=parsed.container)).extend(parsed)
        merged.fetches += part.fetches
        merged.not_modified += part.not_modified
        merged.missing_recordings += part.missing_recordings
        merged.errors += part.errors
    return merged


def _rss_asset(name: str, source: str, press: str, url_of: Callable[[collect.NewsSettings], str],
               doc: str) -> dg.AssetsDefinition:
    @dg.asset(key=["raw", name], check_specs=[drift_spec(name)], description=doc, **from_host(source))
    def feed_asset(context: dg.AssetExecutionContext, warehouse: Warehouse,
                   news: NewsSources) -> AssetResult:
        window = window_of(context)
        mode, settings = news.mode("rss"), news.settings()

        async def work() -> Collection:
            async with news.client(mode) as client:
                return await collect.feed(client, url_of(settings), source, press, utc_now(), mode == "replay")

        spec = tables.HANKYUNG_NEWS if name == "hankyung_news" else tables.MAEIL_NEWS
        return store(context, warehouse, spec, window, run_async(work), mode, source)

    return feed_asset


hankyung_news = _rss_asset(
    "hankyung_news", "hankyung", "한국경제", lambda s: s.hankyung_rss,
    "Hankyung (한국경제) securities news from its public RSS feed (AZAK_HANKYUNG_RSS_URL): title, "
    "description, link, pubDate with its time zone. Items without a link are quarantined.")
maeil_news = _rss_asset(
    "maeil_news", "maeil", "매일경제", lambda s: s.maeil_rss,
    "Maeil Business (매일경제) securities news from its public RSS feed (AZAK_MAEIL_RSS_URL).")


@dg.asset(key=["raw", "dart_disclosures"], deps=[STOCKS],
          check_specs=[drift_spec("dart_disclosures")], **from_host("dart"))
def dart_disclosures(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     news: NewsSources) -> AssetResult:
    """OpenDART filings (``list.json``) of every watch-list company, queried by its 8-digit
    ``corp_code`` (resolved from DART's corp-code list), paged, with DART's status codes handled:
    013 is no data, 020 (quota) or a key error stops the run's DART calls and is reported."""
    window = window_of(context)
    mode, settings = news.mode("dart"), news.settings()
    with warehouse.connect() as conn:
        codes = watchlist_codes(conn)
    cache = Path(context.instance.root_directory) / "cache" if mode == "live" else None

    async def work() -> Collection:
        async with news.client(mode) as client:
            settings_used = collect.NewsSettings(dart_key="replay") if mode == "replay" else settings
            try:
                corps = await collect.dart_corps(client, settings_used, cache)
            except dart.DartApiError as exc:
                failed = Collection(fetches=1)
                failed.failed(f"{settings_used.dart_base}/api/corpCode.xml", str(exc))
                return failed
            known = [corps[code] for code in codes if code in corps]
            collection = await collect.dart_disclosures(client, settings_used, known, window.start,
                                                        window.last, mode == "replay")
            collection.fetches += 1
            for code in codes:
                if code not in corps:
                    collection.result.rejected.append(Rejected(
                        f"stock:{code}", "no DART corp_code for this stock code (not in corpCode.xml)"))
            return collection

    return store(context, warehouse, tables.DART_DISCLOSURES, window, run_async(work), mode, "dart")


@dg.asset(key=["raw", "reddit_posts"], check_specs=[drift_spec("reddit_posts")], **from_host("reddit"))
def reddit_posts(context: dg.AssetExecutionContext, warehouse: Warehouse,
                 news: NewsSources) -> AssetResult:
    """Reddit through PRAW: hot and new posts of the configured subreddits (AZAK_REDDIT_SUBREDDITS),
    kept when they pass the score, comment, age and keyword filters. Replay serves PRAW the
    recorded listings and judges age against the window instead of the wall clock."""
    window = window_of(context)
    mode, settings = news.mode("reddit"), news.settings()
    replay = mode == "replay"
    posts, fetches = collect.reddit_posts(settings, news.recordings() / "reddit" if replay else None)
    rules = collect.reddit_filter(settings)
    judged_at = window.replay_clock() if replay else utc_now()
    if replay:  # recordings are old: an item is recent enough when it falls in the window
        rules = reddit.RedditFilter(rules.keywords, rules.min_score, rules.min_comments,
                                            rules.max_age + timedelta(days=(window.end - window.start).days))
    result, filtered = parse_posts(posts, rules, judged_at)
    collection = Collection(fetches=fetches)
    collection.add("listing", result)
    return store(context, warehouse, tables.REDDIT_POSTS, window, collection, mode, "reddit",
                 {"filtered_out": filtered})


class ImportedNewsConfig(dg.Config):
    paths: list[str] = []


@dg.asset(key=["raw", "imported_news"], check_specs=[drift_spec("imported_news")], **NEWS)
def imported_news(context: dg.AssetExecutionContext, config: ImportedNewsConfig,
                  warehouse: Warehouse) -> AssetResult:
    """News from JSON Lines files (``azak import news``); nothing to do without files."""
    window = window_of(context)
    collection = Collection()
    for raw_path in config.paths:
        path = Path(raw_path).expanduser().resolve()
        try:
            collection.add("file", read_news_file(path))
        except NewsFileError as exc:
            raise dg.Failure(str(exc)) from None
        collection.fetches += 1
    return store(context, warehouse, tables.IMPORTED_NEWS, window, collection, "files", "files")
