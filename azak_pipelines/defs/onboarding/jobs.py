"""``stock_onboarding_job``: one run per stock that joins the watch-list."""

import dagster as dg

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
