"""Quotas and alerts at fleet scale: `netstats_quotas` with 50 quotas over the 100-host data
set, a claim pass that raises nothing, and ingest with and without quotas in the same run.

Part of `python -m bench.run`; alone: `python -m bench.quotas` (a smaller data set: 100
hosts, 3 days, for a fast look).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

QUOTAS = 50
PERIODS = ("day", "week", "month", "year", "cycle")
DIRECTIONS = ("sent", "recv", "total")
ZONES = ("UTC", "Asia/Tokyo", "Asia/Kathmandu", "America/New_York", "Europe/Berlin")


ROUNDS = 9  # alternating rounds: single rounds on this machine vary by 10%
CLEAR = "TRUNCATE netstats.samples, netstats.rollups, netstats.quotas CASCADE"  # corrections too


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def _timed(conn: psycopg.Connection, sql: str, runs: int) -> list[float]:
    conn.execute(sql).fetchall()  # warm caches and plans
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        conn.execute(sql).fetchall()
        out.append(time.perf_counter() - began)
    return out


def set_quotas(conn: psycopg.Connection, hosts: int) -> None:
    """One quota per host for the first 50 hosts (a plan per VPS), every period, direction
    and a few zones among them; limits low enough that every threshold has been crossed."""
    for i in range(QUOTAS):
        conn.execute(
            "SELECT netstats_quota_set(%s, %s, %s, %s, host => %s, tz => %s)",
            [
                f"plan-{i:02}",
                10**9,
                PERIODS[i % len(PERIODS)],
                DIRECTIONS[i % len(DIRECTIONS)],
                f"bot-{i % hosts + 1:03}",
                ZONES[i % len(ZONES)],
            ],
        )


def report(dsn: str, hosts: int, runs: int) -> list[str]:
    lines = ["| measure | median ms | p99 ms | target |", "|---|---|---|---|"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.quotas, netstats.alerts CASCADE")  # (and corrections)
        set_quotas(conn, hosts)
        med, p99 = _ms(_timed(conn, "SELECT * FROM netstats_quotas('Asia/Tokyo')", runs))
        lines.append(
            f"| `netstats_quotas()`: {QUOTAS} quotas, one per host, over {hosts} hosts x 2 ifaces "
            f"| {med:.2f} | {p99:.2f} | median at most 10 ms |"
        )
        # Raise everything once and mark it delivered: later passes find nothing new.
        while ids := [r[0] for r in conn.execute("SELECT id FROM netstats_alerts_claim(1000)")]:
            conn.execute("SELECT netstats_alerts_done(%s)", [ids])
        raised = conn.execute("SELECT count(*) FROM netstats.alerts").fetchone()[0]
        med, p99 = _ms(_timed(conn, "SELECT * FROM netstats_alerts_claim(20)", runs))
        lines.append(
            f"| `netstats_alerts_claim(20)` that raises nothing ({raised:,} alerts already raised) "
            f"| {med:.2f} | {p99:.2f} | median at most 5 ms |"
        )
        conn.execute("TRUNCATE netstats.quotas, netstats.alerts CASCADE")  # (and corrections)
    return lines


def ingest_with_and_without(
    dsn: str,
    batches: int,
    hosts: int,
    setup: Callable[[psycopg.Connection, int], object] | None = None,
    what: str = f"{QUOTAS} quotas",
    hosts_sent: list[str] | None = None,
) -> list[str]:
    """netstats_ingest never reads quotas or plans: the same batches, alternately with none
    and with `setup`'s (50 quotas by default), in rounds, so both see the same machine."""
    setup = setup or set_quotas
    payloads = []
    base = datetime.now(UTC) - timedelta(seconds=10 * 500 * batches + 3600)
    for b in range(batches):
        payloads.append(
            json.dumps(
                [
                    {
                        "host": (hosts_sent or [f"bench-{n}" for n in range(10)])[b % 10],
                        "iface": "eth0",
                        "sampled_at": (base + timedelta(seconds=10 * (b * 500 + i))).isoformat(),
                        "interval_s": 10.0,
                        "bytes_sent": (b * 500 + i) * 7 % 100000,
                        "bytes_recv": (b * 500 + i) * 13 % 900000,
                    }
                    for i in range(500)
                ]
            )
        )
    seconds: dict[bool, list[float]] = {False: [], True: []}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(ROUNDS):
            for with_quotas in (False, True):
                conn.execute(CLEAR)
                if with_quotas:
                    setup(conn, hosts)
                conn.execute("CHECKPOINT")
                began = time.perf_counter()
                for payload in payloads:
                    conn.execute("SELECT netstats_ingest(%s::jsonb)", [payload])
                seconds[with_quotas].append(time.perf_counter() - began)
        conn.execute(CLEAR)
    n = batches * 500
    without, with_ = (statistics.median(seconds[k]) for k in (False, True))
    return [
        f"| ingest path | throughput | vs no {what.split()[-1]} |",
        "|---|---|---|",
        f"| `netstats_ingest`, batches of 500, none set | {n / without:,.0f} samples/s | 1x |",
        f"| the same with {what} set | {n / with_:,.0f} samples/s "
        f"| {with_ / without:.3f}x the time (target: at most 1.05x) |",
    ]


def main() -> None:
    from bench import datasets
    from netstats import db
    from netstats.db.cluster import SYSTEM_PG15, start_cluster

    now = datetime.now(UTC)
    end = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        cluster = start_cluster(SYSTEM_PG15, Path(tmp) / "data", {"shared_buffers": "'1GB'"})
        try:
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE quotas")
            dsn = cluster.dsn("quotas")
            db.upgrade(dsn)
            datasets.load(dsn, 100, end - timedelta(days=3), end, end - timedelta(days=1))
            print("\n".join(report(dsn, 100, 100)))
            print("\n".join(ingest_with_and_without(dsn, 40, 100)))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
