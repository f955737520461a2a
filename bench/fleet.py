"""A fleet of agents uploading to one database: `python -m bench.fleet [--agents 100,1000]
[--seconds 120] [--outage 120]`.

Every simulated agent is netstats' own Agent: its spool (a SQLite file of its own), delta
rules, uploader and backoff, and the Postgres transport with a connection of its own. Only
its counters are synthetic (two interfaces at a steady rate). Agents tick on their 10 s grid
and upload every 60 s, their starts spread over a minute as a real fleet's are; a pool of
threads runs whichever agent is due (libpq calls go through ctypes, which lets other threads
run meanwhile). Readers call /netstats-style totals at the same time. Everything runs on this
machine: the database, the agents and the readers share its two cores.

For each fleet size it prints ingest calls/s and samples/s, ingest latency, the database's
CPU and memory, the simulator's own CPU, how late agents ran, and the readers' latency. With
--outage it stops the database for that many seconds under the largest fleet, starts it
again, and prints the recovery: ingest calls/s after it, and how long until every agent has
uploaded all it took before the restart (its backlog; the last minute's samples wait for the
next upload, as always).
"""

from __future__ import annotations

import argparse
import heapq
import logging
import os
import random
import resource
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import datasets
from netstats.agent import Agent
from netstats.agent.deltas import Counters, Reading
from netstats.agent.transports import PostgresTransport
from netstats.config import AgentSettings
from netstats.db.cluster import SYSTEM_PG15, Cluster, start_cluster
from netstats.sample import Sample

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 16
WARM_UP_S = 70.0  # every agent has started (spread over 60 s) and uploaded once (--warm-up)


class TimedTransport(PostgresTransport):
    """The real transport; every call's end, duration, sample count and outcome is kept."""

    def __init__(self, url: str, calls: list[tuple[float, float, int, bool]]) -> None:
        super().__init__(url)
        self.calls = calls

    def ingest(self, samples: list[Sample]) -> dict[str, int]:
        began = time.perf_counter()
        try:
            counts = super().ingest(samples)
        except Exception:
            self.calls.append((time.monotonic(), time.perf_counter() - began, 0, False))
            raise
        self.calls.append((time.monotonic(), time.perf_counter() - began, len(samples), True))
        return counts


def synthetic_counters(n: int) -> Callable[[], Reading]:
    """Two interfaces whose counters grow at a steady rate of their own (0.5-4.5 kB/s)."""
    began = time.monotonic()
    rates = {"eth0": (500 + 37 * n % 4000, 900 + 53 * n % 3600), "ens3": (50 + n % 400, 70)}

    def read() -> Reading:
        now = time.monotonic()
        counters = {
            iface: Counters(int(sent * (now - began)), int(recv * (now - began)))
            for iface, (sent, recv) in rates.items()
        }
        return Reading(
            boot_id=f"fleet-{n}",
            wall=datetime.now(UTC),
            monotonic=now,
            counters=counters,
            present=frozenset(counters),
        )

    return read


class Fleet:
    """N agents on a pool of threads, each run when its next tick is due."""

    def __init__(self, dsn: str, count: int, folder: Path) -> None:
        self.calls: list[tuple[float, float, int, bool]] = []
        self.lateness: list[tuple[float, float]] = []
        self.agents = []
        for n in range(count):
            settings = AgentSettings(
                host=f"bot-{n:05d}", spool=folder / f"{n}.sqlite3", interval_s=10.0
            )
            agent = Agent(settings, TimedTransport(dsn, self.calls), read=synthetic_counters(n))
            agent._announce()
            self.agents.append(agent)
        start = time.monotonic()
        self.due = [(start + 60.0 * n / count, n) for n in range(count)]
        heapq.heapify(self.due)
        self.ready = threading.Condition()
        self.stopping = False
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(WORKERS)]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        while True:
            with self.ready:
                while not self.stopping and (not self.due or self.due[0][0] > time.monotonic()):
                    self.ready.wait(max(0.0, self.due[0][0] - time.monotonic()) if self.due else 1)
                if self.stopping:
                    return
                due, n = heapq.heappop(self.due)
            agent = self.agents[n]
            self.lateness.append((due, time.monotonic() - due))
            agent.cycle()
            with self.ready:
                heapq.heappush(self.due, (agent._next_tick(due), n))
                self.ready.notify()

    def queued(self) -> int:
        return sum(agent.spool.depth() for agent in self.agents)

    def backlog(self, since: datetime) -> int:
        """Agents that still hold samples taken before `since` (between uploads an agent
        always holds the last minute's)."""
        return sum(
            1
            for agent in self.agents
            if (oldest := agent.spool.oldest(1)) and oldest[0].sample.sampled_at < since
        )

    def stop(self) -> None:
        with self.ready:
            self.stopping = True
            self.ready.notify_all()
        for thread in self.threads:
            thread.join()
        for agent in self.agents:
            agent.close()


class Readers:
    """/netstats-style calls meanwhile: one host's today, and every host's month."""

    def __init__(self, dsn: str, hosts: int, threads: int = 2, pause_s: float = 0.1) -> None:
        self.latency: list[tuple[float, float]] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._read, args=(dsn, hosts, pause_s), daemon=True)
            for _ in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def _read(self, dsn: str, hosts: int, pause_s: float) -> None:
        conn: psycopg.Connection | None = None
        while not self.stopping.wait(pause_s):
            try:
                conn = conn or psycopg.connect(dsn, autocommit=True, connect_timeout=2)
                for sql, args in (
                    (
                        "SELECT * FROM netstats_totals('today', 'Asia/Tokyo', %s)",
                        [f"bot-{random.randrange(hosts):05d}"],
                    ),
                    ("SELECT * FROM netstats_totals('month', 'Asia/Tokyo')", []),
                ):
                    began = time.perf_counter()
                    conn.execute(sql, args).fetchall()
                    self.latency.append((time.monotonic(), time.perf_counter() - began))
            except psycopg.Error:
                conn = None  # the database is down (the outage); try again

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


class Waits:
    """What the database's busy backends wait for, sampled twice a second: row locks (the
    fleet series' rows, which every ingest updates), WAL flushes, or nothing (on the CPU)."""

    def __init__(self, dsn: str) -> None:
        self.seen: dict[str, int] = {}
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._sample, args=(dsn,), daemon=True)
        self.thread.start()

    def _sample(self, dsn: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not self.stopping.wait(0.5):
                self.samples += 1
                for what, n in conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*)"
                    " FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' GROUP BY 1"
                ):
                    self.seen[what] = self.seen.get(what, 0) + n

    def stop(self) -> str:
        self.stopping.set()
        self.thread.join()
        top = sorted(self.seen.items(), key=lambda kv: -kv[1])[:3]
        return ", ".join(f"{what} {n / self.samples:.1f}" for what, n in top) or "none"


def database_cpu_s(cluster: Cluster) -> float:
    """CPU seconds of the postmaster and every process it started, the ended ones included."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def database_pss_mib(cluster: Cluster) -> float:
    """Memory the database really uses: the proportional set size of all its processes."""
    postmaster = (cluster.datadir / "postmaster.pid").read_text().split()[0]
    kib = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if stat.parent.name != postmaster and fields[1] != postmaster:
                continue
            rollup = (stat.parent / "smaps_rollup").read_text()
        except OSError:
            continue
        kib += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return kib / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def steady(
    cluster: Cluster, dsn: str, count: int, seconds: float, folder: Path, warm_up: float
) -> str:
    """One fleet size: warm up, then measure for `seconds`."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.samples, netstats.rollups")
    fleet = Fleet(dsn, count, folder)
    readers = Readers(dsn, count)
    waits = None
    try:
        time.sleep(warm_up)
        began, cpu0, own0 = time.monotonic(), database_cpu_s(cluster), process_cpu_s()
        waits = Waits(dsn)
        for left in range(int(seconds), 0, -30):
            print(f"  {count:,} agents: measuring, {left} s left", flush=True)
            time.sleep(min(30, left))
        ended, cpu1, own1 = time.monotonic(), database_cpu_s(cluster), process_cpu_s()
        memory = database_pss_mib(cluster)
    finally:
        waited = waits.stop() if waits else "none"
        readers.stop()
        fleet.stop()
    span = ended - began
    calls = [c for c in fleet.calls if began <= c[0] < ended]
    good = [c for c in calls if c[3]]
    late = [lag for due, lag in fleet.lateness if began <= due < ended]
    reads = [t for at, t in readers.latency if began <= at < ended]
    ms = [c[1] * 1000 for c in good]
    return (
        f"| {count:,} | {len(good) / span:.1f} | {sum(c[2] for c in good) / span:,.0f} | "
        f"{pct(ms, 0.5):.1f} / {pct(ms, 0.99):.1f} | {len(calls) - len(good)} | "
        f"{(cpu1 - cpu0) / span * 100:.0f}% | {(own1 - own0) / span * 100:.0f}% | "
        f"{pct(late, 0.99) * 1000:.0f} | {pct(reads, 0.5) * 1000:.2f} / "
        f"{pct(reads, 0.99) * 1000:.2f} | {memory:,.0f} MiB | {waited} |"
    )


def outage(
    cluster: Cluster, dsn: str, count: int, down_s: float, folder: Path, warm_up: float
) -> list[str]:
    """The database stops for `down_s` under `count` agents, then starts again."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE netstats.samples, netstats.rollups")
    fleet = Fleet(dsn, count, folder)
    try:
        time.sleep(warm_up)
        before = time.monotonic()
        time.sleep(60)
        normal = sum(1 for c in fleet.calls if c[3] and c[0] >= before) / 60
        print(f"  database down for {down_s:.0f} s", flush=True)
        cluster.stop()
        stopped = time.monotonic()
        time.sleep(down_s)
        queued = fleet.queued()
        cluster.start()
        back, restarted = time.monotonic(), datetime.now(UTC)
        drained = None
        while time.monotonic() - back < 900:
            time.sleep(2)
            left = fleet.backlog(restarted)
            print(
                f"  {time.monotonic() - back:.0f} s after the restart: {left:,} agents still hold"
                " samples from before it",
                flush=True,
            )
            if left == 0:
                drained = time.monotonic() - back
                break
    finally:
        fleet.stop()
    per_second: dict[int, int] = {}
    for at, _, _, ok in fleet.calls:
        if ok and at >= back:
            per_second[int(at - back)] = per_second.get(int(at - back), 0) + 1
    failed = sum(1 for at, _, _, ok in fleet.calls if not ok and stopped <= at < back)
    peak_at, peak = max(per_second.items(), key=lambda kv: kv[1], default=(0, 0))
    first_minute = [per_second.get(s, 0) for s in range(60)]
    return [
        "| measure | figure |",
        "|---|---|",
        f"| ingest calls/s before the outage (every agent uploading once a minute) | {normal:.1f} |",
        f"| failed upload attempts while the database was down ({down_s:.0f} s) | {failed:,} "
        f"({failed / down_s:.1f}/s) |",
        f"| samples queued in the spools when it came back | {queued:,} |",
        f"| peak ingest calls/s after it came back | **{peak}** (second {peak_at} after the restart) |",
        "| ingest calls/s in the first minute back, 10 s at a time | "
        + ", ".join(f"{sum(first_minute[i : i + 10]) / 10:.1f}" for i in range(0, 60, 10))
        + " |",
        f"| time until every agent had uploaded all it took before the restart | **{drained:.0f} s** |"
        if drained is not None
        else "| time until every agent had uploaded all it took before the restart | not within 900 s |",
    ]


def process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", default="100,1000,2000", help="fleet sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=120, help="measured time per size")
    parser.add_argument("--outage", type=float, default=120, help="seconds down; 0: none")
    parser.add_argument("--outage-agents", type=int, default=1000)
    parser.add_argument("--warm-up", type=float, default=WARM_UP_S, help="seconds before measuring")
    args = parser.parse_args()
    sizes = [int(n) for n in args.agents.split(",")]
    logging.basicConfig(level=logging.ERROR)  # thousands of agents' routine lines
    # each agent holds its spool (and its WAL, lock and marker) and a socket open
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        print("starting PostgreSQL 15 …", flush=True)
        settings = {
            "shared_buffers": "'1GB'",
            "max_connections": str(max(sizes + [args.outage_agents]) + 20),
        }
        cluster = start_cluster(SYSTEM_PG15, Path(tmp) / "data", settings)
        try:
            dsn = datasets.migrated(cluster, "fleet")
            for count in sizes:
                print(f"{count:,} agents …", flush=True)
                folder = Path(tmp) / f"spools-{count}"
                rows.append(steady(cluster, dsn, count, args.seconds, folder, args.warm_up))
                shutil.rmtree(folder)
                print(rows[-1], flush=True)
            recovery = []
            if args.outage:
                print(f"{args.outage_agents:,} agents, database down {args.outage:.0f} s …")
                folder = Path(tmp) / "spools-outage"
                recovery = outage(
                    cluster, dsn, args.outage_agents, args.outage, folder, args.warm_up
                )
        finally:
            cluster.stop()
    print(
        "\n".join(
            [
                "| agents | ingest calls/s | samples/s | ingest p50 / p99 ms | failed calls "
                "| database CPU (100% = one core) | simulator CPU | agents' lateness p99 ms "
                "| reader p50 / p99 ms | database memory (PSS) "
                "| busy backends at a time, by what they wait for |",
                "|---|---|---|---|---|---|---|---|---|---|---|",
                *rows,
                "",
                *recovery,
            ]
        )
    )


if __name__ == "__main__":
    main()
