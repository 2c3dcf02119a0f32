"""Resources every asset may ask for by parameter name."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
from dagster_dbt import DbtCliResource

from azak_pipelines.defs.dbt.project import DBT_PROJECT_DIR
from azak_pipelines.lib import replay_http, warehouse
from azak_pipelines.lib.http import HostLimiter, HttpClient, NoLimit
from azak_pipelines.lib.kis.client import KisClient, KisConfig, MemoryTokenStore
from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock
from azak_pipelines.lib.kis.store import PgRateLimiter, PgTokenStore
from azak_pipelines.lib.krx_calendar import utc_now
from azak_pipelines.lib.news.collect import NewsSettings
from azak_pipelines.lib.news.replay import NewsSites
from azak_pipelines.lib.sample_data import sample_data_dir
from azak_pipelines.lib.sources import env, source_mode


class Warehouse(dg.ConfigurableResource):
    """The PostgreSQL warehouse (``AZAK_DATABASE_URL``): raw, staging, marts and ops schemas."""

    database_url: str

    def connect(self) -> psycopg.Connection[Any]:
        return warehouse.connect(self.database_url)


@dataclass
class KisSession:
    client: KisClient
    mode: str  # live | replay
    simulator: KisSimulator | None

    @property
    def provenance(self) -> str:
        return f"kis:{self.mode}"


class KisResource(dg.ConfigurableResource):
    """KIS OpenAPI. Live when ``AZAK_KIS_APP_KEY``/``AZAK_KIS_APP_SECRET`` are set (or
    ``AZAK_KIS_MODE=live``), otherwise replay of the bundled recordings through the same client.
    ``AZAK_KIS_ENV`` picks the real or paper host; ``AZAK_KIS_BASE_URL`` overrides it."""

    def mode(self) -> str:
        return source_mode("kis", ("AZAK_KIS_APP_KEY", "AZAK_KIS_APP_SECRET"))

    @asynccontextmanager
    async def session(self, database_url: str, replay_at: datetime | None = None) -> AsyncIterator[KisSession]:
        """A client for this run. ``replay_at`` is the replay server's clock (the run's "now")."""
        mode = self.mode()
        rate = env("AZAK_KIS_RATE_LIMIT")
        if mode == "live":
            config = KisConfig(
                app_key=env("AZAK_KIS_APP_KEY"), app_secret=env("AZAK_KIS_APP_SECRET"),
                env=env("AZAK_KIS_ENV", "paper"), base_url=env("AZAK_KIS_BASE_URL") or None,
                rate_per_second=float(rate) if rate else None,
                concurrency=int(env("AZAK_KIS_CONCURRENCY", "4")),
            )
            limiter = PgRateLimiter(database_url, f"kis:{config.key_id}", config.rate)
            try:
                async with KisClient(config, PgTokenStore(database_url, config.key_id), limiter) as client:
                    yield KisSession(client, mode, None)
            finally:
                await limiter.aclose()
            return
        clock = fixed_clock(replay_at) if replay_at else utc_now
        # replay is not KIS: no remote quota to protect, so no rate limit
        simulator = KisSimulator(sample_data_dir() / "kis", clock=clock, per_second=10**9)
        config = KisConfig(app_key="replay", app_secret="replay", env="real", base_url="http://kis.replay",
                           concurrency=8)
        async with KisClient(config, MemoryTokenStore(), NoLimit(), transport=simulator.transport()) as client:
            yield KisSession(client, mode, simulator)


class NewsSources(dg.ConfigurableResource):
    """Naver Finance, the Hankyung and Maeil RSS feeds, OpenDART and Reddit.

    DART and Reddit are live when their credentials are set (``AZAK_DART_API_KEY``,
    ``AZAK_REDDIT_CLIENT_ID``/``_SECRET``); Naver and the RSS feeds need none, so they go live
    only when asked (``AZAK_SOURCE_MODE=live`` or ``AZAK_NAVER_MODE``/``AZAK_RSS_MODE``).
    Otherwise every source replays the bundled recordings through the same client and parser."""

    def settings(self) -> NewsSettings:
        return NewsSettings.from_env()

    def mode(self, source: str) -> str:
        credentials = {"dart": ("AZAK_DART_API_KEY",),
                       "reddit": ("AZAK_REDDIT_CLIENT_ID", "AZAK_REDDIT_CLIENT_SECRET")}
        if source in credentials:
            return source_mode(source, credentials[source])
        requested = env(f"AZAK_{source.upper()}_MODE") or env("AZAK_SOURCE_MODE") or "auto"
        return "live" if requested == "live" else "replay"

    def recordings(self) -> Path:
        return sample_data_dir() / "news"

    def client(self, mode: str) -> HttpClient:
        """A polite client (live) or one answered by the recorded sites (replay)."""
        settings = self.settings()
        if mode == "live":
            return HttpClient(host_limiter=HostLimiter(settings.host_interval), concurrency=2,
                              validators=None)
        return HttpClient(transport=replay_http.transport(NewsSites(self.recordings()).handle),
                          concurrency=4)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": Warehouse(database_url=dg.EnvVar("AZAK_DATABASE_URL")),
            "kis": KisResource(),
            "news": NewsSources(),
            "dbt": DbtCliResource(
                project_dir=str(DBT_PROJECT_DIR),
                profiles_dir=str(DBT_PROJECT_DIR),
                dbt_executable=str(Path(sys.executable).with_name("dbt")),
            ),
        }
    )
