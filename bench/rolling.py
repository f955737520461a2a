"""Rolling windows beside calendar periods: `python -m bench.rolling [--runs N]`.

One host's totals for today, this month, 24h, 7d and 30d, at the data set's newest sample (as
a bot's /netstats asks), measured in alternating rounds so that each figure sees the same
machine. A calendar period starts on a quarter hour: only its end cuts a 5-minute bucket,
which the walk opens into raw samples. A rolling window's start falls anywhere: it cuts a
bucket at both ends, in every tier.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench import datasets
from netstats.db.cluster import SYSTEM_PG15, start_cluster

PERIODS = ("today", "month", "24h", "7d", "30d")
MID = timedelta(minutes=7, seconds=23)
SETTINGS = {"shared_buffers": "'1GB'", "work_mem": "'64MB'", "max_wal_size": "'4GB'"}


def report(dsn: str, runs: int, host: str = "bot-001") -> list[str]:
    """Each period at two instants: the newest sample (what a live /netstats asks: nothing
    after it, so the window's end cuts no bucket), and 7 min 23 s before it, inside a
    5-minute bucket (a report `--at` an instant in the past: the end cuts one too)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        (newest,) = conn.execute(
            "SELECT max(last_at) FROM netstats.rollups WHERE tier = 4 AND host = %s", [host]
        ).fetchone()
        instants = {"newest sample": newest, "7 min 23 s before": newest - MID}
        calls = {
            (name, p): (
                f"SELECT * FROM netstats_totals('{p}', 'Asia/Tokyo', %s, at => %s)",
                [host, at],
            )
            for name, at in instants.items()
            for p in PERIODS
        }
        times: dict[tuple[str, str], list[float]] = {key: [] for key in calls}
        for sql, params in calls.values():  # warm caches and plans
            conn.execute(sql, params).fetchall()
        for _ in range(runs):
            for key, (sql, params) in calls.items():
                began = time.perf_counter()
                conn.execute(sql, params).fetchall()
                times[key].append(time.perf_counter() - began)
    lines = [
        "| 1 host, at | period | median ms | p99 ms | vs `today` at that instant |",
        "|---|---|---:|---:|---:|",
    ]
    for name, at in instants.items():
        base = statistics.median(times[(name, "today")])
        for period in PERIODS:
            ordered = sorted(times[(name, period)])
            med = statistics.median(ordered)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            lines.append(
                f"| {name} ({at:%H:%M:%S} UTC) | `{period}` | {med * 1000:.3f} "
                f"| {p99 * 1000:.3f} | {med / base:.2f}x |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--days", type=int, default=40, help="days of 10 s samples (2 ifaces)")
    args = parser.parse_args()
    now = datetime.now(UTC)
    end = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    start = end - timedelta(days=args.days)
    with tempfile.TemporaryDirectory() as tmp:
        print("starting PostgreSQL 15 …", flush=True)
        cluster = start_cluster(SYSTEM_PG15, Path(tmp) / "data", SETTINGS)
        try:
            dsn = datasets.migrated(cluster, "rolling")
            print(f"loading 1 host x 2 interfaces x {args.days} days at 10 s …", flush=True)
            datasets.load(dsn, 1, start, end - timedelta(seconds=10), start)
            print(f"measuring, {args.runs} alternating rounds …", flush=True)
            print("\n".join(report(dsn, args.runs)))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
