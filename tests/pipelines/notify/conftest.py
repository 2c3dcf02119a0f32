"""Fixtures for the Telegram tests: a warehouse with the app migrations, and a local Bot API."""

from collections.abc import Iterator

import pytest

from azak_api.admin import run_migrations
from tests.pipelines.notify.botapi import BotApi


@pytest.fixture
def app_db(db_url: str) -> str:
    """An empty warehouse with the ``app`` schema migrated (subscribers and the outbox)."""
    run_migrations(db_url)
    return db_url


@pytest.fixture
def bot_api() -> Iterator[BotApi]:
    with BotApi() as api:
        yield api
