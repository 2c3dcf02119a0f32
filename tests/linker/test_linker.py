"""The entity linker's rules, its tables, and inputs that must not break it."""

import csv

import pytest

from azak_pipelines.lib.matching.linker import LINKER_VERSION, Linker, clean_text, load_linker, tables_version
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


# -- issue 15: the error classes of unseen news ------------------------------------------------------


def rules(linker: Linker, title: str, content: str = "", day=None) -> dict[str, tuple[bool, list[str]]]:
    return {m.code: (m.salient, [e["rule"] for e in m.evidence]) for m in linker.link(title, content, day)}


@pytest.mark.parametrize(("title", "expected"), [
    ("SK하이닉스 목표가 상향-DB", {"000660": (True, ["official_name"]), "016610": (False, ["report_source"])}),
    ("현대차 관세 우려 과도-유진", {"005380": (True, ["official_name"]), "001200": (False, ["report_source"])}),
    ("삼성전자 HBM 회복 기대-KB", {"005930": (True, ["official_name"])}),  # KB증권 is not listed; never KB금융
    ("LG화학 실적 부진(하나證)", {"051910": (True, ["official_name"])}),
    ("신한투자證 \"코스피 3000 간다\"", {}),  # never 신한지주
    ("키움 \"반도체 업황 바닥 통과\"", {"039490": (False, ["report_source"])}),
    ("현대차證 \"자동차 비중 확대\"", {"001500": (False, ["report_source"])}),  # not 현대차
    ("삼성 \"올해 반도체 투자 확대\"", {}),  # a group speaking, no research words: not 삼성증권
    ("KB \"하반기 코스피 전망 상향\"", {}),  # research words: KB증권, which is not listed
])
def test_report_sources_link_the_listed_firm_or_nothing(linker, title, expected):
    assert rules(linker, title) == expected


@pytest.mark.parametrize(("title", "code"), [
    ("한전 적자 축소", "015760"), ("모비스 전동화 매출 증가", "012330"), ("신한금융그룹 회장 선임", "055550"),
    ("KB금융그룹 비은행 강화", "105560"), ("하나금융그룹 인사", "086790"), ("LG CNS 첫 배당", "064400"),
    ("KEPCO signs deal", "015760"), ("롯데백화점 리뉴얼", "023530"), ("현대중공업 수주", "329180"),
    ("LS일렉트릭 배전반 수주", "010120"),
])
def test_brands_readings_older_and_group_names_link_the_listing(linker, title, code):
    assert codes(linker, title, salient_only=True) == [code]


@pytest.mark.parametrize("title", ["KB국민은행 금리 인상", "신한은행 해외 이익", "포스코 광양제철소 화재",
                                   "올리브영 매출 4조", "NH농협금융 회장 선임", "하나증권 순이익 증가"])
def test_unlisted_subsidiaries_do_not_link_their_listed_parent(linker, title):
    assert codes(linker, title) == []


def test_the_ticker_decides_the_name_before_it(linker):
    assert codes(linker, "모비스(250060) 급등") == ["250060"]


@pytest.mark.parametrize("title", ["삼성그룹주 일제히 상승", "LG家 상속 분쟁", "SK 계열 상장사 시총 감소",
                                   "한화 일가 지분 승계", "두산家 4세 경영", "KB금융그룹주 약세"])
def test_group_phrases_are_not_the_holding_company(linker, title):
    assert codes(linker, title) == []


def test_a_group_title_makes_members_in_the_content_bystanders(linker):
    assert codes(linker, "현대차그룹주 동반 하락", "현대차와 기아가 약세를 보였다.", salient_only=True) == []


@pytest.mark.parametrize(("title", "expected"), [
    ("현대·기아 美 판매 증가", {"005380", "000270"}),
    ("삼성·SK 반도체 수출 최대", {"005930", "000660"}),
    ("LG·SK 총수 회동", set()),  # no sector word: the groups, no listing
    ("삼성전자·LG 가전 경쟁", {"005930", "066570"}),
    ("LG, 자사주 매입 발표", {"003550"}),  # not a pair: the holding company
    ("SK, SK스퀘어 지분 검토", {"034730", "402340"}),  # a comma pairs bare groups only
])
def test_bare_group_prefixes_in_pairs_follow_the_sentence(linker, title, expected):
    assert set(codes(linker, title)) == expected


@pytest.mark.parametrize(("title", "code"), [
    ("7만전자 회복", "005930"), ("십만전자 재등장", "005930"), ("20만닉스 돌파", "000660"),
    ("삼전 외국인 매도", "005930"), ("하닉 HBM 1위", "000660"), ("에코프로머티 급등", "450080"),
])
def test_slang_price_nicknames_and_truncations(linker, title, code):
    assert codes(linker, title, salient_only=True) == [code]


def test_price_nicknames_need_a_price_and_truncations_a_unique_prefix(linker):
    assert codes(linker, "만전자 회복") == []  # no price before it
    assert all(s.kind != "truncation" or len([n for n in linker.names.values() if n.startswith(s.text)]) == 1
               for s in linker.surfaces.values())
    assert "삼성바이" not in linker.surfaces or linker.surfaces["삼성바이"].kind != "truncation"


def test_names_link_the_company_that_held_them_on_the_day():
    from datetime import date

    from azak_pipelines.lib.matching.linker_tables import NameSpan
    history = [NameSpan("032820", "우리기술", date(2000, 6, 22), date(2025, 10, 31), "renamed"),
               NameSpan("032820", "우리에너지기술", date(2025, 10, 31)),
               NameSpan("0041L0", "하나35호스팩", date(2025, 9, 26), date(2025, 10, 31), "delisted"),
               NameSpan("0041L0", "세진모빌리티", date(2025, 11, 19)),
               NameSpan("005930", "삼성전자", date(1975, 6, 11))]
    dated = Linker([("032820", "우리에너지기술"), ("0041L0", "세진모빌리티"), ("005930", "삼성전자")],
                   history=history)

    def on(title: str, day: date) -> list[tuple[str, str]]:
        return [(m.code, m.name) for m in dated.link(title, "", day)]

    assert on("우리기술 수주", date(2025, 9, 1)) == [("032820", "우리기술")]
    assert on("우리기술 수주", date(2025, 12, 1)) == [("032820", "우리에너지기술")]  # a former name
    assert on("하나35호스팩 합병 추진", date(2025, 10, 1)) == [("0041L0", "하나35호스팩")]
    assert on("하나35호스팩 해산", date(2025, 12, 1)) == []  # delisted; the code is someone else's now
    assert on("세진모빌리티 수요예측", date(2025, 11, 10)) == [("0041L0", "세진모빌리티")]  # news before listing
    assert on("세진모빌리티 수요예측", date(2025, 10, 10)) == []  # the code belonged to the SPAC then
    assert on("(0041L0) 공시", date(2025, 10, 1)) == [("0041L0", "하나35호스팩")]


def test_explain_names_the_rule_and_the_evidence(linker):
    [match] = linker.link("7만전자 회복")
    assert match.as_dict(explain=True)["evidence"] == [
        {"rule": "price_nickname", "surface": "7만전자", "where": "title", "detail": "price nickname '…만전자'"}]
    assert "evidence" not in match.as_dict()


def test_seed_tables_carry_provenance_and_point_at_listings():
    from azak_pipelines.lib.matching.linker_tables import rows
    with LISTING.open(encoding="utf-8") as handle:
        universe = {row["code"] for row in csv.DictReader(handle)}
    for name in ("stock_aliases.csv", "entity_blockers.csv", "brokers.csv", "group_context.csv"):
        table = rows(SEEDS / name)
        assert table and all(row["provenance"].strip() for row in table), name
        assert all(row["stock_code"] in universe for row in table if row.get("stock_code")), name


@pytest.mark.parametrize(("title", "expected"), [
    ("에이비엘바이.. 급등", ["298380"]),  # a list page's ellipsis: the clipped name counts
    ("한화에어로스 수주", ["012450"]),
    ("맨체스터 유나이티드 우승", []),  # 유나이티드|제약: the cut-off part is a word of its own
    ("바이오에 투자 확대", []),  # ends in a particle syllable
    ("한국경제 성장률 둔화", []),  # a 4-character prefix needs the ellipsis
])
def test_clipped_names_count_only_when_the_clipping_is_plain(linker, title, expected):
    assert codes(linker, title) == expected
