"""The child process of ``--fault kill-run``: executes one run of a simulation at its simulated
instant, tagged so that the simulation finds it, and is SIGKILLed by it inside a write transaction
(:meth:`azak_cli.simulate.engine.Simulation.kill`: the simulation, not this process, chooses the
moment, from PostgreSQL's locks). Run as ``python -m azak_cli.simulate.victim SPEC`` with the
simulation's environment (its sources, its Dagster home, its warehouse)."""

import json
import sys
from datetime import datetime
from typing import Any

import dagster as dg

from azak_cli.simulate.engine import VICTIM_TAG, execute_request
from azak_cli.simulate.requests import Request
from azak_core import clock


def main(spec: dict[str, Any]) -> None:
    from azak_pipelines.definitions import defs
    from azak_pipelines.runs import dagster_instance

    at = datetime.fromisoformat(spec["at"])
    request = Request("kill-run", spec["job"], tuple(dg.AssetKey.from_user_string(a) for a in spec["assets"]),
                      spec["partition"], tuple(sorted(spec["tags"].items())), spec["run_config"])
    with clock.simulated(lambda: at):
        execute_request(defs(), dagster_instance(), request, {VICTIM_TAG: spec["token"]})


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
