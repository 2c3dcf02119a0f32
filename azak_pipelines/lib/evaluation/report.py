"""Leaderboard rows over time windows, and how they are shown (Markdown, plot series)."""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from azak_core.market import KST
from azak_pipelines.lib.evaluation.metrics import Scored, bootstrap_ci, group_by, reliability, summarize
from azak_pipelines.lib.markdown import markdown_table

WINDOWS = (7, 30, 90, 0)  # days before as_of; 0 = everything


def failed_counts(failed: Sequence[tuple[str, str, datetime]]) -> Counter[tuple[str, str, date]]:
    """(model, mode, KST day) → failed or skipped attempts."""
    return Counter((model, mode, made_at.astimezone(KST).date()) for model, mode, made_at in failed)


def leaderboard(items: Sequence[Scored], failed: Counter[tuple[str, str, date]], as_of: date,
                windows: Sequence[int] = WINDOWS) -> list[dict[str, Any]]:
    """One row per model × mode × window: counts, scores, 95 % CIs and the reliability table."""
    rows = []
    keys = {(s.outcome.model_name, s.outcome.mode) for s in items} | {(m, mode) for m, mode, _ in failed}
    by_model = group_by(items, lambda s: (s.outcome.model_name, s.outcome.mode))
    for model, mode in sorted(keys):
        for days in windows:
            start = as_of - timedelta(days=days) if days else date.min

            def inside(day: date, start: date = start) -> bool:
                return start < day <= as_of if start != date.min else day <= as_of

            chosen = [s for s in by_model.get((model, mode), []) if inside(s.outcome.made_day)]
            summary = summarize(chosen)
            finals = [s for s in chosen if s.outcome.status == "final"]
            table = reliability([s.outcome.probability for s in finals
                                 if s.outcome.probability is not None and s.score.hit is not None],
                                [s.score.hit for s in finals
                                 if s.outcome.probability is not None and s.score.hit is not None])
            rows.append({
                "model_name": model, "mode": mode, "window_days": days, "as_of": as_of,
                "n": summary.pop("n"), "n_final": summary.pop("n_final"),
                "n_failed": sum(n for (m, md, day), n in failed.items()
                                if m == model and md == mode and inside(day)),
                "scores": summary, "ci": bootstrap_ci(chosen), "reliability": table,
            })
    return rows


def _fmt(value: float | None, ci: list[float] | None = None, percent: bool = False) -> str:
    if value is None:
        return "–"
    scale, unit = (100, " %") if percent else (1, "")
    text = f"{value * scale:.1f}{unit}" if percent else f"{value:.3f}"
    if ci:
        text += f" [{ci[0] * scale:.1f}, {ci[1] * scale:.1f}]" if percent else f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


def markdown(rows: Sequence[dict[str, Any]], window_days: int = 0) -> str:
    """The leaderboard of one window as a Markdown table (95 % CIs in brackets)."""
    chosen = [r for r in rows if r["window_days"] == window_days]
    if not chosen:
        return "no evaluated predictions yet"
    columns = ["model", "mode", "n", "final", "failed", "hit rate", "mean return", "mean excess", "Brier",
               "ECE", "IC", "rank IC", "target score", "legacy auto"]
    return markdown_table(columns, [_leaderboard_cells(r) for r in sorted(
        chosen, key=lambda r: (r["mode"], -(r["scores"].get("hit_rate") or -1)))])


def _leaderboard_cells(r: dict[str, Any]) -> list[str]:
    s, ci = r["scores"], r["ci"]
    legacy = "–" if s["legacy_auto"] is None else f"{s['legacy_auto']:.1f}"
    return [r["model_name"], r["mode"], str(r["n"]), str(r["n_final"]), str(r["n_failed"]),
            _fmt(s["hit_rate"], ci.get("hit_rate"), True), _fmt(s["mean_return"], ci.get("mean_return"), True),
            _fmt(s["mean_excess_return"], ci.get("mean_excess_return"), True),
            _fmt(s["brier"], ci.get("brier")), _fmt(s["ece"], ci.get("ece")), _fmt(s["ic"], ci.get("ic")),
            _fmt(s["rank_ic"], ci.get("rank_ic")), _fmt(s["target_score"], ci.get("target_score")),
            f"{legacy} (legacy)"]


def reliability_curves(rows: Sequence[dict[str, Any]], window_days: int = 0
                       ) -> dict[str, list[tuple[float, float, int]]]:
    """Per model (and mode): ``(mean stated probability, observed hit rate, n)`` of each non-empty bin."""
    return {f"{r['model_name']} ({r['mode']})": [(b["mean_stated"], b["observed"], b["n"])
                                                 for b in r["reliability"] if b["n"]]
            for r in rows if r["window_days"] == window_days}


SUMMARY_FIELDS = ("hit_rate", "mean_return", "mean_excess_return", "brier", "ece", "target_hit_rate",
                  "stop_hit_rate", "ic", "rank_ic")


def model_summaries(items: Sequence[Scored], model: str | None = None, start: date | None = None,
                    end: date | None = None) -> list[dict[str, Any]]:
    """Per model and mode (never mixed), over predictions made on KST days [start, end]: counts,
    the scores (final evaluations only) and their 95 % bootstrap intervals."""
    chosen = [s for s in items
              if (model is None or s.outcome.model_name == model)
              and (start is None or s.outcome.made_day >= start) and (end is None or s.outcome.made_day <= end)]
    out = []
    for (name, mode), group in sorted(group_by(chosen, lambda s: (s.outcome.model_name, s.outcome.mode)).items()):
        summary = summarize(group)
        ci = bootstrap_ci(group)
        out.append({"model": name, "mode": mode, "n": summary["n"], "n_final": summary["n_final"],
                    **{k: summary[k] for k in SUMMARY_FIELDS},
                    "ci": {k: ci.get(k) for k in SUMMARY_FIELDS}})
    return out
