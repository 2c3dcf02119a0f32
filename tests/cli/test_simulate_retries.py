"""The run retries the simulation honours are Dagster's own decision, read from tags of Dagster's
private module (``dagster._core.storage.tags``): this test fails on the upgrade that moves them or
changes when Dagster says a run will be retried."""

import dagster as dg

from azak_cli.simulate.engine import RETRY_OF_TAG, retry_tags


@dg.op
def fails() -> None:
    raise RuntimeError("a failure to retry")


@dg.job
def failing() -> None:
    fails()


def test_a_failed_run_is_retried_only_as_its_tags_ask_and_only_as_often():
    with dg.instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 0}}) as instance:
        asked = failing.execute_in_process(instance=instance, raise_on_error=False,
                                           tags={"dagster/max_retries": "1"})
        silent = failing.execute_in_process(instance=instance, raise_on_error=False)
        assert retry_tags(instance, asked.run_id, 0) == {RETRY_OF_TAG: asked.run_id, "dagster/retry_number": "1"}
        assert retry_tags(instance, asked.run_id, 1) is None  # one retry asked, one given
        assert retry_tags(instance, silent.run_id, 0) is None  # the instance's default: none
