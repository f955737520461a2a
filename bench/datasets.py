"""Bench data sets, loaded in bulk with SQL instead of millions of ingest calls.

The loader writes exactly what netstats_ingest() would: raw rows for the retained window and
rollups for every tier, built with the same bucket function and the same aggregates; the
bench checks the result against raw sums before measuring anything.
"""

from __future__ import annotations

import time
from datetime import datetime

import psycopg

# Samples are generated at 10 s with bytes that vary by time and series, so nothing is
# constant-folded and no two buckets look alike.
GENERATE = """
SELECT h.host, i.iface, t AS sampled_at, 10.0::double precision AS interval_s,
       (1000 + mod(extract(epoch FROM t)::bigint * 7919 + h.n * 104729 + i.n * 1299709, 500000))::bigint AS bytes_sent,
       (3000 + mod(extract(epoch FROM t)::bigint * 6007 + h.n * 15485863 + i.n * 32452843, 900000))::bigint AS bytes_recv
  FROM generate_series(1, %(hosts)s) AS h(n)
 CROSS JOIN LATERAL (SELECT 'bot-' || lpad(h.n::text, 3, '0') AS host) hh
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


def load(dsn: str, hosts: int, start: datetime, end: datetime, raw_from: datetime) -> int:
    """Samples every 10 s in [start, end] for `hosts` hosts with two interfaces each; raw
    rows from raw_from on. Returns the number of samples the data set stands for."""
    params = {"hosts": hosts, "start": start, "end": end}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.samples, netstats.rollups")
        began = time.monotonic()
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
