"""The offline embedder: Korean morphemes and character n-grams of names, hashed into a dense vector.

Kiwi (kiwipiepy; its model ships on PyPI as kiwipiepy-model) splits the text into morphemes.
Features, weighted by kind and by a sublinear term frequency, the title counting twice:

* content morphemes (nouns, proper nouns, foreign words, numbers, verb and adjective stems),
  proper nouns weighing most: in market news the company is what an article is about;
* pairs of adjacent content morphemes;
* character 2–3-grams of each run of adjacent nouns, foreign words and numbers as written
  ("SK하이닉스", "엘지전자", "HBM3E" without their particles), so a company spelled or abbreviated
  differently still meets ("하이닉스", "삼성바이오"); a run with a proper noun in it counts twice.
  Particles and endings make no n-grams (they made "삼성전자가" and "카카오가" share "가>").

``MARKET_WORDS``, the words nearly every market headline carries (price moves, broker-report
words, units, generic corporate verbs), are down-weighted and break n-gram runs: a fixed stop
list instead of an IDF, which would need a corpus to fit. Each feature is hashed with a fixed
seed to one of ``DIMENSION`` coordinates with a sign — a fixed sparse random projection of the
weighted bag of features — so no corpus is fitted, nothing is downloaded and the same text gives
the same vector on every machine. Change anything here and bump ``VERSION``: the vectors land in
a new collection and Dagit marks the partitions stale.
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

VERSION = "2"
# 1,024 rather than 512: fewer hash collisions between unrelated features, each a little noise in
# every cosine. Over six hash keys on the labelled set P@1 / hit@5 averaged 0.841 / 0.948 at 512
# and 0.848 / 0.953 at 1,024 (the unhashed features: 0.860 / 0.947); a vector is 4 KB, not 2 KB.
DIMENSION = 1024

# weight per Kiwi tag; morphemes with other tags (particles, endings, symbols) are dropped
TAG_WEIGHTS = {
    "NNP": 3.0, "SL": 1.6, "SH": 1.6, "NNG": 1.0, "XR": 0.8, "SN": 0.6, "VV": 0.5, "VA": 0.5,
    "NR": 0.3, "W_HASHTAG": 1.0,
}
# tags whose adjacent morphemes form one run for character n-grams (a name, a number with its unit)
RUN_TAGS = frozenset({"NNP", "NNG", "SL", "SH", "XR", "SN", "NR"})
PAIR_WEIGHT = 0.6
NGRAM_WEIGHT = 0.35
NGRAM_SIZES = (2, 3)
PROPER_RUN = 2.0  # n-grams of a run holding a proper noun
TITLE_REPEAT = 2
# Market boilerplate, as Kiwi analyses it: what most market articles say whatever the company.
# Written by hand, by meaning, and fitted on nothing: a fixed stand-in for the low IDF these words
# would get in any market-news corpus.
MARKET_VOCABULARY = {
    "price moves": "주가 주식 종목 주 상승 하락 급등 급락 강세 약세 반등 마감 장중 거래 신고가 오르 내리 떨어지",
    "broker reports": "목표 목표가 목표주가 상향 하향 투자의견 의견 매수 매도 유지 증권 증권사 리포트 보고서 전망 "
                      "기대 기대감 우려",
    "figures and units": "실적 분기 억 조 원 억원 조원 만 년 월 일 전년 대비 증가 감소 개선 기록 최대",
    "generic corporate words": "발표 결정 공시 계약 체결 확대 추진 사업 회사 기업 시장 밝히 하 되 있 늘 늘리",
}
MARKET_WORDS = frozenset(word for words in MARKET_VOCABULARY.values() for word in words.split())
MARKET_WORD_WEIGHT = 0.3
WORD = re.compile(r"\w+")  # the same letters and digits prepare_text requires


@lru_cache(maxsize=1)
def _kiwi() -> Any:
    from kiwipiepy import Kiwi  # loading the model takes seconds: only when first needed

    # A list of texts is analysed by one native thread per core (-1), in order and with the same
    # results as one at a time; a single text stays on the calling thread.
    return Kiwi(num_workers=-1)


@lru_cache(maxsize=1 << 18)
def _slot(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8, key=b"azak-embed").digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSION, 1.0 if value >> 63 else -1.0


Token = tuple[str, str, int, int]  # form (lower case), tag, start, end


def _runs(text: str, tokens: list[Token]) -> list[tuple[str, bool]]:
    """Maximal runs of touching content morphemes (market words excluded), as written in ``text``,
    each with whether it holds a proper noun."""
    runs: list[list[Any]] = []
    touching = False
    for form, tag, start, end in tokens:
        if tag not in RUN_TAGS or form in MARKET_WORDS:
            touching = False
        elif touching and start <= runs[-1][1]:
            run = runs[-1]
            run[1], run[2] = max(run[1], end), run[2] or tag == "NNP"
        else:
            runs.append([start, end, tag == "NNP"])
            touching = True
    return [(text[a:b].lower(), proper) for a, b, proper in runs]


def _ngrams(counts: dict[str, float], word: str, weight: float) -> None:
    padded = f"<{word}>"
    for n in NGRAM_SIZES:
        for i in range(len(padded) - n + 1):
            feature = "c:" + padded[i:i + n]
            counts[feature] = counts.get(feature, 0) + weight


def _weight(form: str) -> float:
    return MARKET_WORD_WEIGHT if form in MARKET_WORDS else 1.0


def _parts(title: str, body: str) -> list[tuple[str, int]]:
    return [(part, repeat) for part, repeat in ((title, TITLE_REPEAT), (body, 1)) if part]


def _tokens(analysis: Any) -> list[Token]:
    return [(t.form.lower(), t.tag, t.start, t.start + t.len) for t in analysis]


def features(title: str, body: str) -> Counter[str]:
    """The weighted features of one text (exposed for tests and for tuning)."""
    parts = _parts(title, body)
    return Counter(_features(parts, [_tokens(_kiwi().tokenize(part)) for part, _ in parts]))


def _features(parts: list[tuple[str, int]], analyses: list[list[Token]]) -> dict[str, float]:
    """The weighted features of one text's parts, given Kiwi's analysis of each (plain dicts and
    ``get`` rather than ``Counter``: the same sums in the same order, without its per-key calls)."""
    weighted: dict[str, float] = {}
    for (part, repeat), tokens in zip(parts, analyses, strict=True):
        morphemes = [(form, tag) for form, tag, _, _ in tokens if tag in TAG_WEIGHTS]
        counts: dict[str, float] = {}
        for form, tag in morphemes:
            feature = "m:" + form
            counts[feature] = counts.get(feature, 0) + TAG_WEIGHTS[tag] * _weight(form)
        for (a, _), (b, _) in itertools.pairwise(morphemes):
            feature = f"p:{a} {b}"
            counts[feature] = counts.get(feature, 0) + PAIR_WEIGHT * min(_weight(a), _weight(b))
        for run, proper in _runs(part, tokens):
            _ngrams(counts, run, NGRAM_WEIGHT * (PROPER_RUN if proper else 1.0))
        for feature, weight in counts.items():
            weighted[feature] = weighted.get(feature, 0) + repeat * weight
    if not weighted:  # nothing Kiwi calls content ("ㅋㅋㅋ", "하하"): the words' n-grams, as written
        for part, repeat in parts:
            for word in WORD.findall(part.lower()):
                _ngrams(weighted, word, repeat * NGRAM_WEIGHT)
    return weighted


def _sublinear(weight: float) -> float:
    return 1.0 + math.log(weight) if weight > 1.0 else weight


class OfflineEmbedder(Embedder):
    """Kiwi morphemes + character n-grams, hashed to 1,024 dimensions. Needs no key, no network."""

    name = "kiwi-hash"
    version = VERSION
    dimension = DIMENSION

    def _embed_batch(self, texts: list[str]) -> tuple[np.ndarray, int]:
        parts = [_parts(title, body) for title, _, body in (text.partition("\n") for text in texts)]
        # Kiwi's threads analyse the batch ahead of this loop, which turns each text's analyses into
        # features while they work; the tokens come back in the order of ``parts``.
        analysed = iter(_kiwi().tokenize([part for text_parts in parts for part, _ in text_parts]))
        rows: list[int] = []
        slots: list[int] = []
        values: list[float] = []
        for row, text_parts in enumerate(parts):
            for feature, weight in _features(text_parts, [_tokens(next(analysed)) for _ in text_parts]).items():
                slot, sign = _slot(feature)
                rows.append(row)
                slots.append(slot)
                values.append(sign * _sublinear(weight))
        matrix = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        # float32 sums in the features' order, as one ``matrix[row, slot] += value`` after another
        np.add.at(matrix, (np.array(rows, dtype=np.intp), np.array(slots, dtype=np.intp)),
                  np.array(values, dtype=np.float32))
        return matrix, 0
