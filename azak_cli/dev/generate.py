"""`azak dev generate`: a synthetic but realistic whole-market dataset, made on demand.

The universe is the bundled KRX listing (real codes, names, listing dates, last closes and market
caps). Everything else is generated from a seed, so the same options always write the same files:

* ``index/<code>.csv`` — daily KOSPI (``0001``) and KOSDAQ (``1001``) levels over the window's
  sessions: correlated random walks ending at a level of 2025-09-26 (KOSPI's real close; KOSDAQ a
  plausible one), volume in thousands of shares and value in millions of KRW, as KIS reports them.
  Their daily log returns are the market factor every stock shares (with a beta of its own);
* ``daily/adjusted/<code>.csv`` — daily bars for every selected listing from its listing date (or
  the window's start) to ``end``: random-walk closes ending at the listing's real close (market
  factor plus an idiosyncratic step), KRX tick sizes, ±30% limits, halts (zero-volume days with 0
  open/high/low, as vendors print them);
* ``delistings.csv`` — the ~3% of listings (seeded, from the smaller half by market cap, never one
  with minute bars) whose bars stop at a session before ``end``: code, name, market, last session.
  The bundled universe is a 2025-09 snapshot, so it still lists them; the warehouse's delisting
  record (``computed.stock_history``) is folded from listing snapshots, not written here;
* ``daily/raw/<code>.csv`` — the stocks with a split: the same bars on the raw basis (prices times
  the split ratio, volume divided by it, before the split day);
* ``minute/<code>.csv`` — one-minute bars (raw prices, as KIS serves them) for the largest listings
  over the window's last sessions, from each day's open to its close;
* ``news/news-NNN.jsonl`` — Korean-looking headlines and summaries written from templates, each naming
  one listed company (``generated_for`` holds its code: the answer the linker should find), spread
  over the calendar days with weekday/weekend and yearly volumes; chunks end on day boundaries.

``--load`` imports them through the normal paths: ``azak import prices`` (adjusted, then raw) and
``azak import news`` (one run per chunk: raw/imported_news, news_articles and the linker). Minute
bars and index levels have no file import — KIS is their only source, and replaying a year of
minute bars through the KIS replay server would mean ~50,000 paged requests at KIS's 20 per second —
so they are written with the warehouse's one writer (``replace_slice``, one transaction per stock
or index, as the KIS assets write them).
"""

import csv
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from azak_cli import progress as bars
from azak_core.market import KST, tick_size, to_tick

# the bundled listing's day: the generated history ends here, where the real closes are known
END = date(2025, 9, 26)
DAILY_HEADER = ["date", "open", "high", "low", "close", "volume", "value"]
MINUTE_HEADER = ["bar_time", "open", "high", "low", "close", "volume"]
INDEX_HEADER = ["date", "open", "high", "low", "close", "volume_thousands", "value_mkrw"]
SPLIT_EVERY = 30  # every 30th selected listing has a stock split in its history
HALT_SPELL_EVERY = 25  # every 25th (offset 1) has a multi-session trading halt
HALT_PER_SESSION = 0.0008  # and any session may be a one-day halt
DELISTED_SHARE = 0.03  # of the selected listings, drawn from the smaller half by market cap


@dataclass(frozen=True)
class IndexModel:
    code: str  # KIS index code, as raw.index_daily keys it
    name: str
    end_level: float  # the close on END
    sigma: float  # daily log-return volatility
    drift: float
    volume_thousands: int  # a typical day's volume, thousands of shares
    price_per_share: float  # KRW: a typical day's value / volume


# KOSPI's end level is its real close of 2025-09-26 (the KOSPI composite series the bundled
# recordings come from); the bundled data has no KOSDAQ series, so KOSDAQ's is a plausible level.
INDICES = (
    IndexModel("0001", "KOSPI", 3386.05, 0.0095, 0.0002, 400_000, 25_000.0),
    IndexModel("1001", "KOSDAQ", 850.00, 0.0120, 0.0001, 900_000, 8_000.0),
)
KOSDAQ_CORRELATION = 0.8  # of KOSDAQ's daily returns with KOSPI's
PRESS = ("아작경제", "한빛일보", "새벽증권신문", "코리아마켓타임즈", "여의도인사이트", "서울파이낸스투데이",
         "누리경제TV", "다온비즈")


@dataclass(frozen=True)
class ScaleOptions:
    stocks: int | None  # None: every listing
    years: float
    minute_stocks: int
    minute_days: int
    articles: int
    seed: int = 16
    end: date = END
    news_chunk: int = 100_000

    @property
    def start(self) -> date:
        return self.end - timedelta(days=round(self.years * 365.25) - 1)


@dataclass
class Generated:
    """What was written, for the report and for checking a load against it."""

    daily_rows: int = 0
    raw_rows: int = 0
    halts: int = 0
    splits: dict[str, tuple[date, int]] = field(default_factory=dict)  # code → (day, ratio)
    minute_rows: int = 0
    minute_window: tuple[date, date] | None = None  # [first day, day after the last)
    articles: int = 0
    index_rows: int = 0
    index_window: tuple[date, date] | None = None  # [first session, day after the last)
    delisted: dict[str, date] = field(default_factory=dict)  # code → its last session
    index_files: list[Path] = field(default_factory=list)
    adjusted_files: list[Path] = field(default_factory=list)
    raw_files: list[Path] = field(default_factory=list)
    minute_files: list[Path] = field(default_factory=list)
    news_files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Progress:
    """How far a part of the generation got: on a terminal a bar of ``counted`` done of ``total``
    (items written and their rate beside it); otherwise a line to standard error every few seconds."""

    def __init__(self, what: str, unit: str, total: int, counted: str = "files"):
        self.what, self.unit, self.total = what, unit, total
        self.started = self.last = time.monotonic()
        self.bar = bars.open_bar(what, total, counted, bars.wanted())

    def tick(self, done: int, items: int, force: bool = False) -> None:
        """``done`` of the total so far, ``items`` written; ``force``: the last tick."""
        now = time.monotonic()
        rate = items / max(now - self.started, 1e-9)
        if self.bar.progress is not None:
            self.bar.update(done, note=f"{items:,} {self.unit}, {rate:,.0f} {self.unit}/s")
            if force:
                self.bar.stop()
        elif force or now - self.last >= 5:
            self.last = now
            _say(f"  {self.what}: {done:,}/{self.total:,} — {items:,} {self.unit}, {rate:,.0f} {self.unit}/s")


def select_listings(count: int | None) -> list[Any]:
    """The ``count`` largest listings by market capitalisation (all when None), largest first."""
    from azak_pipelines.lib.reference.universe import read_listing
    from azak_pipelines.lib.sample_data import BUNDLED

    listings = read_listing(BUNDLED / "universe" / "krx_listed_2025_09.csv")
    listings.sort(key=lambda item: (-(item.market_cap or 0), item.code))
    return listings if count is None else listings[:count]


# -- daily bars ------------------------------------------------------------------------------------


@dataclass
class Bar:
    day: date
    open: float
    high: float
    low: float
    close: float
    volume: int
    halt: bool


def daily_bars(listing: Any, sessions: list[date], rng: random.Random, halt_spell: bool,
               market: dict[date, float] | None = None, beta: float = 0.0, market_sigma: float = 0.0,
               last: date | None = None) -> list[Bar]:
    """Bars of one listing on the adjusted basis (floats; rounding to ticks happens per basis).

    ``market`` holds the market's log return per session (volatility ``market_sigma``); each step
    is ``beta`` times it plus the listing's own step, whose volatility is what is left of the
    listing's total. Bars stop at
    ``last`` (a delisting) when given."""
    listed = date.fromisoformat(listing.listed_on) if listing.listed_on else sessions[0]
    days = [d for d in sessions if d >= listed and (last is None or d <= last)]
    if not days:
        return []
    halted = {i for i in range(len(days)) if rng.random() < HALT_PER_SESSION}
    if halt_spell and len(days) > 40:
        first = rng.randrange(5, len(days) - 25)
        halted |= set(range(first, first + rng.randint(3, 20)))
    sigma = rng.uniform(0.01, 0.028)
    drift = rng.gauss(0.0002, 0.0004)
    market = market or {}
    own = math.sqrt(max(sigma * sigma - (beta * market_sigma) ** 2, (sigma / 3) ** 2))
    closes = [0.0] * len(days)
    closes[-1] = float(listing.close or 10_000)
    for i in range(len(days) - 1, 0, -1):  # walk back from the real last close
        step = 0.0 if i in halted else max(-0.25, min(0.25, rng.gauss(drift, own) + beta * market.get(days[i], 0.0)))
        closes[i - 1] = max(50.0, closes[i] / math.exp(step))
    turnover = rng.uniform(0.001, 0.01)
    shares = listing.listed_shares or 10_000_000
    bars = []
    for i, (day, close) in enumerate(zip(days, closes, strict=True)):
        previous = closes[i - 1] if i else close
        if i in halted:
            bars.append(Bar(day, 0, 0, 0, previous if i else close, 0, True))
            closes[i] = previous
            continue
        open_ = previous * math.exp(rng.gauss(0, sigma / 3))
        ceiling, floor = previous * 1.3, previous * 0.7
        high = min(ceiling, max(open_, close) * (1 + abs(rng.gauss(0, sigma / 2))))
        low = max(floor, min(open_, close) * (1 - abs(rng.gauss(0, sigma / 2))))
        volume = max(1, int(shares * turnover * math.exp(rng.gauss(0, 0.6))))
        bars.append(Bar(day, min(max(open_, low), high), high, low, close, volume, False))
    return bars


def priced(bar: Bar, ratio: int) -> tuple[int, int, int, int, int]:
    """(open, high, low, close, volume) on the tick grid, prices times ``ratio`` (raw basis)."""
    close = max(tick_size(bar.close * ratio), to_tick(bar.close * ratio))
    if bar.halt:
        return 0, 0, 0, close, 0
    open_, high, low = (max(tick_size(v * ratio), to_tick(v * ratio)) for v in (bar.open, bar.high, bar.low))
    return open_, max(high, open_, close), min(low, open_, close), close, max(1, bar.volume // ratio)


def _write_daily(path: Path, bars: list[Bar], ratios: list[int]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DAILY_HEADER)
        for bar, ratio in zip(bars, ratios, strict=True):
            open_, high, low, close, volume = priced(bar, ratio)
            writer.writerow([bar.day.isoformat(), open_, high, low, close, volume,
                             (high + low + close) // 3 * volume])


def sessions_of(options: ScaleOptions) -> list[date]:
    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

    return krx_calendar().sessions_between(options.start, options.end + timedelta(days=1))


def market_returns(options: ScaleOptions, sessions: list[date]) -> dict[str, dict[date, float]]:
    """Daily log returns per index code (the return into each session; none into the first):
    KOSPI's and KOSDAQ's, correlated."""
    rng = random.Random(f"{options.seed}:index")
    kospi, kosdaq = INDICES
    out: dict[str, dict[date, float]] = {kospi.code: {}, kosdaq.code: {}}
    spread = math.sqrt(1 - KOSDAQ_CORRELATION ** 2)
    for day in sessions[1:]:
        first, second = rng.gauss(0, 1), rng.gauss(0, 1)
        out[kospi.code][day] = kospi.drift + kospi.sigma * first
        out[kosdaq.code][day] = kosdaq.drift + kosdaq.sigma * (KOSDAQ_CORRELATION * first + spread * second)
    return out


def generate_index(options: ScaleOptions, sessions: list[date], returns: dict[str, dict[date, float]],
                   out: Path, result: Generated) -> None:
    """``index/<code>.csv``: the levels the returns make, walked back from the end level."""
    (out / "index").mkdir(parents=True, exist_ok=True)
    for model in INDICES:
        rng = random.Random(f"{options.seed}:index:{model.code}")
        closes = [0.0] * len(sessions)
        closes[-1] = model.end_level
        for i in range(len(sessions) - 1, 0, -1):
            closes[i - 1] = closes[i] / math.exp(returns[model.code][sessions[i]])
        path = out / "index" / f"{model.code}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(INDEX_HEADER)
            for i, (day, close) in enumerate(zip(sessions, closes, strict=True)):
                previous = closes[i - 1] if i else close
                open_ = previous * math.exp(rng.gauss(0, model.sigma / 3))
                high = max(open_, close) * (1 + abs(rng.gauss(0, model.sigma / 2)))
                low = min(open_, close) * (1 - abs(rng.gauss(0, model.sigma / 2)))
                volume = max(1, int(model.volume_thousands * math.exp(rng.gauss(0, 0.25))))
                value = int(volume * model.price_per_share * math.exp(rng.gauss(0, 0.1)) / 1000)
                writer.writerow([day.isoformat(), f"{open_:.2f}", f"{high:.2f}", f"{low:.2f}", f"{close:.2f}",
                                 volume, value])
                result.index_rows += 1
        result.index_files.append(path)
    if sessions:
        result.index_window = (sessions[0], sessions[-1] + timedelta(days=1))


def choose_delistings(options: ScaleOptions, listings: list[Any], sessions: list[date],
                      minute_codes: set[str]) -> dict[str, date]:
    """``DELISTED_SHARE`` of the listings, from the smaller half by market cap and never one with
    minute bars, each with a last session in its history (not the window's last)."""
    rng = random.Random(f"{options.seed}:delist")
    candidates = [item for item in listings[len(listings) // 2:] if item.code not in minute_codes]
    chosen = rng.sample(candidates, min(len(candidates), round(len(listings) * DELISTED_SHARE)))
    out = {}
    for listing in sorted(chosen, key=lambda item: item.code):
        listed = date.fromisoformat(listing.listed_on) if listing.listed_on else sessions[0]
        days = [d for d in sessions if d >= listed]
        if len(days) >= 20:  # a few sessions of history before it ends
            out[listing.code] = days[rng.randrange(len(days) // 5, len(days) - 1)]
    return out


def _write_delistings(path: Path, listings: list[Any], delisted: dict[str, date]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "market", "last_session"])
        for listing in listings:
            if listing.code in delisted:
                writer.writerow([listing.code, listing.name, listing.market, delisted[listing.code].isoformat()])


def generate_daily(options: ScaleOptions, listings: list[Any], out: Path, result: Generated,
                   minute_codes: set[str], minute_bars_of: dict[str, list[tuple[Bar, int]]],
                   sessions: list[date], returns: dict[str, dict[date, float]]) -> None:
    minute_days = set(sessions[-options.minute_days:]) if options.minute_days else set()
    (out / "daily" / "adjusted").mkdir(parents=True, exist_ok=True)
    (out / "daily" / "raw").mkdir(parents=True, exist_ok=True)
    progress = Progress("daily bars", "rows", len(listings))
    kospi, kosdaq = INDICES
    for index, listing in enumerate(listings):
        rng = random.Random(f"{options.seed}:daily:{listing.code}")
        beta = random.Random(f"{options.seed}:beta:{listing.code}").uniform(0.6, 1.4)
        model = kospi if listing.market == "KOSPI" else kosdaq
        bars = daily_bars(listing, sessions, rng, halt_spell=index % HALT_SPELL_EVERY == 1,
                          market=returns[model.code], beta=beta, market_sigma=model.sigma,
                          last=result.delisted.get(listing.code))
        if not bars:
            continue
        ratios = [1] * len(bars)
        if index % SPLIT_EVERY == 0 and len(bars) > 40:
            at = rng.randrange(10, len(bars) - 10)
            ratio = rng.choice((2, 5, 10, 50))
            ratios[:at] = [ratio] * at
            result.splits[listing.code] = (bars[at].day, ratio)
        path = out / "daily" / "adjusted" / f"{listing.code}.csv"
        _write_daily(path, bars, [1] * len(bars))
        result.adjusted_files.append(path)
        result.daily_rows += len(bars)
        result.halts += sum(bar.halt for bar in bars)
        if listing.code in result.splits:
            path = out / "daily" / "raw" / f"{listing.code}.csv"
            _write_daily(path, bars, ratios)
            result.raw_files.append(path)
            result.raw_rows += len(bars)
        if listing.code in minute_codes:
            minute_bars_of[listing.code] = [(b, r) for b, r in zip(bars, ratios, strict=True)
                                            if b.day in minute_days and not b.halt]
        progress.tick(index + 1, result.daily_rows + result.raw_rows)
    progress.tick(len(listings), result.daily_rows + result.raw_rows, force=True)
    if minute_days:
        result.minute_window = (min(minute_days), max(minute_days) + timedelta(days=1))


# -- minute bars -----------------------------------------------------------------------------------


def minute_bars(bar: Bar, ratio: int, rng: random.Random) -> Iterator[tuple[datetime, int, int, int, int, int]]:
    """One session's minute bars: a bridge from the day's open to its close inside its range,
    U-shaped volume summing to the day's; 09:00 … 15:19 and the closing auction at 15:30."""
    from azak_pipelines.lib.calendar.krx_calendar import krx_calendar

    session = krx_calendar().session(bar.day)
    times = []
    at = session.open
    while at < session.close - timedelta(minutes=10):
        times.append(at)
        at += timedelta(minutes=1)
    times.append(session.close)
    open_, high, low, close, volume = priced(bar, ratio)
    count = len(times)
    path = [float(open_)]
    for i in range(1, count):
        remaining = count - i
        path.append(path[-1] + (close - path[-1]) / remaining + rng.gauss(0, (high - low) / 12 + 1))
    path[-1] = close
    weights = [1.5 + math.cos(math.pi * i / (count - 1)) ** 2 * 2 + rng.random() for i in range(count)]
    scale = volume / sum(weights)
    previous = open_
    for i, stamp in enumerate(times):
        price = to_tick(min(high, max(low, path[i])))
        bar_open = previous
        bar_close = price
        spread = tick_size(price) * rng.randint(0, 2)
        yield (stamp, bar_open, min(high, max(bar_open, bar_close) + spread),
               max(low, min(bar_open, bar_close) - spread), bar_close, int(weights[i] * scale))
        previous = bar_close


def generate_minutes(options: ScaleOptions, out: Path, result: Generated,
                     minute_bars_of: dict[str, list[tuple[Bar, int]]]) -> None:
    (out / "minute").mkdir(parents=True, exist_ok=True)
    progress = Progress("minute bars", "rows", len(minute_bars_of))
    for done, (code, days) in enumerate(sorted(minute_bars_of.items()), start=1):
        rng = random.Random(f"{options.seed}:minute:{code}")
        path = out / "minute" / f"{code}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(MINUTE_HEADER)
            for bar, ratio in days:
                for row in minute_bars(bar, ratio, rng):
                    writer.writerow([row[0].isoformat(), *row[1:]])
                    result.minute_rows += 1
        result.minute_files.append(path)
        progress.tick(done, result.minute_rows)
    progress.tick(len(minute_bars_of), result.minute_rows, force=True)


def read_index_file(path: Path, fetched_at: datetime) -> Iterator[tuple[Any, ...]]:
    """Rows of raw.index_daily from a generated index file (``index/<code>.csv``)."""
    code = path.stem
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        if next(reader, None) != INDEX_HEADER:
            raise ValueError(f"{path}: not a generated index file (header {INDEX_HEADER})")
        for day, open_, high, low, close, volume, value in reader:
            yield (code, date.fromisoformat(day), Decimal(open_), Decimal(high), Decimal(low), Decimal(close),
                   int(volume), int(value), f"file:{path.name}", fetched_at)


def read_minute_file(path: Path, fetched_at: str) -> Iterator[tuple[date, str]]:
    """(trade date, COPY line of raw.minute_prices) per bar of a generated minute file."""
    code = path.stem
    tail = f"\tfile:{path.name}\t{fetched_at}\n"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        if next(reader, None) != MINUTE_HEADER:
            raise ValueError(f"{path}: not a generated minute file (header {MINUTE_HEADER})")
        for stamp, open_, high, low, close, volume in reader:
            day = date.fromisoformat(stamp[:10])
            yield day, f"{code}\t{stamp[:10]}\t{stamp}\t{open_}\t{high}\t{low}\t{close}\t{volume}{tail}"


# -- news ------------------------------------------------------------------------------------------

TITLES = (
    "{n}, {q}분기 영업이익 {x}억원…전년 대비 {p}% {updown}",
    "{n} 주가 {p}% {jump}…{reason}",
    "[특징주] {n}, {reason}에 {p}%대 {strong}",
    "{n}, {m}억원 규모 신규 공급계약 체결",
    "{n}, 자사주 {m}억원어치 매입 결정",
    "외국인, {n} {d}거래일 연속 순매수",
    "기관, {n} {d}거래일째 순매도…주가 {p}% {updown2}",
    "{n}, 주당 {x}원 현금배당 결정",
    "{n}, {country} 시장 진출 본격화…{year}년 매출 목표 {m}억원",
    "{n}, {m}억원 규모 유상증자 결정",
    "{n} 최대주주, 지분 {p}% 장내 매수",
    "{n}, {year}년 연구개발에 {m}억원 투자",
    "{n} 신저가 경신…{d}거래일 연속 하락",
    "{n}, 52주 신고가…시가총액 {x}조원 돌파",
    "{n}, {country} 법인 설립…현지 생산 확대",
    "{n} 실적 발표 앞두고 거래량 {p}% 급증",
    "{n}, 임직원 {d}00명 규모 채용 계획 발표",
    "{n}, {q}분기 매출 {m}억원 기록…시장 예상 {beat}",
)
SUMMARIES = (
    "{n}{eun} {day}일 공시를 통해 이같이 밝혔다. 회사 측은 {reason2}{i} 실적에 반영되기 시작했다고 설명했다. "
    "시장에서는 {n}의 하반기 수익성 개선 여부에 주목하고 있다.",
    "{day}일 {market}에서 {n} 주가는 전 거래일보다 {p}% 움직이며 거래를 마쳤다. "
    "업계에서는 {reason2}{eul} 배경으로 꼽았다.",
    "{n}{eun} 이번 결정으로 중장기 성장 기반을 마련하겠다는 계획이다. 증권가에서는 {reason2}에 따른 "
    "영향이 제한적일 것이라는 분석이 나온다.",
    "{n} 관계자는 \"{reason2}에 대응해 사업 구조를 꾸준히 개선하고 있다\"며 \"주주가치 제고에 힘쓰겠다\"고 말했다.",
)
REASONS = ("수주 기대감", "실적 개선 전망", "업황 회복 기대", "신사업 기대감", "차익 실현 매물", "수급 개선",
           "금리 인하 기대", "환율 하락 부담", "원자재 가격 안정", "규제 완화 기대")
REASONS2 = ("원가 절감 효과", "수출 물량 증가", "제품 가격 인상", "해외 수요 회복", "판관비 감소", "환율 효과")
COUNTRIES = ("미국", "베트남", "인도", "멕시코", "폴란드", "사우디아라비아", "인도네시아", "일본")
MARKETS = {"KOSDAQ": "코스닥시장", "KOSDAQ GLOBAL": "코스닥시장", "KONEX": "코넥스시장"}
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 6, 10, 12, 11, 9, 7, 8, 9, 9, 8, 6, 4, 3, 2, 2, 1, 1)


def _particle(name: str, with_final: str, without: str) -> str:
    last = name[-1]
    if "가" <= last <= "힣":
        return with_final if (ord(last) - 0xAC00) % 28 else without
    return with_final if last.isdigit() or last in "LMNRlmnr" else without


def daily_counts(options: ScaleOptions, rng: random.Random) -> list[tuple[date, int]]:
    """Articles per calendar day: weekdays busier than weekends, volumes growing over the years,
    noisy; exactly ``options.articles`` in all (largest remainders)."""
    from azak_pipelines.defs.calendar.partitions import NEWS_START

    first = max(options.start, date.fromisoformat(NEWS_START))  # the import refuses older news
    days = [first + timedelta(days=i) for i in range((options.end - first).days + 1)]
    weights = []
    for day in days:
        base = (1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.3)[day.weekday()]
        growth = 1.06 ** ((day - options.start).days / 365)
        weights.append(base * growth * math.exp(rng.gauss(0, 0.25)))
    total = sum(weights)
    shares = [options.articles * w / total for w in weights]
    counts = [int(s) for s in shares]
    for i in sorted(range(len(days)), key=lambda i: counts[i] - shares[i])[:options.articles - sum(counts)]:
        counts[i] += 1
    return list(zip(days, counts, strict=True))


def article(listing: Any, day: date, serial: int, rng: random.Random) -> dict[str, Any]:
    name = listing.name
    values = {
        "n": name, "q": rng.randint(1, 4), "x": f"{rng.randint(2, 9_800):,}", "p": rng.randint(1, 29),
        "m": f"{rng.randint(10, 9_000):,}", "d": rng.randint(2, 12), "year": day.year + rng.randint(0, 2),
        "updown": rng.choice(("증가", "감소")), "updown2": rng.choice(("하락", "약세")),
        "jump": rng.choice(("급등", "급락", "상승", "하락")), "strong": rng.choice(("강세", "약세")),
        "reason": rng.choice(REASONS), "reason2": rng.choice(REASONS2), "country": rng.choice(COUNTRIES),
        "beat": rng.choice(("상회", "하회", "부합")), "day": day.day, "eun": _particle(name, "은", "는"),
        "market": MARKETS.get(listing.market or "", "유가증권시장"),
    }
    values["i"] = _particle(values["reason2"], "이", "가")
    values["eul"] = _particle(values["reason2"], "을", "를")
    minute = rng.choices(range(24), HOUR_WEIGHTS)[0] * 60 + rng.randrange(60)
    published = datetime(day.year, day.month, day.day, tzinfo=KST) + timedelta(minutes=minute,
                                                                                  seconds=rng.randrange(60))
    return {
        "title": rng.choice(TITLES).format(**values),
        "summary": rng.choice(SUMMARIES).format(**values),
        "published_at": published.isoformat(),
        "source": rng.choice(PRESS),
        "url": f"https://news.azak-scale.example/articles/{serial}",
        "generated_for": listing.code,
    }


def generate_news(options: ScaleOptions, listings: list[Any], out: Path, result: Generated) -> None:
    """News files of at most ``news_chunk`` articles each, cut on day boundaries."""
    rng = random.Random(f"{options.seed}:news")
    (out / "news").mkdir(parents=True, exist_ok=True)
    by_listing = sorted(listings, key=lambda item: item.listed_on or "")
    listed_days = [date.fromisoformat(item.listed_on) if item.listed_on else date.min for item in by_listing]
    weights = [math.sqrt(item.market_cap or 1e9) for item in by_listing]
    cumulative = []
    running = 0.0
    for weight in weights:
        running += weight
        cumulative.append(running)
    progress = Progress("news", "articles", options.articles, counted="articles")
    handle = None
    in_chunk = 0
    listed = 0
    try:
        for day, count in daily_counts(options, rng):
            while listed < len(by_listing) and listed_days[listed] <= day:
                listed += 1
            if count == 0 or listed == 0:
                continue
            if handle is None or in_chunk + count > options.news_chunk:
                if handle is not None:
                    handle.close()
                path = out / "news" / f"news-{len(result.news_files) + 1:03d}.jsonl"
                result.news_files.append(path)
                handle = path.open("w", encoding="utf-8")
                in_chunk = 0
            chosen = rng.choices(by_listing[:listed], cum_weights=cumulative[:listed], k=count)
            for position, listing in enumerate(chosen):
                redraws = 0
                while result.delisted.get(listing.code, day) < day and redraws < 20:  # delisted by then
                    listing = rng.choices(by_listing[:listed], cum_weights=cumulative[:listed])[0]
                    redraws += 1
                chosen[position] = listing
            for listing in chosen:
                result.articles += 1
                handle.write(json.dumps(article(listing, day, result.articles, rng), ensure_ascii=False) + "\n")
            in_chunk += count
            progress.tick(result.articles, result.articles)
    finally:
        if handle is not None:
            handle.close()
    progress.tick(result.articles, result.articles, force=True)


# -- the command -----------------------------------------------------------------------------------


def generate(options: ScaleOptions, out: Path) -> Generated:
    """Write the dataset's files under ``out``; memory stays bounded (one stock or day at a time)."""
    listings = select_listings(options.stocks)
    result = Generated()
    minute_codes = {item.code for item in listings[:options.minute_stocks]} if options.minute_days else set()
    minute_bars_of: dict[str, list[tuple[Bar, int]]] = {}
    _say(f"generating {options.start} … {options.end} for {len(listings):,} listings into {out}")
    started = time.monotonic()
    sessions = sessions_of(options)
    returns = market_returns(options, sessions)
    generate_index(options, sessions, returns, out, result)
    result.seconds["index"] = time.monotonic() - started
    started = time.monotonic()
    result.delisted = choose_delistings(options, listings, sessions, minute_codes)
    out.mkdir(parents=True, exist_ok=True)
    _write_delistings(out / "delistings.csv", listings, result.delisted)
    generate_daily(options, listings, out, result, minute_codes, minute_bars_of, sessions, returns)
    result.seconds["daily"] = time.monotonic() - started
    started = time.monotonic()
    generate_minutes(options, out, result, minute_bars_of)
    minute_bars_of.clear()
    result.seconds["minute"] = time.monotonic() - started
    started = time.monotonic()
    if options.articles:
        generate_news(options, listings, out, result)
    result.seconds["news"] = time.monotonic() - started
    return result


def load(runtime: Any, generated: Generated) -> dict[str, float]:
    """Import the files through the normal paths into the runtime's warehouse; seconds per part."""
    seconds: dict[str, float] = {}
    for basis, files in (("adjusted", generated.adjusted_files), ("raw", generated.raw_files)):
        started = time.monotonic()
        load_prices(runtime, files, basis)
        seconds[f"daily_{basis}"] = time.monotonic() - started
    started = time.monotonic()
    if generated.minute_window is not None:
        load_minutes(runtime.database.render(), generated.minute_files, generated.minute_window)
    seconds["minute"] = time.monotonic() - started
    started = time.monotonic()
    if generated.index_window is not None:
        load_index(runtime.database.render(), generated.index_files, generated.index_window)
    seconds["index"] = time.monotonic() - started
    started = time.monotonic()
    for number, path in enumerate(generated.news_files, start=1):
        _say(f"azak import news: chunk {number}/{len(generated.news_files)} ({path.name})")
        load_news(runtime, path)
    seconds["news"] = time.monotonic() - started
    return seconds


def load_prices(runtime: Any, files: list[Path], basis: str) -> None:
    """``azak import prices`` of every file of one basis in one run: Dagster records two events
    per partition (day) of a run, so batches of files over the same days would pay that again."""
    from azak_cli.market import import_prices

    if files:
        _say(f"azak import prices --basis {basis}: {len(files):,} files")
        import_prices(runtime, files, "english", basis, bars=bars.wanted())


def load_news(runtime: Any, path: Path) -> dict[str, Any]:
    """``azak import news`` of one chunk: raw/imported_news, news_articles and the links."""
    from azak_cli.market import import_news

    return import_news(runtime, [path], bars=bars.wanted())


def load_minutes(url: str, files: list[Path], window: tuple[date, date]) -> int:
    """Each minute file replaces its stock's bars of ``[start, end)``, in one transaction."""
    from azak_pipelines.defs.market.tables import MINUTE_PRICES
    from azak_pipelines.lib.warehouse import connect, replace_slice

    written = 0
    fetched_at = datetime.now(UTC).isoformat()
    progress = Progress("minute bars loaded", "rows", len(files))
    with connect(url) as conn:
        for done, path in enumerate(files, start=1):
            result = replace_slice(conn, MINUTE_PRICES, read_minute_file(path, fetched_at), *window,
                                   scope={"stock_code": [path.stem]}, text_lines=True)
            written += result.written
            progress.tick(done, written)
    progress.tick(len(files), written, force=True)
    return written


def load_index(url: str, files: list[Path], window: tuple[date, date]) -> int:
    """Each index file replaces its index's levels of ``[start, end)``, in one transaction — what
    the KIS index asset does for the codes it fetched."""
    from azak_pipelines.defs.market.tables import INDEX_DAILY
    from azak_pipelines.lib.warehouse import connect, replace_slice

    written = 0
    fetched_at = datetime.now(UTC)
    with connect(url) as conn:
        for path in files:
            result = replace_slice(conn, INDEX_DAILY, read_index_file(path, fetched_at), *window,
                                   scope={"index_code": [path.stem]})
            written += result.written
    _say(f"  index levels loaded: {written:,} rows ({', '.join(path.stem for path in files)})")
    return written
