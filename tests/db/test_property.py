"""Every total equals the sum computed here, independently, from the samples themselves."""

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import reset
from tests.db.support import ingest
from tests.support.oracle import (
    PERIODS,
    US,
    ZONES,
    expected,
    got,
    instants,
    samples_strategy,
)

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
