"""Every table the pipelines write, from each domain's ``tables.py``: one place to look a table up.

A domain's tables are the :class:`TableSpec` values of its ``tables`` module; a new domain adds
its module to ``DOMAINS``. Readers that need "some table by its key" (the dbt sources) ask here
instead of importing every domain.
"""

from types import ModuleType

from azak_pipelines.defs.calendar import tables as calendar
from azak_pipelines.defs.embeddings import tables as embeddings
from azak_pipelines.defs.evaluation import tables as evaluation
from azak_pipelines.defs.market import tables as market
from azak_pipelines.defs.matching import tables as matching
from azak_pipelines.defs.news import tables as news
from azak_pipelines.defs.predictions import tables as predictions
from azak_pipelines.defs.reference import tables as reference
from azak_pipelines.lib.quarantine import QUARANTINE
from azak_pipelines.lib.warehouse import TableSpec

DOMAINS: tuple[ModuleType, ...] = (
    calendar, reference, market, news, matching, embeddings, predictions, evaluation,
)


def _specs(module: ModuleType) -> list[TableSpec]:
    return [value for value in vars(module).values() if isinstance(value, TableSpec)]


TABLES: dict[str, TableSpec] = {
    spec.key: spec for spec in [*(s for module in DOMAINS for s in _specs(module)), QUARANTINE]
}


def table(schema: str, name: str) -> TableSpec:
    """The spec of ``schema.name``; a table no domain declares is an error that names it."""
    key = f"{schema}.{name}"
    if key not in TABLES:
        raise KeyError(f"{key} is not declared in any domain's tables.py (azak_pipelines/defs/tables.py)")
    return TABLES[key]
