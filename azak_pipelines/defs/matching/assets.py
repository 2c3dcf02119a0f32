"""``news_stock_matches``: which listed companies each article is about."""

from collections import Counter
from collections.abc import Iterator
from typing import Any

import dagster as dg

from azak_core.settings_registry import read_or
from azak_pipelines.defs.calendar.partitions import news_days
from azak_pipelines.defs.common import AssetResult, asset_key, preview, window_of
from azak_pipelines.defs.matching.tables import NEWS_STOCK_MATCHES
from azak_pipelines.defs.news.tables import NEWS_ARTICLES
from azak_pipelines.defs.reference.tables import STOCK_HISTORY, STOCKS
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.defs.versions import slice_version
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR
from azak_pipelines.lib.matching.linker import Linker, load_linker_from_rows, tables_version
from azak_pipelines.lib.matching.linker_tables import SEED_FILES, spans_from_rows
from azak_pipelines.lib.matching.links import link_processes, linked_rows
from azak_pipelines.lib.warehouse import ensure_table, replace_slice, table_exists

SEEDS = DBT_PROJECT_DIR / "seeds"
# a day's few hundred articles link faster in the run's process than worker processes start
LINK_WORKERS_FROM = 20_000
# the seed tables as dbt loads them into the warehouse: upstream of the links in the lineage
SEED_ASSETS = [dg.AssetKey(["marts", name.removesuffix(".csv")]) for name in SEED_FILES]

ARTICLES_SQL = f"""
SELECT news_id, published_day, title, summary, source, sources, stock_code_hints
FROM {NEWS_ARTICLES.key} WHERE published_day >= %s AND published_day < %s
"""


def current_linker(conn: Any) -> Linker:
    """The universe as materialized (admins' additions included), its dated names when the
    history exists, and the seed tables. The linker of the same rows and seeds is built once per
    process (~0.1-0.2 s on the demo's universe): the runs a process executes one after another (the
    simulator's news run every 10 minutes, the imports) reuse it; the daemon's runs each start a process."""
    rows = conn.execute(f"SELECT code, name FROM {STOCKS.key}").fetchall() if table_exists(conn, STOCKS) else []
    if not rows:
        raise dg.Failure(f"{STOCKS.key} is empty: materialize {STOCKS.schema}/{STOCKS.name} first")
    history = []
    if table_exists(conn, STOCK_HISTORY):
        history = conn.execute(f"SELECT code, name, valid_from, valid_to, ended_by FROM {STOCK_HISTORY.key}").fetchall()
    key = (tuple(rows), tuple(history), tables_version(SEEDS))
    last = _LAST_LINKER[0] if _LAST_LINKER else None
    if last is None or last[0] != key:
        last = (key, load_linker_from_rows(rows, SEEDS, spans_from_rows(history)))
        _LAST_LINKER[:] = [last]  # one (inputs, linker) pair, replaced whole
    return last[1]


_LAST_LINKER: list[tuple[Any, Linker]] = []  # current_linker's last inputs and the linker built from them


def link_workers_from() -> int:
    """Articles in one materialization from which links are computed in worker processes."""
    return int(read_or("AZAK_LINK_WORKERS_FROM", str(LINK_WORKERS_FROM)))


@dg.asset(key=asset_key(NEWS_STOCK_MATCHES), group_name="matching", kinds={"postgres"},
          partitions_def=news_days, backfill_policy=dg.BackfillPolicy.single_run(),
          deps=[asset_key(NEWS_ARTICLES), asset_key(STOCKS), asset_key(STOCK_HISTORY), *SEED_ASSETS],
          code_version=tables_version(SEEDS))
def news_stock_matches(context: dg.AssetExecutionContext, warehouse: Warehouse) -> AssetResult:
    """Links every article of the window to zero or more KRX-listed companies (many-to-many):
    Aho-Corasick over official names and the seed tables (aliases, blockers, brokers, group
    context — dbt seeds, upstream in the lineage), longest match first, Korean particle and
    boundary rules, report sources, group phrases and pairs, ticker codes in parentheses; each
    name links to the company that held it on the article's day (``computed.stock_history``);
    a DART filing always links its filer. Each link has a score in [0, 1],
    ``salient`` (the article is about it) and the surfaces found. The code version is the linker
    version plus a hash of the alias tables: when either changes, Dagit marks the partitions for
    re-materialization."""
    window = window_of(context)
    version = tables_version(SEEDS)
    with warehouse.connect() as conn:
        linker = current_linker(conn)
        ensure_table(conn, NEWS_ARTICLES)
        articles = conn.execute(ARTICLES_SQL, (window.start, window.end)).fetchall()
        processes = link_processes(len(articles), link_workers_from())
        rows: list[tuple[Any, ...]] = []

        def kept() -> Iterator[tuple[Any, ...]]:  # written as the workers finish, kept for the metadata
            for row in linked_rows(linker, articles, version, utc_now(), processes):
                rows.append(row)
                yield row

        result = replace_slice(conn, NEWS_STOCK_MATCHES, kept(), window.start, window.end)
        data_version = slice_version(conn, NEWS_STOCK_MATCHES, window.start, window.end, ignore=("matched_at",))
    salient = Counter(row[2] for row in rows if row[4])
    with_subject = len({row[0] for row in rows if row[4]})
    top = [(code, linker.names.get(code, "?"), count) for code, count in salient.most_common(10)]
    return dg.MaterializeResult(metadata={
        "window": str(window), **result.metadata(), "dagster/row_count": result.written,
        "articles": len(articles), "linker_version": version, "linker_processes": processes,
        "links_per_article": round(len(rows) / len(articles), 3) if articles else 0.0,
        "articles_with_a_subject": with_subject,
        "articles_without_links": len(articles) - len({row[0] for row in rows}),
        "top_stocks": preview(top, ["code", "name", "salient links"], limit=10),
    }, data_version=data_version)


@dg.asset_check(asset=asset_key(NEWS_STOCK_MATCHES))
def matches_use_current_linker(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Every stored link comes from the current linker and alias tables; older partitions are
    listed so they can be re-materialized."""
    version = tables_version(SEEDS)
    with warehouse.connect() as conn:
        stale = conn.execute(
            "SELECT linker_version, min(published_day), max(published_day), count(*) "
            f"FROM {NEWS_STOCK_MATCHES.key} WHERE linker_version <> %s GROUP BY 1", (version,)).fetchall()
    return dg.AssetCheckResult(
        passed=not stale, severity=dg.AssetCheckSeverity.WARN,
        metadata={"current": version, "stale": [f"{v}: {a}…{b} ({n} links)" for v, a, b, n in stale]},
        description="all links use the current linker" if not stale else
        f"{sum(r[3] for r in stale)} links come from an older linker or alias table; re-materialize "
        f"{', '.join(f'{a}…{b}' for _, a, b, _ in stale)}",
    )
