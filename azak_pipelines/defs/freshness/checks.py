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


def last_update(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime | None:
    """When any partition of the asset was last materialized, from the instance's event log."""
    event = instance.get_latest_materialization_event(key)
    return None if event is None else datetime.fromtimestamp(event.timestamp, UTC)


@dg.multi_asset_check(specs=SPECS, name="freshness_checks", can_subset=True,
                      description="Every asset's freshness rule (defs/freshness/rules.py) against "
                                  "its last materialization and the KRX calendar.")
def freshness_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    now = utc_now()
    for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.to_user_string()):
        verdict = judge(RULES[check_key.asset_key.to_user_string()],
                        last_update(context.instance, check_key.asset_key), now)
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key, check_name=CHECK_NAME, passed=verdict.fresh,
            severity=dg.AssetCheckSeverity.ERROR, description=verdict.message,
            # the Telegram alert is sent once per missed deadline, not on every scheduled run
            metadata={"due_since": verdict.due_since.isoformat(),
                      "alert_key": f"due:{verdict.due_since:%Y-%m-%dT%H:%M}"},
        )
