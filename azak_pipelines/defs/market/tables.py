"""The market tables in ``raw``: one per asset, partitioned by KST trading date (or period)."""

from azak_pipelines.lib.warehouse import Column, TableSpec

PRICE = "numeric(14,2)"
PROVENANCE = (
    Column("source", "text", nullable=False, comment="kis:live, kis:replay or file:<name>"),
    Column("fetched_at", "timestamptz", nullable=False,
           comment="when the data was fetched (for files: the file's modification time)"),
)

DAILY_PRICES = TableSpec(
    schema="raw", name="daily_prices",
    comment="Daily OHLCV per stock. Adjusted and raw prices are separate rows (price_basis).",
    columns=(
        Column("stock_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("price_basis", "text", nullable=False, comment="adjusted | raw"),
        Column("open", PRICE, comment="NULL on a halt day: no trade happened"),
        Column("high", PRICE),
        Column("low", PRICE),
        Column("close", PRICE, nullable=False),
        Column("volume", "bigint", nullable=False),
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
        Column("stock_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("bar_time", "timestamptz", nullable=False),
        Column("open", PRICE, nullable=False),
        Column("high", PRICE, nullable=False),
        Column("low", PRICE, nullable=False),
        Column("close", PRICE, nullable=False),
        Column("volume", "bigint", nullable=False),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date", "bar_time"),
    partition_column="trade_date",
)

QUOTE_SNAPSHOTS = TableSpec(
    schema="raw", name="quote_snapshots",
    comment="Quote (FHKST01010100) and 10-level order book (FHKST01010200) taken together.",
    columns=(
        Column("stock_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("captured_at", "timestamptz", nullable=False),
        Column("price", PRICE, nullable=False),
        Column("change", PRICE),
        Column("change_sign", "text"),
        Column("change_rate", "numeric(8,2)", comment="percent"),
        Column("open", PRICE),
        Column("high", PRICE),
        Column("low", PRICE),
        Column("volume", "bigint"),
        Column("trading_value", "bigint", comment="KRW"),
        Column("per", "numeric(12,2)"),
        Column("pbr", "numeric(12,2)"),
        Column("eps", "numeric(14,2)"),
        Column("bps", "numeric(14,2)"),
        Column("market_cap_100m_krw", "bigint", comment="KIS hts_avls, in 억원 (100 million KRW)"),
        Column("ask_prices", "numeric(14,2)[]"),
        Column("ask_quantities", "bigint[]"),
        Column("bid_prices", "numeric(14,2)[]"),
        Column("bid_quantities", "bigint[]"),
        Column("total_ask_quantity", "bigint"),
        Column("total_bid_quantity", "bigint"),
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
        Column("stock_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("close", PRICE),
        Column("individual_net_qty", "bigint"),
        Column("foreign_net_qty", "bigint"),
        Column("institution_net_qty", "bigint"),
        Column("individual_net_value_mkrw", "bigint", comment="millions of KRW, as KIS reports"),
        Column("foreign_net_value_mkrw", "bigint"),
        Column("institution_net_value_mkrw", "bigint"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date"),
    partition_column="trade_date", granularity="year",
)

INDEX_DAILY = TableSpec(
    schema="raw", name="index_daily",
    comment="Daily index levels (KOSPI 0001, KOSDAQ 1001, KOSPI200 2001, configured sectors).",
    columns=(
        Column("index_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("open", "numeric(12,2)"),
        Column("high", "numeric(12,2)"),
        Column("low", "numeric(12,2)"),
        Column("close", "numeric(12,2)", nullable=False),
        Column("volume_thousands", "bigint", comment="thousands of shares, as KIS reports"),
        Column("trading_value_mkrw", "bigint", comment="millions of KRW"),
        *PROVENANCE,
    ),
    natural_key=("index_code", "trade_date"),
    partition_column="trade_date", granularity="year",
)

OVERTIME_PRICES = TableSpec(
    schema="raw", name="overtime_prices",
    comment="After-hours single-price session (16:00-18:00) results per day.",
    columns=(
        Column("stock_code", "text", nullable=False),
        Column("trade_date", "date", nullable=False),
        Column("price", PRICE),
        Column("change", PRICE, comment="versus the day's regular close"),
        Column("change_sign", "text"),
        Column("change_rate", "numeric(8,2)"),
        Column("volume", "bigint"),
        Column("trading_value", "bigint"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "trade_date"),
    partition_column="trade_date", granularity="year",
)

FINANCIAL_RATIOS = TableSpec(
    schema="raw", name="financial_ratios",
    comment="Financial ratios per accounting period, annual and quarterly (FHKST66430300).",
    columns=(
        Column("stock_code", "text", nullable=False),
        Column("period_end", "date", nullable=False, comment="first day after the period"),
        Column("period", "text", nullable=False, comment="YYYYMM as KIS reports"),
        Column("period_kind", "text", nullable=False, comment="annual | quarterly"),
        Column("revenue_growth", "numeric(12,2)"),
        Column("operating_income_growth", "numeric(12,2)"),
        Column("net_income_growth", "numeric(12,2)"),
        Column("roe", "numeric(12,2)"),
        Column("eps", "numeric(14,2)"),
        Column("bps", "numeric(14,2)"),
        Column("debt_ratio", "numeric(12,2)"),
        Column("reserve_ratio", "numeric(12,2)"),
        *PROVENANCE,
    ),
    natural_key=("stock_code", "period_end", "period_kind"),
    partition_column="period_end", granularity="year",
)

PRODUCT_INFO = TableSpec(
    schema="raw", name="product_info",
    comment="Listing metadata per stock (CTPF1604R).",
    columns=(
        Column("stock_code", "text", nullable=False),
        Column("product_name", "text"),
        Column("classification", "text"),
        Column("product_type", "text"),
        Column("risk_grade", "text"),
        Column("first_registered_on", "date"),
        *PROVENANCE,
    ),
    natural_key=("stock_code",),
)
