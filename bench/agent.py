"""The agent as it really runs: `netstats agent` at its 10 s cadence, next to vnstatd.

Every daemon runs at the same time, on the same machine, watching the same interface, for
SECONDS after WARMUP_S of start-up. CPU comes from /proc/PID/task/*/schedstat (nanoseconds
on the CPU, every thread; utime/stime are charged in whole clock ticks and mislead for short
bursts), peak RSS from VmHWM, wake-ups from the context switches of every thread. Then the
in-bot agent runs in an asyncio program beside an identical one without it, BOT_SECONDS; a
heartbeat in each measures how late the event loop answers.

    python -m bench.agent [--seconds 300]    (bench.run includes it)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from netstats.agent import Agent
from netstats.agent.deltas import Counters, State
from netstats.agent.transports import PostgresTransport
from netstats.config import AgentSettings
from netstats.sample import Sample

WARMUP_S = 30
SECONDS = 300
BOT_SECONDS = 120
INTERVAL_S = 10

# An asyncio program with the agent the way the bot runs it (argv[1] == "agent") or without
# it, and a heartbeat every 20 ms (argv[3] == "beat") or none. Prints the heartbeat's lateness
# when stopped.
BOT = textwrap.dedent(
    """
    import asyncio, json, signal, sys, time
    async def main():
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        began, late = time.monotonic(), []
        async def heartbeat():
            while not stop.is_set():
                before = time.monotonic()
                await asyncio.sleep(0.02)
                if before - began > float(sys.argv[2]):
                    late.append(time.monotonic() - before - 0.02)
        tasks = [asyncio.create_task(heartbeat() if sys.argv[3] == "beat" else stop.wait())]
        if sys.argv[1] == "agent":
            from netstats.agent import Agent
            from netstats.agent.transports import connect
            from netstats.config import AgentSettings, Database
            agent = await asyncio.to_thread(
                lambda: Agent(AgentSettings.from_env(), connect(Database.from_env()))
            )
            tasks.append(asyncio.create_task(agent.run_async(stop)))
        await asyncio.gather(*tasks)
        print(json.dumps(late))
    asyncio.run(main())
    """
)


@dataclass
class Daemon:
    label: str
    process: subprocess.Popen[str]
    cpu_ns: int = 0
    switches: int = 0
    main_ns: int = 0
    faults: tuple[int, int] = (0, 0)
    out: str = ""
    figures: dict[str, float] = field(default_factory=dict)

    def mark(self) -> None:
        self.cpu_ns, self.switches = cpu_ns(self.process.pid), switches(self.process.pid)
        self.main_ns = thread_ns(self.process.pid, self.process.pid)
        self.faults = faults(self.process.pid)

    def measure(self, seconds: float) -> None:
        pid = self.process.pid
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.label} exited early with {self.process.returncode}")
        hour = 3600 / seconds
        self.figures = {
            "cpu_s_per_h": (cpu_ns(pid) - self.cpu_ns) / 1e9 * hour,
            "main_s_per_h": (thread_ns(pid, pid) - self.main_ns) / 1e9 * hour,
            "wakeups_per_min": (switches(pid) - self.switches) * 60 / seconds,
            "rss_mib": status(pid, "VmHWM") / 1024,
            "minor_faults_per_min": (faults(pid)[0] - self.faults[0]) * 60 / seconds,
            "major_faults": faults(pid)[1] - self.faults[1],
        }

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.out, _ = self.process.communicate(timeout=60)


def faults(pid: int) -> tuple[int, int]:
    """Minor and major page faults of the whole process (/proc/PID/stat fields 10 and 12):
    pages the kernel took away while the daemon slept cost CPU when it wakes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[9])


def damon_pageout() -> str | None:
    """Some VMs run DAMON to page out memory nobody touched for a while (this bench's
    machine: file-backed pages idle 60 s). A daemon at a 10 s cadence whose upload runs once a
    minute may then fault its code back in: say so next to the figures."""
    for scheme in Path("/sys/kernel/mm/damon/admin/kdamonds").glob("*/contexts/*/schemes/*"):
        try:
            if (scheme / "action").read_text().strip() == "pageout":
                age = int((scheme / "access_pattern/age/min").read_text())
                intervals = scheme.parents[1] / "monitoring_attrs/intervals/aggr_us"
                return f"{age * int(intervals.read_text()) / 1e6:.0f} s"
        except (OSError, ValueError):
            continue
    return None


def thread_ns(pid: int, tid: int) -> int:
    return int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])


def cpu_ns(pid: int) -> int:
    """Every thread's time on the CPU, exact to the nanosecond (threads that ended are lost:
    the agent's threads live as long as it does)."""
    return sum(thread_ns(pid, int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir())


def switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def start_vnstatd(folder: Path, iface: str) -> Daemon | None:
    """vnstatd with its default settings, its database in `folder`, watching `iface`."""
    if shutil.which("vnstatd") is None:
        return None
    config = folder / "vnstat.conf"
    config.write_text(f'DatabaseDir "{folder}"\nUseLogging 0\nPidFile "{folder}/pid"\n')
    subprocess.run(["vnstatd", "--config", config, "--initdb"], check=True, capture_output=True)
    subprocess.run(
        ["vnstat", "--config", config, "--add", "-i", iface], check=True, capture_output=True
    )
    version = subprocess.run(["vnstatd", "--version"], capture_output=True, text=True).stdout
    process = subprocess.Popen(
        ["vnstatd", "-n", "--config", config], stdout=subprocess.DEVNULL, text=True
    )
    return Daemon(f"vnstatd {version.split()[2]}, default settings", process)


def start_agent(
    label: str, env: dict[str, str], folder: Path, within: tuple[str, ...] = ()
) -> Daemon:
    """`netstats agent`, run through `within` (nsenter into a namespace) when given."""
    netstats = Path(sys.executable).with_name("netstats")
    process = subprocess.Popen(
        [*within, str(netstats), "agent"],
        env={
            **os.environ,
            **env,
            "NETSTATS_HOST": label,
            "NETSTATS_SPOOL": str(folder / "spool.sqlite3"),
            "NETSTATS_INTERVAL": str(INTERVAL_S),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return Daemon(label, process)


def start_bot(label: str, env: dict[str, str], folder: Path, agent: bool, beat: bool) -> Daemon:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            BOT,
            "agent" if agent else "none",
            str(WARMUP_S),
            "beat" if beat else "quiet",
        ],
        env={
            **os.environ,
            **env,
            "NETSTATS_HOST": label,
            "NETSTATS_SPOOL": str(folder / "spool.sqlite3"),
            "NETSTATS_INTERVAL": str(INTERVAL_S),
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    return Daemon(label, process)


SERVICES = 10


@contextlib.contextmanager
def service_cgroups() -> Iterator[tuple[tuple[str, ...], list[str]] | None]:
    """A network namespace of its own (the agents' nftables table stays out of the host's)
    and SERVICES idle cgroups: (the nsenter prefix, their paths); None where this machine
    cannot count services (not root, no nft, no cgroup v2, no ip)."""
    from netstats.agent.services import cgroup2_root

    root = cgroup2_root()
    if os.geteuid() != 0 or root is None or not (shutil.which("nft") and shutil.which("ip")):
        yield None
        return
    ns = f"netstats-bench-{os.getpid()}"
    top = root / ns
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    paths = [f"{ns}/svc-{i}.service" for i in range(SERVICES)]
    for path in paths:
        (root / path).mkdir(parents=True)
    try:
        yield ("nsenter", f"--net=/run/netns/{ns}"), paths
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
        for path in paths:
            (root / path).rmdir()
        top.rmdir()


def lag(daemon: Daemon) -> str:
    late = sorted(json.loads(daemon.out))
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
    return f"{statistics.median(late) * 1000:.2f} / {p99 * 1000:.2f} / {late[-1] * 1000:.1f}"


def together(daemons: list[Daemon], seconds: float, what: str) -> None:
    """Measure `daemons` over the same `seconds`, after WARMUP_S of start-up; then stop them."""
    try:
        print(f"  {what}: {WARMUP_S} s start-up, then {seconds:.0f} s measured …", flush=True)
        time.sleep(WARMUP_S)
        for daemon in daemons:
            daemon.mark()
        time.sleep(seconds)
        for daemon in daemons:
            daemon.measure(seconds)
    finally:
        for daemon in daemons:
            daemon.stop()


def cadence(dsn: str, supabase_env: dict[str, str], seconds: float) -> list[str]:
    """Every daemon at once, measured over the same `seconds` after start-up."""
    from netstats.agent.counters import Machine

    watched = list(Machine().read().counters)
    postgres = {"NETSTATS_DATABASE_URL": dsn}
    with tempfile.TemporaryDirectory() as tmp, service_cgroups() as services:
        folders = [Path(tmp) / str(i) for i in range(7)]
        for folder in folders:
            folder.mkdir()
        for i in range(4):
            (folders[4] / str(i)).mkdir()
        vnstatd = start_vnstatd(folders[0], watched[0]) if len(watched) == 1 else None
        daemons = [
            start_agent("agent-postgres", postgres, folders[1]),
            start_agent("agent-supabase", supabase_env, folders[2]),
            start_agent(
                "agent-every-tick", {**postgres, "NETSTATS_UPLOAD_EVERY": "10"}, folders[3]
            ),
        ]
        if services:  # the same agent in a namespace of its own, with and without services
            within, paths = services
            lo = {**postgres, "NETSTATS_INTERFACES": "lo"}
            daemons += [
                start_agent("agent-lo", lo, folders[5], within),
                start_agent(
                    "agent-lo-services",
                    {**lo, "NETSTATS_SERVICES": ",".join(paths)},
                    folders[6],
                    within,
                ),
            ]
        daemons += [vnstatd] if vnstatd else []
        together(daemons, seconds, f"{len(daemons)} daemons watching {', '.join(watched)}")
        # The bots' heartbeats wake 50 times a second: they would cool the daemons' caches.
        bots = [
            start_bot(f"bot-{i}", postgres, folders[4] / str(i), agent, beat)
            for i, (agent, beat) in enumerate(
                [(True, False), (False, False), (True, True), (False, True)]
            )
        ]
        together(bots, BOT_SECONDS, "asyncio programs with the agent and without")
    pg, sb, every_tick = (d.figures for d in daemons[:3])
    by_label = {d.label: d.figures for d in daemons}
    bot, alone = (d.figures for d in bots[:2])
    base = vnstatd.figures["cpu_s_per_h"] if vnstatd else None

    def row(label: str, f: dict[str, float], target: str) -> str:
        ratio = f"{f['cpu_s_per_h'] / base:.2f}x" if base else "(no vnstatd)"
        return (
            f"| {label} | {f['wakeups_per_min']:.0f} | **{f['cpu_s_per_h']:.2f}** | {ratio} | "
            f"**{f['rss_mib']:.1f} MiB** | {f['minor_faults_per_min']:.0f} / "
            f"{f['major_faults']:.0f} | {target} |"
        )

    ticks = BOT_SECONDS / INTERVAL_S
    lines = [
        f"Measured together for {seconds / 60:.0f} min after {WARMUP_S} s of start-up, every "
        f"daemon watching {', '.join(watched)}; the agents tick every {INTERVAL_S} s and upload "
        "every 60 s (the default) unless said otherwise. "
        + (
            "vnstatd runs with its default settings (counters read every 20 s, interfaces "
            "polled every 5 s, its database written every 5 min)."
            if vnstatd
            else "**vnstatd was not installed (or more than one interface is watched): the "
            "agent is measured alone, without a baseline.**"
        )
        + (
            f" **This machine's kernel pages out file-backed memory idle for {pageout} (DAMON):"
            " a daemon that sleeps between ticks may fault its code back in; the fault"
            " columns show how much.**"
            if (pageout := damon_pageout())
            else ""
        ),
        "",
        "| daemon | wake-ups per min | CPU-s per hour | vs vnstatd | peak RSS | page faults: minor per min / major | target |",
        "|---|---|---|---|---|---|---|",
    ]
    if vnstatd:
        f = vnstatd.figures
        lines.append(
            f"| {vnstatd.label} | {f['wakeups_per_min']:.0f} | {f['cpu_s_per_h']:.2f} | 1x | "
            f"{f['rss_mib']:.1f} MiB | {f['minor_faults_per_min']:.0f} / "
            f"{f['major_faults']:.0f} | |"
        )
    lines += [
        row("`netstats agent`, Postgres transport", pg, "CPU at most 2x vnstatd; 25 MiB"),
        row("`netstats agent`, Supabase transport (httpx)", sb, "CPU at most 2x vnstatd; 40 MiB"),
        row(
            "`netstats agent`, Postgres, `NETSTATS_UPLOAD_EVERY=10` (an upload every tick)",
            every_tick,
            "none: what the default saves",
        ),
    ]
    if "agent-lo-services" in by_label:
        lines += [
            row(
                "`netstats agent`, Postgres, in a network namespace of its own, counting `lo`",
                by_label["agent-lo"],
                "none: the baseline of the next row",
            ),
            row(
                f"the same, with `NETSTATS_SERVICES` naming {SERVICES} cgroups (nftables)",
                by_label["agent-lo-services"],
                "none: what counting services costs",
            ),
        ]
    else:
        lines.append(
            "| per-service counting | not measured: needs root, nft, cgroup v2 and ip | | | | | |"
        )
    lines += [
        "",
        "The in-bot agent (`NETSTATS_AGENT_IN_BOT=1`, Postgres transport, as the bot runs it): "
        "an idle asyncio program running `Agent.run_async`, beside the same program without "
        f"it, for {BOT_SECONDS / 60:.0f} min after the daemons above. The same pair again with "
        "a heartbeat that wakes every 20 ms: its lateness is how long the event loop was kept "
        "from it.",
        "",
        "| measure | with the agent | without |",
        "|---|---|---|",
        f"| CPU on the event loop's thread, per tick | "
        f"**{(bot['main_s_per_h'] - alone['main_s_per_h']) / 3600 * BOT_SECONDS / ticks * 1000:.2f} ms** "
        "more | |",
        f"| CPU of the whole process, per hour | {bot['cpu_s_per_h']:.2f} s | "
        f"{alone['cpu_s_per_h']:.2f} s |",
        f"| heartbeat lateness, median / p99 / max ms | {lag(bots[2])} | {lag(bots[3])} |",
        f"| peak RSS | {bot['rss_mib']:.1f} MiB | {alone['rss_mib']:.1f} MiB |",
    ]
    return lines


def drain(dsn: str, count: int) -> float:
    """Seconds to drain a spool of `count` samples into the database."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = AgentSettings(host="drain", interval_s=10, spool=Path(tmp) / "spool.sqlite3")
        agent = Agent(settings, PostgresTransport(dsn))
        # every sample in the past: 10 s apart per interface, ending a day ago
        start = datetime.now(UTC) - timedelta(days=1, seconds=10 * count // 2)
        for chunk in range(0, count, 10_000):
            samples = [
                Sample(
                    "drain",
                    ("eth0", "ens3")[i % 2],
                    start + timedelta(seconds=10 * (i // 2)),
                    10.0,
                    i,
                    2 * i,
                )
                for i in range(chunk, min(count, chunk + 10_000))
            ]
            agent.spool.commit_tick(
                samples, State("bench", start, 0.0, {"eth0": Counters(0, 0)}, frozenset())
            )
        began = time.perf_counter()
        agent.flush()
        drained = time.perf_counter() - began
        assert agent.spool.depth() == 0
        agent.close()
    return drained


def report(dsn: str, supabase_env: dict[str, str], quick: bool) -> list[str]:
    lines = cadence(dsn, supabase_env, 60 if quick else SECONDS)
    count = 100_000 if quick else 1_000_000
    drained = drain(dsn, count)
    return lines + [
        "",
        "| backlog | figure | target |",
        "|---|---|---|",
        f"| drain {count:,} queued samples into a local database (after an outage) | "
        f"**{count / drained:,.0f} samples/s** ({drained:.1f} s) | at least 20,000 samples/s |",
    ]


def main() -> None:
    import psycopg

    from netstats import db
    from netstats.db.cluster import SYSTEM_PG15, start_cluster
    from tests.support.postgrest import serve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cluster = start_cluster(SYSTEM_PG15, Path(tmp) / "data", {})
        try:
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE ingest")
            db.upgrade(cluster.dsn("ingest"))
            with serve(cluster.dsn("ingest")) as (url, _):
                env = {"SUPABASE_URL": url, "SUPABASE_KEY": "agent-key"}
                print("\n".join(cadence(cluster.dsn("ingest"), env, args.seconds)))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
