"""``stock_onboarding_job``: one run per stock that joins the watch-list; ``model_onboarding_job``:
one run per model or A/B pair added with a backfill."""

import dagster as dg

from azak_pipelines.defs.onboarding.model_ops import (
    model_onboarding_done,
    model_onboarding_evaluation,
    model_onboarding_failed,
    model_onboarding_predictions,
    model_onboarding_started,
)
from azak_pipelines.defs.onboarding.ops import (
    onboarding_done,
    onboarding_failed,
    onboarding_links,
    onboarding_marts,
    onboarding_prices,
    onboarding_reports,
    onboarding_started,
)


@dg.job(tags={"azak/source": "onboarding"}, hooks={onboarding_failed})
def stock_onboarding_job() -> None:
    """A stock that joined the watch-list, in one run: its daily prices (two years by default,
    ``AZAK_ONBOARDING_HISTORY_DAYS``; the days after its latest stored bar), its links over every
    stored article, the marts with its indicators, and a first report by every active model.
    ``stock_onboarding_sensor`` launches it for each request the API or `azak stocks add` records;
    from Dagit's launchpad, give ``ops: onboarding_started: config: code: <code>``."""
    onboarding_done(onboarding_reports(onboarding_marts(onboarding_links(onboarding_prices(onboarding_started())))))


@dg.job(tags={"azak/source": "model_onboarding"}, hooks={model_onboarding_failed})
def model_onboarding_job() -> None:
    """A model or an A/B pair added with a backfill, in one run: its news predictions and reports
    over a window of past days (simulated, point in time), oldest day first, within one budget —
    it stops at the day the budget runs out and says so — through the response cache; then the
    evaluation and every pair's A/B comparison. ``model_onboarding_sensor`` launches it for each
    request the API (``backfill`` on POST /api/models or /api/ab-tests) or `azak models add
    --backfill` records; from Dagit's launchpad, give ``ops: model_onboarding_started: config:
    models: [<A>, <B>]`` (and ``start``, ``end``, ``budget_usd`` if not the defaults)."""
    model_onboarding_done(model_onboarding_evaluation(model_onboarding_predictions(model_onboarding_started())))
