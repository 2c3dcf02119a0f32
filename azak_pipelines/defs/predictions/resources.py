"""The LLM settings every prediction run uses: keys, budget, timeouts, concurrency."""

import os

import dagster as dg

from azak_core.egress import (
    DEFAULT_KEY_ENV,
    HOSTS_VAR,
    KEY_VARIABLES_VAR,
    PRIVATE_NETWORKS_VAR,
    EgressPolicy,
    EgressSettingError,
)
from azak_pipelines.defs.resources import SecretSafeResource, env_config
from azak_pipelines.lib.predictions.budget import Budget
from azak_pipelines.lib.predictions.models import ModelSpec
from azak_pipelines.lib.predictions.providers import ProviderSettings


class LlmResource(SecretSafeResource):
    """LLM providers. Keys come from the environment variables the registry names
    (``AZAK_OPENAI_API_KEY``, ``AZAK_OPENROUTER_API_KEY`` by default), only those the operator
    lists in ``AZAK_LLM_KEY_VARIABLES``, and go only to the hosts of ``AZAK_LLM_BASE_URL_HOSTS``
    (keyless models: also loopback and ``AZAK_LLM_PRIVATE_NETWORKS``); ``AZAK_LLM_BUDGET_USD`` caps
    what one run may spend (empty: no cap); calls are bounded per provider endpoint."""

    openai_api_key: str | None = None
    openrouter_api_key: str | None = None
    key_variables: str = ""  # comma-separated; empty: the OpenAI and OpenRouter key variables
    base_url_hosts: str = ""  # comma-separated; empty: api.openai.com, openrouter.ai
    private_networks: str = ""  # comma-separated CIDR; empty: none beyond loopback (keyless only)
    budget_usd: str = ""  # text so that an unset variable means "no cap"
    timeout_s: float = 60.0
    max_retries: int = 2
    concurrency_per_provider: int = 4
    openrouter_referer: str = "https://github.com/azak-ai/azak"
    openrouter_title: str = "Azak"

    def budget(self) -> Budget:
        text = self.budget_usd.strip()
        if not text:
            return Budget(None)
        try:
            limit = float(text)
        except ValueError:
            raise dg.Failure(f"AZAK_LLM_BUDGET_USD must be a number of US dollars, got {text!r}") from None
        if limit < 0:
            raise dg.Failure(f"AZAK_LLM_BUDGET_USD must not be negative, got {limit}")
        return Budget(limit)

    def egress(self) -> EgressPolicy:
        try:
            return EgressPolicy.parse(self.key_variables, self.base_url_hosts, self.private_networks)
        except EgressSettingError as exc:
            raise dg.Failure(str(exc)) from None

    def provider_settings(self) -> ProviderSettings:
        return ProviderSettings(self.timeout_s, self.max_retries,
                                {"HTTP-Referer": self.openrouter_referer, "X-Title": self.openrouter_title},
                                egress=self.egress())

    def api_keys(self, models: list[ModelSpec]) -> dict[str, str | None]:
        """Each model's key by the variable the registry names, if the operator allows that
        variable (another is never read: the call fails as ``config``). The two default names are
        fields; another allowed variable is read from this run's environment, since the registry
        (read when the run starts) is the only place that names it."""
        declared = {DEFAULT_KEY_ENV["openai"]: self.openai_api_key,
                    DEFAULT_KEY_ENV["openrouter"]: self.openrouter_api_key}
        policy = self.egress()
        keys: dict[str, str | None] = {}
        for model in models:
            name = model.key_env
            if name and policy.key_problem(name) is None:
                keys[name] = declared[name] if name in declared else (os.environ.get(name) or None)
        return keys


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"llm": LlmResource(**env_config(LlmResource, {
        "openai_api_key": "AZAK_OPENAI_API_KEY", "openrouter_api_key": "AZAK_OPENROUTER_API_KEY",
        "budget_usd": "AZAK_LLM_BUDGET_USD", "key_variables": KEY_VARIABLES_VAR,
        "base_url_hosts": HOSTS_VAR, "private_networks": PRIVATE_NETWORKS_VAR}))})
