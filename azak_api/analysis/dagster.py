"""Launching and watching Dagster runs through Dagit's GraphQL API (the API never imports the
pipelines: it asks the Dagster webserver, which queues the run for the daemon)."""

import logging
from typing import Any

from azak_api.errors import ServiceUnavailable
from azak_core.dagit import LOCATION, REPOSITORY, DagitUnavailable, graphql
from azak_core.runs import API_RUN_TAGS

REQUESTED_BY = "azak/requested_by"
LOG = logging.getLogger("azak.api")
# What a caller is told when Dagit fails: its address and error text stay in the API's log.
UNAVAILABLE = "the run service (Dagit) is unavailable; try again later (the API's log has the detail)"

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""
STATUS = """
query Run($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { runId status jobName startTime endTime tags { key value } }
    ... on Error { message }
  }
}
"""


class DagsterError(ServiceUnavailable):
    """Dagster refused the call (a 503 to the caller); the message says why."""


async def _graphql(base_url: str | None, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    if not base_url:
        raise ServiceUnavailable("on-demand runs need Dagit: set AZAK_DAGSTER_URL (e.g. http://127.0.0.1:3000)")
    try:
        return await graphql(base_url, query, variables)
    except DagitUnavailable as exc:
        LOG.error("%s", exc)
        raise DagsterError(UNAVAILABLE) from None


async def launch(base_url: str | None, job: str, partition: str, run_config: dict[str, Any],
                 requested_by: int) -> str:
    """Queue a run of ``job`` for the user ``requested_by``, tagged as an API run; its id."""
    tags = {"dagster/partition": partition, **API_RUN_TAGS, REQUESTED_BY: str(requested_by)}
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job},
        "runConfigData": run_config,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    result = (await _graphql(base_url, LAUNCH, {"params": params}))["launchRun"]
    if result["__typename"] == "LaunchRunSuccess":
        run_id: str = result["run"]["runId"]
        return run_id
    detail = result.get("message") or "; ".join(e["message"] for e in result.get("errors", []))
    LOG.error("Dagster refused a %s run (%s): %s", job, result["__typename"], detail)
    raise DagsterError(f"Dagster refused the run ({result['__typename']}); the API's log has the detail")


async def run_status(base_url: str | None, run_id: str) -> dict[str, Any] | None:
    result: dict[str, Any] = (await _graphql(base_url, STATUS, {"id": run_id}))["runOrError"]
    if result["__typename"] == "RunNotFoundError":
        return None
    if result["__typename"] != "Run":
        raise DagsterError(result.get("message", result["__typename"]))
    return result


def launched_by(tags: dict[str, str], user_id: int) -> bool:
    """Whether a run's tags say the API launched it for this user."""
    return tags.get(REQUESTED_BY) == str(user_id)
