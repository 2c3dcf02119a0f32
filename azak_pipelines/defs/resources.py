"""The resource every domain shares (the warehouse), and how resources take their settings.

Each domain declares its own resources in ``defs/<domain>/resources.py``; their settings are typed
fields, so Dagit shows them and a run's config can override them. :func:`env_config` feeds the
fields from ``AZAK_*`` variables as ``dg.EnvVar`` (resolved when a run starts, shown by name, never
by value).
"""

import typing
from collections.abc import Iterable
from typing import Any

import dagster as dg
import psycopg
import pydantic

from azak_core import settings_registry
from azak_core.redact import redacted
from azak_pipelines.lib import warehouse


class SecretSafeResource(dg.ConfigurableResource):  # type: ignore[type-arg]  # subscripting adds a pydantic generic class to the MRO
    """The base of every resource here: its repr and str (log lines, tracebacks) show keys, tokens
    and secrets as ``***`` and URLs without their password; the config itself is untouched."""

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        return [(name, redacted(name, value) if name else value) for name, value in super().__repr_args__()]


class Warehouse(SecretSafeResource):
    """The PostgreSQL warehouse (``AZAK_DATABASE_URL``): raw, computed, staging, marts and ops schemas."""

    database_url: str

    def connect(self) -> psycopg.Connection[Any]:
        return warehouse.connect(self.database_url)


def env_config(resource: type[dg.ConfigurableResource[Any]],
               variables: dict[str, str | tuple[str, ...]]) -> dict[str, Any]:
    """Field values for ``resource`` from the environment: ``{field: VARIABLE}`` (or several
    variables, the first that is set wins). Unset variables leave the field's default. Text and
    whole numbers stay ``EnvVar`` references; other types (decimals, flags, comma-separated lists)
    are parsed here and a bad value fails with the variable's name."""
    values: dict[str, Any] = {}
    for name, candidates in variables.items():
        names = (candidates,) if isinstance(candidates, str) else candidates
        var = next((v for v in names if settings_registry.read(v)), None)
        if var is None:
            continue
        annotation = resource.model_fields[name].annotation
        kind = next((t for t in typing.get_args(annotation) if t is not type(None)), annotation)
        if kind is str:
            values[name] = dg.EnvVar(var)
        elif kind is int:
            values[name] = dg.EnvVar.int(var)
        else:
            raw = settings_registry.read_or(var, "")
            parsed: Any = [w.strip() for w in raw.split(",") if w.strip()] if typing.get_origin(kind) is list else raw
            if annotation is None:  # a resource's fields are always annotated
                raise TypeError(f"{resource.__name__}.{name} has no type annotation")
            try:
                values[name] = pydantic.TypeAdapter(annotation).validate_python(parsed)
            except pydantic.ValidationError as exc:
                raise ValueError(f"{var}={raw!r} is not a valid {name}: {exc.errors()[0]['msg']}") from None
    return values


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": Warehouse(database_url=dg.EnvVar("AZAK_DATABASE_URL"))})
