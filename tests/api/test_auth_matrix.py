"""Every route × {anonymous, user, admin, expired, tampered, revoked} → the expected status class.

Who may call each operation is written down here, not read from the handlers' own guards (a route
that lost its admin guard would otherwise be "expected" to be open, and pass). The routes come from
the application's own route table: a new route fails this test until its operation id is put in
exactly one of ``PUBLIC_OPERATIONS``, ``USER_OPERATIONS`` or ``ADMIN_OPERATIONS`` and ``REQUESTS``
says how to call it.
"""

import base64
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest

from tests.api.conftest import PASSWORD, SECRET, bearer, login, make_user, sql

# who may call each operation (by operation id): add a new route's id to exactly one of these
PUBLIC_OPERATIONS = {"getHealth", "login", "checkAuth", "readPreview"}
USER_OPERATIONS = {
    "logout", "getCurrentUser",
    "listStocks", "getStock", "getStockPrices", "getStockQuote", "getStockPage", "getMarketOverview",
    "listNews", "getNews",
    "getDashboardSummary",
    "getSimilarNews", "searchNews",
    "getStockAnalysis", "listStockReports", "listPredictions", "refreshStockAnalysis", "getRun",
    "listEvaluations", "getEvaluation", "rateEvaluation", "getLeaderboard", "getModelPerformance",
    "listAbTests", "getAbTestResults", "getRatingQueue", "getRatingProgress", "predictNews",
}
ADMIN_OPERATIONS = {
    "listUsers", "createUser", "getUser", "updateUser", "deactivateUser",
    "addWatchlistStock", "updateWatchlistStock", "removeWatchlistStock",
    "listModels", "createModel", "updateModel",
    "createAbTest",
    "listTelegramSubscribers", "deactivateTelegramSubscriber", "listTelegramNotifications",
    "createPreview", "listPreviews", "revokePreview",
}

# how to call each route (by operation id): path parameters and body
REQUESTS: dict[str, dict[str, Any]] = {
    "getHealth": {},
    "login": {"body": lambda ctx: {"email": ctx["user_email"], "password": PASSWORD}},
    "logout": {"fresh_token": True},
    "getCurrentUser": {},
    "listUsers": {},
    "createUser": {"body": lambda ctx: {"email": f"m-{uuid.uuid4().hex[:8]}@test.azak", "password": PASSWORD}},
    "getUser": {"path": {"user_id": "victim"}},
    "updateUser": {"path": {"user_id": "victim"}, "body": lambda ctx: {"display_name": "matrix"}},
    "deactivateUser": {"path": {"user_id": "victim"}},
    "listStocks": {},
    "getStock": {"path": {"code": "005930"}},
    "getStockPrices": {"path": {"code": "005930"}},
    "getStockQuote": {"path": {"code": "005930"}},
    "getStockPage": {"path": {"code": "005930"}},
    "getMarketOverview": {},
    "addWatchlistStock": {"body": lambda ctx: {"code": "005930"}},
    "updateWatchlistStock": {"path": {"code": "005930"}, "body": lambda ctx: {"is_watchlist": True}},
    "removeWatchlistStock": {"path": {"code": "035720"}},
    "listNews": {},
    "getNews": {"path": {"news_id": "article"}},
    "getSimilarNews": {"path": {"news_id": "article"}},
    "searchNews": {"query": {"q": "삼성전자 반도체"}},
    "getDashboardSummary": {},
    "listTelegramSubscribers": {},
    "deactivateTelegramSubscriber": {"path": {"chat_id": "424242"}},
    "listTelegramNotifications": {},
    "listModels": {},
    "createModel": {"body": lambda ctx: {"name": f"m-{uuid.uuid4().hex[:8]}", "provider": "openai",
                                         "model": "gpt-4o-mini", "active": False}},
    "updateModel": {"path": {"model_id": "1"}, "body": lambda ctx: {"active": True}},  # the baseline row
    "getStockAnalysis": {"path": {"code": "005930"}},
    "listStockReports": {"path": {"code": "005930"}},
    "listPredictions": {},
    # these two talk to Dagit, which this app is not given: past auth they answer 503 (see test_analysis)
    "refreshStockAnalysis": {"path": {"code": "005930"}, "needs_dagit": True},
    "getRun": {"path": {"run_id": "00000000-0000-0000-0000-000000000000"}, "needs_dagit": True},
    "listEvaluations": {},
    "getEvaluation": {"path": {"evaluation_id": "unknown"}},
    "rateEvaluation": {"path": {"evaluation_id": "unknown"},
                       "body": lambda ctx: {"quality": 4, "usefulness": 4, "overall": 4}},
    "getLeaderboard": {},
    "getModelPerformance": {"path": {"model_id": "1"}},
    "listAbTests": {},
    "createAbTest": {"body": lambda ctx: {"model_a_id": 1, "model_b_id": 1}},
    "getAbTestResults": {"path": {"ab_test_id": "1"}},
    "checkAuth": {},
    "getRatingQueue": {},
    "predictNews": {"path": {"news_id": "article"}, "needs_dagit": True},
    "getRatingProgress": {},
    "readPreview": {"path": {"link_id": str(uuid.uuid4())}},
    "createPreview": {"body": lambda ctx: {"stock_code": "005930"}},
    "listPreviews": {},
    "revokePreview": {"path": {"link_id": str(uuid.uuid4())}},
}
IDENTITIES = ("anonymous", "user", "admin", "expired", "tampered", "revoked")


def routes(app) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items():
            if method in {"HEAD", "OPTIONS"} or route.path.startswith(("/docs", "/schema")):
                continue
            found.append((method, route.path, handler))
    return sorted(found, key=lambda r: (r[1], r[0]))


def expired_token(user_id: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": str(user_id), "iat": now - 90_000, "exp": now - 3_600,
                       "jti": uuid.uuid4().hex}, SECRET, algorithm="HS256")


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["extras"] = {"role": "admin"}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def expected(operation_id: str, identity: str) -> set[str]:
    if operation_id in PUBLIC_OPERATIONS:
        return {"open"}
    if identity in {"anonymous", "expired", "tampered", "revoked"}:
        return {"401"}
    if operation_id in ADMIN_OPERATIONS and identity == "user":
        return {"403"}
    return {"open"}


def test_every_route_is_classified_once(client):
    operations = {handler.operation_id for _, _, handler in routes(client.app)}
    classes = (PUBLIC_OPERATIONS, USER_OPERATIONS, ADMIN_OPERATIONS)
    unclassified = sorted(operations - set().union(*classes))
    assert not unclassified, f"say who may call these (PUBLIC/USER/ADMIN_OPERATIONS): {unclassified}"
    twice = sorted(o for o in operations if sum(o in c for c in classes) > 1)
    assert not twice, f"classified more than once: {twice}"
    assert not set().union(*classes) - operations, "a classified operation no longer exists"


def outcome(status: int) -> str:
    return {401: "401", 403: "403"}.get(status, "open" if status < 500 else f"{status}")


async def test_every_route_is_protected_as_declared(client, user, admin, api_warehouse):
    app = client.app
    table = routes(app)
    missing = sorted({h.operation_id for _, _, h in table if h.operation_id not in REQUESTS})
    assert not missing, f"routes without an entry in the auth matrix: {missing}"
    victim_id, _ = await make_user(api_warehouse)
    [(article,)] = sql(api_warehouse, "SELECT news_id FROM marts.news_articles ORDER BY news_id LIMIT 1")
    revoked = await login(client, user.email)
    await client.post("/api/auth/logout", headers=bearer(revoked))
    tokens = {"user": user.token, "admin": admin.token, "expired": expired_token(user.id),
              "tampered": tampered(user.token), "revoked": revoked}
    context = {"user_email": user.email, "admin_email": admin.email}
    failures, calls = [], 0
    try:
        calls = await call_every_route(client, table, tokens, context, {"victim": victim_id, "article": article},
                                       failures)
    finally:  # the watch-list calls change shared state: put it back for the other tests
        sql(api_warehouse, "DELETE FROM app.stock_watchlist WHERE code IN ('005930', '035720')")
    assert not failures, "\n".join(failures)
    assert calls == len(table) * len(IDENTITIES) and len(table) >= 18


async def call_every_route(client, table, tokens, context, values, failures) -> int:
    calls = 0
    for method, path, handler in table:
        spec = REQUESTS[handler.operation_id]
        url = path
        for name, value in spec.get("path", {}).items():
            url = re.sub(r"\{" + name + r"(:\w+)?\}", str(values.get(value, value)), url)
        if "query" in spec:
            url += "?" + urlencode(spec["query"])
        for identity in IDENTITIES:
            token = tokens.get(identity)
            if spec.get("fresh_token") and identity in {"user", "admin"}:
                token = await login(client, context[f"{identity}_email"])
            body = spec["body"](context) if "body" in spec else None
            client.cookies.clear()  # login answers set the session cookie; identities are explicit
            response = await client.request(method, url, json=body,
                                            headers=bearer(token) if token else {})
            calls += 1
            got = outcome(response.status_code)
            if spec.get("needs_dagit") and response.status_code == 503:
                got = "open"
            if got not in expected(handler.operation_id, identity):
                failures.append(f"{method} {url} as {identity}: {response.status_code} {response.text[:120]}")
    return calls


def test_every_route_has_an_operation_id_and_declares_its_security(client):
    schema = client.app.openapi_schema.to_schema()
    handlers = {handler.operation_id: handler for _, _, handler in routes(client.app)}
    documented = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            operation_id = operation.get("operationId")
            assert operation_id in handlers, f"{method.upper()} {path} has no stable operation id"
            documented.add(operation_id)
            public = operation_id in PUBLIC_OPERATIONS
            wanted = [{}] if public else [{"BearerToken": []}]
            assert operation.get("security") == wanted, f"{method.upper()} {path}"
            if not public:
                assert "401" in operation["responses"], f"{method.upper()} {path} documents no 401"
            if "requestBody" in operation:
                assert "413" in operation["responses"], f"{method.upper()} {path} documents no 413"
            if operation_id in ADMIN_OPERATIONS:
                assert "403" in operation["responses"], f"{method.upper()} {path} documents no 403"
    assert documented == set(handlers)
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "Bearer"


@pytest.mark.parametrize("path", ["/docs", "/docs/openapi.json"])
async def test_the_documentation_is_public(client, path):
    response = await client.get(path)
    assert response.status_code == 200


async def test_options_answers_every_path_with_all_its_methods(client):
    """The CORS preflight carries no credentials: every path answers 204 (admin paths too) with an
    ``Allow`` header naming every method the path serves — not only its first handler's."""
    by_path: dict[str, set[str]] = {}
    for method, path, _ in routes(client.app):
        by_path.setdefault(path, set()).add(method)
    assert any(len(methods) > 1 for methods in by_path.values())  # the case the header got wrong
    for path, methods in by_path.items():
        url = re.sub(r"\{\w+:int\}", "1", re.sub(r"\{(\w+):str\}", "005930", path))
        response = await client.options(url)
        assert response.status_code == 204, f"OPTIONS {url}: {response.status_code} {response.text[:120]}"
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == methods | {"OPTIONS"}, f"OPTIONS {url}: Allow {sorted(allowed)}"
