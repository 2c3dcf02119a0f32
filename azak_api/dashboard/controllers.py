"""GET /api/dashboard/summary."""

from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import SECURED
from azak_api.cache import SHARED
from azak_api.dashboard import queries
from azak_api.dashboard.schemas import DashboardSummary
from azak_api.errors import error_responses
from azak_api.json_sql import answer


class DashboardController(Controller):
    path = "/api/dashboard"
    tags = ["dashboard"]
    security = SECURED

    @get("/summary", operation_id="getDashboardSummary", opt={"cache": "dashboard", "cache_scope": SHARED},
         cache=True, summary="Platform figures, all computed from the data", responses=error_responses(401))
    async def summary(self, db: AsyncConnection) -> DashboardSummary:
        return answer(await queries.summary(db), DashboardSummary)
