"""Retrieval quality of an embedder on a labelled set, and the baseline it has to beat.

Items are ``{"id", "title", "content", "expect": {code: salient}, "story"?}``. For every item whose
salient company is also the salient company of another item, P@1 is how often its nearest
neighbour (itself excluded) shares one, hit@5 how often any of the top 5 does. Items with a
``story`` (the same event written up by two outlets) should find each other: duplicate P@1 and
hit@5. The baseline is a plain character 2–4-gram TF-IDF, fitted on the evaluated set itself.
:func:`halves` splits a set in two fixed halves, to tune on one and check on the other.
"""

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from azak_core.embeddings.base import Embedder, prepare_text, unit_rows


@dataclass(frozen=True)
class RetrievalScores:
    p_at_1: float
    hit_at_5: float
    duplicate_p_at_1: float
    duplicate_hit_at_5: float
    queries: int
    duplicate_queries: int

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def salient_codes(item: dict[str, Any]) -> set[str]:
    return {code for code, salient in (item.get("expect") or {}).items() if salient}


def score_similarities(items: Sequence[dict[str, Any]], similarity: np.ndarray) -> RetrievalScores:
    """Scores from a full item × item similarity matrix."""
    similarity = similarity.astype(np.float64).copy()
    np.fill_diagonal(similarity, -np.inf)
    ranked = np.argsort(-similarity, axis=1, kind="stable")[:, :5]
    codes = [salient_codes(item) for item in items]
    holders = Counter(code for found in codes for code in found)
    company_hits = [(bool(codes[i] & codes[ranked[i, 0]]), any(codes[i] & codes[j] for j in ranked[i]))
                    for i in range(len(items)) if any(holders[c] > 1 for c in codes[i])]
    stories = [item.get("story") for item in items]
    duplicate_hits = [(stories[ranked[i, 0]] == stories[i], any(stories[j] == stories[i] for j in ranked[i]))
                      for i in range(len(items)) if stories[i] and stories.count(stories[i]) > 1]

    def rate(pairs: list[tuple[bool, bool]], position: int) -> float:
        return sum(p[position] for p in pairs) / len(pairs) if pairs else math.nan

    return RetrievalScores(rate(company_hits, 0), rate(company_hits, 1), rate(duplicate_hits, 0),
                           rate(duplicate_hits, 1), len(company_hits), len(duplicate_hits))


def halves(items: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A fixed split by a hash of the story (or the id): both write-ups of a story land together."""
    split: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    for item in items:
        key = item.get("story") or item["id"]
        split[hashlib.md5(key.encode(), usedforsecurity=False).digest()[0] % 2].append(item)
    return split


def texts_of(items: Sequence[dict[str, Any]]) -> list[str]:
    return [prepare_text(item["title"], item.get("content", "")) for item in items]


def evaluate(embedder: Embedder, items: Sequence[dict[str, Any]]) -> RetrievalScores:
    vectors = embedder.embed(texts_of(items)).vectors
    return score_similarities(items, vectors @ vectors.T)


def char_ngram_tfidf(texts: Sequence[str], sizes: tuple[int, ...] = (2, 3, 4)) -> np.ndarray:
    """The baseline: character n-grams of the whole text, TF-IDF (smoothed idf), L2-normalised rows."""
    counts = [Counter(text[i:i + n] for n in sizes for i in range(len(text) - n + 1)) for text in texts]
    vocabulary = {gram: column for column, gram in enumerate({g for c in counts for g in c})}
    document_frequency = Counter(gram for c in counts for gram in c)
    idf = {gram: math.log((1 + len(texts)) / (1 + df)) + 1 for gram, df in document_frequency.items()}
    matrix = np.zeros((len(texts), len(vocabulary)), dtype=np.float32)
    for row, c in enumerate(counts):
        for gram, tf in c.items():
            matrix[row, vocabulary[gram]] = tf * idf[gram]
    return unit_rows(matrix)


def evaluate_baseline(items: Sequence[dict[str, Any]]) -> RetrievalScores:
    vectors = char_ngram_tfidf(texts_of(items))
    return score_similarities(items, vectors @ vectors.T)
