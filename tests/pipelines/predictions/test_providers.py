"""Every structured mode and every failure, through the real openai client over real HTTP."""

import time
from dataclasses import replace
from datetime import datetime

import psycopg
import pytest

from azak_core.egress import EgressPolicy
from azak_core.market import KST
from azak_pipelines.lib.predictions.budget import Budget
from azak_pipelines.lib.predictions.context import Article, build_context
from azak_pipelines.lib.predictions.models import ModelSpec
from azak_pipelines.lib.predictions.providers import ProviderSettings
from azak_pipelines.lib.predictions.runner import Job, Runner
from azak_pipelines.lib.predictions.schemas import NewsImpact, StockReport
from tests.pipelines.predictions.conftest import ARTICLE_AT, ARTICLE_ID, CODE

FAST = ProviderSettings(timeout_s=1.0, max_retries=1)


def model(server, behaviour: str, structured: str = "json_schema", kind: str = "chat", id_: int = 1,
          params: dict | None = None) -> ModelSpec:
    return ModelSpec(id=id_, name=f"m-{behaviour}-{structured}", provider="openai-compatible",
                     model=f"local/{behaviour}", base_url=server.base_url, kind=kind, structured=structured,
                     params=params if params is not None else {"max_tokens": 800, "temperature": 0.2},
                     price_in_per_m=1.0, price_out_per_m=4.0)


def news_context(conn):
    article = Article(ARTICLE_ID, CODE, "삼성전자, 신형 메모리 양산", "요약", ARTICLE_AT, ARTICLE_AT.date(), 0.9,
                      ARTICLE_AT)
    return build_context(conn, CODE, ARTICLE_AT, article)


def attempt(url, specs, output="news_impact", settings=FAST, budget=None, as_of=None):
    with psycopg.connect(url, autocommit=True) as conn:
        ctx = news_context(conn) if output == "news_impact" else build_context(conn, CODE, as_of or ARTICLE_AT)
        runner = Runner(conn, {}, settings, budget or Budget(None))
        return runner.run([Job(s, output, ctx) for s in specs]), runner


@pytest.mark.parametrize("behaviour,structured", [
    ("ok", "json_schema"), ("ok", "json_object"), ("fenced", "prompt"), ("bare", "prompt"),
])
def test_structured_modes_parse_and_validate(predictions_warehouse, openai_server, behaviour, structured):
    (a,), _ = attempt(predictions_warehouse, [model(openai_server, behaviour, structured)])
    assert a.status == "ok", a.error_message
    assert isinstance(a.output, NewsImpact) and a.output.direction == "up" and a.output.probability == 0.64
    assert (a.tokens_in, a.tokens_out) == (1000, 200)
    assert a.cost_usd == pytest.approx((1000 * 1.0 + 200 * 4.0) / 1e6)
    body = openai_server.requests[-1].body
    if structured == "json_schema":
        fmt = body["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        schema = fmt["json_schema"]["schema"]
        assert schema["additionalProperties"] is False and "probability" in schema["required"]
    elif structured == "json_object":
        assert body["response_format"] == {"type": "json_object"}
        assert "JSON 스키마" in body["messages"][0]["content"]
    else:
        assert "response_format" not in body and "JSON 스키마" in body["messages"][0]["content"]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 800
    assert "삼성전자" in body["messages"][1]["content"]


def test_reasoning_model_answer_in_reasoning_field(predictions_warehouse, openai_server):
    (a,), _ = attempt(predictions_warehouse, [model(openai_server, "reasoning", "prompt", kind="reasoning")])
    assert a.status == "ok", a.error_message
    body = openai_server.requests[-1].body
    assert body["max_completion_tokens"] == 800 and "max_tokens" not in body


@pytest.mark.parametrize("behaviour,error_class,tokens", [
    ("credits", "credits", 0), ("ratelimit", "rate_limit", 0), ("down", "server", 0),
    ("invalid", "invalid_json", 200), ("violation", "schema", 200), ("refusal", "refusal", 200),
])
def test_failures_are_failures(predictions_warehouse, openai_server, behaviour, error_class, tokens):
    (a,), _ = attempt(predictions_warehouse, [model(openai_server, behaviour)])
    assert a.status == "failed" and a.output is None
    assert a.error_class == error_class, a.error_message
    assert a.tokens_out == tokens
    expected_requests = 2 if behaviour in {"ratelimit", "down"} else 1  # retried once (max_retries=1)
    assert openai_server.count(f"local/{behaviour}") == expected_requests


def test_schema_violation_names_the_field(predictions_warehouse, openai_server):
    (a,), _ = attempt(predictions_warehouse, [model(openai_server, "violation")])
    assert "probability" in a.error_message


def test_timeout(predictions_warehouse, openai_server):
    # the server answers a valid prediction after 3 s: without the 0.5 s timeout this would be "ok"
    (a,), _ = attempt(predictions_warehouse, [model(openai_server, "slow")],
                      settings=ProviderSettings(timeout_s=0.5, max_retries=0))
    assert a.status == "failed" and a.error_class == "timeout"


def test_429_retry_after_is_honoured(predictions_warehouse, openai_server):
    started = time.monotonic()
    (a,), _ = attempt(predictions_warehouse, [model(openai_server, "flaky429")],
                      settings=ProviderSettings(timeout_s=5, max_retries=2))
    assert a.status == "ok", a.error_message
    first, second = [r.at for r in openai_server.requests if r.model == "local/flaky429"]
    assert second - first >= 0.95  # Retry-After: 1
    assert time.monotonic() - started >= 0.95


def test_missing_key_is_a_config_failure(predictions_warehouse, openai_server):
    spec = ModelSpec(id=3, name="gpt", provider="openai", model="gpt-4o-mini", base_url=openai_server.base_url)
    (a,), _ = attempt(predictions_warehouse, [spec])
    assert a.status == "failed" and a.error_class == "config" and "AZAK_OPENAI_API_KEY" in a.error_message
    assert not openai_server.requests


def test_openrouter_sends_attribution_headers(predictions_warehouse, openai_server):
    spec = ModelSpec(id=4, name="or", provider="openrouter", model="qwen/fenced", base_url=openai_server.base_url)
    # an operator who lets keys go to the local server (a key goes to no unlisted host: test_egress)
    local = EgressPolicy(hosts=("127.0.0.1",), private_networks=("127.0.0.0/8",))
    with psycopg.connect(predictions_warehouse, autocommit=True) as conn:
        runner = Runner(conn, {"AZAK_OPENROUTER_API_KEY": "sk-or-test"}, replace(FAST, egress=local), Budget(None))
        (a,) = runner.run([Job(spec, "news_impact", news_context(conn))])
    assert a.status == "ok", a.error_message
    headers = {k.lower(): v for k, v in openai_server.requests[-1].headers.items()}
    assert headers["http-referer"] and headers["x-title"] == "Azak"
    assert headers["authorization"] == "Bearer sk-or-test"
    assert "response_format" not in openai_server.requests[-1].body  # OpenRouter default: prompt mode


def test_cache_hit_on_rerun_makes_no_request(predictions_warehouse, openai_server):
    spec = model(openai_server, "ok")
    (first,), _ = attempt(predictions_warehouse, [spec])
    (second,), runner = attempt(predictions_warehouse, [spec])
    assert openai_server.count("local/ok") == 1 and runner.requests == 0
    assert second.cached and second.cost_usd == 0 and second.output == first.output
    assert second.input_hash == first.input_hash


def test_budget_stops_calling_and_skips_the_rest(predictions_warehouse, openai_server):
    specs = [model(openai_server, "ok", id_=i, params={"max_tokens": 800, "seed": i}) for i in range(5)]
    # worst case per call ≈ prompt chars × $1/M + 800 × $4/M ≈ $0.006: room for two calls
    (attempts), runner = attempt(predictions_warehouse, specs, budget=Budget(0.013))
    statuses = [a.status for a in attempts]
    assert statuses.count("ok") == 2 and statuses.count("skipped") == 3
    skipped = [a for a in attempts if a.status == "skipped"]
    assert all(a.error_class == "budget" and "AZAK_LLM_BUDGET_USD" in a.error_message for a in skipped)
    assert runner.requests == 2 == len(openai_server.requests)
    assert runner.budget.spent_usd <= 0.013


def test_report_against_the_local_server(predictions_warehouse, openai_server):
    as_of = datetime(2025, 2, 12, 16, 0, tzinfo=KST)
    (a,), _ = attempt(predictions_warehouse, [model(openai_server, "ok")], output="stock_report", as_of=as_of)
    assert a.status == "ok", a.error_message
    assert isinstance(a.output, StockReport) and a.output.recommendation == "buy"
