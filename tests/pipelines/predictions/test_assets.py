"""Real materializations of news_predictions and stock_reports: the two offline baselines (full and
price-only momentum, both active by migration) plus models on a local OpenAI-compatible server;
append-only history; failures visible; the run budget."""

import psycopg

from tests.pipelines.predictions.conftest import add_model
from tests.pipelines.runs import checks, materialization, run

DAY = ("2025-02-12", "2025-02-12")


def rows(url: str, table: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT model_name, stock_code, status, error_class, mode, cached, cost_usd::float8, "
                            f"prompt_version, input_hash, made_at FROM computed.{table} ORDER BY 1, 2, created_at"
                            ).fetchall()


def test_news_predictions_append_only_with_failures_visible(predictions_warehouse, openai_server):
    url = predictions_warehouse
    add_model(url, "local-ok", "local/ok", openai_server.base_url)
    add_model(url, "local-broke", "local/credits", openai_server.base_url)
    result = run("news_predictions_job", DAY, raise_on_error=False)
    meta = materialization(result, "computed/news_predictions")
    assert meta["links"] == 2 and meta["attempts"] == 8  # 2 links × (baseline, momentum, local-ok, local-broke)
    assert meta["ok"] == 6 and meta["failed"] == 2 and meta["failures"] == {"local-broke: credits": 2}
    assert checks(result)["every_model_answered"].passed is False
    first = rows(url, "news_predictions")
    assert len(first) == 8 and {r[4] for r in first} == {"simulated"}
    # each baseline variant answers every link and records its own version and the schema's
    assert {(r[0], r[2], r[7]) for r in first if r[0] in {"baseline", "momentum"}} == {
        ("baseline", "ok", "azak-baseline-v1/news_impact.v2"), ("momentum", "ok", "azak-momentum-v1/news_impact.v2")}
    assert {r[7] for r in first if r[0] == "local-ok"} == {"news_impact.v2"}
    assert len([r for r in first if r[0] == "momentum"]) == 2
    assert [r[2] for r in first if r[0] == "local-broke"] == ["failed", "failed"]
    with psycopg.connect(url) as conn:
        made_at = conn.execute("SELECT made_at FROM computed.news_predictions WHERE news_id = 9001 LIMIT 1").fetchone()
        assert made_at[0].isoformat() == "2025-02-12T01:00:00+00:00"  # as of publication (10:00 KST)
    requests = len(openai_server.requests)

    again = run("news_predictions_job", DAY, raise_on_error=False)
    meta = materialization(again, "computed/news_predictions")
    assert meta["already_answered"] == 6 and meta["attempts"] == 2  # only the failed model is asked again
    assert len(openai_server.requests) == requests + 2
    second = rows(url, "news_predictions")
    assert len(second) == 10 and set(first) <= set(second)  # nothing overwritten, failures kept


def test_stock_reports_rerun_costs_nothing(predictions_warehouse, openai_server):
    url = predictions_warehouse
    add_model(url, "local-ok", "local/ok", openai_server.base_url)
    result = run("stock_reports_job", DAY)
    meta = materialization(result, "computed/stock_reports")
    assert meta["attempts"] == 6 and meta["ok"] == 6 and meta["provider_requests"] == 2  # 2 stocks × 3 models
    assert meta["cost_usd"] > 0
    first = rows(url, "stock_reports")
    assert {r[4] for r in first} == {"simulated"}
    assert {r[9].isoformat() for r in first} == {"2025-02-12T07:00:00+00:00"}  # the 16:00 KST slot
    with psycopg.connect(url) as conn:
        sources = conn.execute("SELECT data_sources FROM computed.stock_reports "
                               "WHERE stock_code = '005930' LIMIT 1").fetchone()[0]
    assert {"bars", "flows", "ratios", "dart"} <= set(sources)

    again = run("stock_reports_job", DAY)
    meta = materialization(again, "computed/stock_reports")
    assert meta["provider_requests"] == 0 and meta["cached"] == 2 and meta["rows_new"] == 0
    assert len(openai_server.requests) == 2 and rows(url, "stock_reports") == first


def test_budget_marks_the_rest_skipped(predictions_warehouse, openai_server):
    url = predictions_warehouse
    add_model(url, "local-ok", "local/ok", openai_server.base_url)
    config = {"resources": {"llm": {"config": {"budget_usd": "0.0001"}}}}
    result = run("stock_reports_job", DAY, run_config=config, raise_on_error=False)
    meta = materialization(result, "computed/stock_reports")
    assert meta["skipped"] == 2 and meta["ok"] == 4 and meta["provider_requests"] == 0  # the baselines are free
    skipped = [r for r in rows(url, "stock_reports") if r[2] == "skipped"]
    assert {r[3] for r in skipped} == {"budget"}


def test_an_unknown_baseline_identifier_fails_instead_of_falling_back(predictions_warehouse):
    url = predictions_warehouse
    add_model(url, "typo", "azak-baseline-v9", None, structured=None, params="{}", price=(0, 0), provider="baseline")
    result = run("stock_reports_job", DAY, raise_on_error=False)
    meta = materialization(result, "computed/stock_reports")
    assert meta["failures"] == {"typo: config": 2} and meta["ok"] == 4  # baseline and momentum still report
    assert checks(result)["every_model_answered"].passed is False
    with psycopg.connect(url) as conn:
        failed = conn.execute("SELECT status, prompt_version, direction, error_message FROM computed.stock_reports "
                              "WHERE model_name = 'typo'").fetchall()
    assert len(failed) == 2 and all(r[:3] == ("failed", "azak-baseline-v9", None) for r in failed)
    assert "no offline baseline model 'azak-baseline-v9'" in failed[0][3]
