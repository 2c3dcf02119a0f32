"""External prediction files: every bad line is rejected with its line number and a reason."""

import json
from datetime import UTC

from azak_pipelines.lib.evaluation.external import prediction_id, read_prediction_file
from tests.pipelines.evaluation.fixtures import kst

GOOD = {"model": "their-model", "code": "005930", "made_at": "2024-03-04T10:00:00+09:00", "horizon_sessions": 5,
        "direction": "up", "probability": 0.62, "base_price": 73400, "target_price": 76000, "stop_price": 71000}


def test_good_lines_parse_and_bad_lines_say_why(tmp_path):
    lines = [
        GOOD,
        {**GOOD, "code": "5930"},
        {**GOOD, "made_at": "2024-03-04T10:00:00"},
        {**GOOD, "horizon_sessions": 0},
        {**GOOD, "direction": "sideways"},
        {**GOOD, "probability": 1.2},
        {**GOOD, "target_price": -1},
        {**GOOD, "model": "bad name!"},
        {**GOOD, "made_at": "2024-03-05T10:00:00+09:00", "base_price": None, "target_price": None,
         "stop_price": None},
        GOOD,  # an exact repeat is dropped silently
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n[1, 2]\n", encoding="utf-8")
    parsed = read_prediction_file(path)
    assert [p.locator for p in parsed.predictions] == ["p.jsonl:1", "p.jsonl:9"]
    first = parsed.predictions[0]
    assert first.made_at == kst("2024-03-04T10:00") and first.made_day.isoformat() == "2024-03-04"
    assert first.prediction_id == prediction_id("their-model", "005930", kst("2024-03-04T10:00"), 5)
    assert parsed.predictions[1].base_price is None
    reasons = {r.locator: r.reason for r in parsed.rejected}
    assert reasons == {
        "p.jsonl:2": "code must be a 6-character KRX code such as '005930', got '5930'",
        "p.jsonl:3": "made_at '2024-03-04T10:00:00' has no UTC offset (e.g. +09:00)",
        "p.jsonl:4": "horizon_sessions must be an integer 1–250, got 0",
        "p.jsonl:5": "direction must be up, down or neutral, got 'sideways'",
        "p.jsonl:6": "probability must be a number from 0 to 1, got 1.2",
        "p.jsonl:7": "target_price must be a positive number, got -1",
        "p.jsonl:8": "model must be a name of letters, digits and ._:/- (≤ 64), got 'bad name!'",
        "p.jsonl:11": "each line must be a JSON object",
    }


def test_the_same_instant_in_another_offset_is_the_same_prediction():
    assert prediction_id("m", "005930", kst("2024-03-04T10:00"), 5) == prediction_id(
        "m", "005930", kst("2024-03-04T10:00").astimezone(UTC), 5)
