"""Aggregate scores of a set of predictions, with bootstrap confidence intervals.

Rates and means cover final evaluations only; a prediction without a value for a score (no
probability, no target) is left out of that score's mean, never counted as zero.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from azak_pipelines.lib.evaluation.scores import Outcome, Score

BINS = 10
BOOTSTRAP_SEED = 20240304
BOOTSTRAP_REPS = 1000
MIN_IC_STOCKS = 3  # a cross-sectional correlation over fewer stocks says nothing

# the scores every summary reports, with how a set of items turns into each
MEAN_SCORES = ("hit_rate", "mean_return", "mean_excess_return", "brier", "target_hit_rate",
               "stop_hit_rate", "mean_target_days", "mean_stop_days", "target_score",
               "legacy_accuracy", "legacy_timing", "legacy_risk", "legacy_auto")


@dataclass(frozen=True)
class Scored:
    outcome: Outcome
    score: Score


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def score_columns(items: Sequence[Scored]) -> dict[str, np.ndarray]:
    """One array per mean-type score over ``items`` (NaN where a score does not apply)."""
    finals = [s for s in items if s.outcome.status == "final"]
    with_outcome = [s.outcome.outcome is not None for s in finals]
    return {
        "hit_rate": np.array([_nan(s.score.hit) for s in finals]),
        "mean_return": np.array([_nan(s.score.signed_return) for s in finals]),
        "mean_excess_return": np.array([_nan(s.score.signed_excess) for s in finals]),
        "brier": np.array([_nan(s.score.brier) for s in finals]),
        "target_hit_rate": np.array([float(s.outcome.outcome == "target") if has else math.nan
                                     for s, has in zip(finals, with_outcome, strict=True)]),
        "stop_hit_rate": np.array([float(s.outcome.outcome == "stop") if has else math.nan
                                   for s, has in zip(finals, with_outcome, strict=True)]),
        "mean_target_days": np.array([_nan(s.outcome.outcome_days) if s.outcome.outcome == "target"
                                      else math.nan for s in finals]),
        "mean_stop_days": np.array([_nan(s.outcome.outcome_days) if s.outcome.outcome == "stop"
                                    else math.nan for s in finals]),
        "target_score": np.array([_nan(s.score.target_score) for s in finals]),
        "legacy_accuracy": np.array([_nan(s.score.legacy_accuracy) for s in finals]),
        "legacy_timing": np.array([_nan(s.score.legacy_timing) for s in finals]),
        "legacy_risk": np.array([_nan(s.score.legacy_risk) for s in finals]),
        "legacy_auto": np.array([_nan(s.score.legacy_auto) for s in finals]),
    }


def _mean(values: np.ndarray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.mean()) if present.size else None


def reliability(probabilities: Sequence[float], hits: Sequence[float], bins: int = BINS) -> list[dict[str, Any]]:
    """The reliability table: per bin [i/10, (i+1)/10) (the last closed), mean stated vs observed."""
    table = []
    p = np.asarray(probabilities, dtype=float)
    h = np.asarray(hits, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        table.append({"bin": b, "lower": b / bins, "upper": (b + 1) / bins, "n": n,
                      "mean_stated": float(p[mask].mean()) if n else None,
                      "observed": float(h[mask].mean()) if n else None})
    return table


def ece(probabilities: Sequence[float], hits: Sequence[float], bins: int = BINS) -> float | None:
    """Expected calibration error: Σ_b (n_b / N) · |mean stated_b − observed_b|."""
    total = len(probabilities)
    if not total:
        return None
    return float(sum(row["n"] / total * abs(row["mean_stated"] - row["observed"])
               for row in reliability(probabilities, hits, bins) if row["n"]))


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1…n, ties sharing their average rank."""
    ranked: np.ndarray = pd.Series(values).rank(method="average").to_numpy()
    return ranked


def pearson(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float | None:
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    return pearson(ranks(np.asarray(x, dtype=float)), ranks(np.asarray(y, dtype=float)))


def daily_ic(items: Sequence[Scored]) -> list[dict[str, Any]]:
    """IC and rank IC across stocks, per KST day the predictions were made.

    Per (day, stock) the signed scores and the realised returns of final predictions are averaged;
    a day needs at least three stocks and some spread in both, otherwise it has no IC.
    """
    cells: dict[date, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for s in items:
        o = s.outcome
        if o.status == "final" and s.score.signed_score is not None and o.realised_return is not None:
            cells[o.made_day][o.stock_code].append((s.score.signed_score, o.realised_return))
    days = []
    for day in sorted(cells):
        stocks = cells[day]
        if len(stocks) < MIN_IC_STOCKS:
            continue
        signal = [sum(v[0] for v in pairs) / len(pairs) for pairs in stocks.values()]
        realised = [sum(v[1] for v in pairs) / len(pairs) for pairs in stocks.values()]
        ic = pearson(signal, realised)
        if ic is None:
            continue
        days.append({"day": day, "n_stocks": len(stocks), "ic": ic, "rank_ic": spearman(signal, realised)})
    return days


def summarize(items: Sequence[Scored]) -> dict[str, Any]:
    """Counts and every score (point estimates) of a set of predictions."""
    columns = score_columns(items)
    finals = [s for s in items if s.outcome.status == "final"]
    calibrated = [(s.outcome.probability, s.score.hit) for s in finals
                  if s.outcome.probability is not None and s.score.hit is not None]
    probs = [p for p, _ in calibrated]
    hits = [h for _, h in calibrated]
    ics = daily_ic(items)
    summary: dict[str, Any] = {
        "n": len(items),
        "n_final": len(finals),
        "n_partial": sum(s.outcome.status == "partial" for s in items),
        "n_pending": sum(s.outcome.status == "pending" for s in items),
        **{name: _mean(values) for name, values in columns.items()},
        "ece": ece(probs, hits),
        "ic": float(np.mean([d["ic"] for d in ics])) if ics else None,
        "rank_ic": float(np.mean([d["rank_ic"] for d in ics])) if ics else None,
        "ic_days": len(ics),
    }
    return summary


def _percentile_ci(samples: list[float]) -> list[float] | None:
    clean = [v for v in samples if v is not None and not math.isnan(v)]
    if len(clean) < 2:
        return None
    low, high = np.percentile(clean, [2.5, 97.5])
    return [float(low), float(high)]


def resampled_ece(probabilities: np.ndarray, hits: np.ndarray, draws: np.ndarray, bins: int = BINS) -> np.ndarray:
    """:func:`ece` of every resample at once: row ``r`` of ``draws`` indexes the pairs drawn (those
    with a missing probability or hit left out); NaN where a row keeps none. The bins' counts and
    sums come from one ``bincount`` each instead of a Python loop over the resamples (1,000 of them
    per model and mode in every leaderboard run)."""
    reps = draws.shape[0]
    usable = ~np.isnan(probabilities) & ~np.isnan(hits)
    kept = usable[draws].astype(float)
    p = np.where(usable, probabilities, 0.0)[draws]
    h = np.where(usable, hits, 0.0)[draws]
    index = np.minimum((p * bins).astype(int), bins - 1) + bins * np.arange(reps)[:, None]
    counts, stated, observed = (np.bincount(index.ravel(), weights=(w * kept).ravel(), minlength=reps * bins)
                                .reshape(reps, bins) for w in (np.ones_like(p), p, h))
    total = kept.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gaps = np.where(counts > 0, counts * np.abs(stated / counts - observed / counts), 0.0)
        return np.where(total > 0, gaps.sum(axis=1) / total, np.nan)


def bootstrap_ci(items: Sequence[Scored], reps: int = BOOTSTRAP_REPS,
                 seed: int = BOOTSTRAP_SEED) -> dict[str, list[float] | None]:
    """95 % percentile bootstrap intervals: final predictions resampled with replacement for the
    mean-type scores and the ECE, days resampled for IC and rank IC. Fixed seed: reproducible."""
    rng = np.random.default_rng(seed)
    columns = score_columns(items)
    n = len(next(iter(columns.values())))
    ci: dict[str, list[float] | None] = {}
    if n == 0:
        return {name: None for name in (*MEAN_SCORES, "ece", "ic", "rank_ic")}
    draws = rng.integers(0, n, size=(reps, n))
    for name, values in columns.items():
        resampled = values[draws]
        present = ~np.isnan(resampled)
        counts = present.sum(axis=1)
        sums = np.where(present, resampled, 0.0).sum(axis=1)
        means = [float(s / c) if c else math.nan for s, c in zip(sums, counts, strict=True)]
        ci[name] = _percentile_ci(means) if (~np.isnan(values)).sum() >= 2 else None
    finals = [s for s in items if s.outcome.status == "final"]
    probs = np.array([_nan(s.outcome.probability) for s in finals])
    hits = np.array([_nan(s.score.hit) for s in finals])
    usable = ~np.isnan(probs) & ~np.isnan(hits)
    ci["ece"] = _percentile_ci(resampled_ece(probs, hits, draws).tolist()) if usable.sum() >= 2 else None
    ics = daily_ic(items)
    for name in ("ic", "rank_ic"):
        values = np.array([d[name] for d in ics], dtype=float)
        if len(values) < 2:
            ci[name] = None
            continue
        day_draws = rng.integers(0, len(values), size=(reps, len(values)))
        ci[name] = _percentile_ci(values[day_draws].mean(axis=1).tolist())
    return ci


def group_by(items: Sequence[Scored], key: Callable[[Scored], Any]) -> dict[Any, list[Scored]]:
    groups: dict[Any, list[Scored]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return dict(groups)
