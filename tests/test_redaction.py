"""No secret reaches a repr or a str: the API's settings, the CLI's database URL, the pipelines'
settings and every resource that holds a key, a token, a secret or a URL with a password."""

from datetime import UTC, datetime

import pytest

from azak_api.settings import Settings
from azak_cli.runtime.postgres import PgUrl
from azak_core.embeddings import EmbedderSettings
from azak_pipelines.defs.embeddings.resources import EmbedderResource, VectorStore
from azak_pipelines.defs.market.resources import KisResource
from azak_pipelines.defs.news.resources import NewsSources
from azak_pipelines.defs.notify.resources import TelegramResource
from azak_pipelines.defs.predictions.resources import LlmResource
from azak_pipelines.defs.resources import Warehouse
from azak_pipelines.lib.kis.client import IssuedToken, KisConfig
from azak_pipelines.lib.news.collect import NewsSettings

JWT, DB_PASSWORD, REDIS_PASSWORD = "jwt-KNOWN-0123456789abcdef", "db-pw-KNOWN-3141", "redis-pw-KNOWN-2718"
KEY, SECRET, TOKEN = "sk-KNOWN-key-1618", "app-secret-KNOWN-1414", "123456:bot-token-KNOWN-1732"
DB_URL = f"postgresql://azak:{DB_PASSWORD}@db.internal:5432/azak"

# each object, the secrets it was built with, and what its repr must still show (it stays useful)
CASES = {
    "api settings": (lambda: Settings(
        database_url=DB_URL.replace("postgresql", "postgresql+psycopg"), jwt_secret=JWT, openai_api_key=KEY,
        redis_url=f"redis://:{REDIS_PASSWORD}@redis.internal:6379/0"),
        (JWT, DB_PASSWORD, REDIS_PASSWORD, KEY), ("db.internal", "redis.internal", "jwt_secret='***'")),
    "cli database url": (lambda: PgUrl.parse(DB_URL), (DB_PASSWORD,), ("db.internal",)),
    "kis config": (lambda: KisConfig(app_key=KEY, app_secret=SECRET), (KEY, SECRET), ("paper",)),
    "kis token": (lambda: IssuedToken(TOKEN, datetime(2025, 6, 17, tzinfo=UTC)), (TOKEN,), ("2025",)),
    "news settings": (lambda: NewsSettings(dart_key=KEY, reddit_client_secret=SECRET), (KEY, SECRET),
                      ("opendart",)),
    "embedder settings": (lambda: EmbedderSettings("openai", KEY), (KEY,), ("openai",)),
    "warehouse": (lambda: Warehouse(database_url=DB_URL), (DB_PASSWORD,), ("db.internal",)),
    "telegram": (lambda: TelegramResource(bot_token=TOKEN), (TOKEN,), ("api.telegram.org",)),
    "llm": (lambda: LlmResource(openai_api_key=KEY, openrouter_api_key=SECRET), (KEY, SECRET), ("Azak",)),
    "embedder": (lambda: EmbedderResource(choice="openai", openai_api_key=KEY), (KEY,), ("openai",)),
    "kis": (lambda: KisResource(app_key=KEY, app_secret=SECRET), (KEY, SECRET), ("paper",)),
    "kis with more keys": (lambda: KisResource(app_key="first", app_secret="s", more_app_keys=f"{KEY}:{SECRET}"),
                           (KEY, SECRET), ("paper",)),
    "news": (lambda: NewsSources(dart_api_key=KEY, reddit_client_secret=SECRET), (KEY, SECRET), ("opendart",)),
    "milvus": (lambda: VectorStore(milvus_uri=f"http://root:{DB_PASSWORD}@milvus.internal:19530"),
               (DB_PASSWORD,), ("milvus.internal",)),
}


@pytest.mark.parametrize("case", CASES)
def test_reprs_hide_the_secrets_they_were_built_with(case):
    build, secrets, shown = CASES[case]
    made = build()
    for text in (repr(made), str(made), f"{made}", f"{[made]}"):
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{case}: {leaked} in {text}"
        assert all(part in text for part in shown), f"{case}: {shown} not all in {text}"


def test_a_resource_still_hands_its_secrets_to_the_code_that_needs_them():
    assert LlmResource(openai_api_key=KEY).openai_api_key == KEY
    assert Warehouse(database_url=DB_URL).database_url == DB_URL
    assert PgUrl.parse(DB_URL).render() == DB_URL
