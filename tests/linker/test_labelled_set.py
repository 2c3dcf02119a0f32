"""The team's labelled set: precision and recall per error class, for all links and salient links.

Items carry a ``class`` (the error classes of issue 15: broker, alias, group_phrase, short_form,
new_listing; ``legacy`` for the first 201 items), an optional publication ``day`` and ``expect``
(code → salient). An ``uncertain`` item is neither rewarded nor penalised. The linker is built the
way the matching asset builds it: the replayed KIS master snapshots folded into the listing
history, and the seed tables. Items with ``"batch": "after_freeze"`` were written after the rules
were frozen and kept as found (their misses were not fixed): the closest this set gets to unseen news.
"""

import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from azak_pipelines.lib.matching.linker import Linker, load_linker_from_rows
from azak_pipelines.lib.matching.linker_tables import NameSpan
from azak_pipelines.lib.reference.listing_history import apply_snapshot
from azak_pipelines.lib.reference.universe import read_master_snapshots, snapshot_rows
from azak_pipelines.lib.sample_data import BUNDLED
from tests.conftest import PROJECT_ROOT

LABELLED = Path(__file__).with_name("labelled_news.jsonl")
SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
CLASSES = ("broker", "alias", "group_phrase", "short_form", "new_listing")
# the product's targets, for every class and overall, all links and salient links alike
FLOOR = {"precision": 0.97, "recall": 0.95}
# unseen news (the after-freeze batch, misses kept as found) may miss one salient link in ten: below
# the 0.95 of the classes the rules were tuned on; at its 29 salient links that allows two misses
AFTER_FREEZE_SALIENT_RECALL_FLOOR = 0.9


def salient_class_recall_floor(links: int) -> float:
    """The recall target, unless a class is too small to measure it: with ``links`` salient links
    one miss costs 1/links, so a class of fewer than 20 may miss one (group phrases: 4, so 0.75)."""
    return min(FLOOR["recall"], 1 - 1 / links)


def replay_linker() -> Linker:
    history: list = []
    for day, records in read_master_snapshots(BUNDLED / "universe" / "kis_master"):
        history, _ = apply_snapshot(history, snapshot_rows(records), day)
    current = [(row.code, row.name) for row in history if row.valid_to is None]
    spans = [NameSpan(r.code, r.name, r.valid_from, r.valid_to, r.ended_by) for r in history]
    return load_linker_from_rows(current, SEEDS, spans)


@pytest.fixture(scope="module")
def linker() -> Linker:
    return replay_linker()


def items() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(linker: Linker) -> dict:
    """Counts per class and overall, for all links and for salient links, and the misses."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    misses: list[str] = []
    for item in items():
        if item.get("uncertain"):
            continue
        day = date.fromisoformat(item["day"]) if item.get("day") else None
        found = linker.link(item["title"], item["content"], day)
        # the first 201 items were labelled for salient links only; new items for every link
        for scope in ("all", "salient") if "class" in item else ("salient",):
            expected = {c for c, s in item["expect"].items() if s or scope == "all"}
            predicted = {m.code for m in found if m.salient or scope == "all"}
            for group in (item.get("class", "legacy"), "overall", *([item["batch"]] if "batch" in item else [])):
                counts[(group, scope)].update(tp=len(expected & predicted), fp=len(predicted - expected),
                                              fn=len(expected - predicted))
            if expected != predicted:
                misses.append(f"{item['id']} [{item.get('class', 'legacy')}/{scope}] {item['title']!r}: "
                              f"expected {sorted(expected)}, got {sorted(predicted)}")
    table = {}
    for key, c in counts.items():
        table[key] = {"precision": c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0,
                      "recall": c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0, **c}
    overall = table[("overall", "salient")]
    return {"table": table, "misses": misses, "precision": overall["precision"], "recall": overall["recall"],
            "tp": overall["tp"], "fp": overall["fp"], "fn": overall["fn"]}


def test_the_set_is_big_and_covers_every_class():
    data = items()
    assert len({i["id"] for i in data}) == len(data)
    classes = Counter(i.get("class", "legacy") for i in data)
    assert classes["legacy"] >= 200 and sum(classes[c] for c in CLASSES) >= 100
    for name in CLASSES:
        assert classes[name] >= 15, name
    assert any(i.get("uncertain") for i in data)
    traps = Counter(i["trap"] for i in data)
    for trap in ("group", "sk", "kakao", "kt", "pref", "ticker", "broker", "byline", "unlisted",
                 "common", "slang", "alias", "multi", "passing", "none"):
        assert traps[trap] >= 4, trap


@pytest.fixture(scope="module")
def result(linker) -> dict:
    return score(linker)


@pytest.mark.parametrize(("group", "scope"), [(c, s) for c in (*CLASSES, "overall") for s in ("all", "salient")]
                         + [("legacy", "salient"), ("after_freeze", "all"), ("after_freeze", "salient")])
def test_each_class_meets_the_floors(result, group, scope):
    row = result["table"][(group, scope)]
    report = "\n".join(m for m in result["misses"] if f"[{group}/" in m or group in {"overall", "after_freeze"})
    recall_floor = FLOOR["recall"]
    if scope == "salient" and group in CLASSES:
        recall_floor = salient_class_recall_floor(row["tp"] + row["fn"])
    if group == "after_freeze" and scope == "salient":
        recall_floor = AFTER_FREEZE_SALIENT_RECALL_FLOOR
    assert row["precision"] >= FLOOR["precision"], f"{group}/{scope} precision {row['precision']:.3f}\n{report}"
    assert row["recall"] >= recall_floor, f"{group}/{scope} recall {row['recall']:.3f}\n{report}"


def test_non_salient_mentions_are_found_but_not_salient(linker):
    checked = 0
    for item in items():
        day = date.fromisoformat(item["day"]) if item.get("day") else None
        for code, salient in item["expect"].items():
            if salient:
                continue
            links = {m.code: m for m in linker.link(item["title"], item["content"], day)}
            assert code in links and not links[code].salient, item["id"]
            checked += 1
    assert checked >= 20
