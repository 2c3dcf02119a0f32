"""The interface every embedder implements, and the text rules they share."""

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Title and summary are what we embed; a 100 KB body pasted into a summary is cut here, so the
# offline embedder stays fast and OpenAI stays under its 8,191-token input limit.
MAX_CHARS = 4000


class EmbeddingError(ValueError):
    """A text cannot be embedded; the message says why and what to do."""


def prepare_text(title: str, content: str = "") -> str:
    """The text an article is embedded as: title, then content, NFC, capped at ``MAX_CHARS``.

    Raises :class:`EmbeddingError` when nothing is left to embed (empty, whitespace, emoji or
    punctuation only): such an article has no meaning to compare, and a made-up vector would
    make all of them each other's nearest neighbours."""
    text = unicodedata.normalize("NFC", f"{title or ''}\n{content or ''}").strip()
    if not any(ch.isalnum() for ch in text):
        raise EmbeddingError("no letters or digits to embed (empty, emoji or punctuation only)")
    return text[:MAX_CHARS]


@dataclass(frozen=True)
class Embedding:
    """Unit vectors (``float32``, one row per text) and the tokens the provider billed."""

    vectors: np.ndarray
    tokens: int


class Embedder(ABC):
    """Turns texts into unit vectors of a fixed dimension. ``name`` and ``version`` identify the
    vector space: two embedders with the same pair produce comparable vectors, nothing else does."""

    name: str
    version: str
    dimension: int
    batch_size: int = 256
    # a request's characters (≈ tokens for Korean), under providers' per-request token limits
    batch_chars: int = 200_000

    @property
    def key(self) -> str:
        """``name@version``: what code versions, collection names and rows record."""
        return f"{self.name}@{self.version}"

    def embed(self, texts: Sequence[str]) -> Embedding:
        """Embed ``texts`` in batches of ``batch_size``; every text must pass :func:`prepare_text`."""
        if not texts:
            return Embedding(np.zeros((0, self.dimension), dtype=np.float32), 0)
        parts, tokens = [], 0
        for batch in self.batches(texts):
            vectors, used = self._embed_batch(batch)
            parts.append(vectors)
            tokens += used
        return Embedding(unit_rows(np.vstack(parts)), tokens)

    def batches(self, texts: Sequence[str]) -> list[list[str]]:
        """Consecutive batches of at most ``batch_size`` texts and about ``batch_chars`` characters."""
        batches: list[list[str]] = [[]]
        chars = 0
        for text in texts:
            if batches[-1] and (len(batches[-1]) >= self.batch_size or chars + len(text) > self.batch_chars):
                batches.append([])
                chars = 0
            batches[-1].append(text)
            chars += len(text)
        return batches

    @abstractmethod
    def _embed_batch(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """Vectors (any scale) for one batch and its token count."""


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (cosine similarity = inner product); an all-zero row is an error."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise EmbeddingError("an embedder returned a zero vector; the text has nothing to embed")
    return matrix / norms
