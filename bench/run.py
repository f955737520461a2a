"""netstats benchmarks: `python -m bench.run [--quick] [--write]`.

Starts its own PostgreSQL 15 cluster, builds the data sets of the database-core issue, and
prints every figure next to a baseline measured in the same run. --write puts the report
into BENCHMARKS.md; --quick uses smaller data sets for a fast look (not for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from bench import agent, dashboard, datasets, metrics, plans, quotas
from netstats import db
from netstats.db.cluster import SYSTEM_PG15, start_cluster
from tests.support.postgrest import serve

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"shared_buffers": "'1GB'", "work_mem": "'64MB'", "max_wal_size": "'4GB'"}


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm caches and plans
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        out.append(time.perf_counter() - began)
    return out


def ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[
        min(len(ordered) - 1, int(len(ordered) * 0.99))
    ] * 1000


def quarter(t: datetime) -> datetime:
    return t.replace(minute=t.minute // 15 * 15, second=0, microsecond=0)


def bench_totals(
    dsn: str, label: str, runs: int, lines: list[str], one_host: str | None = None
) -> None:
    """Every period over all hosts, and a month of `one_host` where the set has several."""
    calls = [f"netstats_totals('{period}', 'Asia/Tokyo')" for period in PERIODS]
    if one_host is not None:
        calls.append(f"netstats_totals('month', 'Asia/Tokyo', '{one_host}')")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for call in calls:
            med, p99 = ms(
                timings(lambda call=call: conn.execute(f"SELECT * FROM {call}").fetchall(), runs)
            )
            lines.append(f"| {label} | `{call}` | {med:.3f} | {p99:.3f} |")


PERIODS = ("today", "month", "year", "all")


# Charts as the dashboard draws them, anchored at the data set's newest sample (not at now:
# the data ends when loading did, minutes before these run).
SERIES_CALLS = {
    "live chart: last 15 min, 10 s buckets": "%(end)s - interval '15 minutes', %(end)s, '10 seconds'",
    "today, hourly (Asia/Tokyo)": (
        "date_trunc('day', %(end)s, 'Asia/Tokyo'), "
        "date_trunc('day', %(end)s, 'Asia/Tokyo') + interval '1 day', '1 hour', 'Asia/Tokyo'"
    ),
    "all history, weekly (Asia/Tokyo)": (
        "%(end)s - interval '400 days', %(end)s, '7 days', 'Asia/Tokyo'"
    ),
}


def bench_series(dsn: str, label: str, runs: int, lines: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        (end,) = conn.execute(
            "SELECT max(last_at) + interval '1 microsecond' FROM netstats.rollups WHERE tier = 4"
        ).fetchone()
        for name, args in SERIES_CALLS.items():
            sql = f"SELECT * FROM netstats_series({args})"
            med, p99 = ms(timings(lambda sql=sql: conn.execute(sql, {"end": end}).fetchall(), runs))
            lines.append(f"| {label} | {name} | {med:.3f} | {p99:.3f} |")


def bench_month_baselines(dsn: str, runs: int, lines: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        start, end = conn.execute(
            "SELECT period_start, period_end FROM netstats_totals('month', 'Asia/Tokyo')"
        ).fetchone()
        window = [start, end]
        ours = timings(
            lambda: conn.execute("SELECT * FROM netstats_totals('month', 'Asia/Tokyo')").fetchall(),
            runs,
        )
        rows = conn.execute(
            "SELECT count(*) FROM netstats.samples WHERE sampled_at >= %s AND sampled_at < %s",
            window,
        ).fetchone()[0]
        sql_sum = timings(
            lambda: conn.execute(
                "SELECT sum(bytes_sent), sum(bytes_recv) FROM netstats.samples WHERE sampled_at >= %s AND sampled_at < %s",
                window,
            ).fetchall(),
            max(5, runs // 20),
        )

        def python_sum() -> None:
            cur = conn.execute(
                "SELECT bytes_sent, bytes_recv FROM netstats.samples WHERE sampled_at >= %s AND sampled_at < %s",
                window,
            )
            sent = recv = 0
            for s, r in cur:
                sent += s
                recv += r

        fetched = timings(python_sum, 5)
    med = statistics.median(ours)
    lines.append(
        f"| this month, 1 host ({rows:,} raw rows) | `netstats_totals` | {med * 1000:.3f} ms | 1x |"
    )
    lines.append(
        f"| | `sum()` of the raw rows in SQL | {statistics.median(sql_sum) * 1000:.1f} ms | **{statistics.median(sql_sum) / med:,.0f}x** slower |"
    )
    lines.append(
        f"| | rows fetched to Python and added (the original prompt's way) | {statistics.median(fetched) * 1000:.0f} ms | **{statistics.median(fetched) / med:,.0f}x** slower |"
    )


# Billing analytics (issue targets in the last column), per data set, read at the data set's
# newest sample (`end`, as a page at now would). "A month" is the billing cycle holding it,
# its day chosen so that the cycle began 28 to 31 days before (its lower edge a local
# midnight, as every calendar period's): the calendar month holding now is as long as
# today's date makes it (on the 1st, a day). Also the last whole calendar month at its end,
# whose two edges are both cut, and a rolling '30d', whose edge may fall anywhere (no target).
ONE_HOST_BILLING = [
    (
        "netstats_percentile('cycle', 'Asia/Tokyo', 'bot-001', at => %(end)s)",
        "one host: at most 15 ms",
    ),
]
MANY_HOSTS_BILLING = [
    *ONE_HOST_BILLING,
    (
        "netstats_percentile('month', 'Asia/Tokyo', 'bot-001', at => %(month_end)s)",
        "— (last month: two edges)",
    ),
    ("netstats_percentile('cycle', 'Asia/Tokyo', at => %(end)s)", "all hosts (100): at most 50 ms"),
    ("netstats_top('cycle', 'Asia/Tokyo', 'host', at => %(end)s)", "—"),
    ("netstats_top('cycle', 'Asia/Tokyo', 'day', at => %(end)s)", "—"),
]
FLEET_BILLING = [
    ("netstats_top('cycle', 'Asia/Tokyo', 'host', at => %(end)s)", "1,000 hosts: at most 20 ms"),
    (
        "netstats_top('month', 'Asia/Tokyo', 'host', at => %(month_end)s)",
        "— (last month: two edges)",
    ),
    ("netstats_top('30d', 'Asia/Tokyo', 'host', at => %(end)s)", "— (rolling: edges anywhere)"),
    ("netstats_percentile('cycle', 'Asia/Tokyo', at => %(end)s)", "—"),
]


def bench_billing(
    dsn: str, label: str, runs: int, lines: list[str], calls: list[tuple[str, str]]
) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        end, month_end = conn.execute(
            "SELECT max(last_at), date_trunc('month', max(last_at), 'Asia/Tokyo')"
            " - interval '1 microsecond' FROM netstats.rollups WHERE tier = 4 AND host = ''"
        ).fetchone()
        at = {"end": end, "month_end": month_end}
        day = end.astimezone(ZoneInfo("Asia/Tokyo")).day
        cycle_day = day + 1 if day <= 27 else 1  # the cycle began 28 to 31 days before end
        conn.execute("UPDATE netstats.settings SET cycle_day = %s", [cycle_day])
        (cycle_start,) = conn.execute(
            "SELECT period_start FROM netstats_totals('cycle', 'Asia/Tokyo', at => %s)", [end]
        ).fetchone()
        cycle = f"cycle from day {cycle_day}: {(end - cycle_start) / timedelta(days=1):.1f} days"
        for call, target in calls:
            med, p99 = ms(
                timings(
                    lambda call=call: conn.execute(f"SELECT * FROM {call}", at).fetchall(),
                    runs,
                )
            )
            shown = call.replace("%(end)s", "end").replace("%(month_end)s", "last month's end")
            if "'cycle'" in call:
                shown += f" ({cycle})"
            lines.append(f"| {label} | `{shown}` | {med:.3f} | {p99:.3f} | {target} |")
        conn.execute("UPDATE netstats.settings SET cycle_day = 1")


def bench_ingest(dsn: str, samples: int, lines: list[str]) -> None:
    """An agent drains its backlog: each batch is 250 ticks of one host's two interfaces, in
    the order the agent sends them (sorted by interface and time, as the database stores them).

    Each batch goes through netstats_ingest and, right after, the plain insert, so both see
    the same machine (this VM's speed drifts by 20% over seconds); three rounds, medians."""
    base = quarter(datetime.now(UTC) - timedelta(days=3))
    batches = []
    for b in range(samples // 500):
        host, tick0 = f"bot-{b % 20:03d}", (b // 20) * 250
        ticks = [
            {
                "host": host,
                "iface": ("eth0", "ens3")[i % 2],
                "sampled_at": (base + timedelta(seconds=10 * (tick0 + i // 2))).isoformat(),
                "interval_s": 10.0,
                "bytes_sent": (b * 500 + i) * 7 % 100000,
                "bytes_recv": (b * 500 + i) * 13 % 900000,
            }
            for i in range(500)
        ]
        batches.append(json.dumps(sorted(ticks, key=lambda s: (s["iface"], s["sampled_at"]))))
    n = len(batches) * 500
    ours, plain, ratios = [], [], []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS plain_copy (LIKE netstats.samples INCLUDING ALL)")
        for _ in range(3):
            conn.execute("TRUNCATE netstats.samples, netstats.rollups, plain_copy")
            conn.execute("CHECKPOINT")
            ours_s = plain_s = 0.0
            for payload in batches:
                began = time.perf_counter()
                conn.execute("SELECT netstats_ingest(%s::jsonb)", [payload])
                middle = time.perf_counter()
                conn.execute(
                    "INSERT INTO plain_copy SELECT * FROM jsonb_to_recordset(%s::jsonb) AS x(host text, iface text,"
                    " sampled_at timestamptz, interval_s double precision, bytes_sent bigint, bytes_recv bigint)",
                    [payload],
                )
                ours_s, plain_s = ours_s + middle - began, plain_s + time.perf_counter() - middle
            ours.append(ours_s)
            plain.append(plain_s)
            ratios.append(ours_s / plain_s)
            assert conn.execute("SELECT count(*) FROM netstats.samples").fetchone()[0] == n
        conn.execute("DROP TABLE plain_copy")
    ours_s, plain_s = statistics.median(ours), statistics.median(plain)
    lines.append(
        f"| `netstats_ingest`, batches of 500 (validation, raw rows, 5 rollup tiers, NOTIFY) | {n / ours_s:,.0f} samples/s | {statistics.median(ratios):.2f}x (rounds: {', '.join(f'{r:.2f}' for r in ratios)}) |"
    )
    lines.append(
        f"| plain `INSERT … SELECT` of the same JSON into an indexed copy of the raw table | {n / plain_s:,.0f} samples/s | 1x |"
    )


def storage(dsn: str, ifaces: int, lines: list[str]) -> None:
    """Per interface: the raw window and every host's rollups. The fleet series (one per
    database, whatever the number of hosts) is shown apart: on a 1-host data set it would
    double the rollups' share, on 100 hosts it is a hundredth."""
    with psycopg.connect(dsn) as conn:
        raw, rollups, raw_rows, rollup_rows, fleet_rows = conn.execute(
            # partitioned tables: their partitions' sizes (a parent holds nothing itself)
            "SELECT (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('netstats.samples')),"
            " (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('netstats.rollups')),"
            " (SELECT count(*) FROM netstats.samples), (SELECT count(*) FROM netstats.rollups),"
            " (SELECT count(*) FROM netstats.rollups WHERE host = '')"
        ).fetchone()
    per_row = rollups / rollup_rows
    mine = (rollup_rows - fleet_rows) * per_row / ifaces
    lines.append(
        f"| raw window (35 days at 10 s) | {raw_rows // ifaces:,} | {raw / ifaces / 2**20:.1f} MiB |"
    )
    lines.append(
        f"| rollups (5 min, 15 min, hour, day, month) for the year | {(rollup_rows - fleet_rows) // ifaces:,} | {mine / 2**20:.1f} MiB |"
    )
    lines.append(
        f"| **total per interface-year** | | **{(raw / ifaces + mine) / 2**20:.1f} MiB** |"
    )
    lines.append(
        f"| the fleet series, once per database (its share of the table's size) | {fleet_rows:,} | {fleet_rows * per_row / 2**20:.1f} MiB |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small data sets, for a fast look")
    parser.add_argument("--write", action="store_true", help="write the report to BENCHMARKS.md")
    args = parser.parse_args()
    runs = 50 if args.quick else 300
    now = datetime.now(UTC)
    end = quarter(now) - timedelta(seconds=10)
    raw_from = quarter(now - timedelta(days=35))
    year_start = quarter(now - timedelta(days=365))
    hosts_b = 5 if args.quick else 100
    days_b = 3 if args.quick else 35
    hosts_c = 20 if args.quick else 1000

    with tempfile.TemporaryDirectory() as tmp:
        print("starting PostgreSQL 15 …", flush=True)
        cluster = start_cluster(SYSTEM_PG15, Path(tmp) / "data", SETTINGS)
        try:
            dsns = {}
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                for name in (
                    "one_host_year",
                    "many_hosts",
                    "fleet",
                    "ingest",
                    "dashboard",
                    "agent",
                ):
                    conn.execute(f"CREATE DATABASE {name}")
            for name in ("one_host_year", "many_hosts", "fleet", "ingest", "dashboard", "agent"):
                dsns[name] = cluster.dsn(name)
                db.upgrade(dsns[name])
            # First, on a quiet machine, as a bot's host mostly is: loading 60 million rows
            # leaves autovacuum and checkpoints running, which would cool every daemon's caches.
            print("measuring the agent …", flush=True)
            with serve(dsns["agent"]) as (url, _):
                supabase_env = {"SUPABASE_URL": url, "SUPABASE_KEY": "agent-key"}
                agent_lines = agent.report(dsns["agent"], supabase_env, args.quick)
            print("loading 1 host x 2 interfaces x 1 year at 10 s …", flush=True)
            a = datasets.load(
                dsns["one_host_year"],
                1,
                year_start if not args.quick else raw_from - timedelta(days=30),
                end,
                raw_from,
            )
            print(f"loading {hosts_b} hosts x 2 interfaces x {days_b} days at 10 s …", flush=True)
            b = datasets.load(
                dsns["many_hosts"],
                hosts_b,
                quarter(now - timedelta(days=days_b)),
                end,
                quarter(now - timedelta(days=days_b)),
            )
            print("measuring …", flush=True)
            totals_lines: list[str] = []
            bench_totals(
                dsns["one_host_year"], f"1 host x 2 ifaces ({a:,} samples)", runs, totals_lines
            )
            bench_totals(
                dsns["many_hosts"],
                f"{hosts_b} hosts x 2 ifaces ({b:,} samples)",
                runs,
                totals_lines,
                "bot-001",
            )
            series_lines: list[str] = []
            bench_series(dsns["one_host_year"], "1 host x 2 ifaces", runs, series_lines)
            bench_series(dsns["many_hosts"], f"{hosts_b} hosts x 2 ifaces", runs, series_lines)
            billing_lines: list[str] = []
            bench_billing(
                dsns["one_host_year"],
                "1 host x 2 ifaces, a year",
                runs,
                billing_lines,
                ONE_HOST_BILLING,
            )
            bench_billing(
                dsns["many_hosts"],
                f"{hosts_b} hosts x 2 ifaces",
                runs,
                billing_lines,
                MANY_HOSTS_BILLING,
            )
            print(f"loading {hosts_c:,} hosts x 2 interfaces, a year of rollups …", flush=True)
            c = datasets.load_fleet(dsns["fleet"], hosts_c, now)
            fleet_label = f"{hosts_c:,} hosts x 2 ifaces ({c:,} samples)"
            first_host = f"bot-{1:0{max(3, len(str(hosts_c)))}d}"
            bench_totals(dsns["fleet"], fleet_label, runs, totals_lines, first_host)
            bench_billing(
                dsns["fleet"], f"{hosts_c:,} hosts x 2 ifaces", runs, billing_lines, FLEET_BILLING
            )
            baseline_lines: list[str] = []
            bench_month_baselines(dsns["one_host_year"], runs, baseline_lines)
            ingest_lines: list[str] = []
            bench_ingest(dsns["ingest"], 20_000 if args.quick else 200_000, ingest_lines)
            storage_lines: list[str] = []
            storage(dsns["one_host_year"], 2, storage_lines)
            print("measuring quotas and alerts …", flush=True)
            quota_lines = quotas.report(dsns["many_hosts"], hosts_b, runs)
            quota_lines += ["", *quotas.ingest_with_and_without(dsns["ingest"], 40, hosts_b)]
            print("measuring plans …", flush=True)
            plan_lines = plans.report(dsns["fleet"], hosts_c, runs)
            plan_lines += [
                "",
                *quotas.ingest_with_and_without(
                    dsns["ingest"],
                    40,
                    hosts_c,
                    plans.set_plans,
                    f"{plans.PLANS} plans",
                    plans.host_names(hosts_c)[:10],
                ),
            ]
            print("measuring Prometheus scrapes of /metrics …", flush=True)
            metrics_lines = metrics.report(dsns["fleet"], hosts_c, 10 if args.quick else 30)
            print(f"measuring the dashboard with {dashboard.STREAMS} live charts …", flush=True)
            dashboard_lines = dashboard.report(
                dsns["dashboard"], seconds=5 if args.quick else dashboard.SECONDS
            )
        finally:
            cluster.stop()

    report = "\n".join(
        [
            "# Benchmarks",
            "",
            f"`python -m bench.run{' --quick' if args.quick else ''}` on {now:%Y-%m-%d}: PostgreSQL 15, "
            f"{platform.machine()}, {__import__('os').cpu_count()} cores; client over a Unix socket, psycopg 3. "
            "Each ratio compares figures measured in the same run.",
            "",
            "## Period totals (client round trip included)",
            "",
            "| data set | call | median ms | p99 ms |",
            "|---|---|---|---|",
            *totals_lines,
            "",
            "## Series for charts (every host; client round trip included)",
            "",
            "| data set | call | median ms | p99 ms |",
            "|---|---|---|---|",
            *series_lines,
            "",
            "## Billing analytics (client round trip included)",
            "",
            "| data set | call | median ms | p99 ms | target |",
            "|---|---|---|---|---|",
            *billing_lines,
            "",
            "## Month total against summing raw rows",
            "",
            "| window | way | median | ratio |",
            "|---|---|---|---|",
            *baseline_lines,
            "",
            "## Ingest",
            "",
            "| path | throughput | cost vs plain insert |",
            "|---|---|---|",
            *ingest_lines,
            "",
            "## Dashboard under live load (`netstats dashboard`, one ingest a second; "
            "requests from one client, live charts held by another process)",
            "",
            *dashboard_lines,
            "",
            "## Agent (the real daemon, at its real cadence; local database over a Unix socket)",
            "",
            *agent_lines,
            "",
            "## Quotas and alerts (client round trip included)",
            "",
            *quota_lines,
            "",
            "## Plans (client round trip included)",
            "",
            *plan_lines,
            "",
            "## Prometheus scrapes of /metrics (`netstats dashboard`, one scrape a second)",
            "",
            *metrics_lines,
            "",
            "## Storage per interface-year (1-host data set, indexes included)",
            "",
            "| part | rows per interface | size per interface |",
            "|---|---|---|",
            *storage_lines,
            "",
        ]
    )
    print(report)
    if args.write:
        (ROOT / "BENCHMARKS.md").write_text(report)


if __name__ == "__main__":
    main()
