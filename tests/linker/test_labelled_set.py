"""The team's labelled set: precision and recall of salient links (targets 0.95 and 0.90)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from azak_pipelines.lib.linker import load_linker
from azak_pipelines.lib.sample_data import BUNDLED
from tests.conftest import PROJECT_ROOT

LABELLED = Path(__file__).with_name("labelled_news.jsonl")
SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"


@pytest.fixture(scope="module")
def linker():
    return load_linker(BUNDLED / "universe" / "krx_listed_2025_09.csv", SEEDS)


def items() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(linker) -> dict:
    tp = fp = fn = 0
    misses: list[str] = []
    for item in items():
        expected = {code for code, salient in item["expect"].items() if salient}
        predicted = {m.code for m in linker.link(item["title"], item["content"]) if m.salient}
        tp += len(expected & predicted)
        fp += len(predicted - expected)
        fn += len(expected - predicted)
        if expected != predicted:
            misses.append(f"{item['id']} [{item['trap']}] {item['title']!r}: "
                          f"expected {sorted(expected)}, got {sorted(predicted)}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn, "misses": misses}


def test_the_set_is_big_and_covers_every_trap():
    data = items()
    assert len(data) >= 150 and len({i["id"] for i in data}) == len(data)
    traps = Counter(i["trap"] for i in data)
    for trap in ("group", "sk", "kakao", "kt", "pref", "ticker", "broker", "byline", "unlisted",
                 "common", "slang", "alias", "multi", "passing", "none"):
        assert traps[trap] >= 4, trap


def test_salient_links_meet_the_targets(linker):
    result = score(linker)
    report = "\n".join(result["misses"])
    assert result["precision"] >= 0.95, f"precision {result['precision']:.3f}\n{report}"
    assert result["recall"] >= 0.90, f"recall {result['recall']:.3f}\n{report}"


def test_non_salient_mentions_are_found_but_not_salient(linker):
    checked = 0
    for item in items():
        for code, salient in item["expect"].items():
            if salient:
                continue
            links = {m.code: m for m in linker.link(item["title"], item["content"])}
            assert code in links and not links[code].salient, item["id"]
            checked += 1
    assert checked >= 8
