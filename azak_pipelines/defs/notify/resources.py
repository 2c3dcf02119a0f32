"""The Telegram settings every notification run and sensor uses."""

import asyncio
from datetime import date, timedelta

import dagster as dg

from azak_pipelines.defs.resources import SecretSafeResource, env_config
from azak_pipelines.lib.notify.messages import Links
from azak_pipelines.lib.notify.sender import DEFAULT_API_URL, DeliveryReport, deliver


class TelegramResource(SecretSafeResource):
    """The Telegram bot. Without ``AZAK_TELEGRAM_BOT_TOKEN`` nothing is sent: the outbox still
    fills, and Dagit shows what would have been sent. ``AZAK_TELEGRAM_API_URL`` is the Bot API
    server's root (requests go to ``{root}/bot{token}/{method}``); ``AZAK_TELEGRAM_ADMIN_CHAT_ID``
    gets failed runs and failing checks; ``AZAK_PUBLIC_URL`` is where messages link to
    (``{url}/stocks/{code}``, ``{url}/news/{id}``)."""

    bot_token: str | None = None
    api_url: str = DEFAULT_API_URL
    admin_chat_id: str = ""  # text so that an unset variable means "no admin chat"
    public_url: str = "http://127.0.0.1:8000/api"
    dagit_url: str = ""
    high_probability: float = 0.8
    similarity: float = 0.95  # cosine at which an earlier article is the same story
    digest_hour: int = 18
    max_age_days: int = 2  # older partitions record their messages as skipped: a backfill never sends
    per_second: float = 30.0
    chat_interval_s: float = 1.0

    def links(self) -> Links:
        return Links(self.public_url)

    def admin_chat(self) -> int | None:
        text = self.admin_chat_id.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise dg.Failure(f"AZAK_TELEGRAM_ADMIN_CHAT_ID must be a chat id (an integer), got {text!r}") from None

    def stale_before(self, today: date) -> date:
        return today - timedelta(days=self.max_age_days)

    def run_url(self, run_id: str) -> str | None:
        return f"{self.dagit_url.rstrip('/')}/runs/{run_id}" if self.dagit_url else None

    def deliver(self, database_url: str) -> DeliveryReport | None:
        """Send what is due; ``None`` when no token is configured."""
        if not self.bot_token:
            return None
        return asyncio.run(deliver(self.bot_token, self.api_url, database_url, per_second=self.per_second,
                                   chat_interval=self.chat_interval_s))


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"telegram": TelegramResource(**env_config(TelegramResource, {
        "bot_token": "AZAK_TELEGRAM_BOT_TOKEN", "api_url": "AZAK_TELEGRAM_API_URL",
        "admin_chat_id": "AZAK_TELEGRAM_ADMIN_CHAT_ID", "public_url": "AZAK_PUBLIC_URL",
        "dagit_url": "AZAK_DAGIT_URL"}))})
