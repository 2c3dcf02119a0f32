"""Where the stock listing comes from: KIS master files, live or replayed."""

import asyncio
from datetime import date
from pathlib import Path

import dagster as dg

from azak_pipelines.defs.resources import SecretSafeResource, env_config
from azak_pipelines.lib.http import HttpClient
from azak_pipelines.lib.kis.master import LIVE_BASE_URL, MasterRecord, fetch_masters
from azak_pipelines.lib.reference.universe import read_master_snapshots
from azak_pipelines.lib.sample_data import sample_data_dir


class ListingSource(SecretSafeResource):
    """The KOSPI/KOSDAQ/KONEX master files KIS publishes. ``live`` downloads today's files from
    ``base_url``; ``replay`` folds the bundled snapshots (``replay_dir``, one folder per day)."""

    mode: str = "replay"
    base_url: str = LIVE_BASE_URL
    replay_dir: str = ""

    def snapshots(self, today: date) -> list[tuple[date, list[MasterRecord]]]:
        """Snapshots to apply, oldest first: one (today's) live, every bundled one in replay."""
        if self.mode == "live":
            async def download() -> list[MasterRecord]:
                async with HttpClient() as client:
                    return await fetch_masters(client, self.base_url)

            return [(today, asyncio.run(download()))]
        if self.mode != "replay":
            raise dg.Failure(f"listing_source.mode must be live or replay, got {self.mode!r}")
        folder = Path(self.replay_dir) if self.replay_dir else sample_data_dir() / "universe" / "kis_master"
        return read_master_snapshots(folder)


@dg.definitions
def resources() -> dg.Definitions:
    fields = env_config(ListingSource, {"mode": "AZAK_LISTING_MODE", "base_url": "AZAK_LISTING_BASE_URL"})
    return dg.Definitions(resources={"listing_source": ListingSource(**fields)})
