"""The named stack's candidates against today's code, each ratio from the same run (docs/stack.md).

* HTML — beautifulsoup4 (lxml parser, soupsieve selectors) against today's lxml + cssselect, on the
  real pages in ../shared/data/html: the per-stock list parser on its page, the market-list parser
  on all three. The beautifulsoup4 parsers below walk the same nodes and hand the same fields to
  the same row rules; both must give the same rows before they are timed.
* Price files — ``pandas.read_csv`` against today's ``read_price_file`` on the import benchmark's
  generated files: today's whole reader (csv + validation); the reading stage alone (csv.reader,
  every cell as text); pandas reading every cell as text and handing out the rows (what the
  validation needs: exact digits, a line number per rejection); pandas with its own numeric types
  (its fastest read, before any validation).
* Ranks — the evaluation's ranks for the rank IC (``metrics.ranks``, ``pandas.Series.rank``)
  against the hand-written loop they replaced, on 30, 300 and 2,500 stocks of a day, ties
  included; both must give the same ranks.

    python -m benchmarks.stack [--repeat 5]
"""

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_average, report, timed

HTML = Path(__file__).resolve().parents[2] / "shared" / "data" / "html"
STOCK_PAGE = "naver_finance_item_news_005930_20251201.html"


def _bs4_text(node: Any) -> str:
    return str(node.get_text()) if node is not None else ""


def _bs4_summary(node: Any) -> str:
    """What the market-list parser reads from ``dd.articleSummary``: its text, each non-``span``
    child's text and every tail, joined by spaces (lxml's ``.text`` / ``.tail``, in soup terms)."""
    from bs4 import Tag

    parts: list[str] = []
    texts: list[str] = []
    for child in node.children:
        if isinstance(child, Tag):
            parts.append("".join(texts))
            texts = []
            if child.name != "span":
                parts.append(child.get_text())
        else:
            texts.append(str(child))
    parts.append("".join(texts))
    return " ".join(parts)


def bs4_market_list(data: bytes, fetched_at: datetime) -> Any:
    from bs4 import BeautifulSoup

    from azak_pipelines.lib.news import naver
    from azak_pipelines.lib.news.items import ParseResult
    from azak_pipelines.lib.news.text import decode

    text, _ = decode(data, None)
    result = ParseResult(container="dl > .articleSubject")
    for entry in BeautifulSoup(text, "lxml").select("ul.realtimeNewsList dl, div.mainNewsList dl, dl"):
        subject = entry.select_one(".articleSubject a")
        if subject is None:
            continue
        result.rows_seen += 1
        summary_node = entry.select_one("dd.articleSummary")
        press = wdate = summary = ""
        if summary_node is None:
            result.lack("dd.articleSummary")
        else:
            press_node, date_node = summary_node.select_one("span.press"), summary_node.select_one("span.wdate")
            press, wdate = _bs4_text(press_node), _bs4_text(date_node)
            if press_node is None:
                result.lack("span.press")
            if date_node is None:
                result.lack("span.wdate")
            summary = _bs4_summary(summary_node)
        naver._item(result, subject.get("href", ""), subject.get("title") or _bs4_text(subject), summary,
                    press, wdate, fetched_at, {"list": "market"}, None)
    return result


def bs4_stock_list(data: bytes, stock_code: str, fetched_at: datetime) -> Any:
    from bs4 import BeautifulSoup

    from azak_pipelines.lib.news import naver
    from azak_pipelines.lib.news.items import ParseResult
    from azak_pipelines.lib.news.text import decode

    text, _ = decode(data, None)
    result = ParseResult(container="table.type5 td.title")
    cluster_head: str | None = None
    for row in BeautifulSoup(text, "lxml").select("table.type5 tr"):
        cells = {" ".join(td.get("class") or []): td for td in row.find_all("td", recursive=False)}
        cell = cells.get("title")
        if cell is None:
            continue
        link = cell.select_one("a")
        classes = row.get("class") or []
        nested = any("relation_lst" in " ".join(tr.get("class") or []) for tr in row.find_parents("tr"))
        row_cells = naver.StockRow(link, cells.get("info"), cells.get("date"), classes, nested)
        cluster_head = naver.stock_row(result, row_cells, cluster_head, stock_code, fetched_at, _bs4_text)
    return result


def _same(today: Any, candidate: Any, page: str) -> int:
    if (today.items, today.rejected, today.rows_seen, today.missing) != (
            candidate.items, candidate.rejected, candidate.rows_seen, candidate.missing):
        raise SystemExit(f"beautifulsoup4 and lxml parse {page} differently: fix the benchmark's parser")
    return len(today.items)


def html_rows(repeat: int) -> list[tuple[str, str]]:
    from azak_core.market import KST
    from azak_pipelines.lib.news import naver

    if not HTML.is_dir():
        return [("HTML", f"skipped: {HTML} is absent")]
    fetched = datetime(2025, 12, 1, 14, 30, tzinfo=KST)
    pages = {p.name: p.read_bytes() for p in sorted(HTML.glob("*.html"))}
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        (f"stock list {STOCK_PAGE}", lambda: naver.parse_stock_list(pages[STOCK_PAGE], "005930", fetched),
         lambda: bs4_stock_list(pages[STOCK_PAGE], "005930", fetched))]
    cases += [(f"market list {name}", lambda d=data: naver.parse_market_list(d, fetched),
               lambda d=data: bs4_market_list(d, fetched)) for name, data in pages.items()]
    rows, total_today, total_bs4 = [], 0.0, 0.0
    for label, today, candidate in cases:
        items = _same(today(), candidate(), label)
        today_s, _ = timed(lambda f=today: [f() for _ in range(repeat)])
        bs4_s, _ = timed(lambda f=candidate: [f() for _ in range(repeat)])
        total_today, total_bs4 = total_today + today_s, total_bs4 + bs4_s
        rows.append((label, f"lxml {today_s / repeat * 1000:.1f} ms, beautifulsoup4 {bs4_s / repeat * 1000:.1f} ms "
                            f"per page ({items} rows, the same) = {bs4_s / today_s:.2f}×"))
    rows.append(("HTML, all pages", f"beautifulsoup4 / lxml = {total_bs4 / total_today:.2f}× "
                                    f"(adopted only at ≤ 1.20×)"))
    return rows


def price_rows(repeat: int) -> list[tuple[str, str]]:
    import csv

    import pandas as pd

    from azak_pipelines.lib.market.price_files import read_price_file
    from benchmarks.import_prices import generate

    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        count = generate(directory)
        files = sorted(directory.glob("*.csv"))

        def today() -> int:
            return sum(1 for path in files for _ in read_price_file(path))

        def csv_cells() -> int:
            total = 0
            for path in files:
                with path.open(encoding="utf-8-sig", newline="") as handle:
                    total += sum(1 for _ in csv.reader(handle)) - 1
            return total

        def pandas_cells() -> int:
            return sum(len(list(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
                                .itertuples(index=False, name=None))) for path in files)

        def pandas_typed() -> int:
            return sum(len(pd.read_csv(path, encoding="utf-8-sig")) for path in files)

        seconds = {}
        for name, work in (("today", today), ("csv", csv_cells), ("pandas text", pandas_cells),
                           ("pandas typed", pandas_typed)):
            seconds[name], rows = timed(work)
            if rows != count:
                raise SystemExit(f"{name} read {rows:,} rows, not {count:,}")
    rate = {name: count / s for name, s in seconds.items()}
    return [
        ("price files", f"{count:,} rows in {len(files)} files (benchmarks/import_prices.py's)"),
        ("  read_price_file (today: csv + validation)", f"{rate['today']:,.0f} rows/s"),
        ("  csv.reader, cells as text (today's reading)", f"{rate['csv']:,.0f} rows/s"),
        ("  pandas.read_csv, cells as text, as rows", f"{rate['pandas text']:,.0f} rows/s = "
                                                      f"{seconds['csv'] / seconds['pandas text']:.2f}× "
                                                      "csv.reader's rate"),
        ("  pandas.read_csv, its own types, no rows", f"{rate['pandas typed']:,.0f} rows/s = "
                                                      f"{seconds['today'] / seconds['pandas typed']:.2f}× "
                                                      "read_price_file's rate (no validation at all)"),
    ]


def hand_ranks(values: np.ndarray) -> np.ndarray:
    """The evaluation's ranks before pandas (metrics.py until this benchmark): ranks 1…n, ties
    sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def rank_rows(repeat: int) -> list[tuple[str, str]]:
    from azak_pipelines.lib.evaluation.metrics import ranks

    rng = random.Random(3)
    rows = []
    loops = repeat * 100
    for n in (30, 300, 2500):
        values = np.array([round(rng.gauss(0, 1), 1) for _ in range(n)])  # rounded: ties
        if not np.array_equal(hand_ranks(values), ranks(values)):
            raise SystemExit("pandas ranks differ from the hand-written ones")
        hand_s, _ = timed(lambda v=values: [hand_ranks(v) for _ in range(loops)])
        pandas_s, _ = timed(lambda v=values: [ranks(v) for _ in range(loops)])
        rows.append((f"ranks of {n:,} values (ties)", f"hand-written {hand_s / loops * 1e6:.0f} µs, pandas "
                                                       f"{pandas_s / loops * 1e6:.0f} µs = {pandas_s / hand_s:.2f}×"))
    return rows


def main(repeat: int = 5) -> None:
    started = time.monotonic()
    rows = [*html_rows(repeat), *price_rows(repeat), *rank_rows(repeat)]
    rows.append(("run", f"{time.monotonic() - started:.0f} s, median of 3 timings each; "
                        f"load average {load_average()}"))
    report("the named stack: candidates against today's code (benchmarks/stack.py)", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    main(parser.parse_args().repeat)
