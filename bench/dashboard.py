"""The dashboard under live load: page requests while hundreds of live charts stay open.

`python -m bench.dashboard DSN` (or from bench.run) starts the real `netstats dashboard`
process on a migrated database, ingests one sample a second, and times `/api/totals` and
`/api/history` from a client of their own, first with no live chart open (the baseline),
then with 500 open `/api/stream` connections held by another process, which counts the
events each stream receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

STREAMS = 500
SECONDS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(dsn: str) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    rows = [
        {
            "host": f"bot-{h}",
            "iface": "eth0",
            "sampled_at": (start + timedelta(seconds=10 * i)).isoformat(),
            "interval_s": 10,
            "bytes_sent": 1_000_000,
            "bytes_recv": 2_000_000,
        }
        for h in range(2)
        for i in range(2000)
    ]
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(0, len(rows), 1000):
            conn.execute("SELECT netstats_ingest(%s::jsonb)", [json.dumps(rows[i : i + 1000])])


def ingest_every_second(dsn: str, stop: threading.Event) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.wait(1.0):
            sample = {
                "host": "bot-0",
                "iface": "eth0",
                "sampled_at": datetime.now(UTC).isoformat(),
                "interval_s": 1,
                "bytes_sent": 1000,
                "bytes_recv": 2000,
            }
            conn.execute("SELECT netstats_ingest(%s::jsonb)", [json.dumps([sample])])


def page_requests(url: str, seconds: float) -> list[float]:
    """Latency of the page's own requests, one every 50 ms."""
    out = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < deadline:
            for path in ("/api/totals?period=today", "/api/history?period=today"):
                began = time.perf_counter()
                assert client.get(path).status_code == 200
                out.append(time.perf_counter() - began)
            time.sleep(0.05)
    return out


async def hold_streams(url: str, count: int, seconds: float) -> None:
    """Another process's worth of browsers: `count` open live charts, half on one host."""
    limits = httpx.Limits(max_connections=count + 10)
    events = [0] * count

    async with httpx.AsyncClient(base_url=url, timeout=None, limits=limits) as client:

        async def one(i: int, opened: asyncio.Event) -> None:
            path = "/api/stream" + ("?host=bot-0" if i % 2 else "")
            async with client.stream("GET", path) as response:
                assert response.status_code == 200, response.status_code
                opened.set()
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        events[i] += 1

        opened = [asyncio.Event() for _ in range(count)]
        tasks = [asyncio.create_task(one(i, opened[i])) for i in range(count)]
        await asyncio.gather(*(e.wait() for e in opened))
        print("open", flush=True)
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"min": min(events), "median": statistics.median(events)}), flush=True)


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95, p99 = (ordered[int(len(ordered) * q)] * 1000 for q in (0.95, 0.99))
    return f"{statistics.median(ordered) * 1000:.1f} / {p95:.1f} / {p99:.1f} / {ordered[-1] * 1000:.1f}"


@contextlib.contextmanager
def serving(dsn: str, **env: str) -> Iterator[str]:
    """The real `netstats dashboard` process on `dsn` (no token: loopback), until the block
    ends; yields its URL once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "NETSTATS_DATABASE_URL": dsn, **env}
    environment.pop("NETSTATS_DASHBOARD_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "netstats.cli", "dashboard", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/api/hosts").raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def report(dsn: str, streams: int = STREAMS, seconds: float = SECONDS) -> list[str]:
    seed(dsn)
    stop = threading.Event()
    ingester = threading.Thread(target=ingest_every_second, args=(dsn, stop))
    with serving(dsn) as url:
        try:
            ingester.start()
            alone = page_requests(url, seconds)
            holder = subprocess.Popen(
                [sys.executable, "-m", "bench.dashboard", "--hold", url, str(streams),
                 str(seconds + 5)],
                stdout=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "open"
            loaded = page_requests(url, seconds)
            counts = json.loads(holder.stdout.readline())
            holder.wait(60)
        finally:
            stop.set()
            if ingester.is_alive():
                ingester.join()
    ratio = statistics.median(loaded) / statistics.median(alone)
    return [
        "| open live charts | page requests: median / p95 / p99 / max ms | events per stream |",
        "|---|---|---|",
        f"| 0 (baseline) | {ms(alone)} | |",
        f"| {streams} | {ms(loaded)} (median {ratio:.2f}x the baseline) "
        f"| min {counts['min']}, median {counts['median']:.0f} over {seconds + 5:.0f} s |",
    ]


if __name__ == "__main__":
    if sys.argv[1] == "--hold":
        asyncio.run(hold_streams(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
    else:
        print("\n".join(report(sys.argv[1])))
