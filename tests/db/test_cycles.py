"""netstats.cycle_window: billing cycles from an anchor in a zone, every N days, weeks, months
or years, against a Python oracle that counts each cycle from the anchor on the wall clock."""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import reset

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


def cycle(conn, anchor: datetime, every: int, unit: str, tz: str, at: datetime):
    return conn.execute(
        "SELECT * FROM netstats.cycle_window(%s::timestamp, %s, %s, %s, %s)",
        [anchor, every, unit, tz, at],
    ).fetchone()


def nth_start(anchor: datetime, k: int, every: int, unit: str) -> datetime:
    """The wall-clock start of cycle k: always counted from the anchor, a month's day clamped
    to the month's last."""
    if unit in ("day", "week"):
        return anchor + timedelta(days=k * every * (7 if unit == "week" else 1))
    months = anchor.month - 1 + k * every * (12 if unit == "year" else 1)
    year, month = anchor.year + months // 12, months % 12 + 1
    return anchor.replace(
        year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1])
    )


def instant(wall: datetime, tz: str) -> datetime:
    return wall.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    anchor=st.builds(
        datetime.combine,
        st.dates(date(2019, 1, 1), date(2031, 12, 31)),
        # hours no zone here skips or repeats, so the oracle and PostgreSQL read them alike
        st.sampled_from([time(0), time(5, 30), time(12), time(14), time(23, 59)]),
    ),
    every=st.integers(1, 3),
    unit=st.sampled_from(["day", "week", "month", "year"]),
    tz=st.sampled_from(ZONES),
    offset_s=st.integers(-3 * 366 * 86400, 3 * 366 * 86400),
)
def test_the_cycle_holds_at_and_starts_a_whole_number_of_steps_from_the_anchor(
    migrated, engine, anchor, every, unit, tz, offset_s
):
    at = instant(anchor, tz) + timedelta(seconds=offset_s)
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        start, end = cycle(conn, anchor, every, unit, tz, at)
    assert start <= at < end
    reach = {"day": 1100, "week": 160, "month": 38, "year": 4}[unit] // every + 2  # 3 years
    k = next(
        k
        for k in range(-reach, reach)
        if instant(nth_start(anchor, k, every, unit), tz)
        <= at
        < instant(nth_start(anchor, k + 1, every, unit), tz)
    )
    assert (start, end) == (
        instant(nth_start(anchor, k, every, unit), tz),
        instant(nth_start(anchor, k + 1, every, unit), tz),
    )


def test_a_cycle_anchored_on_the_31st_falls_on_shorter_months_last_day_and_comes_back(conn):
    """A VPS whose cycle began on the 31st at 14:00 in Berlin."""
    anchor, tz = datetime(2026, 1, 31, 14, 0), "Europe/Berlin"
    berlin = ZoneInfo(tz)
    starts = [
        cycle(conn, anchor, 1, "month", tz, datetime(2026, m, 15, 12, tzinfo=UTC))[1]
        for m in (2, 3, 4, 5)
    ]
    assert [s.astimezone(berlin).replace(tzinfo=None) for s in starts] == [
        datetime(2026, 2, 28, 14, 0),  # the end of the cycle holding Feb 15
        datetime(2026, 3, 31, 14, 0),  # not the 28th: counted from the anchor
        datetime(2026, 4, 30, 14, 0),
        datetime(2026, 5, 31, 14, 0),
    ]


def test_a_daily_cycle_has_its_real_length_across_a_dst_change(conn):
    tz = "Europe/Berlin"
    spring = cycle(conn, datetime(2026, 1, 1), 1, "day", tz, datetime(2026, 3, 29, 12, tzinfo=UTC))
    autumn = cycle(conn, datetime(2026, 1, 1), 1, "day", tz, datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)


@pytest.mark.parametrize(
    ("every", "unit", "message"),
    [
        (0, "month", r"every: expected a whole number of months, at least 1, got 0"),
        (None, "day", r"every: expected a whole number of days, at least 1, got null"),
        (1, "fortnight", r"unit: expected day, week, month or year, got 'fortnight'"),
    ],
)
def test_bad_cycles_are_refused_by_name(conn, every, unit, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        cycle(conn, datetime(2026, 1, 1), every, unit, "UTC", datetime(2026, 5, 1, tzinfo=UTC))
