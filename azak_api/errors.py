"""One error shape for every failure: ``{"status_code", "detail", "extra"?}``.

Bad input is a 4xx saying what to fix (Litestar's validation supplies the field); a missing table
or an unreachable database is a 503 naming the cause, so ``/health`` and the error agree; anything
else is a 500 without internals.
"""

import logging
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

LOG = logging.getLogger("azak.api")


class ErrorBody(msgspec.Struct):
    """Every error: the status, what went wrong (and how to fix it), and field details if any."""

    status_code: int
    detail: str
    extra: Any | None = None


MEANING = {
    400: "The request is malformed or a value is invalid; `detail` and `extra` say which.",
    401: "No valid token: log in (POST /api/auth/login); expired, revoked or tampered tokens fail too.",
    403: "The token is valid but the route needs the admin role, or a cookie-authenticated change came "
         "from another origin or without a JSON body (use the Bearer header from scripts).",
    404: "No such resource.",
    409: "The request conflicts with the current state.",
    410: "The resource existed but is gone for good (an expired or revoked link).",
    413: "The request body is too large.",
    422: "The request is well-formed but the operator's policy refuses it; `detail` says which list allows what.",
    429: "Too many attempts; wait the `Retry-After` seconds.",
    503: "A dependency is down or the warehouse is not built yet; see GET /health.",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI descriptions of the errors a route can answer (400 and 503 always apply)."""
    return {code: ResponseSpec(data_container=ErrorBody, description=MEANING[code], generate_examples=False)
            for code in sorted({*codes, 400, 503})}


class NotFound(HTTPException):
    status_code = 404


class Conflict(HTTPException):
    status_code = 409


class Gone(HTTPException):
    status_code = 410


class Refused(HTTPException):
    """A valid value the operator's policy does not allow (e.g. a key variable or host not listed)."""

    status_code = 422


class TooMany(HTTPException):
    status_code = 429


class ServiceUnavailable(HTTPException):
    """A dependency the route needs (e.g. Dagit for on-demand runs) is not configured or down."""

    status_code = 503


def _body(status: int, detail: str, extra: Any = None,
          headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    content: dict[str, Any] = {"status_code": status, "detail": detail}
    if extra:
        content["extra"] = extra
    return Response(content, status_code=status, headers=headers or None)


def _field_problems(request: Request[Any, Any, Any], extra: Any) -> Any:
    """Name query parameters as callers send them (``from``, not ``start``) and say which date format."""
    handler = request.scope.get("route_handler")
    if not isinstance(extra, list) or handler is None:
        return extra
    parameters = handler.parsed_fn_signature.parameters
    for item in extra:
        if not isinstance(item, dict):
            continue
        definition = getattr(parameters.get(item.get("key", "")), "kwarg_definition", None)
        if item.get("source") == "query" and getattr(definition, "query", None):
            item["key"] = definition.query  # type: ignore[union-attr]
        if "RFC3339 encoded date" in str(item.get("message", "")):
            item["message"] = "expected a calendar date as YYYY-MM-DD"
    return extra


def _http_error(max_body_bytes: int) -> Callable[[Request[Any, Any, Any], HTTPException], Response[dict[str, Any]]]:
    def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
        detail, extra = exc.detail, exc.extra
        if isinstance(exc.__cause__, SerializationException):
            detail = f"the request body is not valid JSON ({detail}); send a JSON object"
        elif exc.status_code == 400:
            extra = _field_problems(request, extra)
        elif exc.status_code == 413:
            detail = f"the request body is too large: at most {max_body_bytes} bytes (AZAK_MAX_BODY_BYTES)"
        return _body(exc.status_code, detail, extra, dict(exc.headers or {}))

    return http_error


def database_error(_: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code == "42P01":  # undefined_table: the pipelines have not built it yet
        message = str(getattr(exc, "orig", exc)).splitlines()[0]
        return _body(503, f"the warehouse is not built yet ({message}); run the pipelines first")
    if code == "42703":  # undefined_column: a table written by an older release, before its next run
        # ... or a query of ours naming a column that never existed: logged with its statement either way
        LOG.error("undefined column (an older warehouse table, or a bug in the query)", exc_info=exc)
        message = str(getattr(exc, "orig", exc)).splitlines()[0]
        return _body(503, f"a warehouse table predates this release ({message}); materialize its asset once "
                          "(the writer adds the new columns) and retry")
    if isinstance(exc, DataError) or (code or "").startswith("22"):  # data exception: the input's fault
        message = str(getattr(exc, "orig", exc)).splitlines()[0]
        return _body(400, f"a value cannot be stored or compared: {message}; correct it and retry")
    if code == "57014":  # query_canceled: the statement timeout (or a server shutdown) stopped it
        return _body(503, "the query took longer than the API's statement timeout "
                          "(AZAK_API_STATEMENT_TIMEOUT_MS) and was cancelled; narrow the request "
                          "(a stock, a date range, fewer rows) or retry later")
    if isinstance(exc, OperationalError) or code in {"08000", "08001", "08006", "57P01", "57P03"}:
        return _body(503, "the database is unavailable; see GET /health")
    LOG.exception("database error", exc_info=exc)
    return _body(500, "Internal Server Error")


def unexpected_error(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    LOG.exception("unhandled error", exc_info=exc)
    return _body(500, "Internal Server Error")


def exception_handlers(max_body_bytes: int) -> dict[type[Exception], Callable[..., Response[dict[str, Any]]]]:
    return {HTTPException: _http_error(max_body_bytes), DBAPIError: database_error, Exception: unexpected_error}
