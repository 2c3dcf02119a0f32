"""End dates people set (an account's, a preview link's): refused with a 400 when they cannot be a
real end, before the database or a time-zone conversion meets a year it cannot represent."""

from datetime import UTC, datetime

from litestar.exceptions import ValidationException

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def end_date(field: str, value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValidationException(f"{field} ({value.isoformat()}) must fall between the years 2000 and 8999")
    return value
