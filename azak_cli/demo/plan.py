"""What `azak demo` materializes: the bundled sample window, one Dagster run per step.

Each step names jobs of the code location and, for partitioned jobs, the partition range the
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
    """One run: the assets of ``jobs`` (several jobs' assets run together, as one run of the implicit
    asset job), only their dbt models (``dbt=True``) or all but them (``dbt=False``) — or files."""

    name: str
    jobs: tuple[str, ...] = ()
    partition_range: tuple[str, str] | None = None
    run_config: dict[str, Any] = field(default_factory=dict)
    price_files: tuple[str, ...] = ()  # under sample_data/, loaded with `azak import prices`
    dbt: bool | None = None


# Each dbt invocation costs seconds of start-up whatever it builds, so the dbt models run in two
# invocations: the ones over the raw and computed tables once those are loaded (nothing before them
# reads a model), and the ones over the model outputs with the evaluation that reads them.
DEMO_STEPS: tuple[DemoStep, ...] = (
    DemoStep("reference data (KRX universe, calendar, names' history)", ("reference_job",), dbt=False),
    DemoStep("daily market series from KIS (replayed)", ("market_raw_job",), (SAMPLE_START, SAMPLE_END)),
    DemoStep("minute bars and quote snapshots (replayed)", ("intraday_job",), (INTRADAY_START, SAMPLE_END)),
    DemoStep("financial ratios and product info (replayed)", ("fundamentals_job",)),
    DemoStep("earlier price history from files (English and pykrx layouts)",
             price_files=("imports/005930_D.csv", "imports/000660.csv")),
    DemoStep("news and disclosures (replayed), articles and company links", ("all_news_job",),
             (NEWS_START, SAMPLE_END)),
    DemoStep("article embeddings (Milvus) and each article's earlier similar articles", ("embeddings_job",),
             (NEWS_START, SAMPLE_END)),
    DemoStep("dbt models: reference, market (returns and indicators), news, links, price impact, "
             "what prices did after similar earlier news",
             ("reference_job", "market_marts_job", "news_marts_job", "embeddings_marts_job"), dbt=True),
    DemoStep("news-impact predictions of the active models (the offline baselines without keys)",
             ("news_predictions_job",), (NEWS_START, SAMPLE_END)),
    DemoStep("stock reports of the active models over the last sample month", ("stock_reports_job",),
             (REPORTS_START, SAMPLE_END)),
    # after the predictions: outcomes, scores, leaderboard and A/B (empty but valid without predictions)
    DemoStep("model cost mart, evaluation of predictions and reports (outcomes, scores, leaderboard, A/B)",
             ("predictions_marts_job", "evaluation_job")),
    DemoStep("Telegram outbox (past days: recorded as skipped, never sent)", ("telegram_notifications_job",),
             (NEWS_START, SAMPLE_END)),
)
