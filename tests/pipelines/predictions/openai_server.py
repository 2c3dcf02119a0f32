"""A local server speaking the OpenAI chat-completions protocol, for tests and benchmarks.

The requested ``model`` picks the behaviour, so one server plays every case: valid answers in each
structured mode, a reasoning model, 402, 429 with Retry-After, slowness (timeouts), invalid JSON,
schema violations, refusals and 5xx. Every request is recorded.
"""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NEWS = {"direction": "up", "probability": 0.64, "impact": "medium", "relevance": 0.8,
        "horizon_sessions": 3, "reasoning": "실적 개선 기대가 반영될 가능성이 있습니다.", "urgency": "notable",
        "impact_breakdown": {"business": {"effect": "positive", "note": "신형 메모리 매출."},
                             "sentiment": {"effect": "positive", "note": "기대감."},
                             "competition": {"effect": "neutral", "note": "경쟁 구도 변화 없음."},
                             "regulation": {"effect": "neutral", "note": "관련 규제 없음."}}}

CLOSE = re.compile(r"종가 ([0-9,]+)")


def report_answer(base: float = 70000.0) -> dict[str, Any]:
    scenario = {"outlook": "up", "rationale": "수급 개선."}
    return {"summary": "단기 상승 가능성이 있습니다.", "scenarios": {"short": scenario, "medium": scenario,
            "long": scenario}, "recommendation": "buy", "direction": "up", "probability": 0.6,
            "base_price": base, "short_target": base * 1.05, "short_stop": base * 0.97,
            "short_horizon_sessions": 5, "medium_target": base * 1.1, "medium_support": base * 0.93,
            "long_target": base * 1.2,
            "risks": ["환율 변동"], "opportunities": ["신제품 출시"], "limitations": "재무 자료 일부 없음."}


@dataclass
class Recorded:
    model: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class OpenAIServer:
    delay_s: float = 0.0  # every answer waits this long (benchmarks: a provider's latency)
    requests: list[Recorded] = field(default_factory=list)
    _failures_left: dict[str, int] = field(default_factory=dict)

    def start(self) -> "OpenAIServer":
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append(Recorded(body.get("model", ""), body, dict(self.headers), time.monotonic()))
                status, payload, headers = outer.answer(body)
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    for name, value in {"content-type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def count(self, model: str) -> int:
        return sum(r.model == model for r in self.requests)

    @staticmethod
    def _wants_report(body: dict[str, Any]) -> bool:
        text = json.dumps(body.get("messages", []), ensure_ascii=False)
        return "투자 리포트" in text

    def _base_price(self, body: dict[str, Any]) -> float:
        found = CLOSE.search(body["messages"][-1]["content"])
        return float(found.group(1).replace(",", "")) if found else 70000.0

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        model = body.get("model", "")
        behaviour = model.split("/")[-1]
        if self.delay_s:
            time.sleep(self.delay_s)
        if behaviour.startswith("flaky429"):  # 429 once with Retry-After, then fine
            left = self._failures_left.setdefault(model, 1)
            if left:
                self._failures_left[model] = left - 1
                return 429, {"error": {"message": "slow down"}}, {"retry-after": "1"}
        if behaviour == "credits":
            return 402, {"error": {"message": "This request requires more credits, or fewer max_tokens"}}, {}
        if behaviour == "ratelimit":
            return 429, {"error": {"message": "rate limited"}}, {"retry-after": "0"}
        if behaviour == "down":
            return 503, {"error": {"message": "upstream unavailable"}}, {}
        if behaviour == "slow":
            time.sleep(3)
        value = report_answer(self._base_price(body)) if self._wants_report(body) else dict(NEWS)
        content: str | None = json.dumps(value, ensure_ascii=False)
        message: dict[str, Any] = {"role": "assistant"}
        finish = "stop"
        if behaviour == "fenced":
            content = f"분석 결과입니다.\n```json\n{content}\n```\n이상입니다."
        elif behaviour == "bare":
            content = f"생각: 먼저 {{가격}}을 봅니다. 결론은 다음과 같습니다 {content} 끝."
        elif behaviour == "reasoning":
            message["reasoning"] = f"먼저 지표를 봅니다... 최종 답: {content}"
            content = ""
        elif behaviour == "invalid":
            content = "죄송하지만 {direction: up, 확률 높음"
        elif behaviour == "violation":
            content = json.dumps({**value, "probability": 1.7}) if "probability" in value else content
        elif behaviour == "refusal":
            message["refusal"] = "I can't help with investment advice."
            content = None
        message["content"] = content
        usage = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
        return 200, {"id": "cmpl-1", "object": "chat.completion", "created": int(time.time()), "model": model,
                     "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage}, {}
