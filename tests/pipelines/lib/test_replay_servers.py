"""The replay servers read recordings named by query values: a value is validated as the code or
date it must be, never joined into a path as it came (``../`` would read any file)."""

import json

import pytest

from azak_pipelines.lib.kis import client as kis
from azak_pipelines.lib.kis.replay import KisSimulator
from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.sample_data import BUNDLED

SECRET = "top-secret-file-content"


@pytest.fixture
def outside(tmp_path):
    """A fixtures folder, and a file beside it that must stay unreadable."""
    fixtures = tmp_path / "fixtures"
    for folder in ("naver/market", "naver/stock", "product_info", "daily"):
        (fixtures / folder).mkdir(parents=True)
    (tmp_path / "secret.html").write_text(SECRET)
    (tmp_path / "secret.json").write_text(json.dumps({"output1": SECRET, "output2": [], "note": SECRET}))
    return fixtures


@pytest.mark.parametrize(("path", "query"), [
    ("/news/news_list.naver", {"date": "../../../secret"}),
    ("/news/news_list.naver", {"date": "20250631"}),
    ("/item/news_news.naver", {"code": "../../../secret"}),
    ("/item/news_news.naver", {"code": "005930/../../../../secret"}),
])
def test_news_replay_refuses_what_is_not_a_day_or_a_code(outside, path, query):
    status, _, body = NewsSites(outside).handle("GET", path, {}, query, b"")
    assert status == 400 and SECRET.encode() not in body
    assert b"YYYYMMDD" in body or b"stock code" in body


def test_dart_replay_answers_status_100_to_a_malformed_date():
    sites = NewsSites(BUNDLED / "news")
    _, _, body = sites.handle("GET", "/api/list.json", {}, {"bgn_de": "2025-6-1", "end_de": "20250602"}, b"")
    assert body["status"] == "100"
    _, _, body = sites.handle("GET", "/api/list.json", {}, {"bgn_de": "20250601", "end_de": "20250602"}, b"")
    assert body["status"] in {"000", "013"}


def kis_get(simulator: KisSimulator, tr: kis.Tr, query: dict[str, str]) -> tuple[int, dict]:
    _, _, issued = simulator.handle("POST", "/oauth2/tokenP", {},
                                    {}, json.dumps({"appkey": "k", "appsecret": "s"}).encode())
    headers = {"authorization": f"Bearer {issued['access_token']}", "appkey": "k", "tr_id": tr.tr_id}
    status, _, body = simulator.handle("GET", tr.path, headers, query, b"")
    return status, body


@pytest.mark.parametrize(("tr", "query"), [
    (kis.PRODUCT_INFO, {"PDNO": "../../secret"}),
    (kis.DAILY_CHART, {"FID_INPUT_ISCD": "../../secret", "FID_INPUT_DATE_1": "20250101"}),
    (kis.DAILY_CHART, {"FID_INPUT_ISCD": "005930", "FID_INPUT_DATE_1": "2025-01-01"}),
    (kis.INDEX_DAILY, {"FID_INPUT_ISCD": "../../secret"}),
])
def test_kis_replay_refuses_what_is_not_a_code_or_a_date(outside, tr, query):
    _, body = kis_get(KisSimulator(outside), tr, query)
    assert body["rt_cd"] == "1" and body["msg_cd"] == "OPSQ0005", body
    assert SECRET not in json.dumps(body)
