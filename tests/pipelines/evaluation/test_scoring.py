"""The scoring formulas against hand computations (no database)."""

import math
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import pytest

from azak_pipelines.lib.evaluation import ab, metrics
from azak_pipelines.lib.evaluation.metrics import Scored
from azak_pipelines.lib.evaluation.scores import Outcome, ambition_z, legacy_scores, score, signed_score

BASE = Outcome(
    evaluation_id="e1", model_name="m", mode="live", source_kind="stock_report", stock_code="005930",
    made_at=datetime(2025, 4, 29, 1, 0, tzinfo=UTC), made_day=date(2025, 4, 29), anchor_date=date(2025, 4, 29),
    horizon_sessions=4, direction="up", probability=0.7, base_price=100.0, target_price=110.0, stop_price=95.0,
    status="final", realised_return=0.05, excess_return=0.02, direction_hit=True, target_first_days=3,
    stop_first_days=None, outcome="target", outcome_days=3, window_high=111.0, window_low=97.0, sigma_60=0.02,
)


def test_signed_score_puts_a_call_and_its_mirror_on_one_scale():
    assert signed_score("up", 0.6) == pytest.approx(0.2)
    assert signed_score("down", 0.6) == pytest.approx(-0.2)
    assert signed_score("up", 0.4) == pytest.approx(-0.2)  # an unlikely rise leans down
    assert signed_score("neutral", 0.9) == 0.0
    assert signed_score("up", None) is None


def test_ambition_z_measures_the_target_in_volatility_units():
    # 10 % away with σ = 2 % over 4 sessions: 0.10 / (0.02 · 2) = 2.5
    assert ambition_z(BASE) == pytest.approx(2.5)
    bearish = replace(BASE, direction="down", target_price=90.0)
    assert ambition_z(bearish) == pytest.approx(2.5)
    wrong_side = replace(BASE, target_price=99.0)  # an "up" call with its target below the base
    assert ambition_z(wrong_side) == pytest.approx(-0.25)
    assert ambition_z(replace(BASE, sigma_60=None)) is None


def test_target_score_rewards_ambition_not_timidity():
    bold = score(BASE)
    assert bold.target_score == pytest.approx(2.5)
    timid = score(replace(BASE, target_price=100.2))  # the legacy ~100-point target
    assert timid.target_score == pytest.approx(0.002 / 0.04)
    missed = score(replace(BASE, outcome="none", outcome_days=None, target_first_days=None))
    assert missed.target_score == 0.0
    capped = score(replace(BASE, target_price=200.0))
    assert capped.target_score == 3.0
    # the legacy score, by contrast, gives the timid target everything
    assert score(replace(BASE, target_price=100.2)).legacy_accuracy == 100.0


def test_realised_scores_wait_for_a_final_outcome():
    partial = score(replace(BASE, status="partial"))
    assert partial.hit is None and partial.brier is None and partial.signed_return is None
    assert partial.target_score is None and partial.legacy_auto is None
    assert partial.signed_score == pytest.approx(0.4)  # what was said is known at once


def test_brier_and_signed_returns():
    s = score(BASE)
    assert s.hit == 1.0 and s.brier == pytest.approx(0.09)
    down = score(replace(BASE, direction="down", direction_hit=False))
    assert down.signed_return == pytest.approx(-0.05) and down.signed_excess == pytest.approx(-0.02)
    assert down.brier == pytest.approx(0.49)
    zero = score(replace(BASE, realised_return=0.0, direction_hit=False))
    assert zero.hit == 0.0 and zero.signed_return == 0.0
    neutral = score(replace(BASE, direction="neutral", direction_hit=True))
    assert neutral.signed_return is None and neutral.hit == 1.0


@pytest.mark.parametrize(("changes", "expected"), [
    # achieved on day 3: accuracy 100, timing 110 − 30 = 80, stop untouched: risk 100
    ({}, (100.0, 80.0, 100.0)),
    # not achieved: the window high went 60 % of the way; stop breached with low 94: 100 − 1/95·100
    ({"target_first_days": None, "outcome": "stop", "stop_first_days": 2, "window_low": 94.0, "window_high": 106.0},
     (60.0, 0.0, 100 - 1 / 95 * 100)),
    # a down call mirrored: target 90 reached on day 1 (timing 100), stop 105 never reached
    ({"direction": "down", "target_price": 90.0, "stop_price": 105.0, "target_first_days": 1,
      "window_low": 89.0, "window_high": 101.0}, (100.0, 100.0, 100.0)),
    # a down call that went the wrong way: high 104 above base, low 99: 1/10 of the way to 90
    ({"direction": "down", "target_price": 90.0, "stop_price": 105.0, "target_first_days": None,
      "window_low": 99.0, "window_high": 104.0}, (10.0, 0.0, 100.0)),
    # timing never drops below 60
    ({"target_first_days": 9}, (100.0, 60.0, 100.0)),
])
def test_legacy_scores_are_direction_aware(changes, expected):
    accuracy, timing, risk, auto = legacy_scores(replace(BASE, **changes))
    assert (accuracy, timing, risk) == pytest.approx(expected)
    assert auto == pytest.approx(0.4 * expected[0] + 0.3 * expected[1] + 0.3 * expected[2])


def test_reliability_and_ece_by_hand():
    probs = [0.05, 0.15, 0.15, 0.55, 0.65, 0.95, 1.0]
    hits = [0, 0, 1, 1, 0, 1, 1]
    table = metrics.reliability(probs, hits)
    assert [row["n"] for row in table] == [1, 2, 0, 0, 0, 1, 1, 0, 0, 2]
    assert table[1]["mean_stated"] == pytest.approx(0.15) and table[1]["observed"] == 0.5
    assert table[9]["mean_stated"] == pytest.approx(0.975) and table[9]["observed"] == 1.0
    expected = (1 * 0.05 + 2 * 0.35 + 1 * 0.45 + 1 * 0.65 + 2 * 0.025) / 7
    assert metrics.ece(probs, hits) == pytest.approx(expected)


def _independent_spearman(x, y):
    def ranks(values):
        return [sum(v < w for v in values) + (sum(v == w for v in values) + 1) / 2 for w in values]
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    return cov / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))


def test_ic_and_rank_ic_across_stocks_per_day():
    day = date(2025, 5, 2)
    signals = {"A": ("up", 0.9, 0.04), "B": ("up", 0.6, -0.01), "C": ("down", 0.7, -0.03),
               "D": ("up", 0.6, 0.02)}
    items = [Scored(o := replace(BASE, evaluation_id=code, stock_code=code, made_day=day, direction=d,
                                 probability=p, realised_return=r), score(o))
             for code, (d, p, r) in signals.items()]
    (row,) = metrics.daily_ic(items)
    s = [0.8, 0.2, -0.4, 0.2]
    r = [0.04, -0.01, -0.03, 0.02]
    assert row["ic"] == pytest.approx(np.corrcoef(s, r)[0, 1])
    assert row["rank_ic"] == pytest.approx(_independent_spearman(s, r))  # B and D tie
    assert metrics.daily_ic(items[:2]) == []  # two stocks say nothing


def _items(hits, probability=0.6, model="m"):
    return [Scored(o := replace(BASE, evaluation_id=f"{model}{i}", model_name=model, stock_code=f"{i:06d}",
                                direction_hit=bool(h), probability=probability), score(o))
            for i, h in enumerate(hits)]


def _confident(probabilities, model):
    """Items every model got right, each with its own stated probability."""
    return [Scored(o := replace(BASE, evaluation_id=f"{model}{i}", model_name=model, stock_code=f"{i:06d}",
                                direction_hit=True, probability=p), score(o))
            for i, p in enumerate(probabilities)]


def test_bootstrap_is_reproducible_and_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    items = _items(rng.random(400) < 0.6)
    first, again = metrics.bootstrap_ci(items), metrics.bootstrap_ci(items)
    assert first == again
    p = metrics.summarize(items)["hit_rate"]
    half = 1.96 * math.sqrt(p * (1 - p) / 400)
    low, high = first["hit_rate"]
    assert low == pytest.approx(p - half, abs=0.01) and high == pytest.approx(p + half, abs=0.01)
    assert metrics.bootstrap_ci(items, seed=2)["hit_rate"] != first["hit_rate"]


def test_sign_test_is_the_exact_binomial():
    assert ab.sign_test([1.0] * 10) == pytest.approx(2 / 1024)
    assert ab.sign_test([1.0] * 5 + [-1.0] * 5) == 1.0
    # 8 of 10: 2 · P(X ≤ 2) = 2 · (1 + 10 + 45) / 1024
    assert ab.sign_test([0.5] * 8 + [-0.5] * 2 + [0.0] * 3) == pytest.approx(2 * 56 / 1024)
    assert ab.sign_test([0.0, 0.0]) is None


def test_ab_pairs_common_items_and_refuses_small_samples():
    a = _items([1] * 40 + [0] * 10, model="a")
    b = _items([1] * 20 + [0] * 30, model="b")
    rows = {r["score"]: r for r in ab.compare(a, b, min_n=30)}
    hit = rows["hit"]
    assert hit["n"] == 50 and hit["mean_diff"] == pytest.approx(0.4)
    assert hit["verdict"] == "A better" and hit["ci_low"] > 0
    assert rows["brier"]["verdict"] == "A better"  # lower Brier is better
    # an interval off zero is not enough when most items go the other way: both tests must agree
    sure = _confident([0.6] * 100, "a")
    mixed = _confident([0.99] * 45 + [0.55] * 55, "b")  # B far better on 45 items, a bit worse on 55
    brier = next(r for r in ab.compare(sure, mixed, min_n=30) if r["score"] == "brier")
    assert brier["ci_low"] > 0 and brier["sign_test_p"] > 0.3  # mean favours B; the signs do not
    assert brier["verdict"] == "no significant difference"
    small = {r["score"]: r for r in ab.compare(a[:10], b[:10], min_n=30)}
    assert small["hit"]["verdict"] == "not enough data" and small["hit"]["n"] == 10
    # items only one model answered are not compared
    assert ab.compare(a[:5], _items([1] * 5, model="b")[5:], min_n=2)[0]["n"] == 0


@pytest.mark.parametrize("n", [1, 2, 7, 400])
def test_the_resampled_ece_is_the_ece_of_each_resample(n):
    """``resampled_ece`` computes every bootstrap resample's ECE at once: each equals :func:`ece` of
    that resample's pairs (missing probabilities and hits left out; the last bin closed at 1.0)."""
    rng = np.random.default_rng(n)
    probabilities, hits = rng.random(n), (rng.random(n) < 0.6).astype(float)
    probabilities[0] = 1.0
    probabilities[rng.random(n) < 0.1], hits[rng.random(n) < 0.05] = np.nan, np.nan
    draws = rng.integers(0, n, size=(300, n))
    usable = ~np.isnan(probabilities) & ~np.isnan(hits)
    expected = [metrics.ece(probabilities[row[usable[row]]].tolist(), hits[row[usable[row]]].tolist())
                for row in draws]
    got = metrics.resampled_ece(probabilities, hits, draws)
    assert [e is None for e in expected] == np.isnan(got).tolist()
    assert [e for e in expected if e is not None] == pytest.approx(got[~np.isnan(got)].tolist(), rel=0, abs=1e-12)
