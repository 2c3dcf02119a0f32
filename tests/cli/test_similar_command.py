"""`azak similar`: JSON Lines in, each input's nearest other inputs out, by an exact search in
memory: the same neighbours as a search of the same vectors in a real Milvus collection."""

import json
import os
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import BIN, PROJECT_ROOT

LABELLED = PROJECT_ROOT / "tests" / "linker" / "labelled_news.jsonl"

LINES = [
    {"id": "a1", "title": "삼성전자, 3분기 영업이익 9조1천억원 잠정 집계", "content": "메모리 업황 회복"},
    {"id": "a2", "title": "삼성전자 3분기 잠정 영업익 9.1조…반도체 회복세", "content": "영업이익이 9조원을 넘었다"},
    {"id": 3, "title": "현대차, 미국 조지아 전기차 공장 가동", "content": "메타플랜트에서 생산 시작"},
    {"id": "b4", "title": "현대자동차 美 메타플랜트 본격 가동", "content": "전기차 전용 공장"},
    {"id": "e5", "title": "🚀🚀", "content": ""},
]


def azak_similar(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "azak"), "similar", *args], input=stdin, capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=300, env=env)


def test_nearest_other_inputs(tmp_path):
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in LINES) + "\nnot json\n"
    result = azak_similar("--k", "2", stdin=stdin, env=no_milvus(tmp_path))
    assert result.returncode == 1, result.stderr  # one line skipped
    assert "line 6:" in result.stderr and "kiwi-hash@2" in result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a1", "a2", 3, "b4", "e5"]
    by_id = {o["id"]: o for o in out}
    assert by_id["a1"]["neighbors"][0]["id"] == "a2" and by_id["a2"]["neighbors"][0]["id"] == "a1"
    assert by_id[3]["neighbors"][0]["id"] == "b4" and by_id["b4"]["neighbors"][0]["id"] == 3
    for o in out[:4]:
        assert len(o["neighbors"]) == 2 and all(n["id"] != o["id"] for n in o["neighbors"])
        assert o["neighbors"][0]["similarity"] >= o["neighbors"][1]["similarity"]
    assert by_id["e5"]["neighbors"] == [] and "no letters or digits" in by_id["e5"]["error"]
    assert not (tmp_path / "milvus").exists()  # no Milvus started, none needed


def no_milvus(home: Path) -> dict[str, str]:
    """An environment where no Milvus answers: the search is the command's own."""
    env = {k: v for k, v in os.environ.items() if k != "AZAK_MILVUS_URI"}
    env.update({"AZAK_HOME": str(home), "AZAK_MILVUS_URI": "http://127.0.0.1:9", "AZAK_EMBEDDER": "offline"})
    return env


def distinct_labelled(count: int) -> list[dict[str, object]]:
    """Labelled articles with distinct texts (equal texts tie, and ties may come in any order)."""
    from azak_core.embeddings import EmbeddingError, prepare_text

    seen, items = set(), []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        try:
            text = prepare_text(item["title"], item["content"])
        except EmbeddingError:  # nothing to embed: no neighbours either way
            continue
        if text not in seen:
            seen.add(text)
            items.append({"id": item["id"], "title": item["title"], "content": item["content"]})
    return items[:count]


def milvus_neighbours(uri: str, items: list[dict[str, object]], k: int) -> list[dict[str, object]]:
    """What `azak similar` answered when it searched a throw-away Milvus collection: the same
    texts embedded, written, searched for k + 1, itself left out."""
    from azak_core.embeddings import prepare_text
    from azak_core.embeddings.offline import OfflineEmbedder
    from azak_core.vectors import ArticleVector, NewsVectors

    embedder = OfflineEmbedder()
    vectors = embedder.embed([prepare_text(str(i["title"]), str(i["content"])) for i in items]).vectors
    store = NewsVectors(uri, embedder.key, embedder.dimension, name=f"scratch_{uuid.uuid4().hex}")
    epoch = datetime.fromtimestamp(0, UTC)
    try:
        store.ensure()
        store.replace_days([], [ArticleVector(n + 1, epoch.date(), epoch, [], "cli", "news", n + 1, vector)
                                for n, vector in enumerate(vectors)])
        hits = store.search_many(list(vectors), k + 1)
    finally:
        store.drop()
        store.close()
    return [{"id": item["id"], "neighbors": [{"id": items[h.news_id - 1]["id"], "similarity": round(h.similarity, 4)}
                                             for h in found if h.news_id != n + 1][:k]}
            for n, (item, found) in enumerate(zip(items, hits, strict=True))]


def test_the_same_neighbours_as_a_milvus_search_of_the_same_vectors(milvus_uri, tmp_path):
    items = distinct_labelled(200)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    result = azak_similar(str(path), "--k", "5", env=no_milvus(tmp_path))
    assert result.returncode == 0, result.stderr
    answered = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answered) == 200
    assert answered == milvus_neighbours(milvus_uri, items, 5)


def test_bad_arguments_are_clear_errors():
    assert "no such file" in azak_similar("/nonexistent.jsonl").stderr
    result = azak_similar("--k", "0", stdin="")
    assert result.returncode == 2 and "--k must be between 1 and 100" in result.stderr
