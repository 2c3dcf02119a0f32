"""The point-in-time guard: no context row is newer than the as-of time."""

from dataclasses import replace
from datetime import datetime, timedelta

import psycopg
import pytest

from azak_core.baselines import BASELINE_MODELS
from azak_core.market import KST
from azak_pipelines.lib.predictions import baseline
from azak_pipelines.lib.predictions.context import Article, LookAheadError, build_context
from azak_pipelines.lib.predictions.prompt import render
from azak_pipelines.lib.predictions.schemas import NewsImpact, StockReport
from tests.pipelines.predictions.conftest import ARTICLE_AT, ARTICLE_ID, CODE


@pytest.mark.parametrize("as_of", [ARTICLE_AT, datetime(2025, 2, 12, 15, 29, tzinfo=KST),
                                   datetime(2025, 2, 12, 16, 0, tzinfo=KST)])
def test_no_input_row_is_newer_than_as_of(predictions_warehouse, as_of):
    article = Article(ARTICLE_ID, CODE, "t", None, ARTICLE_AT, ARTICLE_AT.date(), 0.9, ARTICLE_AT)
    with psycopg.connect(predictions_warehouse) as conn:
        ctx = build_context(conn, CODE, as_of, article)
    for section, rows in ctx.sections.items():
        for row in rows:
            assert row["available_at"] is None or row["available_at"] <= as_of, (section, row)
    bars = ctx.rows("bars")
    # the warehouse holds sessions up to March; only those closed by as_of are read
    closed = bars[0]["trade_date"]
    assert closed == (as_of.date() if as_of.time() >= datetime(2025, 1, 1, 15, 30).time() else
                      as_of.date() - timedelta(days=1))
    assert {r["news_id"] for r in ctx.rows("dart")} == {201}  # 3 days before in; 10 before and after out
    assert [r["period"] for r in ctx.rows("ratios")] == ["202409", "2023"]  # 2024 annual not due until April
    assert {r["horizon"] for r in ctx.rows("impact_history")} == {1, 5, 20}
    assert [r["horizon_days"] for r in ctx.rows("similar_outcomes")] == [1, 3, 5, 20]
    assert ctx.rows("flows") and ctx.rows("product") and ctx.rows("indices")


def test_guard_refuses_a_leaked_row(predictions_warehouse):
    with psycopg.connect(predictions_warehouse, autocommit=True) as conn:
        # a similar-news row claiming publication after the article would be a leak in the mart
        conn.execute("UPDATE marts.similar_news_outcomes SET published_at = published_at + interval '1 day'")
        article = Article(ARTICLE_ID, CODE, "t", None, ARTICLE_AT, ARTICLE_AT.date(), 0.9, ARTICLE_AT)
        ctx = build_context(conn, CODE, ARTICLE_AT, article)
        assert ctx.rows("similar_outcomes") == []  # filtered by the query
        conn.execute("UPDATE marts.similar_news_outcomes SET published_at = published_at - interval '1 day'")
        later = Article(ARTICLE_ID, CODE, "t", None, ARTICLE_AT, ARTICLE_AT.date(), 0.9,
                        ARTICLE_AT + timedelta(hours=1))
        with pytest.raises(LookAheadError):
            build_context(conn, CODE, ARTICLE_AT, later)


def test_without_similar_news_mart_the_prompt_says_so(predictions_warehouse):
    with psycopg.connect(predictions_warehouse, autocommit=True) as conn:
        conn.execute("DROP TABLE marts.similar_news_outcomes")
        article = Article(ARTICLE_ID, CODE, "제목", None, ARTICLE_AT, ARTICLE_AT.date(), 0.9, ARTICLE_AT)
        ctx = build_context(conn, CODE, ARTICLE_AT, article)
    prompt = render("news_impact", ctx, "json_schema", StockReport)
    assert "유사 항목 이력 없음" in prompt.messages[1]["content"]
    assert "공시 201" in prompt.messages[1]["content"]  # DART of the last 7 days really in the prompt


def test_baseline_is_deterministic_and_consistent(predictions_warehouse):
    as_of = datetime(2025, 2, 12, 16, 0, tzinfo=KST)
    with psycopg.connect(predictions_warehouse) as conn:
        first = baseline.report(build_context(conn, CODE, as_of))
        second = baseline.report(build_context(conn, CODE, as_of))
    assert first == second
    if first.direction == "up":
        assert first.short_stop < first.base_price < first.short_target
    elif first.direction == "down":
        assert first.short_target < first.base_price < first.short_stop
    assert 0.5 <= first.probability <= 0.9 and len(first.risks) <= 3


def test_baseline_without_prices_fails_instead_of_guessing(predictions_warehouse):
    with psycopg.connect(predictions_warehouse) as conn:
        ctx = build_context(conn, CODE, datetime(2024, 9, 1, tzinfo=KST))
    with pytest.raises(baseline.BaselineUnavailable, match="no closed session"):
        baseline.report(ctx)


def test_momentum_variant_ignores_the_news_signals_the_full_baseline_uses(predictions_warehouse):
    article = Article(ARTICLE_ID, CODE, "t", None, ARTICLE_AT, ARTICLE_AT.date(), 0.9, ARTICLE_AT)
    with psycopg.connect(predictions_warehouse) as conn:
        ctx = build_context(conn, CODE, ARTICLE_AT, article)
    # the article has similar-news outcomes and the stock a news-impact history: news signals exist
    full, price = baseline.signal(ctx, variant=baseline.FULL), baseline.signal(ctx, variant=baseline.MOMENTUM)
    assert full["similar"] > 0 and full["history"] != 0
    assert set(price) == {"momentum", "reversion", "expected", "z"}
    assert (price["momentum"], price["reversion"]) == (full["momentum"], full["reversion"])
    assert price["z"] != pytest.approx(full["z"])
    news_full, news_price = baseline.predict_news(ctx, baseline.FULL), baseline.predict_news(ctx, baseline.MOMENTUM)
    assert news_price.probability != news_full.probability
    assert "유사 항목" in news_full.reasoning and "유사 항목" not in news_price.reasoning
    report_full, report_price = baseline.report(ctx, baseline.FULL), baseline.report(ctx, baseline.MOMENTUM)
    assert report_price.probability != report_full.probability

    # without the news sections the price-only answers are the same; the full baseline's change
    bare = replace(ctx, sections={**ctx.sections, "similar_outcomes": [], "impact_history": [], "dart": []})
    assert baseline.predict_news(bare, baseline.MOMENTUM) == news_price
    assert baseline.report(bare, baseline.MOMENTUM) == report_price
    assert baseline.predict_news(bare, baseline.FULL) != news_full
    assert baseline.report(bare, baseline.FULL) != report_full


def test_every_registrable_baseline_identifier_has_a_variant_and_no_other():
    assert set(baseline.VARIANTS) == set(BASELINE_MODELS)
    assert baseline.variant_for("azak-momentum-v1") is baseline.MOMENTUM
    with pytest.raises(baseline.UnknownVariant, match=r"azak-baseline-v2.*azak-baseline-v1, azak-momentum-v1"):
        baseline.variant_for("azak-baseline-v2")


def _news_prompt(conn, as_of: datetime) -> str:
    article = Article(ARTICLE_ID, CODE, "제목", None, ARTICLE_AT, ARTICLE_AT.date(), 0.9, ARTICLE_AT)
    return render("news_impact", build_context(conn, CODE, as_of, article), "json_schema",
                  NewsImpact).messages[1]["content"]


def test_the_news_prompt_carries_the_three_closest_cases_as_of_its_time(predictions_warehouse):
    with psycopg.connect(predictions_warehouse) as conn:
        now = _news_prompt(conn, ARTICLE_AT)
        later = _news_prompt(conn, datetime(2025, 3, 31, 16, 0, tzinfo=KST))
    cases = now.split("## 가장 유사한 이전 사례 3건")[1].split("##")[0].strip().splitlines()[1:]
    # ranks 1-3 of computed.similar_news (articles 115, 112, 104), not rank 4 (101)
    assert [line.split(" (")[0] for line in cases] == ["2025-01-22 과거 항목 15", "2024-12-30 과거 항목 12",
                                                       "2024-11-01 과거 항목 4"]
    # 20 sessions after 2025-01-22 had not closed by the article: unknown then, known by March
    assert cases[0].endswith("T+1 +1.00%, T+5 -1.00%, T+20 -")
    assert "2025-01-22 과거 항목 15 (유사도 0.85): T+1 +1.00%, T+5 -1.00%, T+20 +3.00%" in later


def test_sectors_top_and_bottom_three_of_the_last_closed_session_or_not_collected(predictions_warehouse):
    with psycopg.connect(predictions_warehouse, autocommit=True) as conn:
        ranked = [name for (name,) in conn.execute(
            "SELECT index_name FROM marts.index_daily WHERE trade_date = '2025-02-11' "
            "AND index_code NOT IN ('0001', '1001') ORDER BY return_1d DESC")]
        prompt = _news_prompt(conn, ARTICLE_AT)  # 10:00: the 12th's session is still open
        conn.execute("DELETE FROM marts.index_daily WHERE index_code NOT IN ('0001', '1001')")
        bare = build_context(conn, CODE, datetime(2025, 2, 12, 16, 0, tzinfo=KST))
        report = render("stock_report", bare, "json_schema", StockReport).messages[1]["content"]
    sectors = prompt.split("## 업종 등락")[1].split("##")[0]
    top, bottom = sectors.strip().splitlines()[1:]
    assert top.startswith("2025-02-11 기준 상위: ") and [p.split(" ")[-2] for p in top.split(", ")] == ranked[:3]
    assert [p.split(" ")[0] for p in bottom.removeprefix("하위: ").split(", ")] == ranked[::-1][:3]
    assert "업종 지수 미수집" in report and "업종 지수" in report.split("없음:")[1].splitlines()[0]
    assert bare.completeness() == round(7 / 9, 3)  # no sectors, no AI predictions of the last 7 days
