"""Bench data sets, loaded in bulk with SQL instead of millions of ingest calls.

The loader writes exactly what netstats_ingest() would: raw rows for the retained window and
rollups for every tier, built with the same bucket function and the same aggregates; the
bench checks the result against raw sums before measuring anything.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from netstats import db
from netstats.db.cluster import Cluster

# Samples are generated at 10 s with bytes that vary by time and series, so nothing is
# constant-folded and no two buckets look alike.
GENERATE = """
SELECT h.host, i.iface, t AS sampled_at, 10.0::double precision AS interval_s,
       (1000 + mod(extract(epoch FROM t)::bigint * 7919 + h.n::bigint * 104729 + i.n * 1299709, 500000))::bigint AS bytes_sent,
       (3000 + mod(extract(epoch FROM t)::bigint * 6007 + h.n::bigint * 15485863 + i.n * 32452843, 900000))::bigint AS bytes_recv
  FROM generate_series(1, %(hosts)s) AS h(n)
 CROSS JOIN LATERAL (SELECT 'bot-' || lpad(h.n::text, greatest(3, length(%(hosts)s::text)), '0') AS host) hh
 CROSS JOIN (VALUES (1, 'eth0'), (2, 'ens3')) AS i(n, iface)
 CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz, interval '10 seconds') AS t
"""
GENERATE = GENERATE.replace("h.host", "hh.host")

FIVES = """
INSERT INTO netstats.rollups
SELECT 0, host, iface, date_bin('5 minutes', sampled_at, '2000-01-01 00:00:00+00'),
       count(*), sum(bytes_sent), sum(bytes_recv), sum(interval_s), min(sampled_at), max(sampled_at),
       min(sampled_at - interval_s * interval '1 second'), max((bytes_sent + bytes_recv) / interval_s)
  FROM ({generate}) g
 GROUP BY 2, 3, 4
"""
COARSER = """
INSERT INTO netstats.rollups
SELECT %(tier)s, host, iface, netstats.bucket_start(%(tier)s::smallint, bucket_start),
       sum(samples), sum(bytes_sent), sum(bytes_recv), sum(seconds), min(first_at), max(last_at),
       min(covers_from), max(peak_bytes_per_s)
  FROM netstats.rollups WHERE tier = 0
 GROUP BY 2, 3, 4
"""

# The fleet series (host and iface ''), every tier at once, as revision 0005 builds it
FLEET = """
INSERT INTO netstats.rollups
SELECT tier, '', '', bucket_start, sum(samples), sum(bytes_sent), sum(bytes_recv), sum(seconds),
       min(first_at), max(last_at), min(covers_from), max(peak_bytes_per_s)
  FROM netstats.rollups WHERE host <> '' GROUP BY tier, bucket_start
"""


# The daily partitions of [lo, hi] (ingest makes its own; this loader writes rows directly)
PARTITIONS = """
SELECT netstats.add_partitions(ARRAY(
  SELECT generate_series(%(lo)s::timestamptz, %(hi)s::timestamptz + interval '1 day', interval '1 day')))
"""


def load(dsn: str, hosts: int, start: datetime, end: datetime, raw_from: datetime) -> int:
    """Samples every 10 s in [start, end] for `hosts` hosts with two interfaces each; raw
    rows from raw_from on. Returns the number of samples the data set stands for."""
    params = {"hosts": hosts, "start": start, "end": end}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.samples, netstats.rollups")
        began = time.monotonic()
        conn.execute(PARTITIONS, {"lo": raw_from, "hi": end})
        conn.execute(
            "INSERT INTO netstats.samples " + GENERATE.replace("%(start)s", "%(raw_from)s"),
            {**params, "raw_from": raw_from},
        )
        print(f"  raw rows written in {time.monotonic() - began:.0f} s", flush=True)
        conn.execute(FIVES.format(generate=GENERATE), params)
        for tier in (1, 2, 3, 4):
            conn.execute(COARSER, {"tier": tier})
        conn.execute(FLEET)
        conn.execute(
            "UPDATE netstats.settings SET raw_purged_before = date_bin('15 minutes', %s::timestamptz, '2000-01-01 00:00:00+00')",
            [raw_from],
        )
        conn.execute("VACUUM ANALYZE netstats.samples")
        conn.execute("VACUUM ANALYZE netstats.rollups")
        # Flush the load now, so no checkpoint competes with the measurements.
        conn.execute("CHECKPOINT")
        row = conn.execute(
            "SELECT sum(samples) FROM netstats.rollups WHERE tier = 4 AND host <> ''"
        ).fetchone()
        print(f"  loaded in {time.monotonic() - began:.0f} s", flush=True)
        assert row is not None
        return int(row[0])


# A fleet too large to generate at 10 s for a year (1,000 hosts x 2 interfaces would be 6
# billion samples): raw samples and 5-minute rows for the last `raw_days`, 15-minute rows for
# the 35 days before, hour rows for the rest of the year, days and months above them all.
# Older 15-minute and hour rows are written directly (90 and 360 samples, bytes from the same
# kind of formula) and have no finer rows under them, as history from before a tier existed
# has; the benched periods are cut on hours (Asia/Tokyo) except at `at`, which lies in the
# raw window, so the walk never needs a finer row than the data set holds. Rows are written
# oldest first, every series of an hour together, so a series' rows are spread over the
# table as ingest spreads them.
SYNTHETIC = """
INSERT INTO netstats.rollups
SELECT %(tier)s, hh.host, i.iface, t, %(per)s, b.sent, b.recv, %(per)s * 10.0, t,
       t + (%(per)s - 1) * interval '10 seconds', t - interval '10 seconds',
       (b.sent + b.recv) / 2000.0
  FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz, %(step)s::interval) AS t
 CROSS JOIN generate_series(1, %(hosts)s) AS h(n)
 CROSS JOIN LATERAL (SELECT 'bot-' || lpad(h.n::text, greatest(3, length(%(hosts)s::text)), '0') AS host) hh
 CROSS JOIN (VALUES (1, 'eth0'), (2, 'ens3')) AS i(n, iface)
 CROSS JOIN LATERAL (SELECT %(per)s * (1000 + mod(extract(epoch FROM t)::bigint * 7919 + h.n::bigint * 104729 + i.n * 1299709, 500000))::bigint AS sent,
                            %(per)s * (3000 + mod(extract(epoch FROM t)::bigint * 6007 + h.n::bigint * 15485863 + i.n * 32452843, 900000))::bigint AS recv) b
 ORDER BY t
"""
# Coarser rows summed from finer ones over [start, end) only
COARSER_FROM = """
INSERT INTO netstats.rollups
SELECT %(tier)s, host, iface, netstats.bucket_start(%(tier)s::smallint, bucket_start) AS b,
       sum(samples), sum(bytes_sent), sum(bytes_recv), sum(seconds), min(first_at), max(last_at),
       min(covers_from), max(peak_bytes_per_s)
  FROM netstats.rollups WHERE tier = %(finer)s AND bucket_start >= %(start)s AND bucket_start < %(end)s
 GROUP BY 2, 3, 4 ORDER BY b
"""


def load_fleet(dsn: str, hosts: int, now: datetime, raw_days: int = 2) -> int:
    """`hosts` hosts x 2 interfaces over the year before `now` (see SYNTHETIC). Checks that
    every tier adds up to the same bytes before returning the number of samples."""
    end = now.replace(minute=0, second=0, microsecond=0)
    raw_from = end - timedelta(days=raw_days)
    quarters_from = raw_from - timedelta(days=35)
    year_from = end.replace(hour=0, minute=0) - timedelta(days=365)
    params = {"hosts": hosts}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.samples, netstats.rollups")
        began = time.monotonic()

        def step(what: str, sql: str, **values: object) -> None:
            conn.execute(sql, {**params, **values})
            print(f"  {what} ({time.monotonic() - began:.0f} s)", flush=True)

        step(
            "hour rows before the 15-minute window",
            SYNTHETIC,
            tier=2,
            per=360,
            step="1 hour",
            start=year_from,
            end=quarters_from - timedelta(hours=1),
        )
        step(
            "15-minute rows before the raw window",
            SYNTHETIC,
            tier=1,
            per=90,
            step="15 minutes",
            start=quarters_from,
            end=raw_from - timedelta(minutes=15),
        )
        raw = GENERATE.replace("%(start)s", "%(raw_from)s").replace("%(end)s", "%(raw_end)s")
        conn.execute(PARTITIONS, {"lo": raw_from, "hi": end})
        step(
            f"raw samples of the last {raw_days} days",
            "INSERT INTO netstats.samples " + raw + " ORDER BY sampled_at",
            raw_from=raw_from,
            raw_end=end - timedelta(seconds=10),
        )
        step(
            "5-minute rows of the raw window",
            FIVES.format(generate=raw),
            raw_from=raw_from,
            raw_end=end - timedelta(seconds=10),
        )
        ranges = [
            (1, 0, raw_from, end),
            (2, 1, quarters_from, end),
            (3, 2, year_from, end),
            (4, 3, year_from, end),
        ]
        for tier, finer, lo, hi in ranges:
            step(
                f"tier {tier} from tier {finer}",
                COARSER_FROM,
                tier=tier,
                finer=finer,
                start=lo,
                end=hi,
            )
        step("the fleet series", FLEET)
        conn.execute("UPDATE netstats.settings SET raw_purged_before = %s", [raw_from])
        sums = conn.execute(
            "SELECT tier, sum(samples), sum(bytes_sent), sum(bytes_recv) FROM netstats.rollups"
            " WHERE host <> '' AND bucket_start >= %s GROUP BY tier ORDER BY tier",
            [raw_from],
        ).fetchall()
        raw_sums = conn.execute(
            "SELECT count(*), sum(bytes_sent), sum(bytes_recv) FROM netstats.samples"
        ).fetchone()
        assert all(tuple(row[1:]) == tuple(raw_sums) for row in sums[:2]), (sums, raw_sums)
        totals = conn.execute(
            "SELECT tier, sum(samples), sum(bytes_sent), sum(bytes_recv) FROM netstats.rollups"
            " WHERE tier >= 2 GROUP BY tier, host = '' ORDER BY tier"
        ).fetchall()
        assert len({tuple(row[1:]) for row in totals}) == 1, totals
        conn.execute("VACUUM ANALYZE netstats.samples")
        conn.execute("VACUUM ANALYZE netstats.rollups")
        conn.execute("CHECKPOINT")
        print(f"  loaded in {time.monotonic() - began:.0f} s", flush=True)
        return int(totals[0][1])


def migrated(cluster: Cluster, name: str) -> str:
    """A new database `name` in the cluster, at the newest schema; its DSN."""
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = cluster.dsn(name)
    db.upgrade(dsn)
    return dsn


@contextlib.contextmanager
def fleet(data: Path | None, hosts: int) -> Iterator[tuple[Cluster, str, bool]]:
    """A PostgreSQL 15 cluster holding the `hosts`-host fleet data set (loaded the first time
    only when `data` keeps the cluster between runs; a few minutes at 1,000 hosts), upgraded
    to this netstats: the cluster, the fleet database's DSN, and whether it was there."""
    from netstats.db.cluster import SYSTEM_PG15, start_cluster

    with tempfile.TemporaryDirectory() as tmp:
        cluster = start_cluster(
            SYSTEM_PG15, data or Path(tmp) / "data", {"shared_buffers": "'1GB'"}
        )
        try:
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                loaded = bool(
                    conn.execute("SELECT 1 FROM pg_database WHERE datname = 'fleet'").fetchone()
                )
            if loaded:
                dsn = cluster.dsn("fleet")
                db.upgrade(dsn)
            else:
                dsn = migrated(cluster, "fleet")
                print(f"loading {hosts:,} hosts …", flush=True)
                load_fleet(dsn, hosts, datetime.now(UTC) - timedelta(hours=1), raw_days=1)
            yield cluster, dsn, loaded
        finally:
            cluster.stop()
