"""Calling a model through the ``openai`` client (OpenAI, OpenRouter, any OpenAI-compatible server).

One call returns an :class:`Answer` or raises :class:`CallFailed` with an error class a person can
act on — never a neutral default. Retries (with backoff, honouring ``Retry-After``) are the
client's own: 408/409/429/5xx and timeouts are retried ``max_retries`` times.
"""

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from azak_core.egress import EgressPolicy
from azak_pipelines.lib.predictions.extract import InvalidJson, last_json_object
from azak_pipelines.lib.predictions.models import OPENAI_BASE_URL, ModelSpec
from azak_pipelines.lib.predictions.schemas import SchemaViolation, json_schema, validate
from azak_pipelines.lib.predictions.transport import EgressRefused, PinnedTransport, Resolver, system_resolve

if TYPE_CHECKING:  # the openai client is imported when a model is called (~0.8 s: not for every run)
    import openai
    from openai.types.chat import ChatCompletionMessageParam


class CallFailed(Exception):
    """A failed attempt: ``error_class`` is one of ERROR_CLASSES; tokens spent are kept."""

    def __init__(self, error_class: str, message: str, tokens_in: int = 0, tokens_out: int = 0):
        super().__init__(f"{error_class}: {message}")
        self.error_class, self.message = error_class, message
        self.tokens_in, self.tokens_out = tokens_in, tokens_out


ERROR_CLASSES = ("timeout", "connection", "credits", "rate_limit", "auth", "server", "bad_request",
                 "refusal", "invalid_json", "schema", "config", "budget")


@dataclass(frozen=True)
class ProviderSettings:
    timeout_s: float = 60.0
    max_retries: int = 2
    openrouter_headers: dict[str, str] = field(default_factory=lambda: {
        "HTTP-Referer": "https://github.com/azak-ai/azak", "X-Title": "Azak"})
    egress: EgressPolicy = field(default_factory=EgressPolicy)  # which keys, which hosts
    resolve: Resolver = system_resolve  # how a host becomes the addresses checked and connected to


@dataclass(frozen=True)
class Answer:
    text: str  # what the answer was read from (content, or the reasoning field)
    tokens_in: int
    tokens_out: int


def client_for(model: ModelSpec, api_key: str | None, settings: ProviderSettings) -> "openai.AsyncOpenAI":
    """A client that sends ``api_key`` only where the egress policy allows: the registry row is
    checked here (it may have been written by SQL, not through the API) and every connection is
    checked again on the address it goes to (:class:`PinnedTransport`). No proxy from the
    environment is used: the checks need the address the connection goes to."""
    keyed = model.key_env is not None
    base_url = model.endpoint or OPENAI_BASE_URL
    problem = settings.egress.key_problem(model.key_env)
    if not problem and model.provider != "openai-compatible" and not api_key:
        problem = f"set {model.key_env} (the registry names it as the key)"
    problem = problem or settings.egress.url_problem(base_url, keyed)
    if problem:
        raise CallFailed("config", f"{model.name}: {problem}")
    import openai

    transport = PinnedTransport(settings.egress, keyed, settings.resolve)
    headers = settings.openrouter_headers if model.provider == "openrouter" else None
    return openai.AsyncOpenAI(
        api_key=api_key or "not-needed", base_url=base_url, timeout=settings.timeout_s,
        max_retries=settings.max_retries, default_headers=headers,
        http_client=openai.DefaultAsyncHttpxClient(transport=transport, trust_env=False, follow_redirects=False))


def request_options(model: ModelSpec, output: type[msgspec.Struct], name: str) -> dict[str, Any]:
    """Sampling parameters from the registry and the structured-output request for its mode."""
    params = dict(model.params)
    options: dict[str, Any] = {}
    if model.kind == "reasoning" and "max_tokens" in params:
        # reasoning models take max_completion_tokens
        options["max_completion_tokens"] = params.pop("max_tokens")
    options.update(params)
    mode = model.structured_mode
    if mode == "json_schema":
        options["response_format"] = {"type": "json_schema", "json_schema": {
            "name": name, "strict": True, "schema": json_schema(output)}}
    elif mode == "json_object":
        options["response_format"] = {"type": "json_object"}
    return options


def _status_failure(exc: "openai.APIStatusError") -> CallFailed:
    status = exc.status_code
    body = str(exc.message)[:300]
    if status == 402:
        return CallFailed("credits", f"HTTP 402 (out of credits): {body}")
    if status == 429:
        return CallFailed("rate_limit", f"HTTP 429 after retries: {body}")
    if status in (401, 403):
        return CallFailed("auth", f"HTTP {status} (key refused): {body}")
    if status >= 500:
        return CallFailed("server", f"HTTP {status} after retries: {body}")
    return CallFailed("bad_request", f"HTTP {status}: {body}")


async def complete(client: "openai.AsyncOpenAI", model: ModelSpec, messages: "list[ChatCompletionMessageParam]",
                   options: dict[str, Any]) -> Answer:
    """One chat completion; provider errors become :class:`CallFailed`."""
    import openai

    try:
        response = await client.chat.completions.create(model=model.model, messages=messages, **options)
    except openai.APITimeoutError:
        raise CallFailed("timeout", f"no answer within {client.timeout} s (after retries)") from None
    except openai.APIConnectionError as exc:
        if isinstance(exc.__cause__, EgressRefused):
            raise CallFailed("config", f"refused by the egress policy: {exc.__cause__}") from None
        raise CallFailed("connection", f"cannot reach {client.base_url}: {exc}") from None
    except openai.APIStatusError as exc:
        raise _status_failure(exc) from None
    usage = response.usage
    tokens_in = usage.prompt_tokens if usage else 0
    tokens_out = usage.completion_tokens if usage else 0
    if not response.choices:
        raise CallFailed("server", "the response has no choices", tokens_in, tokens_out)
    choice = response.choices[0]
    message = choice.message
    if message.refusal or choice.finish_reason == "content_filter":
        reason = message.refusal or "finish_reason=content_filter"
        raise CallFailed("refusal", f"the model refused: {reason[:300]}", tokens_in, tokens_out)
    text = message.content or ""
    if not text.strip():
        extra = message.model_extra or {}
        text = extra.get("reasoning") or extra.get("reasoning_content") or ""
    if choice.finish_reason == "length" and not text.strip():
        raise CallFailed("invalid_json", "the answer was cut at max_tokens before any output",
                         tokens_in, tokens_out)
    return Answer(text, tokens_in, tokens_out)


def parse(output: type[msgspec.Struct], answer: Answer) -> msgspec.Struct:
    """The typed answer, or :class:`CallFailed` (invalid_json / schema) with the tokens spent."""
    try:
        return validate(output, last_json_object(answer.text))
    except InvalidJson as exc:
        raise CallFailed("invalid_json", str(exc), answer.tokens_in, answer.tokens_out) from None
    except SchemaViolation as exc:
        raise CallFailed("schema", str(exc), answer.tokens_in, answer.tokens_out) from None


def elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
