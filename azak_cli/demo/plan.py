"""What `azak demo` materializes: the bundled sample window, one Dagster run per step.

Each step names a job of the code location and, for partitioned jobs, the partition range the
bundled data covers — or files to load through ``azak import``. Steps run in order; each is a real
run in the Dagster instance.
"""

from dataclasses import dataclass, field
from typing import Any

# daily_recent in ../shared/data: 20 large caps, 2023-12-05 → 2025-06-17
SAMPLE_START = "2023-12-05"
SAMPLE_END = "2025-06-17"
# minute bars and quote snapshots are recorded for the last sessions only
INTRADAY_START = "2025-06-16"
# the team's news fixtures cover the first half of 2025
NEWS_START = "2025-01-02"
# simulated reports (one per stock, model and trading day at 16:00 KST) for the last month
REPORTS_START = "2025-05-19"


@dataclass(frozen=True)
class DemoStep:
    name: str
    job: str | None = None
    partition_range: tuple[str, str] | None = None
    run_config: dict[str, Any] = field(default_factory=dict)
    price_files: tuple[str, ...] = ()  # under sample_data/, loaded with `azak import prices`


DEMO_STEPS: tuple[DemoStep, ...] = (
    DemoStep("reference data and its dbt models", "reference_job"),
    DemoStep("daily market series from KIS (replayed)", "market_raw_job", (SAMPLE_START, SAMPLE_END)),
    DemoStep("minute bars and quote snapshots (replayed)", "intraday_job", (INTRADAY_START, SAMPLE_END)),
    DemoStep("financial ratios and product info (replayed)", "fundamentals_job"),
    DemoStep("earlier price history from files (English and pykrx layouts)",
             price_files=("imports/005930_D.csv", "imports/000660.csv")),
    DemoStep("market dbt models (returns and indicators)", "market_marts_job"),
    DemoStep("news and disclosures (replayed), articles and company links", "all_news_job",
             (NEWS_START, SAMPLE_END)),
    DemoStep("news, link and price-impact dbt models", "news_marts_job"),
    DemoStep("article embeddings (Milvus) and each article's earlier similar articles", "embeddings_job",
             (NEWS_START, SAMPLE_END)),
    DemoStep("what prices did after similar earlier news (dbt)", "embeddings_marts_job"),
    DemoStep("news-impact predictions of the active models (the offline baselines without keys)",
             "news_predictions_job", (NEWS_START, SAMPLE_END)),
    DemoStep("stock reports of the active models over the last sample month", "stock_reports_job",
             (REPORTS_START, SAMPLE_END)),
    DemoStep("model cost mart", "predictions_marts_job"),
    # after the predictions: outcomes, scores, leaderboard and A/B (empty but valid without predictions)
    DemoStep("evaluation of predictions and reports (outcomes, scores, leaderboard, A/B)", "evaluation_job"),
    DemoStep("Telegram outbox (past days: recorded as skipped, never sent)", "telegram_notifications_job",
             (NEWS_START, SAMPLE_END)),
)
