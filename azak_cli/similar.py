"""`azak similar`: each input's nearest neighbours among the other inputs, to judge the embedder.

Input lines: ``{"id": …, "title": …, "content": …}`` (a file or standard input). Output lines:
``{"id": …, "neighbors": [{"id", "similarity"}]}`` in input order, the ``k`` most similar other
inputs first (equal similarities in input order). The texts are embedded with the configured
embedder (``AZAK_EMBEDDER``) and searched exactly in memory: the cosine (inner product of the unit
vectors, the metric of the Milvus collections) of every pair, a block of rows at a time. A
throw-away set needs no index: writing and indexing it in a throw-away milvus-lite collection cost
more than comparing every pair (issue 29 measured 181–203 articles/s at 10,000 that way), and the
stored collection, which the API and the pipelines search, stays in Milvus. The time grows with the
square of the inputs (about 10¹¹ multiply-adds at 10,000). A line that is not a JSON object with a
title is reported on standard error and skipped; an input with nothing to embed (emoji only) gets
no neighbours and an ``error``; the exit status is 1 if any line was skipped.
"""

import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from azak_cli.jsonl import json_objects
from azak_core import settings_registry

BLOCK_CELLS = 1 << 23  # similarities computed at once: 32 MB of float32 (128 MB was no faster)


def _check_input(record: dict[str, Any]) -> None:
    if not isinstance(record.get("title", ""), str) or not isinstance(record.get("content", ""), str):
        raise ValueError("title and content must be strings")
    if "id" not in record:
        raise ValueError("no id")


def read_inputs(lines: Iterable[str], err: IO[str]) -> tuple[list[dict[str, Any]], int]:
    read = list(json_objects(lines, err, "similar", _check_input))
    return [record for record in read if record is not None], read.count(None)


def embedder_from_env() -> Any:
    from azak_core.embeddings import EmbedderSettings, select_embedder

    key = settings_registry.read("AZAK_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY", "").strip()
    return select_embedder(EmbedderSettings(
        settings_registry.read_or("AZAK_EMBEDDER", "auto"), key or None,
        settings_registry.read("AZAK_OPENAI_BASE_URL"),
        settings_registry.read_or("AZAK_OPENAI_EMBEDDING_MODEL", "text-embedding-3-small")))


def nearest(vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    """For each unit row, its ``k`` most similar other rows as (row, cosine), most similar first,
    equal cosines by row number: exact, one block of rows against all at a time, into one buffer
    (a fresh 128 MB array per block cost as much system time in page faults as the selection)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count = len(vectors)
    take = min(k, count - 1)
    if take < 1:
        return [[] for _ in range(count)]
    block = max(1, BLOCK_CELLS // count)
    buffer = np.empty((min(block, count), count), dtype=np.float32)
    found: list[list[tuple[int, float]]] = []
    for start in range(0, count, block):
        similarity = np.matmul(vectors[start:start + block], vectors.T, out=buffer[:min(block, count - start)])
        rows = np.arange(len(similarity))
        similarity[rows, rows + start] = -np.inf  # not itself
        least = np.partition(similarity, -take, axis=1)[:, -take]  # each row's k-th largest
        row_of, candidate = np.nonzero(similarity >= least[:, None])  # ties at the k-th included
        score = similarity[row_of, candidate]
        order = np.lexsort((candidate, -score, row_of))  # by row, most similar first, then row number
        row_of, candidate, score = row_of[order], candidate[order], score[order]
        first = np.searchsorted(row_of, rows)  # where each row's candidates begin
        keep = np.arange(len(row_of)) - first[row_of] < take
        if keep.sum() != len(rows) * take:  # a row of NaNs has no candidate: the rows would shift
            raise ValueError("a vector with no similarity to any other (not finite): the neighbours would misalign")
        found.extend(list(zip(ids, scores, strict=True)) for ids, scores in
                     zip(candidate[keep].reshape(-1, take).tolist(), score[keep].reshape(-1, take).tolist(),
                         strict=True))
    return found


def neighbours(records: list[dict[str, Any]], k: int, err: IO[str]) -> list[dict[str, Any]]:
    from azak_core.embeddings import EmbeddingError, prepare_text

    embedder = embedder_from_env()
    texts: dict[int, str] = {}
    errors: dict[int, str] = {}
    for index, record in enumerate(records):
        try:
            texts[index] = prepare_text(record.get("title", ""), record.get("content", ""))
        except EmbeddingError as exc:
            errors[index] = str(exc)
    started = time.monotonic()
    print(f"azak similar: embedding {len(texts)} texts with {embedder.key}…", file=err, flush=True)
    vectors = embedder.embed(list(texts.values())).vectors
    print(f"azak similar: embedded in {time.monotonic() - started:.1f} s; searching…", file=err, flush=True)
    ids = list(texts)
    found = {ids[row]: [{"id": records[ids[other]]["id"], "similarity": round(similarity, 4)}
                        for other, similarity in hits]
             for row, hits in enumerate(nearest(vectors, k))}
    results = []
    for index, record in enumerate(records):
        result: dict[str, Any] = {"id": record["id"], "neighbors": found.get(index, [])}
        if index in errors:
            result["error"] = errors[index]
        results.append(result)
    return results


def main(path: str, k: int) -> int:
    with sys.stdin if path == "-" else Path(path).open(encoding="utf-8") as source:
        records, skipped = read_inputs(source, sys.stderr)
    for result in neighbours(records, k, sys.stderr):
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 1 if skipped else 0
