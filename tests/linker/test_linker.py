"""The entity linker's rules, its tables, and inputs that must not break it."""

import csv

import pytest

from azak_pipelines.lib.linker import LINKER_VERSION, Linker, clean_text, load_linker, tables_version
from azak_pipelines.lib.sample_data import BUNDLED
from tests.conftest import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
LISTING = BUNDLED / "universe" / "krx_listed_2025_09.csv"


@pytest.fixture(scope="module")
def linker() -> Linker:
    return load_linker(LISTING, SEEDS)


def codes(linker: Linker, title: str, content: str = "", salient_only: bool = False) -> list[str]:
    return [m.code for m in linker.link(title, content) if m.salient or not salient_only]


@pytest.mark.parametrize(("title", "expected"), [
    ("삼성전자가 신제품을 공개했다", ["005930"]),       # particle 가
    ("삼성전자의 HBM 전략", ["005930"]),                 # particle 의
    ("삼성전자와 LG전자 가전 경쟁", ["005930", "066570"]),  # particle 와
    ("삼성전자株 외국인 매수", ["005930"]),               # 株
    ("삼성전자주가 급등", ["005930"]),                    # 주가
    ("삼성전자서비스 노조 파업", []),                      # inside a longer name that is not listed
    ("카카오뱅크 대출 증가", ["323410"]),                  # longest match, not 카카오
    ("KT&G 배당", ["033780"]),                           # not KT
    ("SK온 수주", []),                                   # unlisted affiliate, not SK
    ("SK그룹 인사", []),                                 # a group
    ("대상으로 한 조사", []),                             # a name that is an ordinary word
    ("ask the SKating club", []),                        # short Latin names match in their own case
])
def test_boundaries_particles_and_longest_match(linker, title, expected):
    assert codes(linker, title) == expected


def test_a_ticker_in_parentheses_links_directly_and_scores_higher(linker):
    [match] = linker.link("SK(034730) 자사주 소각")
    assert match.code == "034730" and match.score > 0.9 and match.surface == ["SK", "(034730)"]
    assert codes(linker, "동양(001520) 최대주주 변경") == ["001520"]
    assert codes(linker, "(999999) 코드 없음") == []  # not a listed code


def test_securities_firms_citing_a_report_are_not_subjects(linker):
    # a listed firm cited as the source is linked but never salient; an unlisted one links nothing
    links = {m.code: m.salient for m in linker.link("LG화학 목표가 하향-미래에셋증권")}
    assert links == {"051910": True, "006800": False}
    assert codes(linker, "셀트리온 실적 개선 전망(한투증권)") == ["068270"]
    assert codes(linker, "미래에셋증권, 해외 이익 증가", salient_only=True) == ["006800"]


def test_bylines_and_datelines_are_not_mentions(linker):
    assert codes(linker, "코스피 상승", "외국인 매수 …SBS|2025-06-02 15:40") == []
    assert codes(linker, "증시 마감", "[한국경제TV 박기자] 코스피 상승") == []
    assert clean_text("본문 …머니투데이|2025-11-04 13:22") == "본문"


def test_salience_title_subject_and_bystanders(linker):
    links = {m.code: m for m in linker.link("삼성전자 협력사 A사 상장", "A사는 삼성전자에 납품한다.")}
    assert not links["005930"].salient
    links = {m.code: m for m in linker.link("반도체 장비주 강세", "한미반도체가 올랐다. SK하이닉스도 상승했다.")}
    assert links["042700"].salient and not links["000660"].salient
    links = {m.code: m for m in linker.link("증시 상승", "코스피가 올랐다. 삼성전자도 상승했다.")}
    assert not links["005930"].salient  # the first sentence's subject is not a company


def test_scores_are_between_zero_and_one_and_repeat_mentions_add(linker):
    once = {m.code: m.score for m in linker.link("", "중간에 삼성전자가 나온다")}["005930"]
    many = {m.code: m.score for m in linker.link("삼성전자 급등", "삼성전자가 올랐다. 삼성전자 주가는 …")}["005930"]
    assert 0 < once < many <= 1


@pytest.mark.parametrize("text", [
    None, "", "   ", "🚀🚀 떡상 가즈아 🌕", "<div>&nbsp;</div><script>x</script>",
    "Fed holds rates; Asian stocks mixed", "가" * 200_000, "\x00\x01삼성전자\x02",
])
def test_odd_inputs_do_not_crash(linker, text):
    result = linker.link(text, text)
    assert isinstance(result, list)


def test_english_only_text(linker):
    assert codes(linker, "Samsung Electronics and SK hynix lead KOSPI rally") == ["005930", "000660"]
    assert codes(linker, "Samsung Group reshuffles executives") == []


def test_the_alias_tables_are_consistent():
    with LISTING.open(encoding="utf-8") as handle:
        universe = {row["code"]: row["name"] for row in csv.DictReader(handle)}
    names = set(universe.values())
    with (SEEDS / "stock_aliases.csv").open(encoding="utf-8") as handle:
        aliases = list(csv.DictReader(handle))
    assert len({a["alias"] for a in aliases}) == len(aliases), "an alias is listed twice"
    assert all(a["stock_code"] in universe for a in aliases)
    with (SEEDS / "entity_blockers.csv").open(encoding="utf-8") as handle:
        blockers = [row["surface"] for row in csv.DictReader(handle)]
    assert not names & set(blockers), "a blocker is the name of a listed company"
    assert tables_version(SEEDS).startswith(LINKER_VERSION + "+")


def test_an_alias_to_an_unknown_code_is_refused():
    with pytest.raises(ValueError, match="not in the universe"):
        Linker([("005930", "삼성전자")], [("삼전", "999999", "slang")])
