"""`azak similar`: each input's nearest neighbours among the other inputs, to judge the embedder.

Input lines: ``{"id": …, "title": …, "content": …}`` (a file or standard input). Output lines:
``{"id": …, "neighbors": [{"id", "similarity"}]}`` in input order, the ``k`` most similar other
inputs first. The texts are embedded with the configured embedder (``AZAK_EMBEDDER``) and searched
in a throw-away Milvus collection (the embedded server unless ``AZAK_MILVUS_URI`` is set), dropped
afterwards. A line that is not a JSON object with a title is reported on standard error and
skipped; an input with nothing to embed (emoji only) gets no neighbours and an ``error``; the exit
status is 1 if any line was skipped.
"""

import json
import os
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from azak_cli.jsonl import json_objects
from azak_core import settings_registry

SEARCH_BATCH = 100


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


def neighbours(records: list[dict[str, Any]], k: int, milvus_uri: str, err: IO[str]) -> list[dict[str, Any]]:
    from azak_core.embeddings import EmbeddingError, prepare_text
    from azak_core.vectors import ArticleVector, NewsVectors

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
    store = NewsVectors(milvus_uri, embedder.key, embedder.dimension, name=f"scratch_{uuid.uuid4().hex}")
    epoch = datetime.fromtimestamp(0, UTC)
    ids = list(texts)
    try:
        store.ensure()
        store.replace_days([], [ArticleVector(i + 1, epoch.date(), epoch, [], "cli", "news", i + 1, vector)
                                for i, vector in zip(ids, vectors, strict=True)])
        found: dict[int, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), SEARCH_BATCH):
            batch = ids[start:start + SEARCH_BATCH]
            hits = store.search_many([vectors[ids.index(i)] for i in batch], k + 1)
            for index, hit_list in zip(batch, hits, strict=True):
                found[index] = [{"id": records[h.news_id - 1]["id"], "similarity": round(h.similarity, 4)}
                                for h in hit_list if h.news_id != index + 1][:k]
    finally:
        store.drop()
        store.close()
    results = []
    for index, record in enumerate(records):
        result: dict[str, Any] = {"id": record["id"], "neighbors": found.get(index, [])}
        if index in errors:
            result["error"] = errors[index]
        results.append(result)
    return results


def main(path: str, k: int) -> int:
    from azak_cli.runtime import environment

    with sys.stdin if path == "-" else Path(path).open(encoding="utf-8") as source:
        records, skipped = read_inputs(source, sys.stderr)
    external = settings_registry.read("AZAK_MILVUS_URI")
    server = None if external else environment.embedded_milvus()
    started = server.start() if server else False
    try:
        uri = external or (server.uri if server else "")
        for result in neighbours(records, k, uri, sys.stderr):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    finally:
        if server is not None and started:
            server.stop()
    return 1 if skipped else 0
