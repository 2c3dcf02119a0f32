"""What every paged answer says about its total: one shape, filled by one count
(:func:`azak_api.db.capped_total`)."""

from typing import Annotated, TypedDict

import msgspec

from azak_api.db import EXACT_TOTAL_LIMIT, Total


class Counted(msgspec.Struct, kw_only=True):
    """The total of a page's query, capped: counting every match of every page would cost more
    than the page."""

    total: Annotated[int, msgspec.Meta(
        description=f"matching items: exact up to {EXACT_TOTAL_LIMIT:,}, PostgreSQL's estimate past it "
                    "(then total_is_estimate is true)")]
    total_is_estimate: Annotated[bool, msgspec.Meta(
        description="true when more items match than the API counts exactly: total (and pages) are "
                    "then the planner's estimate")]


class CountedFields(TypedDict):
    total: int
    total_is_estimate: bool


def counted(total: Total) -> CountedFields:
    """The :class:`Counted` fields of a page (``Page(..., **counted(total))``), from its query's total."""
    return {"total": total.matching, "total_is_estimate": total.is_estimate}


def page_count(total: Total, page_size: int) -> int:
    return (total.matching + page_size - 1) // page_size
