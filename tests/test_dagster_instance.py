"""The project's dagster.yaml as a real Dagster instance reads it: the run queue that keeps runs
launched from the API (azak_api/analysis/dagster.py) from holding up the platform's own."""

import dagster as dg

from azak_api.analysis.dagster import API_RUN_TAGS


def test_api_runs_have_a_lower_priority_and_a_concurrency_limit_of_their_own(dagster_home):
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config  # what the daemon dequeues by
    assert queue is not None
    limits = [limit for limit in queue.tag_concurrency_limits if limit["key"] == "azak/origin"]
    assert [(limit.get("value"), limit["limit"]) for limit in limits] == [(API_RUN_TAGS["azak/origin"], 1)]
    # one API run at a time leaves the other slots to the platform; below its default priority 0
    assert queue.max_concurrent_runs > 1 and int(API_RUN_TAGS["dagster/priority"]) < 0
