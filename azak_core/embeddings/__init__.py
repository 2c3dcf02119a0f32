"""Text embedders: one interface, an offline default that reads Korean, and OpenAI.

The pipelines embed articles and the API embeds search queries with the same embedder, chosen
by :func:`select_embedder` from settings the caller reads (``AZAK_EMBEDDER`` and the OpenAI
variables); vectors of different embedders never share a collection (see ``azak_core.vectors``).
"""

from azak_core.embeddings.base import Embedder, Embedding, EmbeddingError, prepare_text
from azak_core.embeddings.select import EMBEDDER_CHOICES, EmbedderSettings, select_embedder

__all__ = [
    "EMBEDDER_CHOICES", "Embedder", "EmbedderSettings", "Embedding", "EmbeddingError", "prepare_text",
    "select_embedder",
]
