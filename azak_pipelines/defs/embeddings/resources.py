"""The embedder and the Milvus vector store, as resources fed from the environment."""

import dagster as dg

from azak_core.embeddings import Embedder, EmbedderSettings, select_embedder
from azak_core.vectors import NewsVectors
from azak_pipelines.defs.resources import SecretSafeResource


class EmbedderResource(SecretSafeResource):
    """The text embedder (``AZAK_EMBEDDER``: auto | offline | openai). ``auto`` uses OpenAI's
    ``text-embedding-3-small`` when ``AZAK_OPENAI_API_KEY`` (or ``OPENAI_API_KEY``) is set and the
    offline Korean embedder otherwise; ``AZAK_OPENAI_BASE_URL`` points at a compatible server."""

    choice: str = "auto"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "text-embedding-3-small"

    def settings(self) -> EmbedderSettings:
        return EmbedderSettings(self.choice, self.openai_api_key or None, self.openai_base_url or None,
                                self.openai_model)

    def embedder(self) -> Embedder:
        return select_embedder(self.settings())


class VectorStore(SecretSafeResource):
    """Milvus (``AZAK_MILVUS_URI``; ``azak`` starts an embedded milvus-lite server and sets it)."""

    milvus_uri: str = ""

    def collection(self, embedder: Embedder) -> NewsVectors:
        if not self.milvus_uri:
            raise dg.Failure("AZAK_MILVUS_URI is not set: run through `azak` (it starts the embedded Milvus) "
                             "or point AZAK_MILVUS_URI at a Milvus server")
        return NewsVectors(self.milvus_uri, embedder.key, embedder.dimension)
