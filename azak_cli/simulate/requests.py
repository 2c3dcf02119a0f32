"""What a tick asks for, as runs: the requests of schedules and sensors (one run per job and
partition within a tick), and the automation's requested partitions grouped into as few runs as
the assets' backfill policies allow (the daemon's own backfill daemon does the same for a
``BackfillPolicy.single_run()`` asset: one run over a range of partitions)."""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dagster as dg

from azak_core.runs import RANGE_END, RANGE_START, range_tags


@dataclass(frozen=True)
class Request:
    """One run to make: a job, or assets the automation asked for, with a partition or a range."""

    origin: str
    job: str | None
    assets: tuple[dg.AssetKey, ...] = ()
    partition: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    run_config: str = "{}"

    @property
    def key(self) -> tuple[Any, ...]:
        ranges = tuple(t for t in self.tags if t[0] in (RANGE_START, RANGE_END))
        return self.job, self.assets, self.partition, ranges, self.run_config

    @property
    def days(self) -> list[str]:
        """The daily partitions the run covers (its partition, or every day of its range)."""
        if self.partition is not None:
            return [self.partition]
        tags = dict(self.tags)
        if RANGE_START not in tags:
            return []
        first, last = date.fromisoformat(tags[RANGE_START]), date.fromisoformat(tags[RANGE_END])
        return [str(first + timedelta(days=i)) for i in range((last - first).days + 1)]

    @property
    def first_partition(self) -> str:
        return self.partition or dict(self.tags).get(RANGE_START, "")

    @property
    def label(self) -> str:
        what = self.job or ",".join(k.to_user_string() for k in self.assets)
        ranges = dict(self.tags)
        span = self.partition or "…".join(ranges[k] for k in (RANGE_START, RANGE_END) if k in ranges)
        return f"{what}[{span}]" if span else what


def from_run_request(origin: str, request: dg.RunRequest, job: str | None) -> Request:
    """A schedule's or a sensor's run request."""
    tags = tuple(sorted((k, v) for k, v in (request.tags or {}).items()))
    selection = tuple(sorted(request.asset_selection)) if request.asset_selection and not job else ()
    return Request(origin, job, selection, request.partition_key, tags,
                   json.dumps(request.run_config or {}, sort_keys=True, default=str))


def merged(requests: list[Request]) -> list[Request]:
    """One run per job (or asset set) and partition within a tick; the first request's origin."""
    seen: dict[tuple[Any, ...], Request] = {}
    for request in requests:
        seen.setdefault(request.key, request)
    return list(seen.values())


def automation_runs(graph: Any, requested: Mapping[dg.AssetKey, Iterable[str | None]]) -> list[Request]:
    """The automation's requested asset partitions as runs: the assets asked for the same partitions
    share a run; a time-partitioned selection whose every asset has a backfill policy makes one run
    per contiguous range of those partitions (at most the policy's ``max_partitions_per_run``), any
    other one run per partition. Runs come in the graph's topological order of their first asset,
    so that a run reads what an earlier run of the tick wrote, then in time order."""
    keys_by_partition: dict[tuple[int, str | None], list[dg.AssetKey]] = {}
    for key, partitions in requested.items():
        for partition in partitions:
            keys_by_partition.setdefault((id(graph.get(key).partitions_def), partition), []).append(key)
    partitions_by_keys: dict[tuple[dg.AssetKey, ...], list[str | None]] = {}
    for (_, partition), keys in keys_by_partition.items():
        partitions_by_keys.setdefault(tuple(sorted(keys)), []).append(partition)
    order = {key: i for i, key in enumerate(graph.toposorted_asset_keys)}
    runs = [run for keys, partitions in partitions_by_keys.items() for run in _runs(graph, keys, partitions)]
    return sorted(runs, key=lambda run: (min(order[k] for k in run.assets), run.first_partition, run.label))


def _runs(graph: Any, keys: tuple[dg.AssetKey, ...], partitions: list[str | None]) -> list[Request]:
    nodes = [graph.get(key) for key in keys]
    definition = nodes[0].partitions_def
    policies = [node.backfill_policy for node in nodes]
    if not isinstance(definition, dg.TimeWindowPartitionsDefinition) or None in policies or None in partitions:
        return [Request("automation", None, keys, partition) for partition in partitions]
    limits = [p.max_partitions_per_run for p in policies if p.max_partitions_per_run is not None]
    return [Request("automation", None, keys, None, tuple(sorted(range_tags(span[0], span[-1]).items())))
            if len(span) > 1 else Request("automation", None, keys, span[0])
            for span in contiguous(definition, [p for p in partitions if p is not None], min(limits, default=None))]


def contiguous(definition: dg.TimeWindowPartitionsDefinition, partitions: list[str],
               limit: int | None) -> list[list[str]]:
    """``partitions`` in time order, cut into runs of adjacent partitions (at most ``limit`` each)."""
    windows = sorted((definition.time_window_for_partition_key(p), p) for p in partitions)
    spans: list[list[str]] = []
    previous_end = None
    for window, partition in windows:
        if spans and window.start == previous_end and (limit is None or len(spans[-1]) < limit):
            spans[-1].append(partition)
        else:
            spans.append([partition])
        previous_end = window.end
    return spans
