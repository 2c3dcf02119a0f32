"""`azak similar`: JSON Lines in, each input's nearest other inputs out, through a throw-away
collection in a real Milvus (the session's, or the embedded one `azak` starts itself)."""

import json
import os
import subprocess

from azak_core.vectors import milvus_client
from tests.conftest import BIN, PROJECT_ROOT

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


def test_nearest_other_inputs_through_a_throw_away_collection(milvus_uri):
    before = set(milvus_client(milvus_uri).list_collections())
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in LINES) + "\nnot json\n"
    result = azak_similar("--k", "2", stdin=stdin, env=dict(os.environ))
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
    assert set(milvus_client(milvus_uri).list_collections()) == before  # dropped afterwards


def test_starts_and_stops_its_own_embedded_milvus(tmp_path):
    from tests.conftest import free_port

    env = {k: v for k, v in os.environ.items() if k != "AZAK_MILVUS_URI"}
    env.update({"AZAK_HOME": str(tmp_path), "AZAK_MILVUS_PORT": str(free_port()), "AZAK_EMBEDDER": "offline"})
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in LINES[:4]), encoding="utf-8")
    result = azak_similar(str(path), env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 4
    assert not (tmp_path / "milvus" / "milvus.pid").exists()  # the server it started is stopped


def test_bad_arguments_are_clear_errors():
    assert "no such file" in azak_similar("/nonexistent.jsonl").stderr
    result = azak_similar("--k", "0", stdin="")
    assert result.returncode == 2 and "--k must be between 1 and 100" in result.stderr
