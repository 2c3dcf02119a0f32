"""The offline embedder: Korean morphemes and character n-grams, hashed into a dense vector.

Kiwi (kiwipiepy; its model ships on PyPI as kiwipiepy-model) splits the text into morphemes;
content morphemes (nouns, proper nouns, foreign words, numbers, verb and adjective stems), pairs
of adjacent content morphemes and character 2–3-grams of each word become features, weighted by
kind and by a sublinear term frequency, the title counting twice. Each feature is hashed with a
fixed seed to one of ``dimension`` coordinates with a sign — a fixed sparse random projection of
the weighted bag of features — so no corpus is fitted, nothing is downloaded and the same text
gives the same vector on every machine. Change anything here and bump ``VERSION``: the vectors
land in a new collection and Dagit marks the partitions stale.
"""

import hashlib
import itertools
import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np

from azak_core.embeddings.base import Embedder

VERSION = "1"
DIMENSION = 512

# weight per Kiwi tag; morphemes with other tags (particles, endings, symbols) are dropped
TAG_WEIGHTS = {
    "NNP": 2.0, "SL": 1.6, "SH": 1.6, "NNG": 1.0, "XR": 0.8, "SN": 0.6, "VV": 0.5, "VA": 0.5,
    "NR": 0.3, "W_HASHTAG": 1.0,
}
PAIR_WEIGHT = 0.6
NGRAM_WEIGHT = 0.35
TITLE_REPEAT = 2
WORD = re.compile(r"\w+")  # the same letters and digits prepare_text requires


@lru_cache(maxsize=1)
def _kiwi() -> Any:
    from kiwipiepy import Kiwi  # loading the model takes seconds: only when first needed

    return Kiwi(num_workers=0)


@lru_cache(maxsize=1 << 18)
def _slot(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8, key=b"azak-embed").digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSION, 1.0 if value >> 63 else -1.0


def features(title: str, body: str) -> Counter[str]:
    """The weighted features of one text (exposed for tests and for tuning)."""
    weighted: Counter[str] = Counter()
    for part, repeat in ((title, TITLE_REPEAT), (body, 1)):
        if not part:
            continue
        morphemes = [(t.form.lower(), t.tag) for t in _kiwi().tokenize(part) if t.tag in TAG_WEIGHTS]
        counts: Counter[str] = Counter()
        for form, tag in morphemes:
            counts[f"m:{form}"] += TAG_WEIGHTS[tag]
        for (a, _), (b, _) in itertools.pairwise(morphemes):
            counts[f"p:{a} {b}"] += PAIR_WEIGHT
        for word in WORD.findall(part.lower()):
            padded = f"<{word}>"
            for n in (2, 3):
                for i in range(len(padded) - n + 1):
                    counts[f"c:{padded[i:i + n]}"] += NGRAM_WEIGHT
        for feature, weight in counts.items():
            weighted[feature] += repeat * weight
    return weighted


def _sublinear(weight: float) -> float:
    return 1.0 + math.log(weight) if weight > 1.0 else weight


class OfflineEmbedder(Embedder):
    """Kiwi morphemes + character n-grams, hashed to 512 dimensions. Needs no key, no network."""

    name = "kiwi-hash"
    version = VERSION
    dimension = DIMENSION

    def _embed_batch(self, texts: list[str]) -> tuple[np.ndarray, int]:
        matrix = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            title, _, body = text.partition("\n")
            for feature, weight in features(title, body).items():
                slot, sign = _slot(feature)
                matrix[row, slot] += sign * _sublinear(weight)
        return matrix, 0
