"""Duplicate and near-duplicate headlines → story clusters. Pure, deterministic, numpy-fast.

* Exact duplicates (the same canonical URL, e.g. one Naver article on two list pages) are merged
  by the caller before clustering.
* Near duplicates: titles are normalised (bracket tags such as ``[속보]``, punctuation and spaces
  removed), cut into character bigrams, and MinHash-ed (64 multiply-shift hashes). Locality
  sensitive hashing (16 bands of 4) proposes candidate pairs, which are confirmed when their exact
  bigram Jaccard similarity reaches the threshold and they were published within the window. Pairs
  are joined with union-find; every item is kept, the earliest of each cluster is its canonical one.
* Figures must agree: "3분기 영업이익 10조" and "2분기 영업이익 10조" are different stories however
  alike they read, so two titles that both carry numbers are only joined when the numbers match.
"""

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

HASHES = 64
BANDS = 16
ROWS = HASHES // BANDS
MAX_BUCKET = 400  # a bucket this crowded is a boilerplate headline, not a story
_TAGS = re.compile(r"[\[\(【〔<][^\]\)】〕>]{1,12}[\]\)】〕>]")
_NOISE = re.compile(r"[^\w]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_RNG = np.random.default_rng(20251201)
_MULT = (_RNG.integers(1, 2**63, HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1))
_ADD = _RNG.integers(0, 2**63, HASHES, dtype=np.uint64)


def normalise_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).lower()
    text = _TAGS.sub(" ", text)
    return _NOISE.sub("", text)


def bigrams(normalised: str) -> set[int]:
    """Character bigrams as integers (stable across processes, unlike ``hash``)."""
    if len(normalised) < 2:
        return {ord(normalised)} if normalised else set()
    codes = [ord(c) for c in normalised]
    return {(a << 21) | b for a, b in itertools.pairwise(codes)}


def figures(title: str) -> frozenset[str]:
    return frozenset(n.replace(",", "") for n in _NUMBER.findall(unicodedata.normalize("NFKC", title)))


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


@dataclass(frozen=True)
class Headline:
    key: str  # stable identity (e.g. the article id)
    title: str
    published_at: datetime


@dataclass(frozen=True)
class Cluster:
    cluster_key: str  # the canonical member's key
    is_canonical: bool
    size: int


def _signatures(shingle_sets: list[set[int]]) -> np.ndarray:
    lengths = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    flat = np.fromiter((x for s in shingle_sets for x in s), dtype=np.uint64, count=int(lengths.sum()))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    signatures = np.full((len(shingle_sets), HASHES), np.iinfo(np.uint64).max, dtype=np.uint64)
    present = lengths > 0
    if not flat.size:
        return signatures
    with np.errstate(over="ignore"):
        for k in range(HASHES):
            hashed = (flat * _MULT[k] + _ADD[k]) >> np.uint64(32)
            signatures[present, k] = np.minimum.reduceat(hashed, starts[present])
    return signatures


def _candidate_pairs(signatures: np.ndarray, order_time: np.ndarray, window_seconds: float) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    mix = np.uint64(0x9E3779B97F4A7C15)
    for band in range(BANDS):
        block = signatures[:, band * ROWS:(band + 1) * ROWS]
        keys = np.zeros(len(block), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for column in range(ROWS):
                keys = (keys ^ block[:, column]) * mix
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
        starts = np.concatenate(([0], boundaries))
        ends = np.concatenate((boundaries, [len(sorted_keys)]))
        sizes = ends - starts
        for group in np.flatnonzero((sizes >= 2) & (sizes <= MAX_BUCKET)):
            members = sorted(order[starts[group]:ends[group]].tolist(), key=lambda i: order_time[i])
            for i, left in enumerate(members):
                for right in members[i + 1:]:
                    if order_time[right] - order_time[left] > window_seconds:
                        break
                    pairs.add((left, right) if left < right else (right, left))
    return pairs


def cluster_headlines(headlines: Sequence[Headline], threshold: float = 0.6,
                      window: timedelta = timedelta(hours=48)) -> dict[str, Cluster]:
    """Cluster membership for every headline (singletons are clusters of one)."""
    count = len(headlines)
    if count == 0:
        return {}
    shingle_sets = [bigrams(normalise_title(h.title)) for h in headlines]
    numbers = [figures(h.title) for h in headlines]
    times = np.array([h.published_at.timestamp() for h in headlines], dtype=np.float64)
    signatures = _signatures(shingle_sets)
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for left, right in _candidate_pairs(signatures, times, window.total_seconds()):
        if numbers[left] and numbers[right] and numbers[left] != numbers[right]:
            continue
        if jaccard(shingle_sets[left], shingle_sets[right]) >= threshold:
            root_left, root_right = find(left), find(right)
            if root_left != root_right:
                parent[root_right] = root_left
    members: dict[int, list[int]] = {}
    for i in range(count):
        members.setdefault(find(i), []).append(i)
    clusters: dict[str, Cluster] = {}
    for group in members.values():
        canonical = min(group, key=lambda i: (headlines[i].published_at, headlines[i].key))
        for i in group:
            clusters[headlines[i].key] = Cluster(headlines[canonical].key, i == canonical, len(group))
    return clusters
