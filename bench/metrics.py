"""A Prometheus scrape of /metrics at fleet scale (issue 32: at most 50 ms median at 1,000
hosts). The real `netstats dashboard` process serves the 1,000-host fleet with the 100 plans
of bench/plans.py set; a client scrapes /metrics as Prometheus does (one GET, text format),
one scrape a second, alternating with GET /api/hosts (one SQL call over the same fleet: the
baseline of the same run). Beside it, once: what an exporter built on the per-series API
would cost (netstats_totals('all') for each series), the reason /metrics has one function
of its own.

Part of `python -m bench.run`; alone: `python -m bench.metrics [--hosts 1000] [--data DIR]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from bench.dashboard import free_port
from bench.plans import set_plans

SCRAPES = 30


def report(dsn: str, hosts: int, scrapes: int = SCRAPES) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.quotas, netstats.alerts CASCADE")
        set_plans(conn, hosts)
        series = conn.execute(
            "SELECT DISTINCT host, iface FROM netstats_hosts() ORDER BY 1, 2"
        ).fetchall()
        began = time.perf_counter()
        for host, iface in series:
            conn.execute("SELECT * FROM netstats_totals('all', host => %s, iface => %s)",
                         [host, iface])  # fmt: skip
        per_series = time.perf_counter() - began
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NETSTATS_DATABASE_URL": dsn, "NETSTATS_TZ": "Asia/Tokyo"}
    env.pop("NETSTATS_DASHBOARD_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "netstats.cli", "dashboard", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    scraped, hosts_api, size = [], [], 0
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/api/hosts").raise_for_status()
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the dashboard did not start"
                    time.sleep(0.2)
            client.get("/metrics").raise_for_status()  # warm the pool and the plans
            for _ in range(scrapes):
                for path, into in (("/metrics", scraped), ("/api/hosts", hosts_api)):
                    began = time.perf_counter()
                    answer = client.get(path)
                    into.append(time.perf_counter() - began)
                    assert answer.status_code == 200, answer.text[:200]
                    if path == "/metrics":
                        size = len(answer.content)
                time.sleep(1.0)
    finally:
        server.terminate()
        server.wait(10)
    med, base = statistics.median(scraped) * 1000, statistics.median(hosts_api) * 1000
    worst = max(scraped) * 1000
    return [
        "| measure | median ms | max ms | vs /api/hosts | target |",
        "|---|---|---|---|---|",
        f"| GET /api/hosts: one SQL call over {len(series):,} series (baseline) "
        f"| {base:.1f} | {max(hosts_api) * 1000:.1f} | 1x | |",
        f"| GET /metrics: {len(series):,} series, {hosts:,} hosts, 100 plans "
        f"({size / 1e6:.2f} MB of text) | {med:.1f} | {worst:.1f} | {med / base:.1f}x "
        "| median at most 50 ms |",
        f"| an exporter on the per-series API: netstats_totals('all') x {len(series):,} "
        f"(once) | {per_series * 1000:.0f} | | {per_series * 1000 / base:.0f}x | |",
    ]


def main() -> None:
    from bench import datasets
    from netstats import db
    from netstats.db.cluster import SYSTEM_PG15, start_cluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--scrapes", type=int, default=SCRAPES)
    parser.add_argument(
        "--data", type=Path, help="keep the cluster here and load the fleet only the first time"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "data"
        cluster = start_cluster(SYSTEM_PG15, data, {"shared_buffers": "'1GB'"})
        try:
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                loaded = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = 'fleet'"
                ).fetchone()
            if loaded:
                fleet = cluster.dsn("fleet")
                db.upgrade(fleet)
            else:
                fleet = datasets.migrated(cluster, "fleet")
                print(f"loading {args.hosts:,} hosts …", flush=True)
                now = datetime.now(UTC)
                datasets.load_fleet(fleet, args.hosts, now - timedelta(hours=1), raw_days=1)
            print("\n".join(report(fleet, args.hosts, args.scrapes)))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
