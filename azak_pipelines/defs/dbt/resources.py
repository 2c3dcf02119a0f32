"""The dbt CLI resource: the project beside the code, the executable of this environment.

dagster-dbt's resource pays two costs of its own in every run before dbt starts, besides the dbt
subprocess itself: it runs ``dbt --version`` in a second subprocess to learn which dbt it drives
(2.5-2.7 s of CPU, a Python start and dbt's imports), and it opens a dbt adapter in the run's process,
which only row counts and column lineage use (0.6-0.8 s of CPU). ``AzakDbtCliResource`` knows the
version from this environment's dbt-core package, whose ``dbt`` executable it runs, and opens the
adapter only for an invocation that fetches that metadata (docs/figures.md, "a marts run's fixed
cost"). Both replace members dagster-dbt does not document (``_cli_version``,
``_initialize_dbt_core_adapter``); tests/dbt/test_dbt_resource.py fails on an upgrade that renames
or stops using them.
"""

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging import version

from azak_pipelines.lib.dbt_files import DBT_PROJECT_DIR

# the ``dbt`` executable of this environment: its version is the installed dbt-core package's
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# whether the invocation being started fetches row counts or column lineage (the adapter's only use)
_WITH_ADAPTER: ContextVar[bool] = ContextVar("azak_dbt_with_adapter", default=False)


class AzakDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without its ``dbt --version`` subprocess, and without a dbt
    adapter in the run's process unless the invocation asks for one (``metadata=True``)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if self.dbt_executable != DBT_EXECUTABLE:  # another dbt: ask it, as dagster-dbt does
            return super()._cli_version
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return super()._initialize_dbt_core_adapter(args) if _WITH_ADAPTER.get() else None

    def cli(self, args: Sequence[str], *, metadata: bool = False, **kwargs: Any) -> DbtCliInvocation:
        """``DbtCliResource.cli``; ``metadata`` opens the adapter that ``fetch_row_counts`` and
        ``fetch_column_metadata`` query the warehouse with."""
        with _adapter(metadata):
            return super().cli(args, **kwargs)


@contextmanager
def _adapter(wanted: bool) -> Iterator[None]:
    token = _WITH_ADAPTER.set(wanted)
    try:
        yield
    finally:
        _WITH_ADAPTER.reset(token)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": AzakDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE,
    )})
