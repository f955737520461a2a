"""Agent benchmarks: CPU per hour at a 10 s interval, peak RSS per transport, the cost of
one tick, and how fast a 1,000,000-sample backlog drains into a local database."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from netstats.agent import Agent
from netstats.agent.deltas import Counters, State
from netstats.agent.transports import PostgresTransport
from netstats.config import AgentSettings
from netstats.sample import Sample

# A child process that runs the real agent loop (real psutil, real spool, real database) and
# prints its own CPU time and peak RSS when stopped.
CHILD = textwrap.dedent(
    """
    import signal, sys, threading, time
    from pathlib import Path
    from netstats.agent import Agent
    from netstats.config import AgentSettings, Database
    from netstats.agent.transports import connect
    settings = AgentSettings(host="bench", interval_s=float(sys.argv[1]), spool=Path(sys.argv[2]))
    agent = Agent(settings, connect(Database.from_env()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    start = time.process_time()
    ticks = [0]
    tick = agent.tick
    def counted():
        ticks[0] += 1
        return tick()
    agent.tick = counted
    agent.run(stop)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
    hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
    print(time.process_time() - start, ticks[0], hwm)
    """
)


def loop_cost(env: dict[str, str], seconds: float, interval: float) -> tuple[float, int, int]:
    """CPU seconds of the loop, ticks done, peak RSS in KiB."""
    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(interval), str(Path(tmp) / "spool.sqlite3")],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(seconds)
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=30)
    cpu, ticks, rss = out.split()
    return float(cpu), int(ticks), int(rss)


def drain(dsn: str, count: int) -> tuple[float, float]:
    """Seconds to fill a spool with `count` samples, and to drain it into the database."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = AgentSettings(host="drain", interval_s=10, spool=Path(tmp) / "spool.sqlite3")
        agent = Agent(settings, PostgresTransport(dsn))
        # every sample in the past: 10 s apart per interface, ending a day ago
        start = datetime.now(UTC) - timedelta(days=1, seconds=10 * count // 2)
        began = time.perf_counter()
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
                samples, State(1.0, start, 0.0, {"eth0": Counters(0, 0)}, frozenset())
            )
        filled = time.perf_counter() - began
        began = time.perf_counter()
        agent.flush()
        drained = time.perf_counter() - began
        assert agent.spool.depth() == 0
        agent.close()
    return filled, drained


def report(dsn: str, supabase_env: dict[str, str], quick: bool) -> list[str]:
    seconds = 10 if quick else 60
    interval = 0.1
    cpu, ticks, rss_pg = loop_cost({"NETSTATS_DATABASE_URL": dsn}, seconds, interval)
    per_tick = cpu / max(ticks, 1)
    _, _, rss_sb = loop_cost(supabase_env, 5, 1.0)
    count = 100_000 if quick else 1_000_000
    _, drained = drain(dsn, count)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return [
        "| measure | figure | target |",
        "|---|---|---|",
        f"| CPU per tick (read counters, delta, spool commit, upload), {ticks:,} ticks | {per_tick * 1000:.2f} ms | |",
        f"| CPU per hour at a 10 s interval (360 ticks) | **{per_tick * 360:.2f} s** | at most 2 s |",
        f"| peak RSS, Postgres transport | **{rss_pg / 1024:.1f} MiB** | at most 40 MiB |",
        f"| peak RSS, Supabase transport (postgrest-py, the RPC client of supabase-py) | **{rss_sb / 1024:.1f} MiB** | at most 60 MiB |",
        f"| drain a {count:,}-sample backlog into a local database | **{count / drained:,.0f} samples/s** ({drained:.1f} s) | at least 20,000 samples/s |",
        f"| (the bench process itself peaked at {own / 1024:.0f} MiB) | | |",
    ]
