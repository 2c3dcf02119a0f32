"""The one KRX trading calendar: trading days, session hours and business-day arithmetic.

Built from exchange-calendars' XKRX calendar plus the overrides in ``krx_calendar_overrides.csv``
(closures or special hours the library does not know, e.g. the CSAT late opening since 2021).
Building XKRX from 1990 costs seconds (~3 s of CPU), so the computed sessions are cached on disk,
keyed by the library version, the overrides and the calendar's end: next year's last session, so
that the calendar always reaches at least a year ahead and its rows change once a year, not daily.
``make install`` builds this year's into the installation (``python -m
azak_pipelines.lib.calendar.krx_calendar``), so a fresh home does not pay for it.
"""

import csv
import hashlib
import json
import os
import sys
import tempfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from azak_core import clock, settings_registry
from azak_core.market import AFTER_HOURS_CLOSING, AFTER_HOURS_SINGLE_PRICE, KST, PRE_MARKET

FIRST_DAY = date(1990, 1, 3)
OVERRIDES_FILE = Path(__file__).with_name("krx_calendar_overrides.csv")

REGULAR_OPEN = time(9, 0)
REGULAR_CLOSE = time(15, 30)


class CalendarRangeError(ValueError):
    """A date outside the span the calendar knows."""


@dataclass(frozen=True)
class Session:
    """One trading day with its windows as aware datetimes in KST."""

    day: date
    open: datetime
    close: datetime

    @property
    def pre_market(self) -> tuple[datetime, datetime]:
        return self.open + PRE_MARKET[0], self.open + PRE_MARKET[1]

    @property
    def after_hours_closing(self) -> tuple[datetime, datetime]:
        return self.close + AFTER_HOURS_CLOSING[0], self.close + AFTER_HOURS_CLOSING[1]

    @property
    def after_hours_single_price(self) -> tuple[datetime, datetime]:
        return self.close + AFTER_HOURS_SINGLE_PRICE[0], self.close + AFTER_HOURS_SINGLE_PRICE[1]

    def phase(self, at: datetime) -> str:
        """Which market window ``at`` (aware) falls in on this day."""
        at = at.astimezone(KST)
        windows = [
            ("pre_market", self.pre_market),
            ("regular", (self.open, self.close)),
            ("after_hours_closing", self.after_hours_closing),
            ("after_hours_single_price", self.after_hours_single_price),
        ]
        for name, (start, end) in windows:
            if start <= at < end:
                return name
        return "closed"


@dataclass(frozen=True)
class Override:
    day: date
    kind: str  # closed | open | hours
    open: time | None
    close: time | None
    reason: str


def load_overrides(path: Path = OVERRIDES_FILE) -> list[Override]:
    overrides = []
    with path.open(encoding="utf-8") as handle:
        for line_no, row in enumerate(csv.DictReader(line for line in handle if not line.startswith("#")), 2):
            kind = row["kind"].strip()
            if kind not in {"closed", "open", "hours"}:
                raise ValueError(f"{path}:{line_no}: kind must be closed, open or hours, got {kind!r}")
            overrides.append(
                Override(
                    day=date.fromisoformat(row["date"].strip()),
                    kind=kind,
                    open=time.fromisoformat(row["open"]) if row.get("open") else None,
                    close=time.fromisoformat(row["close"]) if row.get("close") else None,
                    reason=row["reason"].strip(),
                )
            )
    return overrides


class KrxCalendar:
    """Sessions of the Korea Exchange between ``first`` and ``last`` (inclusive)."""

    def __init__(self, sessions: dict[date, tuple[time, time]], first: date, last: date,
                 closures: dict[date, str]):
        self.first = first
        self.last = last
        self._days = sorted(sessions)
        self._index = {day: i for i, day in enumerate(self._days)}
        self._hours = sessions
        self._closures = closures

    # -- membership -------------------------------------------------------------------------

    def _check(self, day: date) -> None:
        if not self.first <= day <= self.last:
            raise CalendarRangeError(
                f"{day} is outside the KRX calendar ({self.first} … {self.last})"
            )

    def is_trading_day(self, day: date) -> bool:
        self._check(day)
        return day in self._index

    def closure_reason(self, day: date) -> str | None:
        """Why ``day`` is not a trading day (``None`` when it is one)."""
        if self.is_trading_day(day):
            return None
        if day in self._closures:
            return self._closures[day]
        return "weekend" if day.weekday() >= 5 else "holiday"

    def session(self, day: date) -> Session:
        if not self.is_trading_day(day):
            raise ValueError(f"{day} is not a KRX trading day ({self.closure_reason(day)})")
        opens, closes = self._hours[day]
        return Session(day, datetime.combine(day, opens, KST), datetime.combine(day, closes, KST))

    # -- ranges -----------------------------------------------------------------------------

    def sessions_between(self, start: date, end: date) -> list[date]:
        """Trading days in the half-open window ``[start, end)``."""
        return self._days[bisect_left(self._days, start):bisect_left(self._days, end)]

    def count_sessions(self, start: date, end: date) -> int:
        return bisect_left(self._days, end) - bisect_left(self._days, start)

    # -- arithmetic -------------------------------------------------------------------------

    def next_session(self, day: date, inclusive: bool = False) -> date:
        self._check(day)
        i = bisect_left(self._days, day) if inclusive else bisect_right(self._days, day)
        if i >= len(self._days):
            raise CalendarRangeError(f"no KRX session after {day} within the calendar")
        return self._days[i]

    def previous_session(self, day: date, inclusive: bool = False) -> date:
        self._check(day)
        i = (bisect_right(self._days, day) if inclusive else bisect_left(self._days, day)) - 1
        if i < 0:
            raise CalendarRangeError(f"no KRX session before {day} within the calendar")
        return self._days[i]

    def add_sessions(self, day: date, n: int) -> date:
        """The session ``n`` trading days after (n > 0) or before (n < 0) ``day``.

        From a closed day, counting starts at the adjacent session: one session after a Saturday
        is the Monday (if open), one before it is the Friday.
        """
        if n == 0:
            return self.session(day).day
        i = bisect_right(self._days, day) + n - 1 if n > 0 else bisect_left(self._days, day) + n
        if not 0 <= i < len(self._days):
            raise CalendarRangeError(f"{n:+d} sessions from {day} leaves the KRX calendar")
        return self._days[i]

    def session_index(self, day: date) -> int:
        """Position of a trading day among all sessions (for SQL-side arithmetic)."""
        if day not in self._index:
            raise ValueError(f"{day} is not a KRX trading day")
        return self._index[day]

    def anchor_session(self, at: datetime) -> date:
        """The first session whose regular close is at or after ``at`` (an aware datetime).

        News published after 15:30 KST (or on a closed day) anchors on the next session.
        """
        if at.tzinfo is None:
            raise ValueError("anchor_session needs an aware datetime")
        local_day = at.astimezone(KST).date()
        day = self.next_session(local_day, inclusive=True)
        if self.session(day).close < at:
            day = self.next_session(day)
        return day

    def phase(self, at: datetime) -> str:
        """Market phase at an aware datetime: a session window name or ``closed``."""
        day = at.astimezone(KST).date()
        if not self.is_trading_day(day):
            return "closed"
        return self.session(day).phase(at)


def _cache_dir() -> Path:
    home = settings_registry.read("AZAK_HOME")
    base = Path(home) / "cache" if home else Path(tempfile.gettempdir()) / "azak-cache"
    base.mkdir(parents=True, exist_ok=True)
    return base


INSTALLED_DIR = Path(sys.prefix) / "share" / "azak"  # built by `make install`, read-only afterwards


def calendar_end(today: date) -> date:
    """The calendar's last day: 31 December of next year (12 to 24 months ahead of ``today``)."""
    return date(today.year + 1, 12, 31)


def _build_from_library(overrides: list[Override], end: date) -> dict[str, Any]:
    import exchange_calendars as xc  # heavy: only when the cache misses

    xkrx = xc.get_calendar("XKRX", start=FIRST_DAY.isoformat(), end=end.isoformat())
    opens = xkrx.opens.dt.tz_convert(KST)
    closes = xkrx.closes.dt.tz_convert(KST)
    sessions: dict[str, list[str]] = {}
    for ts in xkrx.sessions:
        sessions[ts.date().isoformat()] = [
            opens[ts].strftime("%H:%M"), closes[ts].strftime("%H:%M")
        ]
    last = xkrx.last_session.date()
    closures: dict[str, str] = {}
    named = xkrx.regular_holidays.holidays(xkrx.first_session, xkrx.last_session, return_name=True)
    for ts, name in named.items():
        if ts.weekday() < 5:
            closures[ts.date().isoformat()] = str(name)
    for ts in xkrx.adhoc_holidays:
        if FIRST_DAY <= ts.date() <= last and ts.weekday() < 5:
            closures.setdefault(ts.date().isoformat(), "ad-hoc closure (e.g. election day)")
    # the library marks its final session with placeholder hours; keep regular ones
    sessions[last.isoformat()] = [REGULAR_OPEN.strftime("%H:%M"), REGULAR_CLOSE.strftime("%H:%M")]
    for override in overrides:
        key = override.day.isoformat()
        if override.kind == "closed":
            sessions.pop(key, None)
            closures[key] = override.reason
        else:
            current = sessions.get(key, ["09:00", "15:30"])
            sessions[key] = [
                override.open.strftime("%H:%M") if override.open else current[0],
                override.close.strftime("%H:%M") if override.close else current[1],
            ]
    return {"first": FIRST_DAY.isoformat(), "last": last.isoformat(), "sessions": sessions,
            "closures": closures}


@lru_cache(maxsize=1)
def krx_calendar() -> KrxCalendar:
    """The process-wide calendar (cached in memory and on disk: the home's cache, then the one
    ``make install`` built)."""
    data = _calendar_data(_cache_dir(), INSTALLED_DIR)
    sessions = {
        date.fromisoformat(day): (time.fromisoformat(hours[0]), time.fromisoformat(hours[1]))
        for day, hours in data["sessions"].items()
    }
    closures = {date.fromisoformat(day): reason for day, reason in data["closures"].items()}
    return KrxCalendar(sessions, date.fromisoformat(data["first"]),
                       date.fromisoformat(data["last"]), closures)


def _cache_name(end: date) -> str:
    key = hashlib.sha256(
        f"{version('exchange-calendars')}|{end.isoformat()}|".encode() + OVERRIDES_FILE.read_bytes()
    ).hexdigest()[:16]
    return f"krx-calendar-{key}.json"


def _read_json(path: Path) -> dict[str, Any] | None:
    """A cached calendar, or None when the file is missing or not one (it is then built again)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and {"first", "last", "sessions", "closures"} <= data.keys() else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _calendar_data(home: Path, *others: Path) -> dict[str, Any]:
    """This year's calendar from the first of ``home`` and ``others`` that holds it, else built and
    written into ``home``."""
    end = calendar_end(clock.kst_today())
    name = _cache_name(end)
    for folder in (home, *others):
        if (data := _read_json(folder / name)) is not None:
            return data
    data = _build_from_library(load_overrides(), end)
    _write_json(home / name, data)
    return data


def install_calendar() -> Path:
    """Build this year's calendar into the installation (``make install``): a fresh home then reads
    it instead of building it (~3 s of CPU in ``azak demo``'s first run)."""
    _calendar_data(INSTALLED_DIR)
    return INSTALLED_DIR / _cache_name(calendar_end(clock.kst_today()))


def kst_day(at: datetime) -> date:
    """The KST calendar date of an aware datetime."""
    if at.tzinfo is None:
        raise ValueError("kst_day needs an aware datetime")
    return at.astimezone(KST).date()


def kst_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), KST)


def utc_now() -> datetime:
    """Now by the platform's one clock (:mod:`azak_core.clock`)."""
    return clock.utc_now()


if __name__ == "__main__":
    sys.stdout.write(f"KRX calendar: {install_calendar()}\n")
