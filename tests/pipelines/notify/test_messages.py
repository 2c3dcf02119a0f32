"""Templates: Korean text, HTML escaping of model text, Telegram's length limit."""

import html
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from azak_pipelines.lib.notify.messages import (
    MAX_LENGTH,
    Links,
    ModelCall,
    Move,
    ReportChange,
    Standing,
    Story,
    digest_message,
    fit,
    prediction_message,
    report_change_message,
)

LINKS = Links("https://azak.example")
HOSTILE = '<b>매수!</b> <a href="https://evil.example">지금</a> & <script>alert(1)</script> "인용"'
TAGS = re.compile(r"</?([a-z]+)[^>]*>")
ALLOWED = {"b", "i", "a", "code", "pre"}


def story(reasoning: str = "실적 개선", title: str = "삼성전자, 3분기 영업이익 급증") -> Story:
    return Story(cluster_id=77, stock_code="005930", stock_name="삼성전자", news_id=78, title=title,
                 press="한국경제", outlets=5, published_at=datetime(2026, 11, 30, 1, tzinfo=UTC),
                 made_at=datetime(2026, 11, 30, 2, tzinfo=UTC),
                 calls=(ModelCall("baseline", "up", "high", 0.72, reasoning),
                        ModelCall("gpt-4o", "down", "critical", None, None)))


def balanced(text: str) -> bool:
    stack = []
    for match in TAGS.finditer(text):
        name = match.group(1)
        if name not in ALLOWED:
            return False
        if match.group(0).startswith("</"):
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def test_prediction_message_is_korean_and_links_the_pages():
    text = prediction_message(story(), LINKS)
    assert "삼성전자 (005930)" in text and "상승 📈" in text and "영향 높음" in text and "확률 72%" in text
    assert "하락 📉" in text and "영향 매우 높음" in text and "확률 —" in text
    assert "한국경제 외 4곳 보도" in text
    assert 'href="https://azak.example/news/78"' in text and 'href="https://azak.example/stocks/005930"' in text
    assert balanced(text)


def test_hostile_model_text_is_shown_as_text_never_markup():
    text = prediction_message(story(reasoning=HOSTILE, title=HOSTILE), LINKS)
    assert "<script>" not in text and "evil.example\">" not in text and "<b>매수!</b>" not in text
    assert balanced(text)
    # what Telegram shows after parsing entities is the original text (title and reasoning)
    assert html.unescape(TAGS.sub("", text)).count(HOSTILE) == 2
    change = ReportChange("r1", "005930", "삼성<전자>", "m&m", "hold", "<buy>", HOSTILE,
                          datetime(2026, 11, 30, tzinfo=UTC))
    text = report_change_message(change, LINKS)
    assert balanced(text) and "&lt;buy&gt;" in text and "삼성&lt;전자&gt;" in text and "m&amp;m" in text


def test_every_message_fits_telegrams_limit_and_stays_well_formed():
    long = "가" * 10_000
    text = prediction_message(story(reasoning=long, title=long), LINKS)
    assert len(text) <= MAX_LENGTH and balanced(text)
    moves = [Move(f"{i:06d}", "종목" + "나" * 50, Decimal("71000"), 0.0123) for i in range(200)]
    digest = digest_message(date(2026, 11, 30), moves, [], 3, None, LINKS)
    assert len(digest) <= MAX_LENGTH and balanced(digest) and digest.endswith("(길이 제한으로 생략)")
    assert fit(["a" * 10, "b" * 20], limit=30) == "a" * 10 + "\n… (길이 제한으로 생략)"


def test_digest_sections_and_a_missing_leaderboard():
    moves = [Move("005930", "삼성전자", Decimal("71000"), 0.0143), Move("000660", "SK하이닉스", None, None)]
    reports = [("005930", "삼성전자", "baseline", "buy")]
    text = digest_message(date(2026, 11, 30), moves, reports, 2, None, LINKS)
    assert "71,000원 (+1.43%)" in text and "SK하이닉스 (000660)</a>: 오늘 시세 없음" in text
    assert "baseline: 매수" in text and "오늘 보낸 주요 알림: 2건" in text
    assert "아직 모델 순위가 없습니다" in text
    ranked = digest_message(date(2026, 11, 30), moves, [], 0, [Standing(1, "baseline", 0.61, 40)], LINKS)
    assert "1. baseline (점수 0.610, 40건)" in ranked and "오늘 새 리포트가 없습니다" in ranked
