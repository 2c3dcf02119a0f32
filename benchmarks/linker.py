"""Entity linking throughput on one core, with the full universe, its history and the seed tables
loaded, and the labelled set's precision and recall (overall and per error class).

The articles are the bundled fixtures' titles and summaries (and the labelled set), cycled to
50,000 links; the timing covers ``Linker.link`` only.

    python -m benchmarks.linker
"""

import gzip
import json
import time
from datetime import datetime
from pathlib import Path

from benchmarks.common import report

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from azak_core.market import KST
    from azak_pipelines.lib.news import naver
    from azak_pipelines.lib.sample_data import BUNDLED
    from tests.linker.test_labelled_set import replay_linker, score

    started = time.perf_counter()
    linker = replay_linker()  # as the matching asset builds it: listing history + seed tables
    load_seconds = time.perf_counter() - started
    articles = []
    for page in sorted((BUNDLED / "news" / "naver" / "market").glob("*.gz")):
        for item in naver.parse_market_list(gzip.decompress(page.read_bytes()),
                                            datetime(2025, 6, 17, tzinfo=KST)).items:
            articles.append((item.title, item.summary))
    labelled = ROOT / "tests" / "linker" / "labelled_news.jsonl"
    articles += [(d["title"], d["content"]) for d in map(json.loads, labelled.read_text().splitlines())]
    work = (articles * (50_000 // len(articles) + 1))[:50_000]
    chars = sum(len(t) + len(c) for t, c in work) / len(work)
    automaton = linker._automaton  # baseline: the bare Aho-Corasick scan of the same texts
    started = time.perf_counter()
    for title, content in work:
        for text in (title, content):
            if text:
                for _ in automaton.iter(text.lower()):
                    pass
    bare_seconds = time.perf_counter() - started
    started = time.perf_counter()
    links = sum(len(linker.link(title, content)) for title, content in work)
    seconds = time.perf_counter() - started
    longer = [(title, " ".join([content] * 4)) for title, content in work[:20_000]]
    long_chars = sum(len(t) + len(c) for t, c in longer) / len(longer)
    started = time.perf_counter()
    for title, content in longer:
        linker.link(title, content)
    long_seconds = time.perf_counter() - started
    quality = score(linker)
    per_class = [(f"  {group} ({scope})", f"precision {row['precision']:.3f}, recall {row['recall']:.3f} "
                  f"({row['tp']} correct, {row['fp']} wrong, {row['fn']} missed)")
                 for (group, scope), row in sorted(quality["table"].items())]
    report("entity linking (benchmarks/linker.py)", [
        ("universe", f"{len(linker.names):,} listings, {len(linker.surfaces):,} surfaces (names, aliases, "
                     f"blockers); loaded in {load_seconds:.2f} s"),
        ("articles/s (one core)", f"{len(work) / seconds:,.0f} ({len(work):,} articles of {chars:.0f} characters, "
                                  f"{links / len(work):.2f} links each); {bare_seconds / seconds:.2f}x the bare "
                                  f"automaton scan ({len(work) / bare_seconds:,.0f}/s)"),
        ("articles/s, longer texts", f"{len(longer) / long_seconds:,.0f} ({long_chars:.0f} characters each)"),
        ("labelled set, salient links", f"precision {quality['precision']:.3f}, recall {quality['recall']:.3f} "
                                        f"({quality['tp']} correct, {quality['fp']} wrong, {quality['fn']} missed)"),
        *per_class,
    ])


if __name__ == "__main__":
    main()
