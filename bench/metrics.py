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
import statistics
import time
from pathlib import Path

import httpx
import psycopg

from bench.dashboard import serving
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
    scraped, hosts_api, size = [], [], 0
    with serving(dsn, NETSTATS_TZ="Asia/Tokyo") as url, httpx.Client(base_url=url) as client:
        client.get("/metrics").raise_for_status()  # warm the pool and the plans
        for _ in range(scrapes):
            for path, into in (("/metrics", scraped), ("/api/hosts", hosts_api)):
                began = time.perf_counter()
                answer = client.get(path, timeout=30)
                into.append(time.perf_counter() - began)
                assert answer.status_code == 200, answer.text[:200]
                if path == "/metrics":
                    size = len(answer.content)
            time.sleep(1.0)
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

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--scrapes", type=int, default=SCRAPES)
    parser.add_argument(
        "--data", type=Path, help="keep the cluster here and load the fleet only the first time"
    )
    args = parser.parse_args()
    with datasets.fleet(args.data, args.hosts) as (_, fleet, _loaded):
        print("\n".join(report(fleet, args.hosts, args.scrapes)))


if __name__ == "__main__":
    main()
