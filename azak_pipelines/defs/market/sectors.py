"""The sector indices Azak collects: the codes of ``dbt_project/seeds/kis_sectors.csv`` (names
checked against KIS's sector master by tests/pipelines/kis/test_sectors.py)."""

from azak_core.market import KOSDAQ, KOSPI, KOSPI200
from azak_pipelines.lib.kis.sectors import read_sector_mapping

COMPOSITES = [KOSPI, KOSDAQ, KOSPI200]


def sector_codes() -> list[str]:
    # imported here: the dbt project's module imports dagster-dbt (seconds), which the price
    # import (azak_pipelines.definitions.daily_prices_defs) does not otherwise need
    from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR

    return [sector.code for sector in read_sector_mapping(DBT_PROJECT_DIR / "seeds")]


def default_index_codes() -> list[str]:
    """The composites and every sector: what ``index_daily`` and ``index_snapshots`` collect
    unless their run config names other codes."""
    return [*COMPOSITES, *sector_codes()]
