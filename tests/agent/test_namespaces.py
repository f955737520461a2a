"""The agent against real kernel counters, in network namespaces this test creates.

The database is reached over a Unix socket, which crosses namespaces and never touches the
counted interfaces; the only traffic on them is what the test sends. At the end, the
database must hold exactly the kernel's counter increase, sent and received, whatever
happened in between: SIGKILL, a stopped database, SIGTERM, an interface deleted and re-created.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from netstats import db
from netstats.agent.spool import Spool
from tests.conftest import create_database, start

SENDER = textwrap.dedent(
    """
    import socket, sys, threading, time
    host, total, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    server = socket.create_server((host, 0))
    port = server.getsockname()[1]
    def drain():
        conn, _ = server.accept()
        while conn.recv(65536):
            pass
    reader = threading.Thread(target=drain)
    reader.start()
    client = socket.create_connection((host, port))
    chunk, steps = b"x" * (total // 20), 20
    for _ in range(steps):
        client.sendall(chunk)
        time.sleep(seconds / steps)
    client.close()
    reader.join()
    """
)


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def make_namespace() -> str:
    name = f"nstest-{uuid.uuid4().hex[:8]}"
    try:
        sh("ip", "netns", "add", name)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot create network namespaces here ({exc}); run as root with iproute2")
    # No IPv6 chatter (router solicitations, DAD): only the test's own traffic moves.
    sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
    sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
    return name


@pytest.fixture
def namespaces() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def database(tmp_path):
    cluster = start("pg15", tmp_path / "pg")
    dsn = create_database(cluster, "counted")
    db.upgrade(dsn)
    yield cluster, dsn
    cluster.stop()


def kernel(ns: str, iface: str) -> tuple[int, int]:
    stats = f"/sys/class/net/{iface}/statistics"
    out = sh("ip", "netns", "exec", ns, "cat", f"{stats}/tx_bytes", f"{stats}/rx_bytes").split()
    return int(out[0]), int(out[1])


def send(ns: str, host: str, total: int, seconds: float = 1.0) -> None:
    sh("ip", "netns", "exec", ns, sys.executable, "-c", SENDER, host, str(total), str(seconds))


class AgentProcess:
    def __init__(self, ns: str, dsn: str, spool: Path, iface: str) -> None:
        env = {
            **os.environ,
            "NETSTATS_DATABASE_URL": dsn,
            "NETSTATS_INTERFACES": iface,
            "NETSTATS_SPOOL": str(spool),
            "NETSTATS_HOST": f"{ns}-host",
            "NETSTATS_INTERVAL": "1",
        }
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "netstats.cli", "agent"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def signal(self, signum: int) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=15)
        assert self.proc.stderr is not None
        self.log = self.proc.stderr.read().decode()
        self.proc.stderr.close()
        return code


def wait_for_state(spool_path: Path, ticks_after: float = 0.0):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if spool_path.exists():
            spool = Spool.read_only(spool_path)
            state = spool.state()
            spool.close()
            if state is not None and (ticks_after == 0 or state.monotonic >= ticks_after):
                return state
        time.sleep(0.1)
    raise AssertionError("the agent wrote no state in 20 s")


def stored(dsn: str, host: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT bytes_sent, bytes_recv FROM netstats_totals('all', host => %s)", [host]
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_loopback_traffic_is_counted_exactly_through_kill_outage_and_stop(
    database, namespaces, tmp_path
):
    cluster, dsn = database
    ns = make_namespace()
    namespaces.append(ns)
    spool = tmp_path / "spool.sqlite3"

    first = AgentProcess(ns, dsn, spool, "lo")
    baseline = wait_for_state(spool).counters["lo"]
    send(ns, "127.0.0.1", 2_000_000)
    time.sleep(1.5)
    assert first.signal(signal.SIGKILL) == -signal.SIGKILL

    send(ns, "127.0.0.1", 1_000_000)  # while no agent runs
    second = AgentProcess(ns, dsn, spool, "lo")
    time.sleep(2.5)
    cluster.stop()  # the database goes away; the agent keeps counting into its spool
    send(ns, "127.0.0.1", 1_500_000, seconds=2)
    time.sleep(1.5)
    cluster.start()
    send(ns, "127.0.0.1", 500_000)
    time.sleep(1.5)
    assert second.signal(signal.SIGTERM) == 0, second.log

    final = kernel(ns, "lo")
    left = Spool.read_only(spool)
    status = left.status()
    left.close()
    assert status.quarantined == []
    if status.depth:  # the final flush had only a few seconds; a one-shot run sends the rest
        subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "netstats.cli", "agent", "--once"],
            env={
                **os.environ,
                "NETSTATS_DATABASE_URL": dsn,
                "NETSTATS_INTERFACES": "lo",
                "NETSTATS_SPOOL": str(spool),
                "NETSTATS_HOST": f"{ns}-host",
            },
            check=True,
            capture_output=True,
        )
    assert final[0] - baseline.bytes_sent > 5_000_000
    assert stored(dsn, f"{ns}-host") == (
        final[0] - baseline.bytes_sent,
        final[1] - baseline.bytes_recv,
    )


def test_an_interface_deleted_and_recreated_is_counted_exactly(database, namespaces, tmp_path):
    _, dsn = database
    a, b = make_namespace(), make_namespace()
    namespaces.extend([a, b])

    def link() -> None:
        sh("ip", "link", "add", "v0", "netns", a, "type", "veth", "peer", "name", "v1", "netns", b)
        sh("ip", "-n", a, "addr", "add", "192.0.2.1/24", "dev", "v0")
        sh("ip", "-n", b, "addr", "add", "192.0.2.2/24", "dev", "v1")
        sh("ip", "-n", a, "link", "set", "v0", "up")
        sh("ip", "-n", b, "link", "set", "v1", "up")

    link()
    spool = tmp_path / "spool.sqlite3"
    agent = AgentProcess(a, dsn, spool, "v0")
    baseline = wait_for_state(spool).counters["v0"]
    # the server end lives in namespace b: traffic crosses the veth pair
    server = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c", SINK], stdout=subprocess.PIPE
    )
    assert server.stdout is not None and server.stdout.readline() == b"ready\n"
    push(a, 3_000_000)
    time.sleep(2.5)  # a tick after the traffic: the agent has seen every byte of the old link
    before_delete = kernel(a, "v0")
    sh("ip", "-n", a, "link", "del", "v0")
    time.sleep(1.5)
    link()
    push(a, 2_000_000)
    time.sleep(2.5)
    assert agent.signal(signal.SIGTERM) == 0, agent.log
    after = kernel(a, "v0")
    server.kill()
    server.wait()
    server.stdout.close()
    expected = (
        before_delete[0] - baseline.bytes_sent + after[0],
        before_delete[1] - baseline.bytes_recv + after[1],
    )
    assert expected[0] > 5_000_000
    assert stored(dsn, f"{a}-host") == expected


SINK = textwrap.dedent(
    """
    import socket
    server = socket.create_server(("192.0.2.2", 7000))
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        while conn.recv(65536):
            pass
        conn.close()
    """
)


def push(ns: str, total: int) -> None:
    code = textwrap.dedent(
        f"""
        import socket, time
        c = socket.create_connection(("192.0.2.2", 7000))
        for _ in range(20):
            c.sendall(b"x" * {total // 20})
            time.sleep(0.05)
        c.close()
        """
    )
    sh("ip", "netns", "exec", ns, sys.executable, "-c", code)
