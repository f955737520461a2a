"""Every total equals the sum computed here, independently, from the samples themselves."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netstats.sample import Sample
from tests.conftest import reset
from tests.db.support import ingest, totals

ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
]
PERIODS = ["today", "week", "month", "year", "cycle", "24h", "7d", "30d", "all"]
ROLLING = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# Three days around New York's spring-forward change and the end of a month.
SPAN_START = datetime(2026, 2, 27, tzinfo=UTC)
SPAN = timedelta(days=10)
US = timedelta(microseconds=1)


def calendar_bounds(
    period: str, tz: str, at: datetime, cycle_day: int
) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    day = at.astimezone(zone).date()
    if period == "today":
        first, after = day, day + timedelta(days=1)
    elif period == "week":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    elif period == "year":
        first, after = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        start_day = 1 if period == "month" else cycle_day
        first = date(day.year, day.month, start_day)
        if first > day:
            first = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, start_day)
        after = date(first.year + (first.month == 12), first.month % 12 + 1, start_day)
    as_instant = lambda d: datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)  # noqa: E731
    return as_instant(first), as_instant(after)


def expected(samples: list[Sample], period: str, tz: str, at: datetime, cycle_day: int) -> dict:
    if period in ROLLING:
        inside = [s for s in samples if at - ROLLING[period] < s.sampled_at <= at]
    elif period == "all":
        inside = [s for s in samples if s.sampled_at <= at]
    else:
        start, end = calendar_bounds(period, tz, at, cycle_day)
        inside = [s for s in samples if start <= s.sampled_at < end and s.sampled_at <= at]
    return {
        "bytes_sent": sum(s.bytes_sent for s in inside),
        "bytes_recv": sum(s.bytes_recv for s in inside),
        "samples": len(inside),
        "first_sample_at": min((s.sampled_at for s in inside), default=None),
        "last_sample_at": max((s.sampled_at for s in inside), default=None),
    }


def got(conn, period, tz, at, **filters) -> dict:
    row = totals(conn, period, tz, at=at, **filters)
    return {
        key: row[key]
        for key in ("bytes_sent", "bytes_recv", "samples", "first_sample_at", "last_sample_at")
    }


instants = st.integers(0, int(SPAN / US)).map(lambda us: SPAN_START + us * US)


def samples_over(ifaces: list[str]) -> st.SearchStrategy[list[Sample]]:
    """Samples of two hosts on these interfaces (or services), at any instant of the span."""
    return st.lists(
        st.builds(
            Sample,
            host=st.sampled_from(["bot-1", "bot-2"]),
            iface=st.sampled_from(ifaces),
            # 5-minute boundaries are where rollups split; hit them on purpose.
            sampled_at=st.one_of(
                instants,
                instants.map(
                    lambda t: t.replace(minute=t.minute // 5 * 5, second=0, microsecond=0)
                ),
            ),
            interval_s=st.floats(0.5, 3600, allow_nan=False),
            bytes_sent=st.integers(0, 10**12),
            bytes_recv=st.integers(0, 10**12),
        ),
        max_size=120,
        unique_by=lambda s: (s.host, s.iface, s.sampled_at),
    )


samples_strategy = samples_over(["eth0", "ens3"])
queries = st.lists(
    st.tuples(st.sampled_from(PERIODS), st.sampled_from(ZONES), instants), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    samples=samples_strategy,
    queries=queries,
    cycle_day=st.integers(1, 28),
    batch=st.integers(1, 50),
    data=st.data(),
)
def test_totals_equal_the_sum_of_the_samples(
    migrated, engine, samples, queries, cycle_day, batch, data
):
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        conn.execute("UPDATE netstats.settings SET cycle_day = %s", [cycle_day])
        order = data.draw(st.permutations(samples))
        for i in range(0, len(order), batch):
            ingest(conn, list(order[i : i + batch]))
        iface = data.draw(st.sampled_from(["eth0", "ens3"]))
        theirs = [s for s in samples if s.iface == iface]
        for period, tz, at in queries:
            assert got(conn, period, tz, at) == expected(samples, period, tz, at, cycle_day), (
                period,
                tz,
                at,
            )
            # one interface of every host: summed for all hosts at once, not walked per host
            assert got(conn, period, tz, at, iface=iface) == expected(
                theirs, period, tz, at, cycle_day
            ), (period, tz, at, iface)
        host = data.draw(st.sampled_from(["bot-1", "bot-2"]))
        period, tz, at = queries[0]
        mine = [s for s in samples if s.host == host]
        assert got(conn, period, tz, at, host=host) == expected(mine, period, tz, at, cycle_day)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=samples_strategy, queries=queries, cut=instants, data=st.data())
def test_totals_stay_exact_after_retention_on_whole_hour_edges(
    migrated, engine, samples, queries, cut, data
):
    """After raw samples are gone, windows whose edges fall on whole hours ([start, end)
    with `at` the last instant of an hour) still sum exactly, from rollups alone."""
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        ingest(conn, samples)
        conn.execute("UPDATE netstats.settings SET raw_retention = now() - %s::timestamptz", [cut])
        deleted = conn.execute("SELECT netstats.apply_retention()").fetchone()[0]["deleted_samples"]
        # whole UTC days go: those that end by the cut
        assert deleted == sum(
            s.sampled_at < cut.replace(hour=0, minute=0, second=0, microsecond=0) for s in samples
        )
        whole_hour_zones = [
            "UTC",
            "Asia/Tokyo",
            "America/New_York",
            "Asia/Kolkata",
            "Asia/Kathmandu",
        ]
        for period, _, at in queries:
            tz = data.draw(st.sampled_from(whole_hour_zones))
            at = at.replace(minute=0, second=0, microsecond=0) - US
            assert got(conn, period, tz, at) == expected(samples, period, tz, at, 1), (
                period,
                tz,
                at,
            )
            theirs = [s for s in samples if s.iface == "eth0"]
            assert got(conn, period, tz, at, iface="eth0") == expected(theirs, period, tz, at, 1), (
                period,
                tz,
                at,
            )
