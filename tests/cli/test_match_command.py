"""`azak match`: JSON Lines in (file or stdin), JSON Lines out."""

import json
import subprocess

from tests.conftest import BIN, PROJECT_ROOT


def azak_match(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "azak"), "match", *args], input=stdin, capture_output=True,
                          text=True, cwd=PROJECT_ROOT, timeout=60)


def test_stdin_to_stdout_in_the_documented_shape():
    lines = [{"id": 1, "title": "삼전·하닉 동반 강세", "content": ""},
             {"id": "b", "title": "SK그룹 인사", "content": "계열사 사장단이 바뀌었다."},
             {"id": 3, "title": "", "content": "🚀"}]
    result = azak_match(stdin="\n".join(json.dumps(line, ensure_ascii=False) for line in lines))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, "b", 3]
    first = out[0]["matches"]
    assert [m["code"] for m in first] == ["005930", "000660"]
    assert set(first[0]) == {"code", "name", "score", "salient", "surface"}
    assert first[0]["name"] == "삼성전자" and first[0]["surface"] == ["삼전"] and first[0]["salient"]
    assert out[1]["matches"] == [] and out[2]["matches"] == []


def test_a_file_and_a_bad_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "title": "KT&G 자사주 소각"}\nnot json\n[1, 2]\n', encoding="utf-8")
    result = azak_match(str(path))
    assert result.returncode == 1
    assert json.loads(result.stdout.splitlines()[0])["matches"][0]["code"] == "033780"
    assert "line 2:" in result.stderr and "line 3: not a JSON object" in result.stderr


def test_a_missing_file_is_a_clear_error():
    result = azak_match("/nonexistent/news.jsonl")
    assert result.returncode == 2 and "no such file: /nonexistent/news.jsonl" in result.stderr


def test_explain_shows_the_rule_and_evidence_per_link_and_names_follow_the_day():
    lines = [{"id": 1, "title": "SK하이닉스 목표가 상향-DB", "content": ""},
             {"id": 2, "title": "우리기술 수주", "published_at": "2025-12-01T09:00:00+09:00"},
             {"id": 3, "title": "우리기술 수주", "published_at": "2025-09-01"}]
    result = azak_match("--explain", stdin="\n".join(json.dumps(line, ensure_ascii=False) for line in lines))
    assert result.returncode == 0, result.stderr
    first, renamed, before = (json.loads(line)["matches"] for line in result.stdout.splitlines())
    assert [(m["code"], m["salient"], [e["rule"] for e in m["evidence"]]) for m in first] == [
        ("000660", True, ["official_name"]), ("016610", False, ["report_source"])]
    assert first[1]["evidence"][0] == {"rule": "report_source", "surface": "DB", "where": "title",
                                       "detail": "title tail: cites DB증권"}
    assert (renamed[0]["name"], renamed[0]["evidence"][0]["rule"]) == ("우리에너지기술", "dated_name")
    assert before[0]["name"] == "우리기술"
