"""The embeddings domain: the embedder is chosen when the code location loads (its name and version
are the assets' code version), its credentials are read when a run starts."""

import os

import dagster as dg

from azak_core import settings_registry
from azak_core.embeddings import EmbedderSettings
from azak_pipelines.defs.embeddings.assets import embedding_assets
from azak_pipelines.defs.embeddings.checks import embeddings_match_articles
from azak_pipelines.defs.embeddings.resources import EmbedderResource, VectorStore
from azak_pipelines.defs.resources import env_config


def _key_variable() -> str | None:
    """Which variable holds the OpenAI key, if any (its value stays in the environment)."""
    # OPENAI_API_KEY is the openai client's own name for it, read as a fallback
    if settings_registry.read("AZAK_OPENAI_API_KEY"):
        return "AZAK_OPENAI_API_KEY"
    return "OPENAI_API_KEY" if os.environ.get("OPENAI_API_KEY", "").strip() else None


@dg.definitions
def embeddings() -> dg.Definitions:
    key_variable = _key_variable()
    choice = settings_registry.read_or("AZAK_EMBEDDER", "auto")
    model = settings_registry.read_or("AZAK_OPENAI_EMBEDDING_MODEL", "text-embedding-3-small")
    settings = EmbedderSettings(choice, "set" if key_variable else None, None, model)
    embedder_key = settings.embedder_key()
    base_url = dg.EnvVar("AZAK_OPENAI_BASE_URL") if settings_registry.read("AZAK_OPENAI_BASE_URL") else None
    return dg.Definitions(
        assets=embedding_assets(embedder_key),
        asset_checks=[embeddings_match_articles],
        resources={
            "embedder": EmbedderResource(
                choice=choice, openai_api_key=dg.EnvVar(key_variable) if key_variable else None,
                openai_base_url=base_url, openai_model=model),
            "vector_store": VectorStore(**env_config(VectorStore, {"milvus_uri": "AZAK_MILVUS_URI"})),
        },
    )
