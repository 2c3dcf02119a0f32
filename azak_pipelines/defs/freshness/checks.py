"""Freshness as asset checks, run on a schedule: a stale asset shows a failed check in Dagit and the
check-failure sensor tells the operators' Telegram chat (once per missed deadline)."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from azak_pipelines.defs.freshness.rules import RULES
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.freshness import judge

CHECK_NAME = "fresh"
SPECS = [dg.AssetCheckSpec(CHECK_NAME, asset=dg.AssetKey.from_user_string(key),
                           description=f"Freshness: {rule}.")
         for key, rule in sorted(RULES.items())]


def last_updates(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> dict[dg.AssetKey, datetime | None]:
    """When any partition of each asset was last materialized, from the instance's asset records:
    one query for every key (a look per key cost a round trip each, 45 every 10 minutes)."""
    found = {record.asset_entry.asset_key: record.asset_entry.last_materialization
             for record in instance.get_asset_records(keys)}
    return {key: None if (event := found.get(key)) is None else datetime.fromtimestamp(event.timestamp, UTC)
            for key in keys}


@dg.multi_asset_check(specs=SPECS, name="freshness_checks", can_subset=True,
                      description="Every asset's freshness rule (defs/freshness/rules.py) against "
                                  "its last materialization and the KRX calendar.")
def freshness_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    now = utc_now()
    selected = sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.to_user_string())
    updated = last_updates(context.instance, [k.asset_key for k in selected])
    for check_key in selected:
        verdict = judge(RULES[check_key.asset_key.to_user_string()], updated[check_key.asset_key], now)
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key, check_name=CHECK_NAME, passed=verdict.fresh,
            severity=dg.AssetCheckSeverity.ERROR, description=verdict.message,
            # the Telegram alert is sent once per missed deadline, not on every scheduled run
            metadata={"due_since": verdict.due_since.isoformat(),
                      "alert_key": f"due:{verdict.due_since:%Y-%m-%dT%H:%M}"},
        )
