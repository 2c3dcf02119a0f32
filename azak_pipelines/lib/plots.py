"""Plots analysts look at in Dagit: PNG images (matplotlib, Agg backend) in Markdown data URIs.

Dagit renders a Markdown image whose source is a ``data:image/png;base64`` URI inline in an asset's
materialization, so a plot needs no file server and travels with the event.
"""

import base64
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: plots are rendered to bytes in run workers

from matplotlib import pyplot as plt
from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 6.0, 4.0, 80  # 480 × 320 px: a few tens of kB per plot


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def markdown_image(title: str, image: bytes) -> str:
    """A Markdown image with the PNG inlined as a data URI."""
    return f"![{title}](data:image/png;base64,{base64.b64encode(image).decode('ascii')})"


def _figure(title: str) -> tuple[Figure, Any]:
    figure, axes = plt.subplots(figsize=(WIDTH, HEIGHT))
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    return figure, axes


def reliability_diagram(curves: Mapping[str, Sequence[tuple[float, float, int]]]) -> bytes:
    """Stated probability vs observed hit rate per bin (``(stated, observed, n)``), one line per model;
    the diagonal is perfect calibration and a marker's area is the bin's count."""
    figure, axes = _figure("Reliability: stated probability vs observed hit rate")
    axes.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=1, label="perfectly calibrated")
    for model, points in sorted(curves.items()):
        stated, observed, counts = zip(*points, strict=True) if points else ((), (), ())
        line = axes.plot(stated, observed, marker="o", markersize=3, label=model)[0]
        axes.scatter(stated, observed, s=[8 + 2 * n for n in counts], color=line.get_color(), alpha=0.4)
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean stated probability", ylabel="observed hit rate")
    axes.legend(fontsize=7, loc="upper left")
    return png(figure)


def differences_with_intervals(rows: Sequence[tuple[str, float, float, float]], title: str) -> bytes:
    """Mean differences (A − B) with their 95 % intervals: ``(label, diff, low, high)``, one row each."""
    figure, axes = _figure(title)
    labels = [row[0] for row in rows]
    diffs = [row[1] for row in rows]
    errors = [[row[1] - row[2] for row in rows], [row[3] - row[1] for row in rows]]
    axes.errorbar(diffs, range(len(rows)), xerr=errors, fmt="o", capsize=3)
    axes.axvline(0, color="gray", linestyle="--", linewidth=1)
    axes.set_yticks(range(len(rows)), labels, fontsize=7)
    axes.set_xlabel("mean difference A − B (95 % CI)")
    figure.set_figheight(max(HEIGHT, 0.3 * len(rows) + 1))
    return png(figure)


def daily_series(series: Mapping[str, Iterable[tuple[date, float]]], title: str, ylabel: str) -> bytes:
    """One line per model over KST days (e.g. the daily hit rate)."""
    figure, axes = _figure(title)
    for name, points in sorted(series.items()):
        ordered = sorted(points)
        axes.plot([p[0] for p in ordered], [p[1] for p in ordered], marker="o", markersize=3, label=name)
    axes.set_ylabel(ylabel)
    if series:  # no model has a day yet: an empty chart, without matplotlib's warning of an empty legend
        axes.legend(fontsize=7)
    figure.autofmt_xdate()
    return png(figure)


def bars(counts: Mapping[str, int], title: str, xlabel: str) -> bytes:
    """Horizontal bars, largest on top (e.g. articles per source)."""
    return _bars(tuple(sorted(counts.items(), key=lambda item: item[1])), title, xlabel)


@lru_cache(maxsize=16)
def _bars(ordered: tuple[tuple[str, int], ...], title: str, xlabel: str) -> bytes:
    # the same bars are drawn once per process: a news run every 10 minutes draws its window's
    # coverage again (~0.15 s), and in a quiet hour the counts do not change
    figure, axes = _figure(title)
    axes.barh([name for name, _ in ordered], [count for _, count in ordered])
    axes.set_xlabel(xlabel)
    return png(figure)
