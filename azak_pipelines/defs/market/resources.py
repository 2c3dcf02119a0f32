"""KIS OpenAPI as a resource (live with credentials, otherwise replay of the bundled recordings),
and how long intraday history is kept."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from azak_pipelines.defs.resources import SecretSafeResource, env_config
from azak_pipelines.lib.calendar.krx_calendar import utc_now
from azak_pipelines.lib.http import NoLimit
from azak_pipelines.lib.kis.client import KisClient, KisConfig, KisConfigError, MemoryTokenStore
from azak_pipelines.lib.kis.replay import KisSimulator, fixed_clock
from azak_pipelines.lib.kis.store import PgRateLimiter, PgTokenStore
from azak_pipelines.lib.sample_data import sample_data_dir
from azak_pipelines.lib.sources import resolve_mode


@dataclass
class KisSession:
    client: KisClient
    mode: str  # live | replay
    simulator: KisSimulator | None

    @property
    def provenance(self) -> str:
        return f"kis:{self.mode}"


class KisResource(SecretSafeResource):
    """KIS OpenAPI. Live when the app key and secret are set (or ``requested_mode`` is ``live``),
    otherwise replay of the bundled recordings through the same client. ``env`` picks the real or
    paper host; ``base_url`` overrides it."""

    requested_mode: str = "auto"
    app_key: str = ""
    app_secret: str = ""
    env: str = "paper"
    base_url: str = ""
    more_app_keys: str = ""  # more app keys of the same account type: ``key:secret`` pairs, commas between
    rate_limit: float | None = None  # requests per second per app key (default: 19 real, 2 paper)
    concurrency: int = 8  # requests in flight per app key: enough to keep the limiter fed on a loaded machine
    heal_lookback_days: int = 10  # calendar days the nightly healer searches for missing prices

    def mode(self) -> str:
        return resolve_mode("kis", self.requested_mode,
                            {"AZAK_KIS_APP_KEY": self.app_key, "AZAK_KIS_APP_SECRET": self.app_secret})

    @asynccontextmanager
    async def session(self, database_url: str, replay_at: datetime | None = None) -> AsyncIterator[KisSession]:
        """A client for this run. ``replay_at`` is the replay server's clock (the run's "now")."""
        mode = self.mode()
        if mode == "live":
            configs = [self._config(self.app_key, self.app_secret), *(
                self._config(key, secret) for key, secret in parse_app_keys(self.more_app_keys))]
            limiters = [PgRateLimiter(database_url, f"kis:{c.key_id}", c.rate) for c in configs]
            keys = [(c, PgTokenStore(database_url, c.key_id), limiter)
                    for c, limiter in zip(configs, limiters, strict=True)]
            try:
                async with KisClient(*keys[0], more_keys=keys[1:]) as client:
                    yield KisSession(client, mode, None)
            finally:
                for limiter in limiters:
                    await limiter.aclose()
            return
        clock = fixed_clock(replay_at) if replay_at else utc_now
        # replay is not KIS: no remote quota to protect, so no rate limit
        simulator = KisSimulator(sample_data_dir() / "kis", clock=clock, per_second=10**9)
        config = KisConfig(app_key="replay", app_secret="replay", env="real", base_url="http://kis.replay",
                           concurrency=8)
        async with KisClient(config, MemoryTokenStore(), NoLimit(), transport=simulator.transport()) as client:
            yield KisSession(client, mode, simulator)


    def _config(self, app_key: str, app_secret: str) -> KisConfig:
        return KisConfig(app_key=app_key, app_secret=app_secret, env=self.env, base_url=self.base_url or None,
                         rate_per_second=self.rate_limit, concurrency=self.concurrency)


def parse_app_keys(text: str) -> list[tuple[str, str]]:
    """``AZAK_KIS_APP_KEYS``: ``key:secret`` pairs separated by commas (KIS keys and secrets hold
    neither); a malformed pair is refused without echoing it."""
    pairs = []
    for number, item in enumerate((i.strip() for i in text.split(",") if i.strip()), start=1):
        key, _, secret = item.partition(":")
        if not key.strip() or not secret.strip():
            raise KisConfigError(f"AZAK_KIS_APP_KEYS: pair {number} is not key:secret")
        pairs.append((key.strip(), secret.strip()))
    return pairs


KIS_VARIABLES: dict[str, str | tuple[str, ...]] = {
    "requested_mode": ("AZAK_KIS_MODE", "AZAK_SOURCE_MODE"),
    "app_key": "AZAK_KIS_APP_KEY",
    "app_secret": "AZAK_KIS_APP_SECRET",
    "more_app_keys": "AZAK_KIS_APP_KEYS",
    "env": "AZAK_KIS_ENV",
    "base_url": "AZAK_KIS_BASE_URL",
    "rate_limit": "AZAK_KIS_RATE_LIMIT",
    "concurrency": "AZAK_KIS_CONCURRENCY",
    "heal_lookback_days": "AZAK_PRICE_HEAL_LOOKBACK_DAYS",
}


def kis_from_env() -> KisResource:
    return KisResource(**env_config(KisResource, KIS_VARIABLES))



class RetentionResource(SecretSafeResource):
    """How many whole months of intraday history ``raw`` keeps; ``retention_job`` drops older
    monthly children nightly. Text fields, so that a bad value is refused with its variable's name
    (see :meth:`months`) instead of becoming a default.

    Why these defaults: minute bars (``AZAK_RETENTION_MINUTE_PRICES_MONTHS``, 12) are by far the
    largest table (about 380 bars per stock per session, ~95 k rows per stock a year) and are read
    for intraday charts and recent event studies; a year covers both, and daily bars, which are
    never dropped, carry the long history. Quote snapshots (``AZAK_RETENTION_QUOTE_SNAPSHOTS_MONTHS``,
    3) are the widest rows (a 10-level book every 5 minutes) and nothing downstream reads more than
    the recent book: no mart aggregates them, so a quarter is plenty to look back on.
    """

    minute_prices_months: str = "12"
    quote_snapshots_months: str = "3"

    def months(self, field: str) -> int:
        """The window for ``field``: a whole number of months, at least 1."""
        text = str(getattr(self, field)).strip()
        where = f"{field} ({RETENTION_VARIABLES[field]})"
        try:
            value = int(text)
        except ValueError:
            raise dg.Failure(f"{where} must be a whole number of months, got {text!r}") from None
        if value < 1:
            raise dg.Failure(f"{where} must be at least 1 month (retention never empties a table), "
                             f"got {value}")
        return value


RETENTION_VARIABLES: dict[str, str | tuple[str, ...]] = {
    "minute_prices_months": "AZAK_RETENTION_MINUTE_PRICES_MONTHS",
    "quote_snapshots_months": "AZAK_RETENTION_QUOTE_SNAPSHOTS_MONTHS",
}


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={
        "kis": kis_from_env(),
        "retention": RetentionResource(**env_config(RetentionResource, RETENTION_VARIABLES)),
    })
