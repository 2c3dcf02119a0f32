"""Running (subject × model) jobs: the baseline in-process, LLMs through the cache, the budget and
one bounded pool per provider endpoint. Every job ends as an :class:`Attempt` — ok, failed or
skipped — never as a made-up neutral answer."""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg

from azak_pipelines.lib.predictions import baseline
from azak_pipelines.lib.predictions.budget import Budget
from azak_pipelines.lib.predictions.cache import ResponseCache
from azak_pipelines.lib.predictions.context import Context
from azak_pipelines.lib.predictions.models import ModelSpec
from azak_pipelines.lib.predictions.prompt import Prompt, render
from azak_pipelines.lib.predictions.providers import (
    Answer,
    CallFailed,
    ProviderSettings,
    client_for,
    complete,
    elapsed_ms,
    parse,
    request_options,
)
from azak_pipelines.lib.predictions.schemas import OUTPUTS, StockReport, report_consistency

if TYPE_CHECKING:
    import openai

DEFAULT_MAX_TOKENS = 4000


@dataclass
class Attempt:
    model: ModelSpec
    context: Context
    status: str  # ok | failed | skipped
    prompt_version: str
    input_hash: str
    output: msgspec.Struct | None = None
    error_class: str | None = None
    error_message: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    cached: bool = False


@dataclass(frozen=True)
class Job:
    model: ModelSpec
    output: str  # news_impact | stock_report
    context: Context


def _validate(output: str, value: msgspec.Struct, answer: Answer) -> msgspec.Struct:
    if isinstance(value, StockReport):
        problem = report_consistency(value)
        if problem:
            raise CallFailed("schema", problem, answer.tokens_in, answer.tokens_out)
    return value


class Runner:
    def __init__(self, conn: psycopg.Connection[Any], keys: dict[str, str | None], settings: ProviderSettings,
                 budget: Budget, concurrency: int = 4, log: Callable[[str], None] | None = None):
        self.cache = ResponseCache(conn)
        self.keys, self.settings, self.budget = keys, settings, budget
        self.concurrency = concurrency
        self.log = log or (lambda _: None)
        self._pools: dict[str, asyncio.Semaphore] = {}
        self._clients: dict[int, openai.AsyncOpenAI] = {}
        self.requests = 0

    def run(self, jobs: list[Job]) -> list[Attempt]:
        return asyncio.run(self._run_all(jobs))

    async def _run_all(self, jobs: list[Job]) -> list[Attempt]:
        try:
            return list(await asyncio.gather(*(self._one(job) for job in jobs)))
        finally:
            for client in self._clients.values():
                await client.close()

    def _client(self, model: ModelSpec) -> "openai.AsyncOpenAI":
        if model.id not in self._clients:
            self._clients[model.id] = client_for(model, self.keys.get(model.key_env or ""), self.settings)
        return self._clients[model.id]

    async def _one(self, job: Job) -> Attempt:
        output_type = OUTPUTS[job.output]
        model = job.model
        mode = model.structured_mode if model.calls_a_provider else "prompt"
        prompt = render(job.output, job.context, mode, output_type)
        if model.provider == "baseline":
            return self._baseline(job, prompt)
        started = time.perf_counter()
        identity = model.identity()
        hit = self.cache.get(identity, prompt.input_hash)
        if hit is not None:
            answer = Answer(*hit)
            try:
                value = _validate(job.output, parse(output_type, answer), answer)
            except CallFailed:  # the schema changed since it was cached: ask again
                hit = None
        if hit is not None:
            return Attempt(model, job.context, "ok", prompt.version, prompt.input_hash, value,
                           tokens_in=answer.tokens_in, tokens_out=answer.tokens_out,
                           latency_ms=elapsed_ms(started), cached=True)
        pool = self._pools.setdefault(model.pool, asyncio.Semaphore(self.concurrency))
        async with pool:
            return await self._call(job, prompt, output_type, identity)

    def _baseline(self, job: Job, prompt: Prompt) -> Attempt:
        """The variant the registry's model identifier names; an unknown identifier is a failed attempt.
        Its rows record ``<identifier>/<output version>`` (``azak-baseline-v1/news_impact.v2``): the
        variant, and the schema whose fields it filled."""
        started = time.perf_counter()
        try:
            variant = baseline.variant_for(job.model.model)
        except baseline.UnknownVariant as exc:
            return Attempt(job.model, job.context, "failed", job.model.model, prompt.input_hash,
                           error_class="config", error_message=f"{job.model.name}: {exc}",
                           latency_ms=elapsed_ms(started))
        version = f"{variant.version}/{prompt.version}"
        try:
            value = (baseline.predict_news(job.context, variant) if job.output == "news_impact"
                     else baseline.report(job.context, variant))
        except baseline.BaselineUnavailable as exc:
            return Attempt(job.model, job.context, "failed", version, prompt.input_hash,
                           error_class="insufficient_data", error_message=str(exc), latency_ms=elapsed_ms(started))
        return Attempt(job.model, job.context, "ok", version, prompt.input_hash, value,
                       latency_ms=elapsed_ms(started))

    def _worst_case(self, model: ModelSpec, prompt: Prompt) -> float:
        prompt_tokens = len(json.dumps(prompt.messages, ensure_ascii=False))  # ≥ tokens for Korean text
        max_tokens = int(model.params.get("max_tokens", DEFAULT_MAX_TOKENS))
        return model.cost(prompt_tokens, max_tokens)

    async def _call(self, job: Job, prompt: Prompt, output_type: type[msgspec.Struct], identity: str) -> Attempt:
        model = job.model
        worst = self._worst_case(model, prompt)
        if not self.budget.reserve(worst):
            return Attempt(model, job.context, "skipped", prompt.version, prompt.input_hash,
                           error_class="budget", error_message=self.budget.reason())
        started = time.perf_counter()
        spent = 0.0
        try:
            client = self._client(model)
            self.requests += 1
            answer = await complete(client, model, prompt.messages,
                                    request_options(model, output_type, job.output))
            spent = model.cost(answer.tokens_in, answer.tokens_out)
            value = _validate(job.output, parse(output_type, answer), answer)
        except CallFailed as exc:
            spent = model.cost(exc.tokens_in, exc.tokens_out)
            self.log(f"{model.name} {job.context.stock_code}: {exc.error_class}: {exc.message}")
            return Attempt(model, job.context, "failed", prompt.version, prompt.input_hash,
                           error_class=exc.error_class, error_message=exc.message, tokens_in=exc.tokens_in,
                           tokens_out=exc.tokens_out, cost_usd=spent, latency_ms=elapsed_ms(started))
        finally:
            self.budget.settle(worst, spent)
        self.cache.put(identity, prompt.input_hash, answer.text, answer.tokens_in, answer.tokens_out)
        return Attempt(model, job.context, "ok", prompt.version, prompt.input_hash, value,
                       tokens_in=answer.tokens_in, tokens_out=answer.tokens_out, cost_usd=spent,
                       latency_ms=elapsed_ms(started))
