from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.db.support import T0, every, ingest, sample, totals

US = timedelta(microseconds=1)


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


def edge_samples(edge: datetime) -> list:
    """One sample just before an edge (1 byte sent) and one exactly on it (2 bytes sent)."""
    return [sample(edge - US, 1, 0, interval_s=1), sample(edge, 2, 0, interval_s=1)]


@pytest.mark.parametrize(
    ("tz", "midnight_utc"),
    [
        ("UTC", datetime(2026, 6, 10, 0, 0, tzinfo=UTC)),
        ("Asia/Tokyo", datetime(2026, 6, 9, 15, 0, tzinfo=UTC)),
        ("Asia/Kolkata", datetime(2026, 6, 9, 18, 30, tzinfo=UTC)),
        ("Asia/Kathmandu", datetime(2026, 6, 9, 18, 15, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 6, 10, 4, 0, tzinfo=UTC)),
    ],
)
def test_today_starts_at_local_midnight_inclusive(conn, tz, midnight_utc):
    ingest(conn, edge_samples(midnight_utc))
    row = totals(conn, "today", tz, at=midnight_utc + timedelta(hours=1))
    assert row["period_start"] == midnight_utc
    assert row["period_end"] == midnight_utc + timedelta(days=1)
    assert row["bytes_sent"] == 2  # the sample on midnight is today's, the one before is not
    yesterday = totals(conn, "today", tz, at=midnight_utc - US)
    assert yesterday["period_end"] == midnight_utc
    assert yesterday["bytes_sent"] == 1


def test_new_york_spring_forward_day_has_23_hours(conn):
    day = local("America/New_York", 2026, 3, 8)
    ingest(conn, edge_samples(day) + edge_samples(local("America/New_York", 2026, 3, 9)))
    row = totals(conn, "today", "America/New_York", at=local("America/New_York", 2026, 3, 9) - US)
    assert row["period_end"] - row["period_start"] == timedelta(hours=23)
    assert row["bytes_sent"] == 2 + 1


def test_new_york_fall_back_day_has_25_hours(conn):
    day = local("America/New_York", 2026, 11, 1)
    ingest(conn, edge_samples(day) + edge_samples(local("America/New_York", 2026, 11, 2)))
    row = totals(conn, "today", "America/New_York", at=local("America/New_York", 2026, 11, 2) - US)
    assert row["period_end"] - row["period_start"] == timedelta(hours=25)
    assert row["bytes_sent"] == 2 + 1
    # Half-way through, the projection doubles what came so far: 12.5 hours, not 12.
    half = totals(conn, "today", "America/New_York", at=row["period_start"] + timedelta(hours=12.5))
    assert (half["bytes_sent"], half["projected_bytes_total"]) == (2, 4)


def test_week_starts_on_monday_in_the_zone(conn):
    monday = local("Asia/Tokyo", 2026, 6, 8)
    ingest(conn, edge_samples(monday))
    sunday_night = local("Asia/Tokyo", 2026, 6, 14, 23, 59, 59)
    row = totals(conn, "week", "Asia/Tokyo", at=sunday_night)
    assert (row["period_start"], row["period_end"]) == (monday, local("Asia/Tokyo", 2026, 6, 15))
    assert row["bytes_sent"] == 2


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("month", (2026, 2, 1), (2026, 3, 1)),
        ("year", (2025, 1, 1), (2026, 1, 1)),
    ],
)
def test_month_and_year_follow_the_calendar(conn, period, start, end):
    tz = "Asia/Kathmandu"
    ingest(conn, edge_samples(local(tz, *start)) + edge_samples(local(tz, *end)))
    row = totals(conn, period, tz, at=local(tz, *end) - US)
    assert (row["period_start"], row["period_end"]) == (local(tz, *start), local(tz, *end))
    assert row["bytes_sent"] == 2 + 1


def test_cycle_starts_on_the_configured_day(conn):
    conn.execute("UPDATE netstats.settings SET cycle_day = 15")
    tz = "America/New_York"
    ingest(conn, edge_samples(local(tz, 2026, 10, 15)) + edge_samples(local(tz, 2026, 11, 15)))
    before_day = totals(conn, "cycle", tz, at=local(tz, 2026, 11, 15) - US)
    assert (before_day["period_start"], before_day["period_end"]) == (
        local(tz, 2026, 10, 15),
        local(tz, 2026, 11, 15),
    )
    assert before_day["bytes_sent"] == 2 + 1
    on_day = totals(conn, "cycle", tz, at=local(tz, 2026, 11, 15))
    assert on_day["period_start"] == local(tz, 2026, 11, 15)
    assert on_day["bytes_sent"] == 2


def test_cycle_day_is_limited_to_1_through_28(conn):
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE netstats.settings SET cycle_day = 29")


@pytest.mark.parametrize(
    ("period", "length"),
    [("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30))],
)
def test_rolling_windows_exclude_their_start_and_include_at(conn, period, length):
    at = datetime(2026, 6, 10, 12, 34, 56, 789, tzinfo=UTC)
    start = at - length
    ingest(
        conn,
        [
            sample(start, 1, 0, interval_s=1),
            sample(start + US, 2, 0, interval_s=1),
            sample(at, 4, 0, interval_s=1),
            sample(at + US, 8, 0, interval_s=1),
        ],
    )
    row = totals(conn, period, "Asia/Kathmandu", at=at)
    assert (row["period_start"], row["period_end"]) == (start, at)
    assert row["bytes_sent"] == 2 + 4
    assert row["projected_bytes_total"] is None


def test_calendar_periods_count_nothing_after_at(conn):
    at = datetime(2026, 6, 10, 12, tzinfo=UTC)
    ingest(conn, [sample(at, 1, 0), sample(at + US, 2, 0)])
    assert totals(conn, "today", at=at)["bytes_sent"] == 1
    assert totals(conn, "all", at=at)["bytes_sent"] == 1


def test_all_counts_everything_up_to_at_and_starts_at_the_first_interval(conn):
    first = datetime(2025, 1, 1, tzinfo=UTC)
    ingest(conn, [sample(first, 5, 0), sample(first + timedelta(days=400), 7, 0)])
    row = totals(conn, "all", at=first + timedelta(days=500))
    assert row["bytes_sent"] == 12
    assert row["period_start"] == first - timedelta(seconds=10)
    assert row["period_end"] == first + timedelta(days=500)


def test_rates_coverage_and_projection(conn):
    start = datetime(2026, 6, 10, tzinfo=UTC)
    # 6 hours monitored at 10 s on two interfaces, then a 2-second burst on one of them
    samples = every(start + timedelta(seconds=10), 2160, sent=1000, recv=3000)
    samples += every(start + timedelta(seconds=10), 2160, sent=10, recv=30, iface="eth1")
    samples.append(sample(start + timedelta(hours=6, seconds=2), 500_000, 500_000, interval_s=2))
    for i in range(0, len(samples), 1000):
        ingest(conn, samples[i : i + 1000])
    at = start + timedelta(hours=12)
    row = totals(conn, "today", at=at)
    total = 2160 * 4000 + 2160 * 40 + 1_000_000
    assert row["bytes_total"] == total
    assert row["samples"] == 4321
    monitored = (2160 * 10 * 2 + 2) / 2  # wall-clock seconds: two interfaces watched at once
    assert row["avg_bytes_per_s"] == pytest.approx(total / monitored)
    assert row["peak_bytes_per_s"] == pytest.approx(1_000_000 / 2)
    assert row["coverage"] == pytest.approx(monitored / (12 * 3600))
    assert row["projected_bytes_total"] == round(total / (12 * 3600) * 86400)
    only_eth1 = totals(conn, "today", iface="eth1", at=at)
    assert only_eth1["bytes_total"] == 2160 * 40
    assert only_eth1["coverage"] == pytest.approx(0.5)


def test_empty_period_has_zero_bytes_and_zero_coverage(conn):
    row = totals(conn, "month", "Asia/Tokyo", at=datetime(2026, 6, 10, tzinfo=UTC))
    assert (row["bytes_total"], row["samples"], row["coverage"]) == (0, 0, 0)
    assert row["avg_bytes_per_s"] is None and row["peak_bytes_per_s"] is None


def test_host_and_interface_filters(conn):
    at = datetime(2026, 6, 10, 1, tzinfo=UTC)
    ingest(
        conn,
        [
            sample(at, 1, 0, host="a", iface="eth0"),
            sample(at, 2, 0, host="a", iface="eth1"),
            sample(at, 4, 0, host="b", iface="eth0"),
        ],
    )
    assert totals(conn, "today", at=at)["bytes_sent"] == 7
    assert totals(conn, "today", host="a", at=at)["bytes_sent"] == 3
    assert totals(conn, "today", iface="eth0", at=at)["bytes_sent"] == 5
    assert totals(conn, "today", host="b", iface="eth1", at=at)["bytes_sent"] == 0


@pytest.mark.parametrize("period", ["tomorrow", "", "TODAY", None])
def test_unknown_period_lists_the_valid_ones(conn, period):
    with pytest.raises(
        psycopg.errors.InvalidParameterValue,
        match="period: unknown period .*; expected one of today, week, month, year, cycle, 24h, 7d, 30d, all",
    ):
        totals(conn, period)


@pytest.mark.parametrize(
    "tz", ["Mars/Olympus", "UTC+9", "JST-9", "+09:00", "", None, "Asia/Tokyo; DROP TABLE x"]
)
def test_unknown_or_posix_zone_is_refused(conn, tz):
    with pytest.raises(
        psycopg.errors.InvalidParameterValue,
        match="tz: unknown time zone .*; expected an IANA zone name",
    ):
        totals(conn, "today", tz)


@pytest.mark.parametrize(
    "tz",
    [
        "Etc/GMT-14",
        "America/Port-au-Prince",
        "EST5EDT",
        "Japan",
        "GMT+0",
        "America/Argentina/Buenos_Aires",
    ],
)
def test_iana_names_with_signs_digits_and_deep_paths_are_accepted(conn, tz):
    assert totals(conn, "today", tz)["bytes_total"] == 0


def test_projection_in_a_periods_first_microsecond_is_null_not_an_overflow(conn):
    """Found by the property test: 100 MB one microsecond into a day projects past bigint."""
    midnight = datetime(2026, 6, 10, tzinfo=UTC)
    ingest(conn, [sample(midnight, 0, 106_751_992, interval_s=1)])
    assert totals(conn, "today", at=midnight + US)["projected_bytes_total"] is None
    assert (
        totals(conn, "today", at=midnight + timedelta(hours=12))["projected_bytes_total"]
        == 2 * 106_751_992
    )


@pytest.mark.parametrize("at", ["infinity", "-infinity"])
def test_an_infinite_at_is_refused_by_name(conn, at):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"^at: expected a finite"):
        conn.execute("SELECT * FROM netstats_totals('month', at => %s::timestamptz)", [at])


@pytest.mark.parametrize(
    "tz", ["localtime", "LocalTime", "posixrules", "Factory", "posix/Asia/Tokyo", "right/UTC"]
)
def test_zone_files_that_are_no_iana_zone_are_refused(conn, tz):
    """localtime is whatever the database server's machine is set to: not what a user means."""
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"^tz: unknown time zone"):
        totals(conn, "today", tz)


def test_every_iana_zone_python_knows_is_accepted_where_postgres_has_it(conn):
    import zoneinfo

    known = {row[0] for row in conn.execute("SELECT name FROM pg_timezone_names")}
    # Python lists the system's zone directory: Factory ("no zone set yet") and localtime
    # (this machine's zone) are files there, not places
    zones = sorted(zoneinfo.available_timezones() & known - {"Factory", "localtime"})
    assert len(zones) > 300
    for tz in zones:
        conn.execute("SELECT netstats.check_zone(%s)", [tz])


def test_coverage_of_nothing_measured_is_zero_not_full(conn):
    ingest(conn, every(T0, 10))
    for period in ("today", "all", "24h"):
        row = totals(conn, period, iface="misspelled", at=T0 + timedelta(hours=1))
        assert (row["samples"], row["coverage"]) == (0, 0), period
