"""The code location: everything registered lives in ``azak_pipelines/defs``."""

from pathlib import Path

import dagster as dg

from azak_pipelines.defs.catalog import describe


@dg.definitions
def defs() -> dg.Definitions:
    return describe(dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent))


def daily_prices_defs() -> dg.Definitions:
    """``daily_prices_job`` alone: ``raw/daily_prices``, the checks on it (the market's and its
    freshness rule), the resources and the executor — the same objects :func:`defs` loads,
    annotated the same way, without importing the other domains (dbt, the LLM and embedding
    clients, the plots), which were over a third of ``azak import prices``'s CPU. The job's graph is the
    code location's (tests/pipelines/test_definitions.py); only the resources it does not use are
    left out."""
    from azak_pipelines.defs import executor, resources
    from azak_pipelines.defs.freshness import checks as freshness_checks
    from azak_pipelines.defs.market import assets, checks, jobs
    from azak_pipelines.defs.market import resources as market_resources

    return describe(dg.Definitions.merge(
        dg.Definitions(assets=[assets.daily_prices], jobs=[jobs.daily_prices_job],
                       asset_checks=dg.load_asset_checks_from_modules([checks, freshness_checks])),
        resources.resources(), market_resources.resources(), executor.executor()))


def job(name: str) -> dg.JobDefinition:
    """One job of the code location; :func:`dagster.build_reconstructable_job` points here so
    that another process (a Celery worker) can load the same job."""
    return defs().resolve_job_def(name)
