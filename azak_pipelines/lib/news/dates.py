"""Publication times as sources print them → aware datetimes. Unparseable is an error, not now()."""

import email.utils
import re
from datetime import datetime, timedelta

from azak_core.market import KST

_ABSOLUTE = re.compile(
    r"^\s*(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})\.?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
_RELATIVE = re.compile(r"^\s*(\d+)\s*(분|시간)\s*전\s*$")


class DateError(ValueError):
    """A date string that cannot be read; the message quotes it."""


def parse_kst(text: str, fetched_at: datetime | None = None) -> tuple[datetime, str]:
    """A Korean site's local time ("2025.12.01 14:17", "2025-12-01 14:22", "3분 전") → (aware
    datetime, precision). Relative times count back from ``fetched_at``, the moment the page was
    read; a date without a time has day precision."""
    match = _ABSOLUTE.match(text or "")
    if match:
        year, month, day, hour, minute, second = match.groups()
        try:
            at = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=KST)
        except ValueError:
            raise DateError(f"not a calendar date/time: {text!r}") from None
        precision = "day" if hour is None else ("second" if second else "minute")
        return at, precision
    relative = _RELATIVE.match(text or "")
    if relative and fetched_at is not None:
        amount, unit = int(relative.group(1)), relative.group(2)
        delta = timedelta(minutes=amount) if unit == "분" else timedelta(hours=amount)
        precision = "minute" if unit == "분" else "hour"
        return (fetched_at - delta).astimezone(KST).replace(second=0, microsecond=0), precision
    raise DateError(f"unreadable date {text!r}")


def parse_rfc822(text: str) -> datetime:
    """RSS pubDate ("Mon, 02 Jun 2025 09:15:00 +0900"); a date without a zone is refused."""
    try:
        at = email.utils.parsedate_to_datetime((text or "").strip())
    except (TypeError, ValueError, IndexError):
        raise DateError(f"unreadable pubDate {text!r}") from None
    if at is None or at.tzinfo is None:
        raise DateError(f"pubDate {text!r} has no time zone")
    return at


def parse_iso(text: str) -> datetime:
    """ISO 8601 with an offset ("2025-06-02T09:15:00+09:00"); naive times are refused."""
    try:
        at = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise DateError(f"not ISO 8601: {text!r}") from None
    if at.tzinfo is None:
        raise DateError(f"{text!r} has no UTC offset (e.g. +09:00)")
    return at
