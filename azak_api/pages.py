"""The one shape of every list: ``items`` plus :class:`Paged`'s fields (``total``,
``total_is_estimate``, ``page``, ``page_size``, ``pages``; ``next_cursor`` where a cursor exists),
filled by one count (:func:`azak_api.db.capped_total`) and one helper (:func:`paging`)."""

from typing import Annotated, TypedDict

import msgspec

from azak_api.db import EXACT_TOTAL_LIMIT, Total


class Paged(msgspec.Struct, kw_only=True):
    """Where a page sits in its list. The total is capped: counting every match of every page
    would cost more than the page."""

    total: Annotated[int, msgspec.Meta(
        description=f"matching items: exact up to {EXACT_TOTAL_LIMIT:,}, PostgreSQL's estimate past it "
                    "(then total_is_estimate is true)")]
    total_is_estimate: Annotated[bool, msgspec.Meta(
        description="true when more items match than the API counts exactly: total (and pages) are "
                    "then the planner's estimate")]
    page: Annotated[int | None, msgspec.Meta(description="the page number (from 1); null for a cursor page")]
    page_size: int
    pages: Annotated[int, msgspec.Meta(description="pages of page_size items the total makes")]


class PagingFields(TypedDict):
    total: int
    total_is_estimate: bool
    page: int | None
    page_size: int
    pages: int


def paging(total: Total, page: int | None, page_size: int) -> PagingFields:
    """The :class:`Paged` fields of a page (``XPage(items, **paging(total, page, page_size))``)."""
    return {"total": total.matching, "total_is_estimate": total.is_estimate, "page": page,
            "page_size": page_size, "pages": (total.matching + page_size - 1) // page_size}
