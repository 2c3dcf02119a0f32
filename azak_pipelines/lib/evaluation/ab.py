"""A/B of two models on the items both answered: paired differences, bootstrap CI, sign test."""

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from azak_pipelines.lib.evaluation.metrics import BOOTSTRAP_REPS, BOOTSTRAP_SEED, Scored

DEFAULT_MIN_N = 30
SIGNIFICANCE = 0.05  # the sign test's two-sided level, beside the 95 % interval
# the paired scores, and whether more is better
PAIRED_SCORES = {"hit": True, "signed_return": True, "signed_excess": True, "brier": False,
                 "target_score": True}


def pair_key(item: Scored) -> str:
    """What makes two models' predictions "the same item": the same article and stock for news
    predictions; otherwise the same stock, anchor session and horizon (reports, imports)."""
    o = item.outcome
    if o.source_kind == "news_prediction":
        return f"news:{o.news_id}:{o.stock_code}:{o.horizon_sessions}"
    return f"stock:{o.stock_code}:{o.anchor_date}:{o.horizon_sessions}"


def _values(items: Sequence[Scored], name: str) -> dict[str, float]:
    """Per item key, the mean of the score over this model's final predictions of it."""
    cells: dict[str, list[float]] = defaultdict(list)
    for item in items:
        value = getattr(item.score, name)
        if item.outcome.status == "final" and value is not None:
            cells[pair_key(item)].append(float(value))
    return {key: sum(v) / len(v) for key, v in cells.items()}


def sign_test(differences: Sequence[float]) -> float | None:
    """Two-sided exact sign test on the non-zero differences (ties dropped)."""
    positive = sum(d > 0 for d in differences)
    negative = sum(d < 0 for d in differences)
    n = positive + negative
    if n == 0:
        return None
    tail = sum(math.comb(n, k) for k in range(min(positive, negative) + 1)) / 2**n
    return float(min(1.0, 2 * tail))


def compare(a: Sequence[Scored], b: Sequence[Scored], min_n: int = DEFAULT_MIN_N,
            reps: int = BOOTSTRAP_REPS, seed: int = BOOTSTRAP_SEED) -> list[dict[str, Any]]:
    """One row per paired score: n common items, means, mean difference A − B with its 95 %
    paired bootstrap interval, the sign-test p-value and a verdict."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, higher_is_better in PAIRED_SCORES.items():
        va, vb = _values(a, name), _values(b, name)
        common = sorted(va.keys() & vb.keys())
        diffs = np.array([va[k] - vb[k] for k in common])
        row: dict[str, Any] = {
            "score": name, "n": len(common), "higher_is_better": higher_is_better,
            "mean_a": float(np.mean([va[k] for k in common])) if common else None,
            "mean_b": float(np.mean([vb[k] for k in common])) if common else None,
            "mean_diff": float(diffs.mean()) if common else None,
            "ci_low": None, "ci_high": None, "sign_test_p": sign_test(diffs.tolist()),
            "min_n": min_n,
        }
        if len(common) >= 2:
            draws = rng.integers(0, len(common), size=(reps, len(common)))
            low, high = np.percentile(diffs[draws].mean(axis=1), [2.5, 97.5])
            row["ci_low"], row["ci_high"] = float(low), float(high)
        p = row["sign_test_p"]
        if len(common) < min_n:
            row["verdict"] = "not enough data"
        elif (row["ci_low"] > 0 or row["ci_high"] < 0) and p is not None and p < SIGNIFICANCE:
            # both must agree: a few large differences can pull a bootstrap interval of the mean
            # off zero while most items go the other way (the sign test sees that)
            a_better = (row["ci_low"] > 0) == higher_is_better
            row["verdict"] = "A better" if a_better else "B better"
        else:
            row["verdict"] = "no significant difference"
        rows.append(row)
    return rows
