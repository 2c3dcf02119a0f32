"""Property-based fuzzing of every operation in the OpenAPI document, over real HTTP, as an admin.

Schemathesis generates valid and invalid requests from the schema; every answer must be a non-5xx
whose status, content type and body conform to what the schema declares, and a request the schema
forbids must be refused. Then every input of every operation gets a trailing newline, a NUL and an
over-long value. The routes that launch and read Dagster runs talk to a stand-in for Dagit.
"""

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from azak_api.app import create_app
from azak_api.settings import Settings
from azak_cli.runtime.postgres import PgUrl
from tests.api.conftest import PASSWORD, make_user, serving, settings_for, warehouse_copy
from tests.api.dagit_standin import DagitStandIn, dagit_standin

EXAMPLES = 60  # per operation; ~1,200 requests in all


@pytest.fixture(scope="module")
def dagit() -> Iterator[DagitStandIn]:
    with dagit_standin() as standin:
        yield standin


@pytest.fixture(scope="module")
def fuzzed(pg_server: PgUrl, api_warehouse: str, api_milvus: str) -> Iterator[str]:
    """A copy of the API's warehouse: what the fuzzer creates (models, pairs, users, watch-list
    entries) never reaches the warehouse other tests copy or read."""
    with warehouse_copy(pg_server, api_warehouse, api_milvus, "api_fuzz") as url:
        yield url


@pytest.fixture(scope="module")
def served_api(fuzzed: str, api_milvus: str, dagit: DagitStandIn) -> Iterator[str]:
    with serving(settings_for(fuzzed, login_attempts_per_minute=10_000, milvus_uri=api_milvus,
                              login_attempts_per_address_per_minute=10_000,
                              preview_reads_per_address_per_minute=10_000,
                              dagster_url=dagit.base_url)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def admin_email(fuzzed: str) -> str:
    return asyncio.run(make_user(fuzzed, admin=True))[1]


def token_for(base_url: str, email: str) -> str:
    response = httpx.post(f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def admin_token(served_api: str, admin_email: str) -> str:
    return token_for(served_api, admin_email)


def app_document() -> dict:
    """The app's OpenAPI document. Building the app opens no connection, so the schema is known
    when the tests are collected (schemathesis's lazy fixture loader does not run on pytest 9);
    the first test proves it is exactly what the server publishes."""
    settings = Settings(database_url="postgresql+psycopg://schema@127.0.0.1/unused", jwt_secret="s" * 40)
    return create_app(settings).openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(app_document())


def test_the_fuzzed_document_is_the_served_one(served_api):
    served = httpx.get(f"{served_api}/docs/openapi.json")
    assert served.status_code == 200 and served.json() == app_document()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_5xx_and_every_answer_conforms_to_the_schema(case, served_api, admin_email, admin_token):
    # logging out revokes the token it is called with: give that operation a token of its own
    token = token_for(served_api, admin_email) if case.operation.path == "/api/auth/logout" else admin_token
    # a case that leaves out the credentials on purpose goes without them (and must get a 401)
    negated = case.operation.schema.is_security_param_negated(case)
    response = case.call(base_url=served_api, headers={} if negated else {"Authorization": f"Bearer {token}"})
    excluded = [positive_data_acceptance] if cross_field_rule(response) else []
    case.validate_response(response, excluded_checks=excluded)


def test_json_values_must_have_the_declared_type(served_api, admin_token):
    """What negative_data_rejection found: Litestar took 0 for false and "5" for 5 in a JSON body."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    for method, path, body in (("PATCH", "/api/users/9007199254740991", {"is_active": 0}),
                               ("PUT", "/api/admin/stocks/005930", {"is_watchlist": 1}),
                               ("POST", "/api/ab-tests", {"model_a_id": "1", "model_b_id": 2})):
        response = httpx.request(method, served_api + path, json=body, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["detail"].startswith("the request body does not match its schema: Expected")
    # as in JSON Schema, a number without a fraction is an integer
    whole_number = httpx.post(f"{served_api}/api/ab-tests", json={"model_a_id": 1.0, "model_b_id": 1}, headers=headers)
    assert whole_number.json()["detail"] == "model_a_id and model_b_id must be two different models"


# Rules OpenAPI cannot express (one field against another, or against the data): a schema-valid
# request may break them and get a 400 that says so; every other 400 to valid data is a failure.
CROSS_FIELD = re.compile(r"^'from' \(.+\) is after 'to' \(.+\)$|^at most \d+ days of \w+ bars per request$"
                         r"|^[0-9A-Z]{6} is not in the universe: give its name"
                         r"|^cursor: (not a cursor this API issued|its position is out of range|it continues a list)"
                         r"|^give either cursor or page, not both|^page \d+ starts past the first [\d,]+ articles"
                         r"|^model_a_id and model_b_id must be two different models$|^no model with id "
                         r"|^q: no letters or digits to embed|^nothing to change: give at least one field$"
                         r"|^model: |^an openai-compatible model needs base_url"
                         r"|^expires_at \(.+\) (is not in the future|must fall between the years 2000 and 8999)$")


# The operator's egress policy (AZAK_LLM_*): a schema-valid model may name a key variable or a host
# the operator does not allow, and gets a 422 that names the list.
POLICY = re.compile(r".*\b(AZAK_LLM_KEY_VARIABLES|AZAK_LLM_BASE_URL_HOSTS|AZAK_LLM_PRIVATE_NETWORKS)\b"
                    r"|.*refused always$|^base_url must (not carry|be an http)")


def cross_field_rule(response) -> bool:
    detail = response.json().get("detail", "") if response.status_code in (400, 422) else ""
    if response.status_code == 422:
        return bool(POLICY.match(detail))
    return bool(detail) and bool(CROSS_FIELD.match(detail))




# -- a trailing newline, a NUL and an over-long value in every input of every operation --------

DOCUMENT = app_document()
# A valid value of each input with a pattern (asserted below): the base the hostile values extend.
EXAMPLE_VALUES = {"code": "005930", "stock": "005930", "stock_code": "005930", "news_id": "1", "chat_id": "1",
                  "chat": "1",
                  "run_id": "00000000-0000-4000-8000-000000000000", "evaluation_id": "news:1", "model": "baseline",
                  "cursor": "abc", "email": "someone@test.azak", "display_name": "A", "name": "A",
                  "base_url": "https://api.openai.com/v1", "api_key_env": "AZAK_OPENAI_API_KEY"}
HOSTILE = {"trailing newline": lambda v: f"{v}\n", "NUL": lambda v: f"{v}\x00", "over-long": lambda v: v + "9" * 5000}


@dataclass
class Slot:
    """One input of one operation: where it goes, its schema and a valid value (as sent)."""

    location: str  # path, query or body
    name: str
    schema: dict
    value: str
    required: bool

    def refusals(self, mutation: str) -> set[int]:
        """The answers that refuse the value so changed if the schema forbids it (else: none).

        A 400, or a 404 for a path integer: Litestar routes ``/users/{user_id:int}`` only when
        Python's int() reads the segment, which allows surrounding whitespace ("1\\n" is user 1)."""
        strict = self.schema.get("type") != "string" or bool({"format", "pattern", "enum"} & self.schema.keys())
        if not (strict or (mutation == "over-long" and "maxLength" in self.schema)):
            return set()
        return {400, 404} if self.location == "path" and self.schema.get("type") == "integer" else {400}


@dataclass
class Inputs:
    """An operation's inputs, and a valid JSON body if it takes one."""

    path: str
    slots: list[Slot]
    body: dict | None

    def request(self, changed: Slot, value: str) -> dict:
        """httpx arguments: every input valid (optional ones left out) except ``changed``."""
        sent = {(s.location, s.name): value if s is changed else s.value
                for s in self.slots if s.required or s is changed}
        url = self.path.format(**{name: quote(v, safe="") for (where, name), v in sent.items() if where == "path"})
        query = {name: v for (where, name), v in sent.items() if where == "query"}
        body = None if self.body is None else {**self.body, **{n: v for (w, n), v in sent.items() if w == "body"}}
        return {"url": url, "params": query, "json": body}


def _resolved(schema: dict) -> dict:
    """The schema with a $ref followed and a nullable ``oneOf`` folded into its non-null branch."""
    if "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    branches = [b for b in schema.get("oneOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema = {**{k: v for k, v in schema.items() if k != "oneOf"}, **_resolved(branches[0])}
    if isinstance(schema.get("type"), list):  # ["null", "string"] with an enum
        schema = {**schema, "type": next(t for t in schema["type"] if t != "null")}
    return schema


def _valid(name: str, schema: dict, location: str) -> str | int | float | bool:
    if "pattern" in schema:
        value = EXAMPLE_VALUES[name]  # a new patterned input needs an example value above
        assert re.search(schema["pattern"], value), f"EXAMPLE_VALUES[{name!r}] does not match {schema['pattern']}"
        return value
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    if schema.get("format") == "date":
        return "2025-06-16"
    if schema.get("type") == "integer":  # a path id past every row: a hostile value changes nothing
        return int(schema["maximum"]) if location == "path" else int(schema.get("minimum", 1))
    if schema.get("type") == "number":
        return schema.get("minimum", 0)
    if schema.get("type") == "boolean":
        return True
    return "a" * int(schema.get("minLength", 1))


def inputs_of(path: str, operation: dict) -> Inputs:
    """Every path and query input of an operation and every string field of its body."""
    slots = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] in ("path", "query"):
            schema = _resolved(parameter["schema"])
            value = json.dumps(_valid(parameter["name"], schema, parameter["in"])).strip('"')
            slots.append(Slot(parameter["in"], parameter["name"], schema, value, parameter.get("required", False)))
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return Inputs(path, slots, None)
    body_schema = _resolved(content["schema"])
    fields = {name: _resolved(schema) for name, schema in body_schema.get("properties", {}).items()}
    body = {name: _valid(name, fields[name], "body") for name in body_schema.get("required", [])}
    slots += [Slot("body", name, schema, str(_valid(name, schema, "body")), False)
              for name, schema in fields.items() if schema.get("type") == "string"]
    return Inputs(path, slots, body)


OPERATIONS = [(method.upper(), path, inputs_of(path, operation))
              for path, operations in DOCUMENT["paths"].items() for method, operation in operations.items()]


@pytest.mark.parametrize(("method", "path", "inputs"), [o for o in OPERATIONS if o[2].slots],
                         ids=[f"{m} {p}" for m, p, i in OPERATIONS if i.slots])
def test_a_newline_a_nul_or_an_overlong_value_is_never_a_5xx(method, path, inputs, served_api, admin_token):
    """The hostile values schemathesis rarely draws: a pattern-checked value with a newline after
    it ("005930\\n") or a NUL, or longer than its limit, is a 400; every other value is no 5xx."""
    problems = []
    with httpx.Client(base_url=served_api, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60) as client:
        for slot in inputs.slots:
            for mutation, change in HOSTILE.items():
                response = client.request(method, **inputs.request(slot, change(slot.value)))
                refusals = slot.refusals(mutation)
                if response.status_code >= 500 or (refusals and response.status_code not in refusals):
                    problems.append(f"{slot.location} {slot.name} with a {mutation}: {response.status_code} "
                                    f"(expected {sorted(refusals) or 'no 5xx'}) {response.text[:200]}")
    assert not problems, "\n".join(problems)
