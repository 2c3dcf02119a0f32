"""What the market routes compute from the rows: the quote with its market status and age, the
point-in-time valuation, and the market overview."""

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.errors import NotFound, ServiceUnavailable
from azak_api.market import queries
from azak_api.market.schemas import (
    AfterHours,
    BookLevel,
    IndexLevel,
    LatestPrediction,
    MarketOverview,
    Mover,
    NetBuyer,
    NetBuyLeaders,
    OrderBook,
    PredictionCounts,
    Quote,
    Sectors,
    Valuation,
)
from azak_core.market import (
    AFTER_HOURS_SINGLE_PRICE,
    COMPOSITE_INDICES,
    KST,
    QUOTE_SNAPSHOT_MINUTES,
    MarketStatus,
    market_status,
)

FRESH = timedelta(minutes=QUOTE_SNAPSHOT_MINUTES)
MOVERS = 5
NET_BUYERS = 5


def _f(value: queries.Number | None) -> float | None:
    return float(value) if value is not None else None


class MarketClock(NamedTuple):
    status: MarketStatus
    after_hours_through: date  # the newest session whose after-hours result is final


async def market_clock(conn: AsyncConnection, now: datetime) -> MarketClock:
    """The market's status at ``now`` from the one KRX calendar (``marts.trading_days``)."""
    day = now.astimezone(KST).date()
    found = await queries.session_of(conn, day)
    if found.first_day is None or found.last_day is None or not found.first_day <= day <= found.last_day:
        raise ServiceUnavailable(
            f"the KRX calendar (marts.trading_days) does not cover {day}: materialize "
            "reference/trading_calendar and the reference marts (reference_job)")
    session = (found.open_at, found.close_at) if found.open_at and found.close_at else None
    done = session is not None and now >= session[1] + AFTER_HOURS_SINGLE_PRICE[1]
    return MarketClock(market_status(now, session), day if done else day - timedelta(days=1))


def _book(prices: list[Any] | None, quantities: list[int] | None) -> list[BookLevel]:
    return [BookLevel(float(p), int(q)) for p, q in zip(prices or [], quantities or [], strict=False)
            if p is not None and q is not None and p > 0]


def _freshness(status: MarketStatus, age: timedelta) -> str:
    if age <= FRESH:
        return f"live: taken within the last {QUOTE_SNAPSHOT_MINUTES} minutes"
    if status == "open":
        return (f"late: the market is open but the newest snapshot is {int(age.total_seconds() // 60)} "
                f"minutes old (quote_snapshots runs every {QUOTE_SNAPSHOT_MINUTES} minutes in the session)")
    return "the last snapshot taken: snapshots are taken during the regular session only"


async def quote(conn: AsyncConnection, code: str, now: datetime) -> Quote:
    row = await queries.latest_quote(conn, code, now)
    if row is None:
        raise NotFound(f"no quote of {code} has been collected (quote_snapshots covers the watch-list)")
    status, through = await market_clock(conn, now)
    age = now - row.captured_at
    late = await queries.latest_after_hours(conn, code, through)
    return Quote(
        code=code, market_status=status, as_of=now, observed_at=row.captured_at,
        age_seconds=int(age.total_seconds()), is_fresh=age <= FRESH, freshness=_freshness(status, age),
        price=float(row.price), change=_f(row.change), change_pct=_f(row.change_rate), open=_f(row.open),
        high=_f(row.high), low=_f(row.low), volume=row.volume, trading_value=row.trading_value,
        best_bid=_f(row.bid_prices[0]) if row.bid_prices else None,
        best_ask=_f(row.ask_prices[0]) if row.ask_prices else None,
        order_book=OrderBook(_book(row.ask_prices, row.ask_quantities), _book(row.bid_prices, row.bid_quantities),
                             row.total_ask_quantity, row.total_bid_quantity),
        after_hours=AfterHours(late.trade_date, _f(late.price), _f(late.change), _f(late.change_rate),
                               late.volume) if late else None,
        source=row.source)


def _ratio(price: float, per_share: queries.Number | None) -> float | None:
    return round(price / float(per_share), 2) if per_share else None


def valuation(close: queries.CloseRow | None, ratios: queries.RatioRow | None,
              kis: queries.KisFigures | None) -> Valuation | None:
    """PER, PBR, EPS, BPS and market cap as of the latest close (``close``): KIS's own figures when
    that day's quote carries them (``kis``: live), otherwise computed from the annual ratios filed
    by then (``ratios``); ``stocks.queries.detail`` reads all three."""
    if close is None:
        return None
    price = float(close.close)
    cap = int(price * close.listed_shares) if close.listed_shares else None
    period = (ratios.period, ratios.period_kind) if ratios else (None, None)
    if kis is not None:
        return Valuation(as_of=close.trade_date, price=price, per=_f(kis.per), pbr=_f(kis.pbr), eps=_f(kis.eps),
                         bps=_f(kis.bps), market_cap=int(kis.market_cap_krw) if kis.market_cap_krw else cap,
                         dividend_yield=None, period=period[0], period_kind=period[1],
                         basis="kis_quote", synthetic=False, source=kis.source)
    if ratios is None:
        return Valuation(as_of=close.trade_date, price=price, per=None, pbr=None, eps=None, bps=None,
                         market_cap=cap, dividend_yield=None, period=None, period_kind=None, basis="computed",
                         synthetic=False, source="marts.daily_prices")
    return Valuation(as_of=close.trade_date, price=price, per=_ratio(price, ratios.eps),
                     pbr=_ratio(price, ratios.bps), eps=_f(ratios.eps), bps=_f(ratios.bps), market_cap=cap,
                     dividend_yield=None, period=ratios.period, period_kind=ratios.period_kind,
                     basis="computed", synthetic=ratios.source == "kis:replay", source=ratios.source)


class Movers(NamedTuple):
    session: date | None
    scope: str
    gainers: list[Mover]
    losers: list[Mover]
    most_traded: list[Mover]


WATCHED_SCOPE = ("the stocks with daily bars in the warehouse (the watch-list and imported files); KIS's "
                 "market-wide ranking (raw/market_rankings) has not been collected")


async def _with_predictions(conn: AsyncConnection, rows: list[Any], now: datetime) -> list[Mover]:
    reports = {r.stock_code: r for r in await queries.rows(
        conn, "latest_reports_of", "computed.stock_reports", {"codes": [r.code for r in rows], "now": now})}

    def mover(row: Any) -> Mover:
        found = reports.get(row.code)
        return Mover(row.code, row.name, row.close, round(row.change_pct, 2), row.volume, LatestPrediction(
            found.model_name, found.direction, found.probability, found.recommendation, found.made_at)
            if found else None)

    return [mover(r) for r in rows]


def _ranked_scope(row: Any) -> str:
    taken = row.captured_at.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")
    replayed = (" (replayed: the recordings rank the bundled sample's stocks)"
                if row.source == "kis:replay" else "")
    return f"all KRX stocks: KIS's market-wide ranking taken {taken}{replayed}"


def _belongs(ranking: str, mover: Mover) -> bool:
    """A gainer rose and a loser fell (a quiet day's rise ranking can end in falls)."""
    return {"rise": mover.change_pct > 0, "fall": mover.change_pct < 0}.get(ranking, True)


async def _movers(conn: AsyncConnection, now: datetime) -> Movers:
    """KIS's market-wide ranking where collected; otherwise the stocks with daily bars."""
    params = {"n": MOVERS, "day": now.astimezone(KST).date(), "now": now}
    ranked = await queries.rows(conn, "ranked_movers", "staging.stg_kis__market_rankings", params)
    if ranked:
        movers = await _with_predictions(conn, ranked, now)
        by = {name: [m for r, m in zip(ranked, movers, strict=True) if r.ranking == name and _belongs(name, m)]
              for name in ("rise", "fall", "volume")}
        return Movers(ranked[0].trade_date, _ranked_scope(ranked[0]), by["rise"], by["fall"], by["volume"])
    rows = await queries.rows(conn, "movers", "marts.daily_prices", params)
    movers = await _with_predictions(conn, rows, now)
    pairs = list(zip(rows, movers, strict=True))
    return Movers(rows[0].trade_date if rows else None, WATCHED_SCOPE,
                  [m for r, m in pairs if r.side == "gainer"], [m for r, m in pairs if r.side == "loser"], [])


async def _net_buying(conn: AsyncConnection, day: date) -> NetBuyLeaders:
    rows = await queries.rows(conn, "net_buyers", "staging.stg_kis__investor_flows", {"n": NET_BUYERS, "day": day})
    by = {kind: [NetBuyer(r.code, r.name, r.net_value_krw, r.net_quantity) for r in rows if r.investor == kind]
          for kind in ("foreign", "institution")}
    return NetBuyLeaders(rows[0].trade_date if rows else None, by["foreign"], by["institution"])


def _levels(rows: list[Any]) -> tuple[list[IndexLevel], Sectors]:
    levels = [IndexLevel(r.code, r.name, r.trade_date, r.close,
                         round(r.change_pct, 2) if r.change_pct is not None else None) for r in rows]
    composites = [i for i in levels if i.code in COMPOSITE_INDICES]
    sectors = [i for i in levels if i.code not in COMPOSITE_INDICES]
    latest = max((s.date for s in sectors), default=None)
    sectors = sorted((s for s in sectors if s.date == latest), key=lambda s: -(s.change_pct or 0))
    reason = None if sectors else ("no sector index in marts.index_daily: materialize raw/index_daily (it "
                                   "collects the sectors of seeds/kis_sectors.csv; real KIS accounts only) "
                                   "and the market marts")
    return composites, Sectors(collected=bool(sectors), reason=reason, items=sectors)


async def overview(conn: AsyncConnection, now: datetime) -> MarketOverview:
    day = now.astimezone(KST).date()
    movers = await _movers(conn, now)
    indices, sectors = _levels(await queries.rows(conn, "indices", "marts.index_daily", {"day": day}))
    counts = await queries.rows(conn, "prediction_counts", "computed.news_predictions", {"now": now})
    by_direction = Counter({r.direction: r.n for r in counts})
    return MarketOverview(
        market_status=(await market_clock(conn, now)).status, as_of=now, session=movers.session,
        indices=indices, sectors=sectors, movers_scope=movers.scope, gainers=movers.gainers,
        losers=movers.losers, most_traded=movers.most_traded, net_buying=await _net_buying(conn, day),
        predictions=PredictionCounts(counts[0].day if counts else None, sum(by_direction.values()),
                                     dict(by_direction)))
