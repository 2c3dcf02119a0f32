"""marts.prediction_outcomes and the evaluation assets against an independent computation on
hand-made prices: holidays (1 and 5–6 May 2025), a halt day, a missing session, target and stop in
one session, a bearish target, a zero return, the 15:30 boundary, and incremental = full rebuild."""

import itertools
import statistics
from datetime import date, datetime
from typing import Any

import psycopg
import pytest

from azak_api.admin import run_migrations
from azak_pipelines.lib.calendar.krx_calendar import krx_calendar
from tests.pipelines.evaluation import fixtures as fx
from tests.pipelines.plots import assert_png_markdown
from tests.pipelines.runs import checks, materialization, run

START = fx.HISTORY_START
PHASE_1_END = date(2025, 5, 9)    # prices up to 8 May
PHASE_2_END = date(2025, 5, 15)   # then up to 14 May
NEUTRAL_BAND = 0.01


def scenario_bars() -> tuple[dict[str, dict[date, dict[str, Any]]], dict[date, float]]:
    bars = {f"90000{i}": fx.background_bars(f"90000{i}", START, PHASE_2_END, seed=i) for i in range(1, 9)}

    def put(code: str, day: str, close_offset: float, high_offset: float = 50, low_offset: float = -50,
            halt: bool = False) -> None:
        d = date.fromisoformat(day)
        anchor_close = put.anchors[code]
        close = anchor_close + close_offset
        bars[code][d] = {"open": None if halt else close, "high": None if halt else anchor_close + high_offset,
                         "low": None if halt else anchor_close + low_offset, "close": close,
                         "volume": 0 if halt else 1000}
    put.anchors = {"900001": bars["900001"][date(2025, 4, 29)]["close"],
                   "900002": bars["900002"][date(2025, 5, 2)]["close"],
                   "900004": bars["900004"][date(2025, 4, 28)]["close"],
                   "900005": bars["900005"][date(2025, 4, 29)]["close"]}
    # S1: target (+300) on day 2, never the stop (−300)
    put("900001", "2025-04-30", 100, 150, -100)
    put("900001", "2025-05-02", 200, 400, -100)
    put("900001", "2025-05-07", 250, 300, -100)
    # S2: anchored on 2 May (made after the close on 30 April): target and stop in one session
    put("900002", "2025-05-07", 0, 500, -500)
    put("900002", "2025-05-08", -100, 0, -200)
    # S3 (bearish, stated base 10 000): 8 May's low 9 400 reaches the 9 500 target
    bars["900003"][date(2025, 5, 8)] = {"open": 9800, "high": 9900, "low": 9400, "close": 9700, "volume": 1}
    bars["900003"][date(2025, 5, 9)] = {"open": 9700, "high": 9800, "low": 9550, "close": 9600, "volume": 1}
    # S4: back to exactly the anchor close: a zero return
    put("900004", "2025-04-29", 80, 150, -60)
    put("900004", "2025-04-30", 0, 100, -100)
    # S5: a halt on 2 May (no high/low: it cannot touch anything), the target on 7 May
    put("900005", "2025-04-30", 50, 100, -100)
    put("900005", "2025-05-02", 50, halt=True)
    put("900005", "2025-05-07", 200, 350, 0)
    # S6: no bar at all on 30 April (a gap, not a halt)
    del bars["900006"][date(2025, 4, 30)]
    kospi = {day: 2500 + 10 * i for i, day in enumerate(krx_calendar().sessions_between(START, PHASE_2_END))}
    return bars, kospi


def predictions(bars: dict[str, dict[date, dict[str, Any]]]) -> tuple[list[tuple], list[tuple]]:
    c = {code: bars[code] for code in bars}
    a1 = c["900001"][date(2025, 4, 29)]["close"]
    a2 = c["900002"][date(2025, 5, 2)]["close"]
    a5 = c["900005"][date(2025, 4, 29)]["close"]
    a6 = c["900006"][date(2025, 4, 28)]["close"]
    reports = [
        fx.report("baseline", "900001", fx.kst("2025-04-29T10:00"), "up", 0.7, None, a1 + 300, a1 - 300, 3),
        fx.report("baseline", "900002", fx.kst("2025-04-30T16:00"), "up", 0.6, None, a2 + 300, a2 - 300, 2),
        fx.report("baseline", "900003", fx.kst("2025-05-03T11:00"), "down", 0.8, 10000, 9500, 10400, 2),
        fx.report("baseline", "900004", fx.kst("2025-04-28T09:30"), "up", 0.55, None, None, None, 2),
        fx.report("rival", "900004", fx.kst("2025-04-28T09:30"), "neutral", 0.5, None, None, None, 2),
        fx.report("baseline", "900005", fx.kst("2025-04-29T10:00"), "up", 0.65, None, a5 + 300, a5 - 300, 3),
        fx.report("baseline", "900006", fx.kst("2025-04-28T10:00"), "up", 0.6, None, a6 + 300, None, 4),
        fx.report("baseline", "900007", fx.kst("2025-05-08T16:00"), "up", 0.6, None, None, None, 3),
        fx.report("baseline", "900007", fx.kst("2025-05-07T10:00"), "up", 0.6, None, None, None, 3,
                  status="failed"),
        fx.report("rival", "900001", fx.kst("2025-04-29T11:00"), "down", 0.6, None, a1 - 300, a1 + 300, 3),
    ]
    news = [
        fx.news_prediction("baseline", 1, "900008", fx.kst("2025-04-29T14:00"), "down", 0.55, 1),
        fx.news_prediction("baseline", 2, "900001", fx.kst("2025-04-29T15:30"), "up", 0.9, 1),
        fx.news_prediction("baseline", 3, "900001", fx.kst("2025-04-29T15:31"), "up", 0.9, 1, mode="live"),
    ]
    return reports, news


def expected_outcome(p: dict[str, Any], bars: dict[str, dict[date, dict[str, Any]]], kospi: dict[date, float],
                     end: date) -> dict[str, Any]:
    """The outcome computed again, loop by loop, with the Python calendar."""
    calendar = krx_calendar()
    series = {d: b for d, b in bars[p["stock_code"]].items() if d < end}
    latest = max(d for s in bars.values() for d in s if d < end)
    anchor = calendar.anchor_session(p["made_at"])
    h = p["horizon"]
    base = p["base"] if p["base"] is not None else series.get(anchor, {}).get("close")
    window = [calendar.add_sessions(anchor, k) for k in range(1, h + 1)]
    observed = [d for d in window if d in series]
    missing = sum(d <= latest for d in window) - len(observed) + (base is None and anchor <= latest)
    status = ("final" if len(observed) == h and base is not None
              else "pending" if not observed and missing == 0 else "partial")
    out: dict[str, Any] = {"anchor_date": anchor, "status": status, "sessions_observed": len(observed),
                           "missing_sessions": missing, "outcome": None, "outcome_days": None,
                           "outcome_date": None, "ambiguous_session": False}
    if observed and base is not None:
        last = observed[-1]
        r = series[last]["close"] / base - 1
        out["realised_return"] = r
        out["excess_return"] = r - (kospi[last] / kospi[anchor] - 1)
        out["direction_hit"] = {"up": r > 0, "down": r < 0, "neutral": abs(r) < NEUTRAL_BAND}[p["direction"]]
    if p["target"] is not None or p["stop"] is not None:
        out["outcome"] = "none"
        for k, d in enumerate(window, start=1):
            bar = series.get(d)
            if bar is None or bar["high"] is None:
                continue
            favourable, adverse = (bar["high"], bar["low"]) if p["direction"] == "up" else (bar["low"], bar["high"])
            sign = 1 if p["direction"] == "up" else -1
            hit_target = p["target"] is not None and sign * (favourable - p["target"]) >= 0
            hit_stop = p["stop"] is not None and sign * (p["stop"] - adverse) >= 0
            if hit_stop or hit_target:
                out.update(outcome="stop" if hit_stop else "target", outcome_days=k, outcome_date=d,
                           ambiguous_session=hit_stop and hit_target)
                break
    history = [calendar.add_sessions(anchor, -k) for k in range(61, 0, -1)]  # anchor−61 … anchor−1
    returns = [series[d]["close"] / series[q]["close"] - 1 for q, d in itertools.pairwise(history)
               if d in series and q in series]
    out["sigma_60"] = statistics.stdev(returns) if len(returns) == 60 else None
    return out


def _as_dicts(reports: list[tuple], news: list[tuple]) -> dict[str, dict[str, Any]]:
    items = {}
    for r in reports:
        # counted from the end: the provenance, then the two columns of schema version 2
        if r[-13] == "ok":  # status
            items[f"report:{r[0]}"] = {"stock_code": r[2], "made_at": r[-15], "direction": r[6],
                                       "base": r[8], "target": r[9], "stop": r[10], "horizon": r[11]}
    for n in news:
        items[f"news:{n[0]}"] = {"stock_code": n[3], "made_at": n[-15], "direction": n[4], "base": None,
                                 "target": None, "stop": None, "horizon": n[8]}
    return items


def _compare(url: str, items: dict[str, dict[str, Any]], bars, kospi, end: date) -> dict[str, dict[str, Any]]:
    rows = {r["evaluation_id"]: r for r in fx.fetch(url, "SELECT * FROM marts.prediction_outcomes")}
    assert rows.keys() == items.keys()  # the failed attempt is not evaluated
    for evaluation_id, p in items.items():
        want = expected_outcome(p, bars, kospi, end)
        got = rows[evaluation_id]
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (p["stock_code"], key)
            else:
                assert got[key] == value, (p["stock_code"], p["made_at"], key, got[key], value)
        if want["status"] != "final" and "realised_return" not in want:
            assert got["realised_return"] is None
    return rows


def _same(left: dict[Any, dict[str, Any]], right: dict[Any, dict[str, Any]]) -> bool:
    """Equal row by row; floats to 1e-12 (a SQL aggregate may add in another order)."""
    assert left.keys() == right.keys()
    for key, row in left.items():
        for column, value in row.items():
            other = right[key][column]
            if isinstance(value, float) and isinstance(other, float):
                assert other == pytest.approx(value, rel=1e-12, abs=1e-15), (key, column)
            else:
                assert other == value, (key, column, value, other)
    return True


def _build(url: str, end: date, bars, kospi) -> None:
    fx.write_prices(url, bars, START, end)
    fx.write_kospi(url, {d: v for d, v in kospi.items() if d < end}, START, end)
    run("market_marts_job")


@pytest.mark.slow
def test_outcomes_scores_and_rebuild_match_an_independent_computation(warehouse_with_stocks):
    url = warehouse_with_stocks
    run_migrations(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO app.models (name, provider, model) VALUES ('rival', 'external', 'rival')")
        conn.execute("INSERT INTO app.ab_tests (model_a_id, model_b_id, min_n) SELECT a.id, b.id, 2 "
                     "FROM app.models a, app.models b WHERE a.name = 'baseline' AND b.name = 'rival'")
    run("reference_job")
    bars, kospi = scenario_bars()
    reports, news = predictions(bars)
    fx.write_predictions(url, reports, news)
    items = _as_dicts(reports, news)

    _build(url, PHASE_1_END, bars, kospi)
    result = run("evaluation_job")
    rows = _compare(url, items, bars, kospi, PHASE_1_END)
    by_stock = {(r["stock_code"], r["model_name"], r["horizon_sessions"], r["made_at"]): r for r in rows.values()}
    s1 = by_stock[("900001", "baseline", 3, fx.kst("2025-04-29T10:00"))]
    assert (s1["status"], s1["outcome"], s1["outcome_date"]) == ("final", "target", date(2025, 5, 2))
    s2 = by_stock[("900002", "baseline", 2, fx.kst("2025-04-30T16:00"))]
    assert s2["anchor_date"] == date(2025, 5, 2) and s2["outcome"] == "stop" and s2["ambiguous_session"]
    s4 = [r for r in rows.values() if r["stock_code"] == "900004"]
    assert {r["direction"]: (r["realised_return"], r["direction_hit"]) for r in s4} == {
        "up": (0.0, False), "neutral": (0.0, True)}
    s5 = by_stock[("900005", "baseline", 3, fx.kst("2025-04-29T10:00"))]
    assert (s5["status"], s5["outcome_date"]) == ("final", date(2025, 5, 7))  # the halt touched nothing
    s6 = by_stock[("900006", "baseline", 4, fx.kst("2025-04-28T10:00"))]
    assert (s6["status"], s6["missing_sessions"]) == ("partial", 1)
    assert by_stock[("900007", "baseline", 3, fx.kst("2025-05-08T16:00"))]["status"] == "pending"
    assert by_stock[("900003", "baseline", 2, fx.kst("2025-05-03T11:00"))]["status"] == "partial"
    boundary = {r["made_at"]: r["anchor_date"] for r in rows.values() if r["source_kind"] == "news_prediction"}
    assert boundary[fx.kst("2025-04-29T15:30")] == date(2025, 4, 29)
    assert boundary[fx.kst("2025-04-29T15:31")] == date(2025, 4, 30)
    found = checks(result)
    assert found["no_anchor_before_prediction"].passed and found["no_final_with_missing_session"].passed
    assert all(r["sigma_60"] is not None for r in rows.values())

    # the scores and the leaderboard follow the outcomes
    finals = [r for r in rows.values() if r["status"] == "final" and r["model_name"] == "baseline"
              and r["mode"] == "simulated"]
    board = fx.fetch(url, "SELECT * FROM computed.model_leaderboard WHERE model_name = 'baseline' "
                          "AND mode = 'simulated' AND window_days = 0")[0]
    assert board["n_final"] == len(finals) and board["n_failed"] == 1
    assert board["scores"]["hit_rate"] == pytest.approx(sum(r["direction_hit"] for r in finals) / len(finals))
    assert board["as_of"] == date(2025, 5, 8)
    meta = materialization(result, "computed/model_leaderboard")
    assert "| baseline | simulated |" in meta["leaderboard"]
    assert_png_markdown(meta["reliability_diagram"])
    assert_png_markdown(materialization(result, "computed/model_daily_performance")["daily_hit_rate"])
    live = fx.fetch(url, "SELECT n FROM computed.model_leaderboard WHERE model_name = 'baseline' "
                         "AND mode = 'live' AND window_days = 0")
    assert live == [{"n": 1}]  # live and simulated apart
    ab_rows = {r["score"]: r for r in fx.fetch(
        url, "SELECT * FROM computed.ab_comparisons WHERE mode = 'simulated'")}
    assert ab_rows["hit"]["n"] == 2  # 900001 and 900004 both answered
    assert ab_rows["hit"]["mean_a"] == pytest.approx(0.5) and ab_rows["hit"]["mean_b"] == pytest.approx(0.5)
    assert_png_markdown(materialization(result, "computed/ab_comparisons")["differences"])

    # more sessions close: pending → partial/final; the incremental run equals a full rebuild
    _build(url, PHASE_2_END, bars, kospi)
    run("evaluation_job")
    incremental = _compare(url, items, bars, kospi, PHASE_2_END)
    assert by_stock and incremental[s1["evaluation_id"]] == s1  # a final row is kept as it was
    scores_incremental = fx.fetch(url, "SELECT * FROM computed.prediction_scores ORDER BY evaluation_id")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE marts.prediction_outcomes")
    run("evaluation_job")
    rebuilt = {r["evaluation_id"]: r for r in fx.fetch(url, "SELECT * FROM marts.prediction_outcomes")}
    assert _same(incremental, rebuilt)
    rescored = fx.fetch(url, "SELECT * FROM computed.prediction_scores ORDER BY evaluation_id")
    assert _same(dict(enumerate(scores_incremental)), dict(enumerate(rescored)))
    s3 = next(r for r in rebuilt.values() if r["stock_code"] == "900003")
    assert (s3["status"], s3["outcome"], s3["outcome_date"]) == ("final", "target", date(2025, 5, 8))
    assert s3["realised_return"] == pytest.approx(9600 / 10000 - 1) and s3["direction_hit"]


def test_made_at_is_never_before_anchor_close_in_python_either():
    """The Python calendar's anchor rule is the one the mart uses (a sanity check of the fixture)."""
    calendar = krx_calendar()
    assert calendar.anchor_session(fx.kst("2025-05-03T11:00")) == date(2025, 5, 7)
    assert calendar.anchor_session(fx.kst("2025-04-30T16:00")) == date(2025, 5, 2)
    assert isinstance(fx.kst("2025-04-30T16:00"), datetime)
