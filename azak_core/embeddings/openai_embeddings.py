"""OpenAI embeddings (``text-embedding-3-small``) through the official client.

``base_url`` points the client at any OpenAI-compatible server. The client retries 408/409/429
and 5xx answers with exponential backoff (honouring ``Retry-After``) up to ``max_retries`` times;
what it still cannot do is raised as :class:`EmbeddingError` with the provider's message. Token
counts come from the responses' ``usage``.
"""

import numpy as np
import openai

from azak_core.embeddings.base import Embedder, EmbeddingError

DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


class OpenAIEmbedder(Embedder):
    name = "openai"
    batch_size = 512  # the API takes up to 2,048 inputs; smaller requests retry cheaper

    def __init__(self, api_key: str, model: str = "text-embedding-3-small", base_url: str | None = None,
                 max_retries: int = 5, timeout: float = 60.0, dimension: int | None = None):
        if model not in DIMENSIONS and dimension is None:
            raise EmbeddingError(f"unknown dimension for OpenAI model {model!r}; pass it explicitly")
        self.model = model
        self.version = model  # the model is the vector space
        self.dimension = dimension or DIMENSIONS[model]
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url or None, max_retries=max_retries,
                                    timeout=timeout)

    def _embed_batch(self, texts: list[str]) -> tuple[np.ndarray, int]:
        try:
            response = self.client.embeddings.create(model=self.model, input=texts, encoding_format="float")
        except openai.APIStatusError as error:
            raise EmbeddingError(
                f"OpenAI embeddings failed with HTTP {error.status_code} after retries: {error.message}"
            ) from error
        except openai.APIConnectionError as error:
            raise EmbeddingError(f"cannot reach the OpenAI embeddings endpoint: {error}") from error
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(texts):
            raise EmbeddingError(f"OpenAI returned {len(rows)} embeddings for {len(texts)} texts")
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if vectors.shape[1] != self.dimension:
            raise EmbeddingError(f"{self.model} returned {vectors.shape[1]} dimensions, expected {self.dimension}")
        return vectors, response.usage.total_tokens if response.usage else 0
