"""Keyset pagination for the news list: an opaque cursor that names the last article served.

The cursor is URL-safe base64 of ``[published_at, news_id, sort]``: the next page starts strictly
after that (published_at, news_id) pair in the list's order, so pages neither overlap nor skip
rows, however many articles share a timestamp, and a deep page costs what the first one does.
"""

import base64
import binascii
from datetime import datetime
from typing import NamedTuple

import msgspec
from litestar.exceptions import ValidationException

MAX_NEWS_ID = 2**63 - 1


class Position(NamedTuple):
    published_at: datetime
    news_id: int


def encode_cursor(position: Position, ascending: bool) -> str:
    document = msgspec.json.encode([position.published_at.isoformat(), str(position.news_id),
                                    "asc" if ascending else "desc"])
    return base64.urlsafe_b64encode(document).rstrip(b"=").decode()


def decode_cursor(cursor: str, ascending: bool) -> Position:
    """The position a cursor names; a 400 that says why when it is not one this API issued for
    this sort order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, news_id, order = msgspec.json.decode(raw, type=tuple[datetime, str, str])
        position = Position(at, int(news_id))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ValidationException("cursor: not a cursor this API issued (pass next_cursor from the "
                                  "previous page unchanged, or leave it out to start at the first page)") from None
    if at.tzinfo is None or not 0 < position.news_id <= MAX_NEWS_ID:
        raise ValidationException("cursor: its position is out of range (pass next_cursor unchanged)")
    if order != ("asc" if ascending else "desc"):
        sort = "published_at" if order == "asc" else "-published_at"
        raise ValidationException(f"cursor: it continues a list sorted by {sort}: keep that sort, "
                                  "or leave the cursor out to start again")
    return position
