"""Korean prompts from versioned files (``prompts/<output>.v<N>.txt``), rendered from a context.

The prompt version is the file's name; the input hash is the sha256 of the rendered messages plus
the structured-output mode, so it identifies exactly what a model was asked.
"""

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from azak_core.market import KST
from azak_pipelines.lib.predictions.context import SECTIONS, Context
from azak_pipelines.lib.predictions.schemas import json_schema

if TYPE_CHECKING:  # importing openai costs ~0.8 s: only where a model is called
    from openai.types.chat import ChatCompletionMessageParam

PROMPTS = Path(__file__).with_name("prompts")
# the files rendered now; older versions stay beside them as the record of what older rows were asked
VERSIONS = {"news_impact": "news_impact.v2", "stock_report": "stock_report.v2"}
SECTION_NAMES = {"bars": "가격", "flows": "투자자 흐름", "ratios": "재무비율", "product": "상품 정보",
                 "indices": "시장 지수", "sectors": "업종 지수", "dart": "공시",
                 "impact_history": "과거 항목 이후 수익률", "recent_predictions": "AI 예측",
                 "similar_outcomes": "유사 항목 수익률", "similar_cases": "유사 사례"}
NONE = "자료 없음"
SECTORS_SHOWN = 3  # the top and the bottom three sectors of the day
SIMILAR_HORIZONS = (1, 5, 20)


@dataclass(frozen=True)
class Prompt:
    version: str
    messages: "list[ChatCompletionMessageParam]"
    input_hash: str


@lru_cache(maxsize=8)
def template(version: str) -> tuple[str, str]:
    text = (PROMPTS / f"{version}.txt").read_text(encoding="utf-8")
    system, user = text.split("[user]\n", 1)
    return system.removeprefix("[system]\n").strip(), user.strip()


@lru_cache(maxsize=16)
def format_instructions(output: type[msgspec.Struct], mode: str) -> str:
    """Schema mode sends the schema to the provider; the others carry it in the prompt (the same
    text for every prompt of an output and mode: built once, not per prediction)."""
    if mode == "json_schema":
        return "출력 형식은 요청에 첨부된 JSON 스키마를 따릅니다."
    schema = json.dumps(json_schema(output), ensure_ascii=False)
    return f"다음 JSON 스키마를 정확히 따르는 JSON 객체 하나만 출력하십시오 (다른 필드 금지):\n{schema}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:+.2f}%"


def _num(value: Any, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_bars(ctx: Context) -> str:
    bars = ctx.rows("bars")[:10]
    return "\n".join(f"{b['trade_date']}: 종가 {_num(b['close'])}, 등락 {_pct(b['return_1d'])}, "
                     f"거래량 {_num(b['volume'])}" for b in bars) or NONE


def render_indicators(ctx: Context) -> str:
    if not ctx.rows("bars"):
        return NONE
    b = ctx.rows("bars")[0]
    return (f"MA5 {_num(b['ma_5'])}, MA20 {_num(b['ma_20'])}, MA60 {_num(b['ma_60'])}, "
            f"RSI14 {_num(b['rsi_14'], 1)}, MACD {_num(b['macd'], 1)} / 시그널 {_num(b['macd_signal'], 1)}, "
            f"볼린저 상단 {_num(b['bollinger_upper'])} 하단 {_num(b['bollinger_lower'])}")


def render_rows(ctx: Context, section: str) -> str:
    rows = ctx.rows(section)
    if not rows:
        return "유사 항목 이력 없음" if section == "similar_outcomes" else NONE
    lines = []
    for row in rows:
        if section == "flows":
            lines.append(f"{row['trade_date']}: 개인 {_num(row['individual_net_qty'])}, "
                         f"외국인 {_num(row['foreign_net_qty'])}, 기관 {_num(row['institution_net_qty'])}")
        elif section == "ratios":
            lines.append(f"{row['period']} ({row['period_kind']}): ROE {_num(row['roe'], 2)}, "
                         f"EPS {_num(row['eps'])}, BPS {_num(row['bps'])}, 부채비율 {_num(row['debt_ratio'], 1)}")
        elif section == "product":
            lines.append(f"{row['product_name']}: {row['classification'] or '-'}, 위험등급 {row['risk_grade'] or '-'}")
        elif section == "indices":
            lines.append(f"{row['index_name'] or row['index_code']} {row['trade_date']}: "
                         f"{_num(row['close'], 2)} ({_pct(row['return_1d'])})")
        elif section == "dart":
            summary = (row["summary"] or "")[:100]
            lines.append(f"{row['available_at'].astimezone(KST):%Y-%m-%d}: {row['title']} {summary}".strip())
        elif section == "impact_history":
            lines.append(f"T+{row['horizon']}: {row['n']}건, 평균 {_pct(row['mean_return'])}")
        elif section == "similar_outcomes":
            lines.append(f"T+{row['horizon_days']}: {row['n']}건, 평균 {_pct(row['mean_return'])}, "
                         f"최소 {_pct(row['min_return'])}, 최대 {_pct(row['max_return'])}")
        elif section == "recent_predictions":
            lines.append(f"{row['model_name']}: {row['direction']} {row['n']}건 "
                         f"(평균 확률 {_num(row['mean_probability'], 2)})")
    return "\n".join(lines)


def render_sectors(ctx: Context) -> str:
    """The day's top and bottom sectors by return (the newest session closed by as-of), or a line
    saying that sector indices were not collected."""
    rows = ctx.rows("sectors")
    if not rows:
        return "업종 지수 미수집 (업종별 등락 자료 없음)"

    def line(row: dict[str, Any]) -> str:
        return f"{row['index_name'] or row['index_code']} {_pct(row['return_1d'])}"

    top = rows[:SECTORS_SHOWN]
    bottom = rows[max(SECTORS_SHOWN, len(rows) - SECTORS_SHOWN):][::-1]
    text = f"{rows[0]['trade_date']} 기준 상위: " + ", ".join(map(line, top))
    return text + (f"\n하위: {', '.join(map(line, bottom))}" if bottom else "")


def render_similar_cases(ctx: Context) -> str:
    """The three most similar earlier cases: date, title, similarity and what the price did after."""
    lines = []
    for row in ctx.rows("similar_cases"):
        moves = ", ".join(f"T+{h} {_pct(row[f'return_{h}d'])}" for h in SIMILAR_HORIZONS)
        lines.append(f"{row['published_at'].astimezone(KST):%Y-%m-%d} {row['title']} "
                     f"(유사도 {row['similarity']:.2f}): {moves}")
    return "\n".join(lines) or "유사 사례 없음"


def render(output: str, ctx: Context, mode: str, output_type: type[msgspec.Struct]) -> Prompt:
    version = VERSIONS[output]
    system, user = template(version)
    values: dict[str, str] = {
        "format_instructions": format_instructions(output_type, mode),
        "stock_name": ctx.stock_name, "stock_code": ctx.stock_code,
        "as_of": f"{ctx.as_of.astimezone(KST):%Y-%m-%d %H:%M} KST",
        "bars": render_bars(ctx), "indicators": render_indicators(ctx), "sectors": render_sectors(ctx),
        "similar_cases": render_similar_cases(ctx),
        "present": ", ".join(SECTION_NAMES[s] for s in ctx.present()) or "없음",
        "missing": ", ".join(SECTION_NAMES[s] for s in SECTIONS if s not in ctx.present()) or "없음",
        **{section: render_rows(ctx, section) for section in
           ("flows", "ratios", "product", "indices", "dart", "impact_history", "recent_predictions",
            "similar_outcomes")},
    }
    if ctx.article is not None:
        values.update(title=ctx.article.title, summary=(ctx.article.summary or "")[:300],
                      published_at=f"{ctx.article.published_at.astimezone(KST):%Y-%m-%d %H:%M} KST")
    messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": system.format(**values)},
                                                  {"role": "user", "content": user.format(**values)}]
    digest = hashlib.sha256(json.dumps([mode, messages], ensure_ascii=False).encode()).hexdigest()
    return Prompt(version, messages, digest)
