"""News parsing rate, near-duplicate clustering time, and ``azak import news`` end to end.

* list-page parsing: Naver market list pages (the fixtures, EUC-KR) and the real per-stock page
  from ../shared (when present), decoded and parsed, in pages per second;
* clustering: 100,000 generated headlines (30 companies, 40 topics, figures, 15% reworded copies of
  another headline) through ``cluster_headlines``, and through ``build_articles`` (URL merge too);
* ``--import N``: N articles as ``azak dev generate`` writes them (over ``--years`` up to its last
  day) imported into a scratch database with ``azak import news`` (raw/imported_news,
  news_articles, the links; one Dagster run), against a plain ``COPY`` of the same rows into
  raw.imported_news in the same process (rendered before the clock starts), with each step's time,
  the command's CPU time (with its linker workers'), and the stored articles linked again outside
  Dagster, in this process and in the asset's spawned workers (the linker alone, its pool's ratio).

    python -m benchmarks.news [--import 20000 --years 0.25]
"""

import argparse
import gzip
import json
import random
import resource
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import load_average, report, scratch_database, timed

SHARED_PAGE = Path(__file__).resolve().parents[2] / "shared" / "data" / "html" / \
    "naver_finance_item_news_005930_20251201.html"


def headlines(count: int) -> list[tuple[str, datetime]]:
    rng = random.Random(42)
    companies = ["삼성전자", "SK하이닉스", "현대차", "기아", "NAVER", "카카오", "셀트리온", "LG화학",
                 "한화오션", "두산에너빌리티", "KB금융", "신한지주", "포스코홀딩스", "삼성SDI", "LG전자",
                 "HD현대중공업", "에코프로", "알테오젠", "크래프톤", "하이브", "엔씨소프트", "SK이노베이션",
                 "삼성물산", "삼성생명", "한국전력", "대한항공", "LG에너지솔루션", "삼성바이오로직스",
                 "KT", "SK텔레콤"]
    topics = ["HBM 공급 확대", "3분기 실적 발표", "신규 수주", "자사주 소각", "목표가 상향", "목표가 하향",
              "해외 공장 증설", "배당 확대", "규제 완화 기대", "관세 우려", "신제품 출시", "합병 결정",
              "유상증자 결정", "외국인 순매수", "기관 순매도", "AI 반도체 수요", "원전 수주", "방산 수출",
              "배터리 계약", "바이오시밀러 허가", "전기차 판매 부진", "환율 상승 수혜", "금리 인하 기대",
              "지배구조 개편", "대표 교체", "특허 소송", "리콜 발표", "공급 계약 체결", "생산 차질",
              "파업 우려", "주가 급등", "주가 급락", "신고가 경신", "52주 최저가", "공매도 재개 영향",
              "실적 쇼크", "어닝 서프라이즈", "투자의견 상향", "투자의견 하향", "밸류업 공시"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items: list[tuple[str, datetime]] = []
    for _ in range(count):
        if items and rng.random() < 0.15:
            title, at = rng.choice(items[-200:])
            variant = rng.choice(["[속보] {}", "{} 눈길", "[특징주] {}", "{}…시장 주목"]).format(title)
            items.append((variant, at + timedelta(minutes=rng.randint(1, 120))))
        else:
            title = (f"{rng.choice(companies)}, {rng.choice(topics)}에 "
                     f"{rng.randint(1, 30)}.{rng.randint(0, 9)}% {rng.choice(['상승', '하락', '강세', '약세'])}")
            items.append((title, start + timedelta(minutes=rng.randint(0, 60 * 24 * 365))))
    return items


def main() -> None:
    from azak_core.market import KST
    from azak_pipelines.lib.news import naver
    from azak_pipelines.lib.news.articles import RawItem, build_articles
    from azak_pipelines.lib.news.dedup import Headline, cluster_headlines
    from azak_pipelines.lib.sample_data import BUNDLED

    fetched = datetime(2025, 6, 17, 18, tzinfo=KST)
    pages = [gzip.decompress(p.read_bytes()) for p in sorted((BUNDLED / "news" / "naver" / "market").glob("*.gz"))]
    rows = sum(len(naver.parse_market_list(p, fetched).items) for p in pages)
    seconds, _ = timed(lambda: [naver.parse_market_list(p, fetched) for p in pages])
    results = [("market list pages (fixtures, EUC-KR)",
                f"{len(pages) / seconds:,.0f} pages/s ({len(pages)} pages, {rows / len(pages):.1f} rows each)")]
    if SHARED_PAGE.exists():
        real = SHARED_PAGE.read_bytes().decode("utf-8").encode("cp949")
        repeat = 200
        seconds, _ = timed(lambda: [naver.parse_stock_list(real, "005930", fetched) for _ in range(repeat)])
        results.append(("real per-stock page (24 KB, 27 rows, CP949)", f"{repeat / seconds:,.0f} pages/s"))

    generated = headlines(100_000)
    titles = [Headline(str(i), t, at) for i, (t, at) in enumerate(generated)]
    started = time.perf_counter()
    clusters = cluster_headlines(titles)
    cluster_seconds = time.perf_counter() - started
    multi = sum(1 for c in clusters.values() if c.size > 1)
    raw = [RawItem(f"k{i}", at, "minute", t, "", f"https://example.com/{i % 95_000}", None, "naver_finance",
                   "news", None, at) for i, (t, at) in enumerate(generated)]
    started = time.perf_counter()
    articles = build_articles(raw)
    build_seconds = time.perf_counter() - started
    results += [
        ("cluster 100,000 headlines", f"{cluster_seconds:.2f} s ({multi:,} headlines in multi-item stories)"),
        ("build_articles (URL merge + clustering)", f"{build_seconds:.2f} s ({len(articles):,} articles)"),
    ]
    report("news parsing and clustering (benchmarks/news.py)", results)


def _render_copy(files: list[Path], target: Path) -> tuple[int, float]:
    """The files' items as raw.imported_news rows in COPY text; (rows, mean title + summary length)."""
    from azak_pipelines.defs.news.assets import _row
    from azak_pipelines.lib.news.jsonl import read_news_file
    from azak_pipelines.lib.warehouse import copy_text

    fetched = datetime.now(UTC)
    lengths: list[int] = []
    with target.open("w", encoding="utf-8") as out:
        for path in files:
            for item in read_news_file(path).items:
                lengths.append(len(item.title) + len(item.summary))
                out.write("\t".join(copy_text(v) for v in _row(item, fetched)) + "\n")
    return len(lengths), statistics.fmean(lengths)


def _plain_copy(url: str, data: Path, first: Any, last: Any) -> float:
    import psycopg

    from azak_pipelines.defs.news.tables import IMPORTED_NEWS
    from azak_pipelines.lib.warehouse import ensure_partitions, ensure_table

    with psycopg.connect(url, autocommit=True) as conn:
        ensure_table(conn, IMPORTED_NEWS)
        ensure_partitions(conn, IMPORTED_NEWS, first, last + timedelta(days=1))
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor, data.open("rb") as handle, cursor.copy(
                f"COPY {IMPORTED_NEWS.key} ({', '.join(IMPORTED_NEWS.column_names)}) FROM STDIN") as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute(f"TRUNCATE {IMPORTED_NEWS.key}")
    return seconds


def _step_seconds(run_id: str) -> dict[str, float]:
    """Each step's wall time in the run, from its start and success events."""
    from azak_pipelines.runs import dagster_instance

    started: dict[str, float] = {}
    spent: dict[str, float] = {}
    for entry in dagster_instance().all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS" and event.step_key in started:
            spent[event.step_key] = entry.timestamp - started[event.step_key]
    return spent


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the spawned linker workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _linker_alone(url: str) -> list[tuple[str, str]]:
    """The stored articles linked again outside Dagster: in this process, then in the workers the
    asset uses; wall and CPU time of each, and whether both give the same links."""
    import psycopg

    from azak_pipelines.defs.matching.assets import ARTICLES_SQL, current_linker
    from azak_pipelines.lib.matching.links import link_processes, linked_rows

    with psycopg.connect(url) as conn:
        linker = current_linker(conn)
        articles = conn.execute(ARTICLES_SQL, (date.min, date.max)).fetchall()
    at = datetime.now(UTC)
    measured, outcomes = [], []
    for processes in (0, link_processes(len(articles), 1)):
        wall, cpu = time.perf_counter(), _cpu_seconds()
        outcomes.append(list(linked_rows(linker, articles, "bench", at, processes)))
        measured.append((processes, time.perf_counter() - wall, _cpu_seconds() - cpu))
    (_, alone, alone_cpu), (workers, pooled, pooled_cpu) = measured
    return [
        ("linker alone, this process", f"{len(articles) / alone:,.0f} articles/s ({alone:.1f} s, "
                                       f"CPU {alone_cpu:.1f} s)"),
        (f"linker alone, {workers} spawned workers", f"{len(articles) / pooled:,.0f} articles/s "
         f"({pooled:.1f} s, CPU {pooled_cpu:.1f} s with the workers): {alone / pooled:.2f}x; "
         f"same links: {outcomes[0] == outcomes[1]}"),
    ]


def import_news(articles: int, years: float) -> None:
    """``azak import news`` of generated articles against a plain COPY of the same rows."""
    from azak_cli.dev import generate
    from azak_cli.market import import_news as run_import
    from azak_cli.runtime import environment
    from azak_pipelines.definitions import defs
    from azak_pipelines.runs import dagster_instance, require_success, run_job

    options = generate.ScaleOptions(stocks=None, years=years, minute_stocks=0, minute_days=0,
                                    articles=articles)
    with tempfile.TemporaryDirectory() as scratch, scratch_database(f"azak_bench_news_{articles}") as url:
        out = Path(scratch)
        generated = generate.Generated()
        generate.generate_news(options, generate.select_listings(None), out, generated)
        rows, mean_length = _render_copy(generated.news_files, out / "copy.txt")
        days = [json.loads(line)["published_at"][:10] for path in generated.news_files
                for line in path.open(encoding="utf-8")]
        first, last = (datetime.fromisoformat(d).date() for d in (min(days), max(days)))
        loads = [load_average()]
        copy_seconds = _plain_copy(url, out / "copy.txt", first, last)
        with environment.session(apply=True) as runtime:
            require_success(run_job(defs(), dagster_instance(), "universe_job"), "the universe run")
            started, cpu = time.perf_counter(), _cpu_seconds()
            answer = run_import(runtime, generated.news_files, quiet=True)
            seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
            loads.append(load_average())
            steps = _step_seconds(answer["run_id"])
            linker = _linker_alone(url)
        loads.append(load_average())
    report(f"azak import news, {rows:,} generated articles (benchmarks/news.py --import)", [
        ("articles", f"{rows:,} over {first} … {last} ({(last - first).days + 1:,} daily partitions), "
                     f"title + summary {mean_length:.0f} characters on average"),
        ("plain COPY into raw.imported_news", f"{rows / copy_seconds:,.0f} rows/s ({copy_seconds:.1f} s)"),
        ("azak import news (links included)", f"{rows / seconds:,.0f} articles/s ({seconds:.1f} s): "
                                              f"{copy_seconds / seconds:.3f}x the plain COPY"),
        ("its CPU time (the command and its linker workers; not PostgreSQL's)",
         f"{cpu:.1f} s: {rows / cpu:,.0f} articles per CPU second"),
        ("steps of the run", ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())),
        *linker,
        ("load average before / after the import / at the end", " and ".join(loads)),
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--import", dest="articles", type=int, default=0,
                        help="import this many generated articles (and skip parsing and clustering)")
    parser.add_argument("--years", type=float, default=0.25, help="the articles' span, up to 2025-09-26")
    args = parser.parse_args()
    if args.articles:
        import_news(args.articles, args.years)
    else:
        main()
