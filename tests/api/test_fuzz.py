"""Property-based fuzzing of every operation in the OpenAPI document, over real HTTP, as an admin.

Schemathesis generates valid and invalid requests from the schema; every answer must be a non-5xx
whose status, content type and body conform to what the schema declares.
"""

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.conftest import PASSWORD, make_user, serving, settings_for, sql

EXAMPLES = 60  # per operation; ~1,100 requests in all


@pytest.fixture(scope="module")
def served_api(api_warehouse: str) -> Iterator[str]:
    with serving(settings_for(api_warehouse, login_attempts_per_minute=10_000)) as base_url:
        yield base_url
    # what the fuzzer created or changed in shared state goes, so the other tests see the sample data
    sql(api_warehouse, "DELETE FROM app.stock_watchlist")


@pytest.fixture(scope="module")
def admin_email(api_warehouse: str) -> str:
    return asyncio.run(make_user(api_warehouse, admin=True))[1]


def token_for(base_url: str, email: str) -> str:
    response = httpx.post(f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def admin_token(served_api: str, admin_email: str) -> str:
    return token_for(served_api, admin_email)


@pytest.fixture(scope="module")
def api_schema(served_api: str):
    return schemathesis.openapi.from_url(f"{served_api}/docs/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_no_5xx_and_every_answer_conforms_to_the_schema(case, served_api, admin_email, admin_token):
    # logging out revokes the token it is called with: give that operation a token of its own
    token = token_for(served_api, admin_email) if case.operation.path == "/api/auth/logout" else admin_token
    case.call_and_validate(base_url=served_api, headers={"Authorization": f"Bearer {token}"})
