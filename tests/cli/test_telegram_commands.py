"""`azak telegram subscribe|outbox` and `azak notify --send` against a local Bot API server."""

import json
import os
from datetime import timedelta

import dagster as dg

from azak_pipelines.defs.common import kst_today
from tests.cli.test_market_commands import cli_env  # noqa: F401 - fixture
from tests.conftest import run_azak
from tests.pipelines.notify.botapi import BotApi
from tests.pipelines.notify.warehouse_rows import write


def cli_instance(env: dict[str, str]) -> dg.DagsterInstance:
    os.environ["DAGSTER_PG_URL"] = env["AZAK_DAGSTER_DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg2://", 1)
    return dg.DagsterInstance.from_config(os.path.join(env["AZAK_HOME"], "dagster"))


def test_subscribe_notify_send_and_inspect(cli_env, db_url):
    subscribed = run_azak("telegram", "subscribe", "--chat", "777", "--stock", "삼전", env=cli_env)
    assert subscribed.returncode == 0, subscribed.stderr
    assert "chat 777 is subscribed to 삼성전자 (005930)" in subscribed.stdout
    unknown = run_azak("telegram", "subscribe", "--chat", "777", "--stock", "삼성전ㅈ", env=cli_env)
    assert unknown.returncode == 2 and "did you mean 삼성전자 (005930)" in unknown.stderr
    no_token = run_azak("notify", "--send", env=cli_env)
    assert no_token.returncode == 2 and "AZAK_TELEGRAM_BOT_TOKEN" in no_token.stderr

    day = kst_today() - timedelta(days=1)  # recent enough to send, and every message is due
    with cli_instance(cli_env) as instance:
        write(db_url, day, instance)
    with BotApi() as api:
        env = {**cli_env, "AZAK_TELEGRAM_BOT_TOKEN": api.token, "AZAK_TELEGRAM_API_URL": api.url}
        first = run_azak("notify", "--day", str(day), "--send", env=env)
        assert first.returncode == 0, first.stderr
        assert "1 subscriber(s), 1 stories, 1 report change(s): 3 new message(s)" in first.stdout
        assert first.stdout.count("  sent    chat 777") == 3 and "3 sent" in first.stdout
        assert "🔔 삼성전자 (005930) 주요 뉴스 영향 예측" in first.stdout
        assert len(api.texts(777)) == 3
        again = run_azak("notify", "--day", str(day), "--send", env=env)
        assert again.returncode == 0 and "0 new message(s)" in again.stdout and "0 sent" in again.stdout
        assert len(api.texts(777)) == 3
    listing = run_azak("telegram", "outbox", "--day", str(day), env=cli_env)
    assert listing.returncode == 0
    assert listing.stdout.count(" sent ") == 3 and "digest" in listing.stdout and "report_change" in listing.stdout
    messages = json.loads(run_azak("telegram", "outbox", "--day", str(day), "--json", env=cli_env).stdout)
    assert [m["status"] for m in messages].count("sent") == 3 and {m["day"] for m in messages} == {str(day)}
