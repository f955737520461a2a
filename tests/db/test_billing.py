"""Billing analytics (DESIGN.md, "Billing analytics"): the 95th percentile and the top lists
equal what is computed here, independently, from the samples themselves."""

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import reset
from tests.db.support import every, ingest
from tests.support.oracle import (
    FIVE,
    US,
    ZONES,
    bucket,
    expected_percentile,
    expected_top,
    instants,
    percentile,
    samples_strategy,
    top,
)

PERIODS = ["today", "week", "month", "cycle", "24h", "7d", "all"]
percentile_queries = st.lists(
    st.tuples(
        st.sampled_from(PERIODS),
        st.sampled_from(ZONES),
        instants,
        st.sampled_from([95.0, 50.0, 99.9, 100.0, 0.01]),
        st.one_of(st.none(), st.floats(0, 10**10)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    samples=samples_strategy,
    queries=percentile_queries,
    cycle_day=st.sampled_from([1, 15, 28]),
    data=st.data(),
)
def test_the_percentile_equals_one_computed_from_the_samples(
    migrated, engine, samples, queries, cycle_day, data
):
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        conn.execute("UPDATE netstats.settings SET cycle_day = %s", [cycle_day])
        for i in range(0, len(samples), 40):
            ingest(conn, samples[i : i + 40])
        for period, tz, at, pct, commit in queries:
            assert percentile(conn, period, tz, at, pct, commit) == expected_percentile(
                samples, period, tz, at, cycle_day, pct, commit
            ), (period, tz, at, pct, commit)
        host = data.draw(st.sampled_from(["bot-1", "bot-2"]))
        period, tz, at, pct, commit = queries[0]
        mine = [s for s in samples if s.host == host]
        assert percentile(conn, period, tz, at, pct, commit, host=host) == expected_percentile(
            mine, period, tz, at, cycle_day, pct, commit
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=samples_strategy, queries=percentile_queries)
def test_the_percentile_stays_exact_after_retention_removed_the_raw_samples(
    migrated, engine, samples, queries
):
    """The 5-minute rollups hold every whole bucket: with `at` on a bucket's edge, nothing
    needs a raw sample."""
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        ingest(conn, samples)
        deleted = conn.execute("SELECT netstats.apply_retention()").fetchone()[0]["deleted_samples"]
        assert deleted == len(samples)  # they are all months old
        for period, tz, at, pct, commit in queries:
            at = datetime.fromtimestamp(bucket(at), UTC) - US
            assert percentile(conn, period, tz, at, pct, commit) == expected_percentile(
                samples, period, tz, at, 1, pct, commit
            ), (period, tz, at)


def test_a_billing_month_from_the_15th_in_new_york_across_dst(conn):
    """A cycle from 15 February to 15 March 2026 holds New York's spring-forward (8 March):
    one hour less, and so 12 fewer 5-minute buckets than 28 days would have."""
    conn.execute("UPDATE netstats.settings SET cycle_day = 15")
    start = datetime(2026, 2, 15, 5, 0, tzinfo=UTC)  # midnight in New York
    quiet = every(start, 28 * 288 - 12, step_s=FIVE, sent=300, recv=600)  # 1 B/s, 2 B/s
    burst = every(
        start + timedelta(days=3), 400, step_s=FIVE, sent=3000 * FIVE, recv=0, iface="wg0"
    )
    for i in range(0, len(quiet), 4000):
        ingest(conn, quiet[i : i + 4000])
    ingest(conn, burst)
    at = datetime(2026, 3, 15, 4, 0, tzinfo=UTC) - US  # the cycle's last instant
    row = percentile(conn, "cycle", "America/New_York", at, commit=2000.0)
    assert row["buckets"] == 28 * 288 - 12
    # 400 of 8052 buckets carry the burst: the 95th rank (7650) is below them, the 96th's
    # (7730) among them.
    assert row["measured_buckets"] == 28 * 288 - 12
    assert row["sent_bytes_per_s"] == 1.0 and row["recv_bytes_per_s"] == 2.0
    assert percentile(conn, "cycle", "America/New_York", at, pct=96.0)["sent_bytes_per_s"] == 3001.0
    assert row["above_commit"] == 400


def test_bad_percentile_arguments_are_refused_naming_them(conn):
    for args, message in (
        ({"pct": 0}, "pct: expected a percentile above 0 and at most 100, got 0"),
        ({"pct": 100.5}, "pct: expected a percentile above 0 and at most 100, got 100.5"),
        ({"commit_bytes_per_s": -1}, "commit_bytes_per_s: expected a rate of at least 0"),
        ({"period": "fortnight"}, "period: unknown period 'fortnight'"),
        ({"tz": "UTC+9"}, "tz: unknown time zone 'UTC+9'"),
    ):
        named = ", ".join(f"{k} => %({k})s" for k in args)
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=re.escape(message)):
            conn.execute(f"SELECT * FROM netstats_percentile({named})", args)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    samples=samples_strategy,
    queries=st.lists(
        st.tuples(
            st.sampled_from(["today", "week", "month", "year", "24h", "7d", "30d", "all"]),
            st.sampled_from(ZONES),
            instants,
            st.sampled_from(["day", "hour", "host", "iface"]),
            st.integers(1, 12),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_top_lists_equal_sums_of_the_samples(migrated, engine, samples, queries):
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        ingest(conn, samples)
        for period, tz, at, by, n in queries:
            got = top(conn, period, tz, by, n, at)
            want = expected_top(samples, period, tz, at, by, n)
            # Ties may come in any order past the n-th row; totals and order must agree.
            assert [r[4] for r in got] == [r[4] for r in want], (period, tz, at, by, n)
            assert set(got) <= set(expected_top(samples, period, tz, at, by, 10**6)), (
                period,
                tz,
                at,
                by,
            )


QUARTER = timedelta(minutes=15)
QUARTERS = st.integers(0, 3 * 366 * 96)  # quarter hours from 2025-01-01: three years


def tier_buckets(tier: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The UTC buckets of a tier (1 = 15 minutes .. 4 = month) starting in [start, end)."""
    if tier == 4:
        out, month = [], start
        while month < end:
            after = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
            out.append((month, after))
            month = after
        return out
    size = {1: QUARTER, 2: timedelta(hours=1), 3: timedelta(days=1)}[tier]
    return [(start + k * size, start + (k + 1) * size) for k in range((end - start) // size)]


@settings(max_examples=100, deadline=None)
@given(a=QUARTERS, length=QUARTERS, end=st.one_of(st.none(), QUARTERS), everything=st.booleans())
def test_bucket_ranges_add_up_to_the_window_exactly(migrated, engine, a, length, end, everything):
    """The whole buckets that series_sums reads instead of walking every series: their
    signed terms cover each quarter hour of [a, b) once and nothing else, every term on its
    tier's boundaries."""
    origin = datetime(2025, 1, 1, tzinfo=UTC)
    lo = origin + a * QUARTER
    hi = lo + length * QUARTER
    data_end = None if end is None else origin + end * QUARTER + timedelta(seconds=7)
    first = datetime(2024, 12, 1, tzinfo=UTC) if everything else lo  # -infinity: from here
    with psycopg.connect(migrated[engine]) as conn:
        terms = conn.execute(
            # -infinity: the months from `first` on stand for all of them
            "SELECT sign, tier, CASE WHEN isfinite(range_start) THEN range_start ELSE %s END,"
            " range_end FROM netstats.bucket_ranges(%s, %s, %s)",
            [first, "-infinity" if everything else lo, hi, data_end],
        ).fetchall()
    cover: dict[datetime, int] = defaultdict(int)
    for sign, tier, start, stop in terms:
        buckets = tier_buckets(tier, start, stop)
        assert buckets and buckets[-1][1] == stop, (tier, start, stop)
        for bucket_start, bucket_end in buckets:
            for q in range((bucket_end - bucket_start) // QUARTER):
                cover[bucket_start + q * QUARTER] += sign
    want = {first + k * QUARTER: 1 for k in range((hi - first) // QUARTER)}
    assert {q: n for q, n in cover.items() if n} == want


def test_top_hours_of_a_dst_night_are_told_apart_by_their_offset(conn):
    # New York fell back on 1 November 2026: 01:00 came twice, at 05:00 and 06:00 UTC.
    ingest(conn, every(datetime(2026, 11, 1, 4, 30, tzinfo=UTC), 12, step_s=FIVE * 2, sent=10))
    rows = top(
        conn, "today", "America/New_York", "hour", at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    )
    assert [(r[0], r[4]) for r in rows] == [
        ("2026-11-01T01:00-04:00", 6 * 210),
        ("2026-11-01T00:00-04:00", 3 * 210),  # ties: the earlier hour first
        ("2026-11-01T01:00-05:00", 3 * 210),
    ]


def test_bad_top_arguments_are_refused_naming_them(conn):
    for args, message in (
        ({"by": "week"}, "by: unknown grouping 'week'; expected one of day, hour, host, iface"),
        ({"n": 0}, "n: expected 1 to 1000 rows, got 0"),
        ({"period": "all", "by": "hour", "at": "2100-01-01"}, None),
    ):
        named = ", ".join(f"{k} => %({k})s" for k in args)
        if message is None:  # hours of all time stay within the bucket cap when data is short
            conn.execute(f"SELECT * FROM netstats_top({named})", args).fetchall()
            continue
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=re.escape(message)):
            conn.execute(f"SELECT * FROM netstats_top({named})", args)
    ingest(conn, every(datetime(2024, 1, 1, tzinfo=UTC), 2))
    with pytest.raises(
        psycopg.errors.InvalidParameterValue, match="by: hour makes more than 10000"
    ):
        conn.execute("SELECT * FROM netstats_top('all', by => 'hour')").fetchall()
