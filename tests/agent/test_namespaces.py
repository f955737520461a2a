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
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from netstats.agent.deltas import Counters
from netstats.agent.spool import Spool
from tests.support.netns import kernel, make_namespace, send, sh, wait_for_state


class AgentProcess:
    def __init__(self, ns: str, dsn: str, spool: Path, iface: str, interval: int = 1) -> None:
        env = {
            **os.environ,
            "NETSTATS_DATABASE_URL": dsn,
            "NETSTATS_INTERFACES": iface,
            "NETSTATS_SPOOL": str(spool),
            "NETSTATS_HOST": f"{ns}-host",
            "NETSTATS_INTERVAL": str(interval),
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


def veth(a: str, b: str, name: str, peer: str, net: str) -> None:
    """A veth pair, `name` in namespace a (net.1) and `peer` in b (net.2), both up."""
    sh("ip", "link", "add", name, "netns", a, "type", "veth", "peer", "name", peer, "netns", b)
    sh("ip", "-n", a, "addr", "add", f"{net}.1/24", "dev", name)
    sh("ip", "-n", b, "addr", "add", f"{net}.2/24", "dev", peer)
    sh("ip", "-n", a, "link", "set", name, "up")
    sh("ip", "-n", b, "link", "set", peer, "up")


SINK = textwrap.dedent(
    """
    import socket, threading
    server = socket.create_server(("0.0.0.0", 7000))
    print("ready", flush=True)
    def drain(conn):
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass
        conn.close()
    while True:
        threading.Thread(target=drain, args=(server.accept()[0],), daemon=True).start()
    """
)

# Sends `total` bytes to host:7000 over `seconds`; a link taken away mid-burst ends it early.
PUSH = textwrap.dedent(
    """
    import socket, sys, time
    host, total, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    try:
        c = socket.create_connection((host, 7000), timeout=2)
        for _ in range(20):
            c.sendall(b"x" * (total // 20))
            time.sleep(seconds / 20)
        c.close()
    except OSError:
        pass
    """
)


def push(ns: str, host: str, total: int, seconds: float = 1.0) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-c", PUSH, host, str(total), str(seconds)]
    )


def pushed(ns: str, host: str, total: int, seconds: float = 1.0) -> None:
    assert push(ns, host, total, seconds).wait(timeout=30) == 0
    time.sleep(0.2)  # the connection's last packets


@pytest.fixture
def sink(namespaces) -> Iterator[tuple[str, str]]:
    """Namespaces a and b, and a server in b that takes whatever arrives on port 7000."""
    a, b = make_namespace(), make_namespace()
    namespaces.extend([a, b])
    server = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c", SINK], stdout=subprocess.PIPE
    )
    assert server.stdout is not None and server.stdout.readline() == b"ready\n"
    yield a, b
    server.kill()
    server.wait()
    server.stdout.close()


def add(*counters: tuple[int, int]) -> tuple[int, int]:
    return sum(c[0] for c in counters), sum(c[1] for c in counters)


def macvlan(ns: str, name: str, lower: str, address: str) -> None:
    """A macvlan link (as container networks use) over `lower`, up, with `address`/24. The
    kernel keeps its counters itself, so its removal announces them whole, both ways."""
    sh("ip", "-n", ns, "link", "add", name, "link", lower, "type", "macvlan", "mode", "bridge")
    sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", name)
    sh("ip", "-n", ns, "link", "set", name, "up")


def test_links_deleted_between_ticks_are_counted_to_their_last_byte(database, sink, tmp_path):
    """vnStat loses (or invents) what a link carried after its last poll; the kernel's
    removal announcement holds the final counters, and netstats counts them."""
    _, dsn = database
    a, b = sink
    veth(a, b, "v0", "v1", "192.0.2")
    macvlan(a, "m0", "v0", "198.51.100.1")
    sh("ip", "-n", b, "addr", "add", "198.51.100.2/24", "dev", "v1")
    spool = tmp_path / "spool.sqlite3"
    agent = AgentProcess(a, dsn, spool, "m0", interval=3)
    baseline = wait_for_state(spool).counters["m0"]
    finals = []
    for _ in range(4):  # each link lives ~1.2 s, ticks are 3 s apart: most die between two
        pushed(a, "198.51.100.2", 2_000_000)
        finals.append(kernel(a, "m0"))
        sh("ip", "-n", a, "link", "del", "m0")
        macvlan(a, "m0", "v0", "198.51.100.1")
    pushed(a, "198.51.100.2", 1_000_000)
    finals.append(kernel(a, "m0"))
    assert agent.signal(signal.SIGTERM) == 0, agent.log
    expected = add(*finals, (-baseline.bytes_sent, -baseline.bytes_recv))
    assert expected[0] > 9_000_000
    assert stored(dsn, f"{a}-host") == expected


def test_a_deleted_veth_counts_what_it_sent_to_the_byte_and_invents_nothing(
    database, sink, tmp_path
):
    """A veth's received bytes are counted on its peer, which the kernel unlinks before it
    announces the removal: the announcement says 0 received (seen on Linux 6.18). What it
    sent is exact; what it received after the last tick is lost, never made up."""
    _, dsn = database
    a, b = sink
    veth(a, b, "v0", "v1", "192.0.2")
    spool = tmp_path / "spool.sqlite3"
    agent = AgentProcess(a, dsn, spool, "v0", interval=3)
    baseline = wait_for_state(spool).counters["v0"]
    finals = []
    for k in range(3):
        pushed(a, "192.0.2.2", 2_000_000)
        finals.append(kernel(a, "v0"))
        if k == 0:  # one tick sees received bytes (on a busy machine three rounds fit in one)
            wait_for_state(spool, ticks_after=time.monotonic())
        sh("ip", "-n", a, "link", "del", "v0")
        veth(a, b, "v0", "v1", "192.0.2")
    finals.append(kernel(a, "v0"))
    assert agent.signal(signal.SIGTERM) == 0, agent.log
    sent, received = add(*finals, (-baseline.bytes_sent, -baseline.bytes_recv))
    got_sent, got_received = stored(dsn, f"{a}-host")
    assert got_sent == sent > 6_000_000
    assert 0 < got_received <= received


def test_links_taken_away_mid_burst_and_churning_links_are_counted_exactly(
    database, sink, namespaces, tmp_path
):
    """A steady stream on s0 while 20 container-style links come and go beside it; every
    other one is taken away mid-burst. A link moved to another namespace is removed here
    just as a deleted one is (the same announcement), and its counters can still be read
    there afterwards: the truth for a removal mid-burst."""
    _, dsn = database
    a, b = sink
    elsewhere = make_namespace()
    namespaces.append(elsewhere)
    veth(a, b, "v0", "v1", "192.0.2")
    macvlan(a, "s0", "v0", "198.51.100.1")
    sh("ip", "-n", b, "addr", "add", "198.51.100.2/24", "dev", "v1")
    for k in range(20):
        sh("ip", "-n", b, "addr", "add", f"10.9.{k}.2/24", "dev", "v1")
    spool = tmp_path / "spool.sqlite3"
    agent = AgentProcess(a, dsn, spool, "s0,c*")
    baseline = wait_for_state(spool).counters["s0"]
    steady = push(a, "198.51.100.2", 20_000_000, seconds=12)
    finals = []
    for k in range(20):
        macvlan(a, f"c{k}", "v0", f"10.9.{k}.1")
        if k % 2:
            burst = push(a, f"10.9.{k}.2", 4_000_000, seconds=1)
            time.sleep(0.3)
            sh("ip", "-n", a, "link", "set", f"c{k}", "netns", elsewhere)
            burst.wait(timeout=30)
            time.sleep(0.2)
            finals.append(kernel(elsewhere, f"c{k}"))
            sh("ip", "-n", elsewhere, "link", "del", f"c{k}")
        else:
            pushed(a, f"10.9.{k}.2", 300_000, seconds=0.2)
            finals.append(kernel(a, f"c{k}"))
            sh("ip", "-n", a, "link", "del", f"c{k}")
    assert steady.wait(timeout=60) == 0
    time.sleep(0.2)
    finals.append(add(kernel(a, "s0"), (-baseline.bytes_sent, -baseline.bytes_recv)))
    assert agent.signal(signal.SIGTERM) == 0, agent.log
    assert all(f[0] > 0 and f[1] > 0 for f in finals)
    assert stored(dsn, f"{a}-host") == add(*finals)


def test_a_link_replaced_while_the_agent_is_down_counts_as_a_new_link(database, sink, tmp_path):
    """Killed, then its link deleted and re-created before it starts again: what the old
    link carried after the last tick was announced to no one and is lost, but the new link
    is told apart by its index and counted whole, even though its counter is higher than
    the old one's (a counter that merely went up would look like the same link)."""
    _, dsn = database
    a, b = sink
    veth(a, b, "v0", "v1", "192.0.2")
    spool = tmp_path / "spool.sqlite3"
    first = AgentProcess(a, dsn, spool, "v0")
    baseline = wait_for_state(spool).counters["v0"]
    pushed(a, "192.0.2.2", 1_000_000)
    time.sleep(1.5)
    assert first.signal(signal.SIGKILL) == -signal.SIGKILL
    last = wait_for_state(spool).counters["v0"]  # what the killed agent counted
    assert last == Counters(*kernel(a, "v0"))
    sh("ip", "-n", a, "link", "del", "v0")
    veth(a, b, "v0", "v1", "192.0.2")
    pushed(a, "192.0.2.2", 3_000_000)
    second = AgentProcess(a, dsn, spool, "v0")
    time.sleep(2.5)
    pushed(a, "192.0.2.2", 500_000)
    new = kernel(a, "v0")
    assert new[0] > last.bytes_sent
    assert second.signal(signal.SIGTERM) == 0, second.log
    assert stored(dsn, f"{a}-host") == (
        last.bytes_sent - baseline.bytes_sent + new[0],
        last.bytes_recv - baseline.bytes_recv + new[1],
    )
