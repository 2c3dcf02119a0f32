"""Public preview links to one stock's page: admins make, list and revoke them; anyone with the
link reads the page, without a token, until the link expires or is revoked (then 410)."""

import math
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.exceptions import TooManyRequestsException, ValidationException
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.auth import ANONYMOUS, PUBLIC, SECURED, AuthState, CurrentUser, admin_only
from azak_api.cache import INVALIDATES
from azak_api.errors import NotFound, error_responses
from azak_api.moments import end_date
from azak_api.pages import paging
from azak_api.previews import queries, service
from azak_api.previews.schemas import PreviewCreate, PreviewLink, PreviewLinkPage, PreviewPage
from azak_api.stocks.queries import one as listed_stock
from azak_core.market import STOCK_CODE_PATTERN

LinkId = Annotated[str, Parameter(max_length=64, description="the link's UUID")]
# every answer of the public page is its own: never stored by browsers or proxies, never shared
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class PreviewAdminController(Controller):
    path = "/api/admin/previews"
    tags = ["admin"]
    security = SECURED
    guards = [admin_only]

    @post("/", operation_id="createPreview", status_code=201, summary="Make a public preview link to a stock (admin)",
          description="`expires_at` null (or absent): the link works until revoked.",
          responses=error_responses(401, 403, 404, 413), opt={INVALIDATES: ()})
    async def create(self, data: PreviewCreate, current_user: CurrentUser, tx: AsyncConnection,
                     clock: Callable[[], datetime]) -> PreviewLink:
        now = clock()
        if data.expires_at is not None and end_date("expires_at", data.expires_at) <= now:
            raise ValidationException(f"expires_at ({data.expires_at.isoformat()}) is not in the future")
        if await listed_stock(tx, data.stock_code) is None:
            raise NotFound(f"no listed stock {data.stock_code}")
        return service.as_link(await queries.create(tx, data.stock_code, data.expires_at, current_user.id), now)

    @get("/", operation_id="listPreviews", summary="Preview links, newest first, with their status (admin)",
         responses=error_responses(401, 403))
    async def list_links(self, db: AsyncConnection, clock: Callable[[], datetime],
                         stock: Annotated[str | None, Parameter(pattern=STOCK_CODE_PATTERN)] = None,
                         page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
                         page_size: Annotated[int, Parameter(ge=1, le=200)] = 50) -> PreviewLinkPage:
        now = clock()
        rows, total = await queries.page(db, stock, (page - 1) * page_size, page_size)
        return PreviewLinkPage([service.as_link(r, now) for r in rows], **paging(total, page, page_size))

    @delete("/{link_id:str}", operation_id="revokePreview", status_code=200,
            summary="Revoke a preview link (admin): it answers 410 from now on",
            responses=error_responses(401, 403, 404), opt={INVALIDATES: ()})
    async def revoke(self, link_id: LinkId, tx: AsyncConnection, clock: Callable[[], datetime]) -> PreviewLink:
        row = await queries.revoke(tx, service.link_id(link_id))
        if row is None:
            raise NotFound(f"no preview link {link_id}")
        return service.as_link(row, clock())


class PublicPreviewController(Controller):
    path = "/api/public/previews"
    tags = ["public"]

    @get("/{link_id:str}", operation_id="readPreview", opt={PUBLIC: True}, security=ANONYMOUS, cache=False,
         summary="A stock's page through a preview link (no token)",
         description="404 for a link that never existed, 410 once it expired or was revoked. Shows the "
                     "stock and its latest reports, nothing about any user; never cached. At most "
                     "`AZAK_PREVIEW_READS_PER_ADDRESS_PER_MINUTE` (60) reads a minute per client address "
                     "(a sliding window, the login limiter's), then 429 with `Retry-After`.",
         responses=error_responses(404, 410, 429))
    async def read(self, request: Request[Any, Any, Any], link_id: LinkId, db: AsyncConnection,
                   auth_state: AuthState, clock: Callable[[], datetime]) -> Response[PreviewPage]:
        wait = await auth_state.preview_allowed(auth_state.caller_address(request))
        if wait is not None:
            raise TooManyRequestsException("too many preview reads from your address; try again later",
                                           headers={"Retry-After": str(math.ceil(wait)), **NO_STORE})
        now = clock()
        row = service.usable(await queries.by_id(db, service.link_id(link_id)), link_id, now)
        page = await service.preview_page(db, row.stock_code, now)
        page.expires_at = row.expires_at
        return Response(page, headers=NO_STORE)
