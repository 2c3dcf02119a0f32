"""The code location: everything registered lives in ``azak_pipelines/defs``."""

from pathlib import Path

import dagster as dg

from azak_pipelines.defs.catalog import describe


@dg.definitions
def defs() -> dg.Definitions:
    return describe(dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent))


def job(name: str) -> dg.JobDefinition:
    """One job of the code location; :func:`dagster.build_reconstructable_job` points here so
    that another process (a Celery worker) can load the same job."""
    return defs().resolve_job_def(name)
