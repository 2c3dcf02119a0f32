"""Which embedder a process uses: ``AZAK_EMBEDDER`` and the OpenAI settings, read by the caller."""

from dataclasses import dataclass

from azak_core.embeddings.base import Embedder, EmbeddingError
from azak_core.redact import redacted_repr

EMBEDDER_CHOICES = ("auto", "offline", "openai")


@dataclass(frozen=True)
class EmbedderSettings:
    """``choice`` is ``auto`` (OpenAI when a key is set, offline otherwise), ``offline`` or ``openai``."""

    choice: str = "auto"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "text-embedding-3-small"

    __repr__ = redacted_repr  # the key stays out of logs and tracebacks

    def resolved(self) -> str:
        if self.choice not in EMBEDDER_CHOICES:
            raise EmbeddingError(
                f"AZAK_EMBEDDER must be one of {', '.join(EMBEDDER_CHOICES)}, got {self.choice!r}")
        if self.choice == "auto":
            return "openai" if self.openai_api_key else "offline"
        if self.choice == "openai" and not self.openai_api_key:
            raise EmbeddingError("AZAK_EMBEDDER=openai needs AZAK_OPENAI_API_KEY (or OPENAI_API_KEY)")
        return self.choice

    def embedder_key(self) -> str:
        """``name@version`` of the embedder these settings select, without building it (code versions)."""
        if self.resolved() == "openai":
            return f"openai@{self.openai_model}"
        from azak_core.embeddings.offline import OfflineEmbedder

        return OfflineEmbedder().key


def select_embedder(settings: EmbedderSettings) -> Embedder:
    """The embedder the settings name (the OpenAI client is only imported when chosen)."""
    if settings.resolved() == "openai":
        from azak_core.embeddings.openai_embeddings import OpenAIEmbedder

        return OpenAIEmbedder(api_key=settings.openai_api_key or "", base_url=settings.openai_base_url,
                              model=settings.openai_model)
    from azak_core.embeddings.offline import OfflineEmbedder

    return OfflineEmbedder()
