"""Dagit's GraphQL API: the one client the API (on-demand runs) and the CLI (backfills) talk to
the Dagster webserver through. Neither imports the pipelines: Dagit queues the work for the daemon.
"""

from typing import Any

import httpx

LOCATION, REPOSITORY = "azak", "__repository__"  # workspace.yaml's location; a Definitions object's repository


class DagitUnavailable(RuntimeError):
    """Dagit could not be reached, answered an HTTP error, or returned GraphQL errors; the message
    names which (with Dagit's address: callers that must not show it log it instead)."""


async def graphql(base_url: str, query: str, variables: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
    """The ``data`` of one GraphQL request to the Dagit at ``base_url``."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(f"{base_url}/graphql", json={"query": query, "variables": variables})
    except httpx.HTTPError as exc:
        raise DagitUnavailable(f"Dagit at {base_url} is unreachable: {exc or type(exc).__name__}") from None
    if response.status_code != 200:
        raise DagitUnavailable(f"Dagit at {base_url} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise DagitUnavailable(f"Dagit at {base_url} answered with something that is not JSON") from None
    if not isinstance(body, dict):
        raise DagitUnavailable(f"Dagit at {base_url} answered JSON that is not a GraphQL response")
    if body.get("errors"):
        raise DagitUnavailable("Dagit's GraphQL errors: " + "; ".join(
            str(e.get("message", "?")) if isinstance(e, dict) else "?" for e in body["errors"]))
    data = body.get("data")
    if not isinstance(data, dict):
        raise DagitUnavailable(f"Dagit at {base_url} answered a GraphQL response without data")
    return data
