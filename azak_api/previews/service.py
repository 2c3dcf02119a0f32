"""What a preview link is and what it shows."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.errors import Gone, NotFound
from azak_api.previews.queries import PreviewRow
from azak_api.previews.schemas import PreviewLink, PreviewPage, PreviewStatus
from azak_api.stockpage.service import stock_page

PUBLIC_PATH = "/api/public/previews"


def status_of(row: PreviewRow, now: datetime) -> PreviewStatus:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def as_link(row: PreviewRow, now: datetime) -> PreviewLink:
    return PreviewLink(id=str(row.id), url=f"{PUBLIC_PATH}/{row.id}", stock_code=row.stock_code,
                       status=status_of(row, now), created_at=row.created_at, created_by=row.created_by,
                       expires_at=row.expires_at, revoked_at=row.revoked_at)


def link_id(value: str) -> uuid.UUID:
    """The link's UUID; anything else is a link that does not exist (404, like an unknown one)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no preview link {value[:40]!r}") from None


def usable(row: PreviewRow | None, value: str, now: datetime) -> PreviewRow:
    """The link if it can be read now: 404 when it never existed, 410 once expired or revoked."""
    if row is None:
        raise NotFound(f"no preview link {value}")
    status = status_of(row, now)
    if status == "revoked":
        raise Gone(f"this preview link was revoked on {row.revoked_at:%Y-%m-%d}")
    if status == "expired":
        raise Gone(f"this preview link expired on {row.expires_at:%Y-%m-%d}")
    return row


async def preview_page(conn: AsyncConnection, code: str, now: datetime) -> PreviewPage:
    """The stock's public page: the stock page (``GET /api/stocks/{code}/page``) as anyone without
    an account may see it (no error messages from providers, no user's data)."""
    return PreviewPage(page=await stock_page(conn, code, now), expires_at=None)
