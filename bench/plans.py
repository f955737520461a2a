"""Plans at fleet scale (issue 30): `netstats_plans` with 100 plans covering every host of
the 1,000-host fleet (single hosts, pooled lists, globs, the whole fleet; several cycles,
zones, bases, prices and corrections), against `netstats_quotas` with 100 one-host quotas
on the same data in the same run; and ingest with those 100 plans set against none, its
batches from hosts the plans cover (each batch's host is counted for three to four plans).

Part of `python -m bench.run`; alone: `python -m bench.plans [--hosts 1000]` (loads the
fleet data set first: a few minutes at 1,000 hosts).
"""

from __future__ import annotations

import argparse
import fnmatch
from decimal import Decimal
from pathlib import Path

import psycopg

from bench.quotas import _ms, _timed, ingest_with_and_without

PLANS = 100
BASES = ("sent", "recv", "total", "max")
ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe")
ANCHORS = ("2026-01-31 14:00", "2026-01-15 00:00", "2024-02-29 00:00", "2025-12-01 00:00")


def host_names(hosts: int) -> list[str]:
    width = max(3, len(str(hosts)))  # as bench/datasets.py names them
    return [f"bot-{n:0{width}}" for n in range(1, hosts + 1)]


def set_plans(conn: psycopg.Connection, hosts: int) -> int:
    """100 plans: 60 of one host, 20 pooling 5 hosts each, 10 globs of about 100 hosts, 10
    over every host (two of them on one interface); every basis, several anchors and zones,
    a price on every other, a budget and a correction on some. Returns the windows they read."""
    names = host_names(hosts)
    globs = sorted({n[:-2] for n in names})[:10]
    coverage: list[list[str] | None] = [
        *([names[i % hosts]] for i in range(60)),
        *(names[(60 + 5 * i) % hosts : (60 + 5 * i) % hosts + 5] for i in range(20)),
        *([g + "??"] for g in globs),
        *([None] * (PLANS - 80 - len(globs))),
    ]
    for i, hosts_ in enumerate(coverage):
        priced = i % 2 == 0
        conn.execute(
            "SELECT netstats_plan_set(%s, %s, %s::timestamp, %s, %s, %s, %s, %s, %s,"
            " price => %s, currency => %s, price_unit => %s, budget => %s)",
            [
                f"plan-{i:03}",
                BASES[i % len(BASES)],
                ANCHORS[i % len(ANCHORS)],
                1 if i % 7 else 30,
                "month" if i % 7 else "day",
                ZONES[i % len(ZONES)],
                10**12,
                hosts_,
                "eth0" if hosts_ is None and i % 5 == 0 else None,
                Decimal("0.09") if priced else None,
                "USD" if priced else None,
                ("GB", "GiB", "TB", "TiB")[i % 4] if priced else None,
                Decimal(5) if priced and i % 4 == 0 else None,
            ],
        )
        if i % 10 == 3:
            conn.execute(
                "SELECT netstats_plan_adjust(%s, 340000000000, 'panel', 'bench')", [f"plan-{i:03}"]
            )
    hosts_known = [h for (h,) in conn.execute("SELECT DISTINCT host FROM netstats_hosts()")]
    return sum(
        len([h for h in hosts_known if any(fnmatch.fnmatchcase(h, g) for g in pool)]) if pool else 1
        for pool in coverage
    )


def set_quotas(conn: psycopg.Connection, hosts: int) -> None:
    """The baseline: 100 one-host quotas on calendar periods (what netstats had before plans)."""
    names = host_names(hosts)
    for i in range(PLANS):
        conn.execute(
            "SELECT netstats_quota_set(%s, %s, %s, %s, host => %s, tz => %s)",
            [f"quota-{i:03}", 10**12, ("day", "week", "month", "year", "cycle")[i % 5],
             BASES[i % 3], names[i % hosts], ZONES[i % len(ZONES)]],
        )  # fmt: skip


def report(dsn: str, hosts: int, runs: int) -> list[str]:
    lines = ["| measure | median ms | p99 ms | vs 100 quotas | target |", "|---|---|---|---|---|"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.quotas, netstats.alerts CASCADE")  # corrections too
        set_quotas(conn, hosts)
        base, base_p99 = _ms(_timed(conn, "SELECT * FROM netstats_quotas('Asia/Tokyo')", runs))
        conn.execute("TRUNCATE netstats.quotas, netstats.alerts CASCADE")  # corrections too
        windows = set_plans(conn, hosts)
        med, p99 = _ms(_timed(conn, "SELECT * FROM netstats_plans('Asia/Tokyo')", runs))
        conn.execute("TRUNCATE netstats.quotas, netstats.alerts CASCADE")  # corrections too
    lines += [
        f"| `netstats_quotas()`: {PLANS} one-host quotas, {hosts:,} hosts x 2 ifaces (baseline) "
        f"| {base:.2f} | {base_p99:.2f} | 1x | |",
        f"| `netstats_plans()`: {PLANS} plans covering every host ({windows:,} host windows: "
        f"single, pooled lists, globs, whole fleet) | {med:.2f} | {p99:.2f} | {med / base:.2f}x "
        "| median at most 10 ms |",
    ]
    return lines


def main() -> None:
    from bench import datasets
    from netstats import db

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--data", type=Path, help="keep the cluster here and load the fleet only the first time"
    )
    args = parser.parse_args()
    with datasets.fleet(args.data, args.hosts) as (cluster, fleet, loaded):
        print("\n".join(report(fleet, args.hosts, args.runs)))
        ingest = cluster.dsn("ingest") if loaded else datasets.migrated(cluster, "ingest")
        db.upgrade(ingest)
        lines = ingest_with_and_without(
            ingest, 40, args.hosts, set_plans, f"{PLANS} plans", host_names(args.hosts)[:10]
        )
        print("\n".join(lines))


if __name__ == "__main__":
    main()
