"""The OpenAI embedder through the real ``openai`` client against a local server that speaks the
embeddings protocol (real HTTP): batching, retries with backoff on 429/5xx, token counts."""

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from azak_core.embeddings import EmbedderSettings, EmbeddingError, select_embedder
from azak_core.embeddings.openai_embeddings import OpenAIEmbedder


class FakeOpenAI:
    """POST /v1/embeddings: a deterministic vector per input, ``usage`` = characters; scripted failures."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.authorization: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                server.requests.append(body)
                server.authorization.append(self.headers.get("authorization", ""))
                if self.path != "/v1/embeddings":
                    return self._send(404, {"error": {"message": "not found"}})
                if server.failures:
                    status, headers = server.failures.pop(0)
                    return self._send(status, {"error": {"message": f"scripted {status}", "type": "x"}}, headers)
                inputs = body["input"]
                data = [{"object": "embedding", "index": i, "embedding": vector(text)} for i, text in enumerate(inputs)]
                tokens = sum(len(text) for text in inputs)
                self._send(200, {"object": "list", "data": data[::-1], "model": body["model"],
                                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

            def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


def vector(text: str) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return (np.random.default_rng(seed).normal(size=1536) * 3).tolist()  # not unit: the embedder normalises


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


def test_batches_orders_by_index_normalises_and_counts_tokens(fake_openai):
    embedder = select_embedder(EmbedderSettings("openai", "sk-local", fake_openai.url))
    assert isinstance(embedder, OpenAIEmbedder) and embedder.key == "openai@text-embedding-3-small"
    embedder.batch_size = 2
    texts = ["삼성전자 실적", "SK하이닉스 HBM", "현대차 관세", "카카오 AI"]
    result = embedder.embed(texts)
    assert [len(r["input"]) for r in fake_openai.requests] == [2, 2]
    assert fake_openai.requests[0]["model"] == "text-embedding-3-small"
    assert fake_openai.authorization[0] == "Bearer sk-local"
    assert result.tokens == sum(len(t) for t in texts)
    assert result.vectors.shape == (4, 1536) and np.allclose(np.linalg.norm(result.vectors, axis=1), 1, atol=1e-5)
    expected = np.asarray(vector("현대차 관세"), dtype=np.float32)
    assert np.allclose(result.vectors[2], expected / np.linalg.norm(expected), atol=1e-6)


def test_retries_429_and_5xx_with_backoff_then_succeeds(fake_openai):
    fake_openai.failures = [(429, {"retry-after": "0"}), (503, {"retry-after": "0"}), (500, {"retry-after": "0"})]
    embedder = OpenAIEmbedder("sk-local", base_url=fake_openai.url, max_retries=3)
    result = embedder.embed(["삼성전자"])
    assert len(fake_openai.requests) == 4 and result.vectors.shape == (1, 1536)


def test_gives_up_after_the_retries_with_the_providers_message(fake_openai):
    fake_openai.failures = [(429, {"retry-after": "0"})] * 3
    embedder = OpenAIEmbedder("sk-local", base_url=fake_openai.url, max_retries=2)
    with pytest.raises(EmbeddingError, match=r"HTTP 429 after retries: .*scripted 429"):
        embedder.embed(["삼성전자"])
    assert len(fake_openai.requests) == 3


def test_a_client_error_is_not_retried(fake_openai):
    fake_openai.failures = [(400, {})]
    with pytest.raises(EmbeddingError, match="HTTP 400"):
        OpenAIEmbedder("sk-local", base_url=fake_openai.url, max_retries=3).embed(["x"])
    assert len(fake_openai.requests) == 1


def test_an_unreachable_server_is_a_clear_error():
    from tests.conftest import free_port

    embedder = OpenAIEmbedder("sk-local", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0, timeout=2)
    with pytest.raises(EmbeddingError, match="cannot reach the OpenAI embeddings endpoint"):
        embedder.embed(["x"])
