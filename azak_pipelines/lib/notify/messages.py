"""Telegram messages in Korean, built from templates for the HTML parse mode.

Every value that comes from data — titles, model names, model reasoning, error text — goes through
:func:`esc` (``<``, ``>``, ``&`` and quotes become entities), so model text is shown as text and
can never open a tag or a link. Variable parts are clipped first; a message that is still longer
than Telegram's 4,096 characters loses whole lines from the end (tags never span lines, so what is
left stays well-formed) and says so.

Dedup keys say what a message is about, so the outbox's ``UNIQUE (chat_id, dedup_key)`` sends it
once: one story (the news cluster) per linked stock, one report, one digest per day, one run.
"""

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

MAX_LENGTH = 4096
TRUNCATED = "… (길이 제한으로 생략)"

DIRECTIONS = {"up": "상승 📈", "down": "하락 📉", "neutral": "보합 ➡️"}
IMPACTS = {"low": "낮음", "medium": "보통", "high": "높음", "critical": "매우 높음"}
RECOMMENDATIONS = {"buy": "매수", "hold": "관망", "sell": "매도"}


def esc(value: object) -> str:
    """Text for Telegram's HTML mode: never markup, whatever it contains."""
    return html.escape("" if value is None else str(value), quote=True)


def clip(text: str | None, limit: int) -> str:
    """At most ``limit`` characters of plain text (before escaping), ending in … when cut."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit(lines: Sequence[str], limit: int = MAX_LENGTH) -> str:
    """Join lines; drop whole lines from the end until the message fits Telegram's limit."""
    body = "\n".join(lines)
    if len(body) <= limit:
        return body
    kept: list[str] = []
    size = len(TRUNCATED)
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, TRUNCATED])


def link(url: str, label: str) -> str:
    return f'<a href="{esc(url)}">{esc(label)}</a>'


@dataclass(frozen=True)
class Links:
    """Pages a message points to: ``{base}/stocks/{code}`` and ``{base}/news/{id}`` — the API's
    JSON routes with the default base (``…/api``), a frontend's pages with its own."""

    base: str

    def stock(self, code: str) -> str:
        return f"{self.base.rstrip('/')}/stocks/{code}"

    def news(self, news_id: int) -> str:
        return f"{self.base.rstrip('/')}/news/{news_id}"


def stock_label(code: str, name: str | None) -> str:
    return f"{esc(name)} ({esc(code)})" if name else esc(code)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


# -- alerts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCall:
    """One model's prediction about an (article, stock) link."""

    model_name: str
    direction: str | None
    impact: str | None
    probability: float | None
    reasoning: str | None


@dataclass(frozen=True)
class Story:
    """A news story (a cluster of outlets' copies) about one stock, with the models' calls."""

    cluster_id: int
    stock_code: str
    stock_name: str | None
    news_id: int  # the canonical article
    title: str
    press: str | None
    outlets: int
    published_at: datetime
    made_at: datetime  # the latest call: the alert is due from then
    calls: tuple[ModelCall, ...]


def story_key(cluster_id: int, stock_code: str) -> str:
    return f"story:{cluster_id}:{stock_code}"


def prediction_message(story: Story, links: Links) -> str:
    lines = [f"🔔 <b>{stock_label(story.stock_code, story.stock_name)}</b> 주요 뉴스 영향 예측",
             link(links.news(story.news_id), clip(story.title, 200))]
    source = esc(story.press) if story.press else "출처 미상"
    if story.outlets > 1:
        source += f" 외 {story.outlets - 1}곳 보도"
    lines.append(f"<i>{source}</i>")
    for call in story.calls:
        direction = DIRECTIONS.get(call.direction or "", esc(call.direction or "—"))
        impact = IMPACTS.get(call.impact or "", esc(call.impact or "—"))
        lines.append(f"• <b>{esc(call.model_name)}</b>: {direction} · 영향 {impact} · 확률 {percent(call.probability)}")
        if call.reasoning:
            lines.append(f"  근거: {esc(clip(call.reasoning, 300))}")
    lines.append(link(links.stock(story.stock_code), "종목 페이지에서 자세히 보기"))
    return fit(lines)


@dataclass(frozen=True)
class ReportChange:
    report_id: str
    stock_code: str
    stock_name: str | None
    model_name: str
    previous: str
    current: str
    summary: str | None
    made_at: datetime


def report_key(change: ReportChange) -> str:
    return f"report:{change.report_id}"


def report_change_message(change: ReportChange, links: Links) -> str:
    before = RECOMMENDATIONS.get(change.previous, esc(change.previous))
    after = RECOMMENDATIONS.get(change.current, esc(change.current))
    lines = [f"📊 <b>{stock_label(change.stock_code, change.stock_name)}</b> 투자의견 변경",
             f"<b>{esc(change.model_name)}</b>: {before} → <b>{after}</b>"]
    if change.summary:
        lines.append(esc(clip(change.summary, 600)))
    lines.append(link(links.stock(change.stock_code), "리포트 전체 보기"))
    return fit(lines)


# -- the evening digest ------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    stock_code: str
    stock_name: str | None
    close: Decimal | None  # None: no bar for the day (closed, or not loaded yet)
    change: float | None  # vs the previous close, a fraction


@dataclass(frozen=True)
class Standing:
    rank: int
    model_name: str
    score: float | None
    n: int | None


def digest_key(day: date) -> str:
    return f"digest:{day.isoformat()}"


def digest_message(day: date, moves: Iterable[Move], reports: Iterable[tuple[str, str | None, str, str | None]],
                   alerts: int, leaderboard: Sequence[Standing] | None, links: Links) -> str:
    """The day in one message: the subscriber's stocks, new reports (code, name, model,
    recommendation), how many alerts went out, and the model leaderboard (``None``: none yet)."""
    lines = [f"🌙 <b>오늘의 관심 종목 요약</b> ({day.isoformat()})", "", "<b>관심 종목</b>"]
    for move in moves:
        label = link(links.stock(move.stock_code), f"{move.stock_name or move.stock_code} ({move.stock_code})")
        if move.close is None:
            lines.append(f"• {label}: 오늘 시세 없음")
        else:
            change = "" if move.change is None else f" ({move.change * 100:+.2f}%)"
            lines.append(f"• {label}: {move.close:,.0f}원{change}")
    reports = list(reports)
    lines += ["", "<b>새 리포트</b>"]
    if not reports:
        lines.append("• 오늘 새 리포트가 없습니다.")
    for code, name, model, recommendation in reports:
        verdict = RECOMMENDATIONS.get(recommendation or "", esc(recommendation or "—"))
        lines.append(f"• {stock_label(code, name)} — {esc(model)}: {verdict}")
    lines += ["", f"오늘 보낸 주요 알림: {alerts}건", "", "<b>모델 순위</b>"]
    if leaderboard is None:
        lines.append("• 아직 모델 순위가 없습니다 (no leaderboard yet).")
    else:
        for standing in leaderboard[:5]:
            score = "—" if standing.score is None else f"{standing.score:.3f}"
            n = "" if standing.n is None else f", {standing.n}건"
            lines.append(f"{standing.rank}. {esc(standing.model_name)} (점수 {score}{n})")
    return fit(lines)


# -- operators ---------------------------------------------------------------------------------


def run_failure_message(job_name: str, run_id: str, error: str | None, failed_steps: Sequence[str],
                        run_url: str | None) -> str:
    lines = [f"⚠️ <b>실행 실패</b>: {esc(job_name)}", f"run <code>{esc(run_id)}</code>"]
    if failed_steps:
        lines.append(f"실패한 단계: {esc(', '.join(failed_steps))}")
    if error:
        lines.append(f"<pre>{esc(clip(error, 1500))}</pre>")
    if run_url:
        lines.append(link(run_url, "Dagit에서 보기"))
    return fit(lines)


def check_failure_message(asset: str, check: str, partition: str | None, description: str | None,
                          run_id: str, run_url: str | None) -> str:
    where = f" [{esc(partition)}]" if partition else ""
    lines = [f"🚨 <b>검사 실패</b>: {esc(asset)} · {esc(check)}{where}", f"run <code>{esc(run_id)}</code>"]
    if description:
        lines.append(esc(clip(description, 1500)))
    if run_url:
        lines.append(link(run_url, "Dagit에서 보기"))
    return fit(lines)
