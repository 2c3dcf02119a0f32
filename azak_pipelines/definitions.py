"""The Dagster code location: everything registered lives in ``azak_pipelines/defs``."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent),
        # Steps share one process: our assets are I/O bound and a process per step costs
        # seconds of imports on a 2-core machine.
        dg.Definitions(executor=dg.in_process_executor),
    )
