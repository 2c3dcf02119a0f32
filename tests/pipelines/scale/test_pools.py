"""Concurrency pools: every asset that calls an upstream names its pool, and the Dagster instance
holds (and enforces) the limits `azak` sets."""

import dagster as dg

from azak_pipelines.defs.pools import KIS, LLM, POOL_LIMITS, ensure_pool_limits
from tests.pipelines.runs import definitions

# the resource an asset calls its upstream through -> the pool it must be in
UPSTREAMS = {"kis": lambda pool: pool == KIS, "llm": lambda pool: pool == LLM,
             "news": lambda pool: pool.startswith("news:")}


def test_every_asset_that_calls_an_upstream_is_in_its_pool():
    defs = definitions()
    graph = defs.resolve_asset_graph()
    checked = 0
    for assets_def in graph.assets_defs:
        for key in assets_def.keys:
            for resource, fits in UPSTREAMS.items():
                if resource in assets_def.required_resource_keys:
                    pools = graph.get(key).pools or set()
                    assert len(pools) == 1 and fits(next(iter(pools))), f"{key.to_user_string()}: {pools}"
                    checked += 1
    assert checked >= 15  # 8 KIS assets, 2 LLM, 5 news hosts
    news_pools = {pool for k in graph.get_all_asset_keys() for pool in graph.get(k).pools or ()
                  if pool.startswith("news:")}
    assert news_pools == {"news:naver", "news:hankyung", "news:maeil", "news:dart", "news:reddit"}
    assert set(POOL_LIMITS) >= {KIS, LLM} | news_pools


def test_the_instance_holds_the_declared_limits_and_enforces_them(dagster_home):
    instance = dg.DagsterInstance.get()
    assert ensure_pool_limits(instance) == POOL_LIMITS
    assert ensure_pool_limits(instance) == {}  # idempotent: nothing rewritten
    storage = instance.event_log_storage
    assert storage.get_concurrency_info(KIS).slot_count == POOL_LIMITS[KIS] == 2
    assert storage.get_concurrency_info("news:naver").slot_count == 1

    claims = [storage.claim_concurrency_slot(KIS, "run-a", f"step_{i}") for i in range(3)]
    assert [claim.is_claimed for claim in claims] == [True, True, False]  # the third step waits
    storage.free_concurrency_slot_for_step("run-a", "step_0")
    assert storage.claim_concurrency_slot(KIS, "run-a", "step_2").is_claimed
