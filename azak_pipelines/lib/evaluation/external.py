"""Predictions of other systems, from JSON Lines (``azak import predictions``).

One object a line: ``model``, ``code``, ``made_at`` (ISO 8601 with an offset), ``horizon_sessions``,
``direction`` (up | down | neutral), ``probability`` (0–1), and optionally ``base_price``,
``target_price``, ``stop_price``. A bad line is rejected with its file, line number and reason.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from azak_core.market import KST, is_stock_code
from azak_core.patterns import MODEL_NAME_PATTERN

MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
FIELDS = {"model", "code", "made_at", "horizon_sessions", "direction", "probability", "base_price",
          "target_price", "stop_price"}
MAX_HORIZON = 250


class PredictionFileError(ValueError):
    """The file as a whole cannot be read."""


@dataclass(frozen=True)
class ExternalPrediction:
    prediction_id: str
    made_day: date
    model_name: str
    stock_code: str
    made_at: datetime
    horizon_sessions: int
    direction: str
    probability: float | None
    base_price: float | None
    target_price: float | None
    stop_price: float | None
    locator: str


@dataclass(frozen=True)
class Rejected:
    locator: str
    reason: str
    raw: str


@dataclass
class PredictionFile:
    predictions: list[ExternalPrediction] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def prediction_id(model: str, code: str, made_at: datetime, horizon: int) -> str:
    """The identity of a prediction: who, on what, when, for how long (re-imports collide)."""
    text = f"{model}|{code}|{made_at.astimezone(KST).isoformat()}|{horizon}"
    return hashlib.sha256(text.encode()).hexdigest()


def _price(record: dict[str, object], name: str) -> float | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


Parsed = tuple[str, str, datetime, int, str, float | None, float | None, float | None, float | None]


def parse_record(record: object) -> Parsed:
    """Validate one object; ``ValueError`` says what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError("each line must be a JSON object")
    unknown = sorted(set(record) - FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; accepted: {sorted(FIELDS)}")
    model = record.get("model")
    if not isinstance(model, str) or not MODEL_NAME.match(model):
        raise ValueError(f"model must be a name of letters, digits and ._:/- (≤ 64), got {model!r}")
    code = record.get("code")
    if not isinstance(code, str) or not is_stock_code(code):
        raise ValueError(f"code must be a 6-character KRX code such as '005930', got {code!r}")
    made_text = record.get("made_at")
    try:
        made_at = datetime.fromisoformat(str(made_text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"made_at is not ISO 8601: {made_text!r}") from None
    if made_at.tzinfo is None:
        raise ValueError(f"made_at {made_text!r} has no UTC offset (e.g. +09:00)")
    horizon = record.get("horizon_sessions")
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
        raise ValueError(f"horizon_sessions must be an integer 1–{MAX_HORIZON}, got {horizon!r}")
    direction = record.get("direction")
    if direction not in ("up", "down", "neutral"):
        raise ValueError(f"direction must be up, down or neutral, got {direction!r}")
    probability = record.get("probability")
    if probability is not None and (isinstance(probability, bool) or not isinstance(probability, int | float)
                                    or not 0 <= probability <= 1):
        raise ValueError(f"probability must be a number from 0 to 1, got {probability!r}")
    base, target, stop = (_price(record, name) for name in ("base_price", "target_price", "stop_price"))
    return (model, code, made_at, horizon, direction,
            None if probability is None else float(probability), base, target, stop)


def read_prediction_file(path: Path) -> PredictionFile:
    """Every valid prediction of the file and every rejected line with its reason.

    A line repeating an earlier line's prediction (same model, code, made_at, horizon) is dropped
    when identical and rejected when it says something different.
    """
    result = PredictionFile()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise PredictionFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PredictionFileError(f"{path}: not UTF-8 text") from None
    seen: dict[str, tuple[ExternalPrediction, Parsed]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            parsed = parse_record(json.loads(line))
        except json.JSONDecodeError as exc:
            result.rejected.append(Rejected(where, f"not JSON: {exc.msg}", line[:500]))
            continue
        except ValueError as exc:
            result.rejected.append(Rejected(where, str(exc), line[:500]))
            continue
        model, code, made_at, horizon, direction, probability, base, target, stop = parsed
        pid = prediction_id(model, code, made_at, horizon)
        if pid in seen:
            earlier, earlier_parsed = seen[pid]
            if earlier_parsed != parsed:
                result.rejected.append(Rejected(
                    where, f"repeats the prediction of {earlier.locator} (same model, code, made_at, "
                           "horizon) with different values", line[:500]))
            continue
        prediction = ExternalPrediction(pid, made_at.astimezone(KST).date(), model, code, made_at, horizon,
                                        direction, probability, base, target, stop, locator=where)
        seen[pid] = (prediction, parsed)
        result.predictions.append(prediction)
    return result
