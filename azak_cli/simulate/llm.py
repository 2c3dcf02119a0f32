"""A model that calls a provider, for a simulation: a local OpenAI-compatible chat-completions
server answering every news-impact and stock-report prompt with a fixed, schema-valid answer, and
a keyless ``openai-compatible`` registry row pointing at it for the length of the simulation.

The demo's active models are offline (no provider call), so a provider's misbehaviour
(``--fault llm-429``) needs a model that calls one: the simulation registers
:data:`MODEL_NAME` (active while it runs, deactivated after; its predictions stay, labelled with
its name) only when a fault asks for it.
"""

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from azak_cli.simulate.faults import Fault, Window
from azak_core import clock
from azak_pipelines.lib.replay_http import Answer, Handler, serve

MODEL_NAME = "simulated-llm"
CLOSE = re.compile(r"종가 ([0-9,]+)")  # the report prompt's last close
USAGE = {"prompt_tokens": 800, "completion_tokens": 150, "total_tokens": 950}
PART = {"effect": "neutral", "note": "시뮬레이션 응답."}
IMPACT = {"direction": "neutral", "probability": 0.5, "impact": "low", "relevance": 0.5, "horizon_sessions": 1,
          "reasoning": "시뮬레이션의 고정 응답입니다.", "urgency": "routine",
          "impact_breakdown": {side: PART for side in ("business", "sentiment", "competition", "regulation")}}


def report(base: float) -> dict[str, Any]:
    """A stock report around the prompt's last close ``base``."""
    outlook = {"outlook": "neutral", "rationale": "시뮬레이션의 고정 응답입니다."}
    return {"summary": "시뮬레이션 리포트.", "scenarios": {"short": outlook, "medium": outlook, "long": outlook},
            "recommendation": "hold", "direction": "neutral", "probability": 0.5, "base_price": base,
            "short_target": round(base * 1.03), "short_stop": round(base * 0.97), "short_horizon_sessions": 5,
            "medium_target": round(base * 1.05), "medium_support": round(base * 0.95),
            "long_target": round(base * 1.1), "risks": ["시뮬레이션"], "opportunities": ["시뮬레이션"],
            "limitations": "고정 응답: 분석이 아닙니다."}


def chat_completion(method: str, path: str, headers: dict[str, str], query: dict[str, str],
                    body: bytes) -> Answer:
    """``POST /v1/chat/completions``: the answer the request's structured output names."""
    if method != "POST" or not path.endswith("/chat/completions"):
        return 404, {}, {"error": {"message": f"unknown path {path}"}}
    request = json.loads(body or b"{}")
    schema = ((request.get("response_format") or {}).get("json_schema") or {}).get("name", "")
    text = json.dumps(request.get("messages", []), ensure_ascii=False)
    if schema == "stock_report" or (not schema and "리포트" in text):
        found = CLOSE.search(text)
        value = report(float(found.group(1).replace(",", "")) if found else 10000.0)
    else:
        value = IMPACT
    message = {"role": "assistant", "content": json.dumps(value, ensure_ascii=False)}
    return 200, {}, {"id": "simulated", "object": "chat.completion", "created": int(clock.utc_now().timestamp()),
                     "model": request.get("model", ""), "usage": USAGE,
                     "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


@contextlib.contextmanager
def provider_model(database_url: str, window: Window, faults: Sequence[Fault]) -> Iterator[str | None]:
    """When a fault acts on the provider: serve it (with the faults on) and register
    :data:`MODEL_NAME` against it while the simulation runs; yields the model's name (else None)."""
    if not any(fault.needs_provider for fault in faults):
        yield None
        return
    handler: Handler = chat_completion
    for fault in faults:
        handler = fault.serve_llm(window, handler)
    with serve(handler) as url, psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO app.models (name, provider, model, base_url, kind, params, price_in_per_m, price_out_per_m) "
            "VALUES (%s, 'openai-compatible', 'simulated', %s, 'chat', '{}'::jsonb, 0, 0) "
            "ON CONFLICT (name) DO UPDATE SET base_url = EXCLUDED.base_url, active = true",
            (MODEL_NAME, f"{url}/v1"))
        try:
            yield MODEL_NAME
        finally:
            conn.execute("UPDATE app.models SET active = false WHERE name = %s", (MODEL_NAME,))
