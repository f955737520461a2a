"""Services' series (iface 'service:<name>', README "The SQL API"): a part of their host's
interface traffic, so never added to a host's, every host's or an interface's figures, and
exact on their own: one host's, or one service's over every host."""

from datetime import timedelta

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netstats.sample import Sample
from tests.conftest import reset
from tests.db.support import T0, every, ingest, sample, series, totals
from tests.support.oracle import (
    PERIODS,
    ZONES,
    expected,
    expected_percentile,
    expected_top,
    got,
    instants,
    percentile,
    samples_over,
    top,
)

SERVICES = ["service:mybot.service", "service:db.service"]


def is_service(s: Sample) -> bool:
    return s.iface.startswith("service:")


# services sampled at other instants than the interfaces, and on 5-minute boundaries
samples_strategy = samples_over(["eth0", *SERVICES])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    samples=samples_strategy,
    queries=st.lists(
        st.tuples(st.sampled_from(PERIODS), st.sampled_from(ZONES), instants),
        min_size=1,
        max_size=6,
    ),
    batch=st.integers(1, 50),
    data=st.data(),
)
def test_services_count_apart_from_their_hosts_exactly(
    migrated, engine, samples, queries, batch, data
):
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        for i in range(0, len(samples), batch):
            ingest(conn, samples[i : i + batch])
        links = [s for s in samples if not is_service(s)]
        service = data.draw(st.sampled_from(SERVICES))
        host = data.draw(st.sampled_from(["bot-1", "bot-2"]))
        for period, tz, at in queries:
            where = (period, tz, at)
            assert got(conn, period, tz, at) == expected(links, period, tz, at, 1), where
            assert got(conn, period, tz, at, host=host) == expected(
                [s for s in links if s.host == host], period, tz, at, 1
            ), where
            # one service over every host, and on one host
            assert got(conn, period, tz, at, iface=service) == expected(
                [s for s in samples if s.iface == service], period, tz, at, 1
            ), where
            assert got(conn, period, tz, at, host=host, iface=service) == expected(
                [s for s in samples if s.iface == service and s.host == host], period, tz, at, 1
            ), where
            assert percentile(conn, period, tz, at) == expected_percentile(
                links, period, tz, at, 1, 95.0, None
            ), where
            assert percentile(conn, period, tz, at, iface=service) == expected_percentile(
                [s for s in samples if s.iface == service], period, tz, at, 1, 95.0, None
            ), where
            for by in ("day", "host", "iface"):
                assert [r[4] for r in top(conn, period, tz, by, 1000, at)] == [
                    r[4] for r in expected_top(links, period, tz, at, by, 1000)
                ], (*where, by)


def test_a_quota_may_name_a_service(conn):
    ingest(conn, [sample(T0 + timedelta(minutes=1), 10**9, 0, iface="eth0")])
    ingest(conn, [sample(T0 + timedelta(minutes=1), 6 * 10**8, 0, iface="service:mybot.service")])
    conn.execute(
        "SELECT netstats_quota_set('mybot', 1000000000, 'month', host => 'bot-1',"
        " iface => 'service:mybot.service')"
    )
    row = conn.execute(
        "SELECT used_bytes FROM netstats_quotas(at => %s) WHERE name = 'mybot'",
        [T0 + timedelta(minutes=2)],
    ).fetchone()
    assert row == (6 * 10**8,)
    assert totals(conn, "month", host="bot-1", at=T0 + timedelta(minutes=2))["bytes_total"] == 10**9


def test_series_leave_services_out_unless_named(conn):
    links = every(T0, 200, step_s=37, iface="eth0") + every(T0, 200, step_s=37, host="bot-2")
    mine = [
        sample(T0 + timedelta(seconds=13 + 29 * i), 7, 3, iface="service:mybot.service")
        for i in range(250)
    ]
    ingest(conn, links + mine)
    end = T0 + timedelta(hours=3)
    for filters, want in (
        ({}, links),
        ({"host": "bot-1"}, [s for s in links if s.host == "bot-1"]),
        ({"iface": "service:mybot.service"}, mine),
        ({"host": "bot-1", "iface": "service:mybot.service"}, mine),
    ):
        rows = series(conn, T0 - timedelta(minutes=1), end, "10 minutes", **filters)
        assert sum(r["bytes_sent"] for r in rows) == sum(s.bytes_sent for s in want), filters
        assert sum(r["samples"] for r in rows) == len(want), filters
