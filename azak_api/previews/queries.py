"""SQL for ``app.preview_links``."""

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from azak_api.db import Total, paged, row_as, rows_as

COLUMNS = "id, stock_code, created_at, created_by, expires_at, revoked_at"


class PreviewRow(NamedTuple):
    id: uuid.UUID
    stock_code: str
    created_at: datetime
    created_by: int | None
    expires_at: datetime | None
    revoked_at: datetime | None


async def create(conn: AsyncConnection, code: str, expires_at: datetime | None, user_id: int) -> PreviewRow:
    row = (await conn.execute(text(
        f"INSERT INTO app.preview_links (stock_code, expires_at, created_by) VALUES (:code, :ends, :by) "
        f"RETURNING {COLUMNS}"), {"code": code, "ends": expires_at, "by": user_id})).one()
    found = row_as(PreviewRow, row)
    assert found is not None
    return found


async def by_id(conn: AsyncConnection, link_id: uuid.UUID) -> PreviewRow | None:
    row = (await conn.execute(text(f"SELECT {COLUMNS} FROM app.preview_links WHERE id = :id"),
                              {"id": link_id})).first()
    return row_as(PreviewRow, row)


async def page(conn: AsyncConnection, code: str | None, offset: int, limit: int) -> tuple[list[PreviewRow], Total]:
    where, params = ("stock_code = :code", {"code": code}) if code else ("TRUE", {})
    rows, total = await paged(conn, COLUMNS, "app.preview_links", where, "created_at DESC, id", params, offset, limit)
    return rows_as(PreviewRow, rows), total


async def revoke(conn: AsyncConnection, link_id: uuid.UUID) -> PreviewRow | None:
    """Revoke the link (once: revoking again keeps the first time)."""
    row = (await conn.execute(text(
        f"UPDATE app.preview_links SET revoked_at = coalesce(revoked_at, now()) WHERE id = :id RETURNING {COLUMNS}"),
        {"id": link_id})).first()
    return row_as(PreviewRow, row)
