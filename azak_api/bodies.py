"""JSON request bodies are decoded strictly: each value has the JSON type the schema gives it.

Litestar converts request data leniently, as query strings need (``"5"`` becomes 5); in a JSON body
that would take ``0`` for ``false`` and ``"5"`` for 5, hiding a client's mistake the schema
forbids. This hook converts the body to the handler's ``data`` type with msgspec's strict rules
first, with JSON Schema's one allowance: a number without a fraction (``2.0``) is an integer.
"""

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    return value


async def decode_body_strictly(request: Request[Any, Any, Any]) -> None:
    """Refuse (400) a JSON body whose values do not have the types the route declares."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar's own decoding refuses it with the reason (errors.py)
    try:
        msgspec.convert(_integral_floats_as_ints(body), type=data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(f"the request body does not match its schema: {exc}") from None
