"""The KRX calendar: closures, session hours and business-day arithmetic."""

from datetime import date, datetime

import pytest

from azak_core import clock
from azak_core.market import KST
from azak_pipelines.lib.calendar import krx_calendar as krx
from azak_pipelines.lib.calendar.krx_calendar import CalendarRangeError, calendar_end, krx_calendar, load_overrides

CAL = krx_calendar()


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2025, 6, 3), "ad-hoc closure (e.g. election day)"),  # presidential election
        (date(2025, 10, 3), "Korean National Foundation Day"),
        (date(2025, 10, 6), "Chuseok (Korean Thanksgiving Day)"),
        (date(2025, 10, 7), "Chuseok (Korean Thanksgiving Day) (+1 day)"),
        (date(2025, 10, 8), "Chuseok (Korean Thanksgiving Day) (-1 day)"),
        (date(2025, 10, 9), "Hangul Proclamation Day"),
        (date(2025, 12, 31), "End of Year Holiday"),  # KRX year-end closure
        (date(2024, 12, 31), "End of Year Holiday"),
        (date(2025, 5, 1), "Labor Day"),  # a KRX closure the public holiday list misses
        (date(2025, 6, 7), "weekend"),
    ],
)
def test_known_closures_are_not_trading_days(day, reason):
    assert not CAL.is_trading_day(day)
    assert CAL.closure_reason(day) == reason


@pytest.mark.parametrize("day", [date(2025, 6, 2), date(2025, 6, 4), date(2025, 10, 2),
                                 date(2025, 10, 10), date(2025, 12, 30), date(2026, 1, 2)])
def test_ordinary_weekdays_around_closures_trade(day):
    assert CAL.is_trading_day(day)
    assert CAL.closure_reason(day) is None


def test_business_day_arithmetic_skips_closures():
    assert CAL.add_sessions(date(2025, 6, 2), 1) == date(2025, 6, 4)  # over election day
    assert CAL.add_sessions(date(2025, 10, 2), 1) == date(2025, 10, 10)  # over the Chuseok week
    assert CAL.add_sessions(date(2025, 10, 10), -1) == date(2025, 10, 2)
    assert CAL.add_sessions(date(2025, 12, 30), 1) == date(2026, 1, 2)  # over the year-end closure
    assert CAL.add_sessions(date(2025, 10, 4), 1) == date(2025, 10, 10)  # from a closed Saturday
    assert CAL.add_sessions(date(2025, 10, 4), -1) == date(2025, 10, 2)
    assert CAL.add_sessions(date(2025, 9, 29), 5) == date(2025, 10, 13)
    assert CAL.count_sessions(date(2025, 10, 1), date(2025, 10, 15)) == 5  # 1, 2, 10, 13, 14
    assert CAL.sessions_between(date(2025, 10, 1), date(2025, 10, 11)) == [
        date(2025, 10, 1), date(2025, 10, 2), date(2025, 10, 10)]
    start = date(2025, 9, 29)
    assert CAL.session_index(CAL.add_sessions(start, 20)) - CAL.session_index(start) == 20


def test_session_hours_and_off_session_windows_in_kst():
    session = CAL.session(date(2025, 6, 4))
    assert session.open == datetime(2025, 6, 4, 9, 0, tzinfo=KST)
    assert session.close == datetime(2025, 6, 4, 15, 30, tzinfo=KST)
    assert session.pre_market == (datetime(2025, 6, 4, 8, 30, tzinfo=KST),
                                  datetime(2025, 6, 4, 8, 40, tzinfo=KST))
    assert session.after_hours_single_price[1] == datetime(2025, 6, 4, 18, 0, tzinfo=KST)
    assert session.phase(datetime(2025, 6, 4, 10, 0, tzinfo=KST)) == "regular"
    assert session.phase(datetime(2025, 6, 4, 16, 30, tzinfo=KST)) == "after_hours_single_price"
    assert CAL.phase(datetime(2025, 6, 3, 10, 0, tzinfo=KST)) == "closed"


def test_first_day_of_the_year_and_csat_day_open_late():
    assert CAL.session(date(2025, 1, 2)).open.hour == 10
    csat = CAL.session(date(2024, 11, 14))  # an override: the library does not know it
    assert (csat.open.hour, csat.close.hour, csat.close.minute) == (10, 16, 30)
    assert any(o.day == date(2024, 11, 14) and o.kind == "hours" for o in load_overrides())


def test_news_after_the_close_anchors_on_the_next_session():
    before_close = datetime(2025, 10, 2, 15, 0, tzinfo=KST)
    after_close = datetime(2025, 10, 2, 15, 31, tzinfo=KST)
    on_holiday = datetime(2025, 10, 7, 11, 0, tzinfo=KST)
    assert CAL.anchor_session(before_close) == date(2025, 10, 2)
    assert CAL.anchor_session(after_close) == date(2025, 10, 10)
    assert CAL.anchor_session(on_holiday) == date(2025, 10, 10)
    with pytest.raises(ValueError, match="aware"):
        CAL.anchor_session(datetime(2025, 10, 2, 15, 0))


def test_dates_outside_the_calendar_are_refused():
    with pytest.raises(CalendarRangeError):
        CAL.is_trading_day(date(1980, 1, 2))


def test_the_calendar_reaches_at_least_a_year_ahead_and_its_end_moves_once_a_year():
    assert calendar_end(date(2026, 1, 1)) == calendar_end(date(2026, 12, 31)) == date(2027, 12, 31)
    today = clock.kst_today()
    assert CAL.last >= date(today.year + 1, 12, 28)  # the last session of next year (30 Dec, or before a weekend)
    assert (CAL.last - today).days >= 360


def test_a_fresh_home_reads_the_calendar_the_installation_built(tmp_path, monkeypatch):
    """What ``make install`` builds (``python -m azak_pipelines.lib.calendar.krx_calendar``) is what
    a home would build, and a home without a cache reads it instead of building its own."""
    installed = tmp_path / "installation"
    monkeypatch.setattr(krx, "INSTALLED_DIR", installed)
    path = krx.install_calendar()
    assert path.parent == installed and path.stat().st_size > 100_000
    monkeypatch.setenv("AZAK_HOME", str(tmp_path / "home"))
    krx_calendar.cache_clear()
    try:
        fresh = krx_calendar()
        assert not list((tmp_path / "home" / "cache").glob("krx-calendar-*"))  # read, not built and written
        monkeypatch.setattr(krx, "INSTALLED_DIR", tmp_path / "nothing")
        krx_calendar.cache_clear()
        built = krx_calendar()
        assert list((tmp_path / "home" / "cache").glob("krx-calendar-*"))  # no installed one: built for the home
    finally:
        krx_calendar.cache_clear()
    assert (fresh.first, fresh.last) == (built.first, built.last)
    days = [date.fromordinal(d) for d in range(fresh.first.toordinal(), fresh.last.toordinal() + 1, 7)]
    assert [fresh.is_trading_day(d) for d in days] == [built.is_trading_day(d) for d in days]


def test_a_cached_file_that_is_not_a_calendar_is_built_again(tmp_path, monkeypatch):
    monkeypatch.setattr(krx, "INSTALLED_DIR", tmp_path / "nothing")
    monkeypatch.setenv("AZAK_HOME", str(tmp_path))
    cached = tmp_path / "cache" / krx._cache_name(calendar_end(clock.kst_today()))
    cached.parent.mkdir(parents=True)
    cached.write_text("{}")  # valid JSON, not a calendar (a truncated or foreign file)
    krx_calendar.cache_clear()
    try:
        assert krx_calendar().is_trading_day(date(2025, 6, 2))
    finally:
        krx_calendar.cache_clear()
    assert '"sessions"' in cached.read_text()
