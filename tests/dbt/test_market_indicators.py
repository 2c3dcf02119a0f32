"""marts.daily_prices indicators against an independent computation in Python."""

import itertools
import math
from collections import defaultdict

import psycopg
import pytest

from tests.pipelines.runs import run


def ema(values: list[float | None], n: int, alpha: float) -> list[float | None]:
    """TA-Lib style: None until n values were seen, seeded with their mean, then smoothed."""
    out: list[float | None] = []
    seen: list[float] = []
    current: float | None = None
    for value in values:
        if value is None:
            out.append(current)
            continue
        if current is None:
            seen.append(value)
            if len(seen) == n:
                current = sum(seen) / n
        else:
            current = current + alpha * (value - current)
        out.append(current)
    return out


def rolling(values: list[float], n: int, fn) -> list[float | None]:
    return [fn(values[i - n + 1:i + 1]) if i >= n - 1 else None for i in range(len(values))]


def reference(closes: list[float]) -> dict[str, list[float | None]]:
    deltas: list[float | None] = [None] + [b - a for a, b in itertools.pairwise(closes)]
    gains = ema([None if d is None else max(d, 0.0) for d in deltas], 14, 1 / 14)
    losses = ema([None if d is None else max(-d, 0.0) for d in deltas], 14, 1 / 14)
    rsi = []
    for gain, loss in zip(gains, losses, strict=True):
        if gain is None or loss is None or (gain == 0 and loss == 0):
            rsi.append(None)
        elif loss == 0:
            rsi.append(100.0)
        else:
            rsi.append(100 - 100 / (1 + gain / loss))
    fast, slow = ema(closes, 12, 2 / 13), ema(closes, 26, 2 / 27)
    macd = [None if a is None or b is None else a - b for a, b in zip(fast, slow, strict=True)]
    signal = ema(macd, 9, 0.2)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    sd = lambda xs: math.sqrt(sum((x - mean(xs)) ** 2 for x in xs) / len(xs))  # noqa: E731
    mid = rolling(closes, 20, mean)
    width = rolling(closes, 20, sd)
    return {
        "return_1d": [None] + [b / a - 1 for a, b in itertools.pairwise(closes)],
        "ma_5": rolling(closes, 5, mean), "ma_20": mid, "ma_60": rolling(closes, 60, mean),
        "rsi_14": rsi, "macd": macd, "macd_signal": signal,
        "macd_histogram": [None if m is None or s is None else m - s for m, s in zip(macd, signal, strict=True)],
        "bollinger_upper": [None if m is None else m + 2 * w for m, w in zip(mid, width, strict=True)],
        "bollinger_lower": [None if m is None else m - 2 * w for m, w in zip(mid, width, strict=True)],
    }


@pytest.mark.slow
def test_indicators_match_an_independent_computation(warehouse_with_stocks, replay):
    run("daily_prices_job", ("2023-12-05", "2025-06-17"))
    run("market_marts_job")
    columns = ["return_1d", "ma_5", "ma_20", "ma_60", "rsi_14", "macd", "macd_signal",
               "macd_histogram", "bollinger_upper", "bollinger_lower"]
    with psycopg.connect(warehouse_with_stocks) as conn:
        rows = conn.execute(
            f"SELECT stock_code, close, {', '.join(columns)} FROM marts.daily_prices "
            "ORDER BY stock_code, trade_date").fetchall()
    by_stock: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_stock[row[0]].append(row)
    assert len(by_stock) == 20 and all(len(v) == 370 for v in by_stock.values())
    compared = 0
    for code, series in by_stock.items():
        expected = reference([float(r[1]) for r in series])
        for i, row in enumerate(series):
            for j, name in enumerate(columns):
                got, want = row[2 + j], expected[name][i]
                if want is None:
                    assert got is None, f"{code} row {i} {name}: expected NULL, got {got}"
                else:
                    assert got == pytest.approx(want, rel=1e-9, abs=1e-9), f"{code} row {i} {name}"
                    compared += 1
    assert compared > 60_000
    first = by_stock["005930"]
    assert first[13][6] is None and first[14][6] is not None  # RSI from the 15th close
    assert first[24][7] is None and first[25][7] is not None  # MACD from the 26th
    assert first[32][8] is None and first[33][8] is not None  # its signal from the 34th
