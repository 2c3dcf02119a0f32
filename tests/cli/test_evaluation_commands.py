"""`azak import predictions` and `azak evaluate --json` on an empty warehouse (a fresh clone)."""

import json
from pathlib import Path

from tests.cli.test_market_commands import cli_env, materializations, table  # noqa: F401 - fixture
from tests.conftest import run_azak

IMPORTS = Path(__file__).resolve().parents[2] / "azak_pipelines" / "sample_data" / "imports"
KEYS = {"model", "mode", "n", "n_final", "hit_rate", "mean_return", "mean_excess_return", "brier", "ece",
        "target_hit_rate", "stop_hit_rate", "ic", "rank_ic", "ci"}


def line(**fields) -> str:
    base = {"model": "ext-a", "code": "005930", "made_at": "2023-06-01T10:00:00+09:00", "horizon_sessions": 5,
            "direction": "up", "probability": 0.62}
    return json.dumps({**base, **fields})


def test_import_then_evaluate_on_a_fresh_warehouse(cli_env, db_url, tmp_path):
    path = tmp_path / "theirs.jsonl"
    path.write_text("\n".join([
        line(base_price=70000, target_price=72000, stop_price=68000),
        line(made_at="2023-07-03T16:10:00+09:00", direction="down", probability=0.55),
        line(code="000660", made_at="2023-08-01T09:30:00+09:00", horizon_sessions=3),
        "{not json",
        line(made_at="2023-06-05 10:00"),
        line(targt_price=1),
        line(probability=0.9, base_price=70000, target_price=72000, stop_price=68000),  # restates line 1
        "",
    ]), encoding="utf-8")
    first = run_azak("import", "predictions", str(path), env=cli_env)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "3 valid predictions, 4 rejected" in first.stdout
    assert "theirs.jsonl:5: made_at '2023-06-05 10:00' has no UTC offset (e.g. +09:00)" in first.stdout
    assert "theirs.jsonl:7: repeats the prediction of theirs.jsonl:1" in first.stdout
    assert table(db_url, "SELECT provider FROM app.models WHERE name = 'ext-a'") == [("external",)]
    assert sorted(table(db_url, "SELECT locator FROM ops.quarantine")) == [
        ("theirs.jsonl:4",), ("theirs.jsonl:5",), ("theirs.jsonl:6",), ("theirs.jsonl:7",)]
    stored = table(db_url, "SELECT prediction_id, mode, imported_at FROM computed.external_predictions ORDER BY 1")
    assert len(stored) == 3 and {mode for _, mode, _ in stored} == {"simulated"}  # imported after the fact
    again = run_azak("import", "predictions", str(path), env=cli_env)
    assert again.returncode == 0 and "0 new predictions" in again.stdout
    assert table(db_url, "SELECT prediction_id, mode, imported_at FROM computed.external_predictions "
                         "ORDER BY 1") == stored  # nothing changed

    prices = run_azak("import", "prices", str(IMPORTS / "005930_D.csv"), str(IMPORTS / "000660.csv"), env=cli_env)
    assert prices.returncode == 0, prices.stderr
    result = run_azak("evaluate", "--json", env=cli_env, timeout=1500)  # three dbt builds on a busy machine
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (model,) = report["models"]
    assert set(model) == KEYS and model["model"] == "ext-a" and model["mode"] == "simulated"
    assert model["n"] == 3 and model["n_final"] == 3  # the files hold these sessions
    hits = table(db_url, "SELECT direction_hit FROM marts.prediction_outcomes ORDER BY made_at")
    assert model["hit_rate"] == sum(h for (h,) in hits) / 3
    assert set(model["ci"]) == KEYS - {"model", "mode", "n", "n_final", "ci"}
    assert "running reference_job first" in result.stderr
    assert len(materializations(cli_env, "computed/model_leaderboard")) == 1

    text = run_azak("evaluate", "--model", "ext-a", "--from", "2023-07-01", env=cli_env)
    assert text.returncode == 0 and "ext-a" in text.stdout
    unknown = run_azak("evaluate", "--model", "nobody", env=cli_env)
    assert unknown.returncode == 2 and "no evaluated predictions of model 'nobody'" in unknown.stderr


def test_a_prediction_file_with_nothing_usable_is_an_error(cli_env, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"model": "x"}\n')
    result = run_azak("import", "predictions", str(path), env=cli_env)
    assert result.returncode == 2 and "no valid predictions to import" in result.stderr
