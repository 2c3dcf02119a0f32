"""Preview links: request and response types."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from azak_api.pages import Paged
from azak_api.stockpage.schemas import StockPageView
from azak_core.market import STOCK_CODE_PATTERN

PreviewStatus = Literal["active", "expired", "revoked"]


class PreviewCreate(msgspec.Struct, forbid_unknown_fields=True):
    stock_code: Annotated[str, msgspec.Meta(pattern=STOCK_CODE_PATTERN, description="KRX stock code")]
    expires_at: Annotated[datetime, msgspec.Meta(tz=True, description="ISO 8601 with its UTC offset")] | None = None


class PreviewLink(msgspec.Struct):
    id: str
    url: str  # the public page, readable without a token
    stock_code: str
    status: PreviewStatus
    created_at: datetime
    created_by: int | None
    expires_at: datetime | None  # null: until revoked
    revoked_at: datetime | None


class PreviewLinkPage(Paged):
    items: list[PreviewLink]


class PreviewPage(msgspec.Struct):
    """What a preview link shows: one stock's page, nobody's data."""

    page: Annotated[StockPageView, msgspec.Meta(
        description="as GET /api/stocks/{code}/page: detail, quote, reports side by side, predictions, news")]
    expires_at: datetime | None
