"""The API's connection pool: read connections run without a transaction (no BEGIN/ROLLBACK round
trips), and a connection that sat idle is pinged before use, so a server that dropped it (a restart,
an administrator) costs no request."""

import asyncio

import pytest

from azak_api.db import PING_AFTER_IDLE_S
from tests.api.conftest import bearer, sql


def api_backends(url: str) -> list[tuple[int, str]]:
    return sql(url, "SELECT pid, state FROM pg_stat_activity WHERE application_name = 'azak-api' "
                    "AND datname = current_database()")


@pytest.mark.slow
async def test_an_idle_connection_the_server_dropped_is_replaced_before_a_request_uses_it(client, user,
                                                                                           api_warehouse):
    assert (await client.get("/api/stocks/005930", headers=bearer(user.token))).status_code == 200
    pooled = api_backends(api_warehouse)
    assert pooled and all(state == "idle" for _, state in pooled)
    sql(api_warehouse, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                       "'azak-api' AND datname = current_database()")
    await asyncio.sleep(PING_AFTER_IDLE_S + 0.5)
    for _ in range(3):
        response = await client.get("/api/stocks/005930/prices", headers=bearer(user.token))
        assert response.status_code == 200, response.text
    assert {pid for pid, _ in api_backends(api_warehouse)}.isdisjoint({pid for pid, _ in pooled})
