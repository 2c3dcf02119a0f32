"""The market tables in ``raw``: one per asset, partitioned by KST trading date (or period)."""

from azak_pipelines.lib.warehouse import Column, TableSpec

PRICE = "numeric(14,2)"
PROVENANCE = (
    Column("source", "text", nullable=False, comment="kis:live, kis:replay or file:<name>"),
    Column("fetched_at", "timestamptz", nullable=False,
           comment="when the data was fetched (for files: the file's modification time)"),
)
# the provenance of what only KIS serves (no file import exists for it)
KIS_PROVENANCE = (
    Column("source", "text", nullable=False, comment="kis:live or kis:replay"),
    Column("fetched_at", "timestamptz", nullable=False, comment="when the data was fetched"),
)

DAILY_PRICES = TableSpec(
    schema="raw", name="daily_prices",
    comment="Daily OHLCV per stock. Adjusted and raw prices are separate rows (price_basis).",
    columns=(
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("trade_date", "date", nullable=False, comment="KST trading date of the bar"),
        Column("price_basis", "text", nullable=False, comment="adjusted | raw"),
        Column("open", PRICE, comment="NULL on a halt day: no trade happened"),
        Column("high", PRICE, comment="day's high, KRW"),
        Column("low", PRICE, comment="day's low, KRW"),
        Column("close", PRICE, nullable=False, comment="closing price, KRW"),
        Column("volume", "bigint", nullable=False, comment="shares traded"),
        Column("trading_value", "bigint", comment="KRW"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date", "price_basis"),
    partition_column="trade_date", granularity="year",
)

MINUTE_PRICES = TableSpec(
    schema="raw", name="minute_prices",
    comment="One-minute bars; bar_time is the bar's minute in KST, stored as timestamptz.",
    columns=(
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("trade_date", "date", nullable=False, comment="KST trading date"),
        Column("bar_time", "timestamptz", nullable=False, comment="start of the one-minute bar"),
        Column("open", PRICE, nullable=False, comment="first trade in the minute, KRW"),
        Column("high", PRICE, nullable=False, comment="minute's high, KRW"),
        Column("low", PRICE, nullable=False, comment="minute's low, KRW"),
        Column("close", PRICE, nullable=False, comment="last trade in the minute, KRW"),
        Column("volume", "bigint", nullable=False, comment="shares traded in the minute"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date", "bar_time"),
    partition_column="trade_date",
)

QUOTE_SNAPSHOTS = TableSpec(
    schema="raw", name="quote_snapshots",
    comment="Quote (FHKST01010100) and 10-level order book (FHKST01010200) taken together.",
    columns=(
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("trade_date", "date", nullable=False, comment="KST trading date"),
        Column("captured_at", "timestamptz", nullable=False, comment="when the quote was taken"),
        Column("price", PRICE, nullable=False, comment="last price, KRW"),
        Column("change", PRICE, comment="change from the previous close, KRW"),
        Column("change_sign", "text", comment="KIS sign code of the change (up, down, flat, limit)"),
        Column("change_rate", "numeric(8,2)", comment="percent"),
        Column("open", PRICE, comment="day's open so far, KRW"),
        Column("high", PRICE, comment="day's high so far, KRW"),
        Column("low", PRICE, comment="day's low so far, KRW"),
        Column("volume", "bigint", comment="shares traded so far today"),
        Column("trading_value", "bigint", comment="KRW"),
        Column("per", "numeric(12,2)", comment="price / earnings per share"),
        Column("pbr", "numeric(12,2)", comment="price / book value per share"),
        Column("eps", "numeric(14,2)", comment="earnings per share, KRW"),
        Column("bps", "numeric(14,2)", comment="book value per share, KRW"),
        Column("market_cap_100m_krw", "bigint", comment="KIS hts_avls, in 억원 (100 million KRW)"),
        Column("ask_prices", "numeric(14,2)[]", comment="order book: ask prices, best first"),
        Column("ask_quantities", "bigint[]", comment="order book: shares offered at each ask"),
        Column("bid_prices", "numeric(14,2)[]", comment="order book: bid prices, best first"),
        Column("bid_quantities", "bigint[]", comment="order book: shares wanted at each bid"),
        Column("total_ask_quantity", "bigint", comment="shares offered across the book"),
        Column("total_bid_quantity", "bigint", comment="shares wanted across the book"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date", "captured_at"),
    partition_column="trade_date",
    keep_on_merge=("fetched_at",),
)

INVESTOR_FLOWS = TableSpec(
    schema="raw", name="investor_flows",
    comment="Daily net buying by investor type. KIS keeps the last 30 sessions only.",
    columns=(
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("trade_date", "date", nullable=False, comment="KST trading date"),
        Column("close", PRICE, comment="closing price, KRW"),
        Column("individual_net_qty", "bigint", comment="individuals' net buying, shares"),
        Column("foreign_net_qty", "bigint", comment="foreigners' net buying, shares"),
        Column("institution_net_qty", "bigint", comment="institutions' net buying, shares"),
        Column("individual_net_value_mkrw", "bigint", comment="millions of KRW, as KIS reports"),
        Column("foreign_net_value_mkrw", "bigint", comment="foreigners' net buying, million KRW"),
        Column("institution_net_value_mkrw", "bigint", comment="institutions' net buying, million KRW"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date"),
    partition_column="trade_date", granularity="year",
)

INDEX_DAILY = TableSpec(
    schema="raw", name="index_daily",
    comment="Daily index levels (KOSPI 0001, KOSDAQ 1001, KOSPI200 2001, configured sectors).",
    columns=(
        Column("index_code", "text", nullable=False, comment="KIS index code (0001 KOSPI, 1001 KOSDAQ, …)"),
        Column("trade_date", "date", nullable=False, comment="KST trading date"),
        Column("open", "numeric(12,2)", comment="index level at the open"),
        Column("high", "numeric(12,2)", comment="day's high level"),
        Column("low", "numeric(12,2)", comment="day's low level"),
        Column("close", "numeric(12,2)", nullable=False, comment="closing level"),
        Column("volume_thousands", "bigint", comment="thousands of shares, as KIS reports"),
        Column("trading_value_mkrw", "bigint", comment="millions of KRW"),
        *PROVENANCE,
    ),
    natural_key=("index_code", "trade_date"),
    partition_column="trade_date", granularity="year",
)

INDEX_SNAPSHOTS = TableSpec(
    schema="raw", name="index_snapshots",
    comment="Index levels now (FHPUP02100000): the composites and the sectors of seeds/kis_sectors.csv, "
            "every 5 minutes of the session. Real accounts only.",
    columns=(
        Column("index_code", "text", nullable=False, comment="KIS index code (0001 KOSPI, 0013 전기·전자, …)"),
        Column("trade_date", "date", nullable=False, comment="KST trading date"),
        Column("captured_at", "timestamptz", nullable=False, comment="when the level was taken"),
        Column("level", "numeric(12,2)", nullable=False, comment="index level"),
        Column("change", "numeric(12,2)", comment="change from the previous close, points"),
        Column("change_sign", "text", comment="KIS sign code of the change"),
        Column("change_rate", "numeric(8,2)", comment="percent"),
        Column("open", "numeric(12,2)", comment="level at the open"),
        Column("high", "numeric(12,2)", comment="day's high so far"),
        Column("low", "numeric(12,2)", comment="day's low so far"),
        Column("volume_thousands", "bigint", comment="thousands of shares so far, as KIS reports"),
        Column("trading_value_mkrw", "bigint", comment="millions of KRW so far"),
        Column("advancing", "integer", comment="constituents up on the day"),
        Column("declining", "integer", comment="constituents down on the day"),
        *KIS_PROVENANCE,
    ),
    natural_key=("index_code", "trade_date", "captured_at"),
    partition_column="trade_date", granularity="year",
    keep_on_merge=("fetched_at",),
)

MARKET_RANKINGS = TableSpec(
    schema="raw", name="market_rankings",
    comment="KIS's market-wide rankings, the latest of each day: rise and fall (FHPST01700000) and "
            "volume (FHPST01710000), up to 30 stocks each. Real accounts only.",
    columns=(
        Column("trade_date", "date", nullable=False, comment="KST trading date"),
        Column("ranking", "text", nullable=False, comment="rise | fall | volume"),
        Column("rank", "integer", nullable=False, comment="1 = first in the ranking"),
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("stock_name", "text", comment="KIS's short name (hts_kor_isnm)"),
        Column("price", PRICE, nullable=False, comment="price when ranked, KRW"),
        Column("change", PRICE, comment="change from the previous close, KRW"),
        Column("change_sign", "text", comment="KIS sign code of the change"),
        Column("change_rate", "numeric(8,2)", comment="change from the previous close, percent"),
        Column("volume", "bigint", comment="shares traded so far today"),
        Column("trading_value", "bigint", comment="KRW traded so far (volume ranking only)"),
        Column("captured_at", "timestamptz", nullable=False, comment="when the ranking was taken"),
        *KIS_PROVENANCE,
    ),
    natural_key=("trade_date", "ranking", "rank"),
    partition_column="trade_date", granularity="year",
)

OVERTIME_PRICES = TableSpec(
    schema="raw", name="overtime_prices",
    comment="After-hours single-price session (16:00-18:00) results per day.",
    columns=(
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("trade_date", "date", nullable=False, comment="KST trading date"),
        Column("price", PRICE, comment="after-hours single-price result, KRW"),
        Column("change", PRICE, comment="versus the day's regular close"),
        Column("change_sign", "text", comment="KIS sign code of the change"),
        Column("change_rate", "numeric(8,2)", comment="change from the regular close, %"),
        Column("volume", "bigint", comment="shares traded after hours"),
        Column("trading_value", "bigint", comment="value traded after hours, KRW"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date"),
    partition_column="trade_date", granularity="year",
)

FINANCIAL_RATIOS = TableSpec(
    schema="raw", name="financial_ratios",
    comment="Financial ratios per accounting period, annual and quarterly (FHKST66430300).",
    columns=(
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("period_end", "date", nullable=False, comment="first day after the period"),
        Column("period", "text", nullable=False, comment="YYYYMM as KIS reports"),
        Column("period_kind", "text", nullable=False, comment="annual | quarterly"),
        Column("revenue_growth", "numeric(12,2)", comment="revenue growth, % year on year"),
        Column("operating_income_growth", "numeric(12,2)", comment="operating income growth, % year on year"),
        Column("net_income_growth", "numeric(12,2)", comment="net income growth, % year on year"),
        Column("roe", "numeric(12,2)", comment="return on equity, %"),
        Column("eps", "numeric(14,2)", comment="earnings per share, KRW"),
        Column("bps", "numeric(14,2)", comment="book value per share, KRW"),
        Column("debt_ratio", "numeric(12,2)", comment="liabilities / equity, %"),
        Column("reserve_ratio", "numeric(12,2)", comment="reserves / paid-in capital, %"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "period_end", "period_kind"),
    partition_column="period_end", granularity="year",
)

PRODUCT_INFO = TableSpec(
    schema="raw", name="product_info",
    comment="Listing metadata per stock (CTPF1604R).",
    columns=(
        Column("stock_code", "text", nullable=False, comment="6-character KRX short code"),
        Column("product_name", "text", comment="the product's full name"),
        Column("classification", "text", comment="KIS product classification"),
        Column("product_type", "text", comment="stock, ETF, ETN, …"),
        Column("risk_grade", "text", comment="KIS risk grade"),
        Column("first_registered_on", "date", comment="first registration date"),
        *PROVENANCE,
    ),
    natural_key=("stock_code",),
)
