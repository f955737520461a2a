from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import reset
from tests.db.support import T0, every, ingest, sample, series, totals
from tests.support.oracle import SPAN, SPAN_START, US, samples_strategy


def test_buckets_are_gap_filled_and_sum_to_the_total(conn):
    ingest(
        conn, every(T0 + timedelta(hours=2), 360) + every(T0 + timedelta(hours=7, seconds=5), 30)
    )
    rows = series(conn, T0, T0 + timedelta(days=1), "1 hour")
    assert [r["bucket_start"] for r in rows] == [T0 + timedelta(hours=h) for h in range(24)]
    assert [r["samples"] for r in rows] == [0, 0, 360, 0, 0, 0, 0, 30] + [0] * 16
    day = totals(conn, "today", at=T0 + timedelta(days=1) - US)
    assert sum(r["bytes_sent"] for r in rows) == day["bytes_sent"]
    assert sum(r["bytes_recv"] for r in rows) == day["bytes_recv"]


def test_daily_buckets_follow_local_midnights_across_dst(conn):
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 7, tzinfo=ny)
    rows = series(conn, start, datetime(2026, 3, 10, tzinfo=ny), "1 day", "America/New_York")
    assert [r["bucket_start"] for r in rows] == [datetime(2026, 3, d, tzinfo=ny) for d in (7, 8, 9)]
    assert rows[2]["bucket_start"] - rows[1]["bucket_start"] == timedelta(hours=23)


def test_monthly_buckets_do_not_drift_from_the_31st(conn):
    start = datetime(2026, 1, 31, tzinfo=UTC)
    rows = series(conn, start, datetime(2026, 6, 1, tzinfo=UTC), "1 month")
    assert [r["bucket_start"].date().isoformat() for r in rows] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
    ]


@pytest.mark.parametrize(
    ("length", "step"),
    [
        (timedelta(minutes=15), timedelta(minutes=1)),
        (timedelta(days=1), timedelta(minutes=5)),
        (timedelta(days=31), timedelta(hours=1)),
        (timedelta(days=366), timedelta(hours=12)),
        (timedelta(days=1096), timedelta(days=7)),
    ],
)
def test_a_null_step_picks_the_finest_that_fits_1000_buckets(conn, length, step):
    rows = series(conn, T0, T0 + length)
    assert len(rows) <= 1000
    assert rows[1]["bucket_start"] - rows[0]["bucket_start"] == step


@pytest.mark.parametrize(
    ("start", "end", "step", "message"),
    [
        (T0, T0 + timedelta(days=1), "1 minute", r"step: 00:01:00 makes more than 1000 buckets"),
        (
            T0,
            T0 + timedelta(days=1),
            "0.5 seconds",
            r"step: expected a positive interval of at least 1 second",
        ),
        # mixed signs would put traffic in the wrong buckets
        (T0, T0 + timedelta(days=300), "1 mon -29 days", r"step: .* no negative part"),
        (T0, T0 + timedelta(days=300), "1 day -1 hour", r"step: .* no negative part"),
        (T0, T0 + timedelta(days=300), "100000 years", r"step: .* passes the last date"),
        (T0, T0, None, r"end_at: expected a finite timestamp after start_at"),
        (T0, T0 - timedelta(days=1), None, r"end_at: expected a finite timestamp after start_at"),
    ],
)
def test_bad_series_arguments_are_refused_by_name(conn, start, end, step, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        series(conn, start, end, step)


def test_one_minute_buckets_read_raw_samples_and_filters_apply(conn):
    ingest(
        conn,
        [
            sample(T0 + timedelta(seconds=30), 1, 0),
            sample(T0 + timedelta(seconds=90), 2, 0),
            sample(T0 + timedelta(seconds=90), 4, 0, iface="eth1"),
        ],
    )
    rows = series(conn, T0, T0 + timedelta(minutes=3), "1 minute")
    assert [r["bytes_sent"] for r in rows] == [1, 6, 0]
    assert [
        r["bytes_sent"]
        for r in series(conn, T0, T0 + timedelta(minutes=3), "1 minute", iface="eth1")
    ] == [0, 4, 0]


def add_step(start: datetime, step: str, k: int, tz: str) -> datetime:
    """What PostgreSQL's timestamptz + k * step means: days and months on tz's wall clock."""
    count, unit = step.split()
    count = int(count) * k
    if unit.startswith("minute"):
        return start + timedelta(minutes=count)
    if unit.startswith("hour"):
        return start + timedelta(hours=count)
    wall = start.astimezone(ZoneInfo(tz))
    if unit.startswith("day"):
        return (wall + timedelta(days=count)).astimezone(UTC)
    month = wall.month - 1 + count
    year, month = wall.year + month // 12, month % 12 + 1
    days_in_month = (
        datetime(year + month // 12, month % 12 + 1, 1) - datetime(year, month, 1)
    ).days
    return wall.replace(year=year, month=month, day=min(wall.day, days_in_month)).astimezone(UTC)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    samples=samples_strategy,
    step=st.sampled_from(["1 minute", "15 minutes", "1 hour", "1 day", "7 days", "1 month"]),
    tz=st.sampled_from(["UTC", "Asia/Tokyo", "America/New_York", "Asia/Kathmandu"]),
    day=st.integers(-3, 9),
    offset_us=st.one_of(st.just(0), st.integers(0, 3_600_000_000)),
)
def test_series_buckets_equal_the_sum_of_their_samples(
    migrated, engine, samples, step, tz, day, offset_us
):
    local_midnight = datetime.combine(
        (SPAN_START + timedelta(days=day)).date(), datetime.min.time(), ZoneInfo(tz)
    )
    start = local_midnight.astimezone(UTC) + timedelta(microseconds=offset_us)
    end = SPAN_START + SPAN + timedelta(days=1)
    edges = []
    while (edge := add_step(start, step, len(edges), tz)) < end and len(edges) <= 1000:
        edges.append(edge)
    if len(edges) > 1000:
        return  # the function refuses this, as tested above
    bounds = edges + [end]
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        ingest(conn, samples)
        rows = series(conn, start, end, step, tz)
    assert [r["bucket_start"] for r in rows] == edges
    for i, row in enumerate(rows):
        inside = [s for s in samples if bounds[i] <= s.sampled_at < bounds[i + 1]]
        assert (row["bytes_sent"], row["bytes_recv"], row["samples"]) == (
            sum(s.bytes_sent for s in inside),
            sum(s.bytes_recv for s in inside),
            len(inside),
        ), (i, row)
        reporting = {(s.host, s.iface) for s in inside}
        monitored = sum(s.interval_s for s in inside) / len(reporting) if inside else 0
        assert row["seconds"] == pytest.approx(monitored), (i, row)


def test_the_live_chart_reads_only_its_window_of_raw_rows_for_all_hosts(conn):
    """Series descend per series like totals: a 10-second chart of the last 15 minutes reads
    the raw rows of those minutes, not every host's whole history."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    for h in range(20):
        ingest(conn, every(start, 2160, host=f"bot-{h}"))  # 6 hours at 10 s
    conn.execute("ANALYZE netstats.samples")
    end = start + timedelta(hours=6)
    reads = (
        "SELECT seq_scan, coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
        " WHERE relid = 'netstats.samples'::regclass"
    )
    with conn.transaction():  # (the view may still hold counts of earlier transactions)
        before = conn.execute(reads).fetchone()
        rows = series(conn, end - timedelta(minutes=15), end, "10 seconds")
        after = conn.execute(reads).fetchone()
    scans, fetched = after[0] - before[0], after[1] - before[1]
    assert sum(r["samples"] for r in rows) == 20 * 90
    assert scans == 0
    assert fetched <= 20 * (90 + 90)  # the window's rows, plus the rest of its quarter-hours
