"""The dbt CLI resource: the project beside the code, the executable of this environment."""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from azak_pipelines.defs.dbt.project import DBT_PROJECT, DBT_PROJECT_DIR


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"dbt": DbtCliResource(
        project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )})
