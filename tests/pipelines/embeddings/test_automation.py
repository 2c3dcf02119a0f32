"""New news partitions flow to embeddings and similar news by declarative automation, as the
daemon's automation sensor evaluates it."""

import uuid

import dagster as dg

from azak_pipelines.defs.calendar.partitions import news_days
from azak_pipelines.defs.versions import written_by
from tests.pipelines.runs import definitions

EMBEDDINGS = dg.AssetKey(["milvus", "news_embeddings"])
SIMILAR = dg.AssetKey(["computed", "similar_news"])


def requested(result: dg.EvaluateAutomationConditionsResult, key: dg.AssetKey) -> set[str]:
    return set(result.get_requested_partitions(key))


def materialized(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> None:
    """A write of new data: a materialization with a data version of its own, as a run's has (the
    automation follows changed data versions, azak_pipelines/defs/automation.py)."""
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=partition,
                                                                tags=written_by(uuid.uuid4().hex)))


def test_new_articles_and_links_trigger_embeddings_then_similar_news():
    defs = definitions()
    instance = dg.DagsterInstance.ephemeral()
    today = news_days.get_last_partition_key()
    selection = dg.AssetSelection.groups("embeddings")

    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
    assert first.total_requested == 0  # nothing upstream yet

    materialized(instance, dg.AssetKey(["computed", "news_articles"]), today)
    materialized(instance, dg.AssetKey(["computed", "news_stock_matches"]), today)
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                               cursor=first.cursor)
    # one tick: the vectors, and the neighbours in the same run after them
    assert requested(second, EMBEDDINGS) == {today}
    assert requested(second, SIMILAR) == {today}

    materialized(instance, EMBEDDINGS, today)
    materialized(instance, SIMILAR, today)
    quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                              cursor=second.cursor)
    assert quiet.total_requested == 0  # nothing new upstream: nothing re-runs

    materialized(instance, dg.AssetKey(["computed", "news_stock_matches"]), today)  # re-linked (new articles)
    again = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                              cursor=quiet.cursor)
    assert requested(again, EMBEDDINGS) == {today} and requested(again, SIMILAR) == {today}


def test_past_days_written_later_flow_to_exactly_those_days():
    """An import of three past days (eager alone looked at the latest day only), and nothing for the
    days that are merely missing, back to the first news partition."""
    defs = definitions()
    instance = dg.DagsterInstance.ephemeral()
    selection = dg.AssetSelection.groups("embeddings")
    days = news_days.get_partition_keys()
    past = {days[-400], days[-30], days[-29]}
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
    assert first.total_requested == 0  # every day is missing: missing history is not work

    for day in past:
        materialized(instance, dg.AssetKey(["computed", "news_articles"]), day)
        materialized(instance, dg.AssetKey(["computed", "news_stock_matches"]), day)
    imported = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                                 cursor=first.cursor)
    assert requested(imported, EMBEDDINGS) == past
    assert requested(imported, SIMILAR) == past

    for day in past:
        materialized(instance, EMBEDDINGS, day)
        materialized(instance, SIMILAR, day)
    quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                              cursor=imported.cursor)
    assert quiet.total_requested == 0

    corrected = days[-30]
    materialized(instance, dg.AssetKey(["computed", "news_articles"]), corrected)  # a correction of one day
    again = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                              cursor=quiet.cursor)
    assert requested(again, EMBEDDINGS) == {corrected} and requested(again, SIMILAR) == {corrected}
