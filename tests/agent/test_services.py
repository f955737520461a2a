"""Per-service traffic against the real kernel: nftables counting the sockets of real cgroups,
in network namespaces this test creates (entered with `nsenter --net=`, which keeps /sys and
its cgroup mounts; `ip netns exec` remounts /sys).

Processes in two cgroups and one outside them exchange known traffic over the namespace's
loopback; at the end the database must hold exactly each service's counter increase, and the
interface's totals exactly the kernel's own counters, as if no service were counted."""

import json
import os
import shutil
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

from netstats.agent.services import cgroup2_root, counter_name
from tests.support.netns import make_namespace, sh, wait_for_state

ROOT = cgroup2_root()

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="nftables and cgroups need root"),
    pytest.mark.skipif(shutil.which("nft") is None, reason="nft is missing: apt install nftables"),
    pytest.mark.skipif(ROOT is None, reason="no cgroup v2 hierarchy is mounted"),
]

# Joins the cgroup given (if any), then sends `out` bytes to the server at `port` and reads
# `back` bytes from it; the server, outside every cgroup, sends them.
CLIENT = textwrap.dedent(
    """
    import socket, sys, time
    cgroup, port, out, back = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if cgroup:
        with open(cgroup + "/cgroup.procs", "w") as f:
            f.write(str(__import__("os").getpid()))
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(back.to_bytes(8, "big"))
    for _ in range(10):
        s.sendall(b"x" * (out // 10))
        time.sleep(0.05)
    s.shutdown(socket.SHUT_WR)
    got = 0
    while chunk := s.recv(65536):
        got += len(chunk)
    assert got == back, got
    """
)
SERVER = textwrap.dedent(
    """
    import socket, sys, threading
    server = socket.create_server(("127.0.0.1", 0))
    print(server.getsockname()[1], flush=True)
    def serve(conn):
        back = int.from_bytes(conn.recv(8, socket.MSG_WAITALL), "big")
        while conn.recv(65536):
            pass
        conn.sendall(b"y" * back)
        conn.close()
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,)).start()
    """
)


def enter(ns: str) -> list[str]:
    return ["nsenter", f"--net=/run/netns/{ns}"]


@pytest.fixture
def namespace(namespaces) -> str:
    ns = make_namespace()
    namespaces.append(ns)
    return ns


@pytest.fixture
def cgroups() -> Iterator[Path]:
    """A cgroup of this test's own, with a.service and b.service in it."""
    assert ROOT is not None
    top = ROOT / f"netstats-test-{uuid.uuid4().hex[:8]}"
    for name in ("a.service", "b.service"):
        (top / name).mkdir(parents=True)
    yield top
    for d in sorted(top.rglob("*"), key=lambda p: -len(p.parts)) + [top]:
        if d.is_dir():
            d.rmdir()


@pytest.fixture
def server(namespace) -> Iterator[int]:
    proc = subprocess.Popen(
        [*enter(namespace), sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    yield int(proc.stdout.readline())
    proc.kill()
    proc.wait()
    proc.stdout.close()


def exchange(ns: str, port: int, cgroup: Path | None, out: int, back: int) -> None:
    sh(*enter(ns), sys.executable, "-c", CLIENT, str(cgroup or ""), str(port), str(out), str(back))


def nft_counters(ns: str) -> dict[str, tuple[int, int]]:
    """Each service's (sent, received) as the kernel counted them."""
    listed = json.loads(
        sh(*enter(ns), "nft", "-j", "list", "counters", "table", "inet", "netstats")
    )
    by_name = {
        o["counter"]["name"]: o["counter"]["bytes"] for o in listed["nftables"] if "counter" in o
    }
    return {
        s: (by_name[counter_name("out", s)], by_name[counter_name("in", s)])
        for s in ("a.service", "b.service")
        if counter_name("out", s) in by_name
    }


def lo(ns: str) -> tuple[int, int]:
    for line in sh(*enter(ns), "cat", "/proc/net/dev").splitlines()[2:]:
        name, _, fields = line.partition(":")
        if name.strip() == "lo":
            values = fields.split()
            return int(values[8]), int(values[0])
    raise AssertionError("no lo")


class Agent:
    def __init__(self, ns: str, dsn: str, spool: Path, services: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            [*enter(ns), sys.executable, "-m", "netstats.cli", "agent"],
            env={
                **os.environ,
                "NETSTATS_DATABASE_URL": dsn,
                "NETSTATS_INTERFACES": "lo",
                "NETSTATS_SPOOL": str(spool),
                "NETSTATS_HOST": "box",
                "NETSTATS_INTERVAL": "1",
                "NETSTATS_UPLOAD_EVERY": "1",
                "NETSTATS_SERVICES": services,
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self, signum: int = signal.SIGTERM) -> str:
        self.proc.send_signal(signum)
        self.proc.wait(timeout=20)
        assert self.proc.stderr is not None
        with self.proc.stderr:
            return self.proc.stderr.read()


def wait_for(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} in {seconds} s")
        time.sleep(0.2)


def stored(dsn: str, iface: str | None) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT bytes_sent, bytes_recv FROM netstats_totals('all', host => 'box', iface => %s)",
            [iface],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_each_cgroups_traffic_is_counted_exactly_and_apart_from_the_interfaces(
    database, namespace, cgroups, server, tmp_path
):
    _, dsn = database
    lo_before = lo(namespace)
    agent = Agent(namespace, dsn, tmp_path / "spool", f"{cgroups.name}/a.service,b.service")
    wait_for_state(tmp_path / "spool")  # the first tick: the baseline
    counted_before = nft_counters(namespace)
    exchange(namespace, server, cgroups / "a.service", 3_000_000, 1_000_000)
    exchange(namespace, server, cgroups / "b.service", 500_000, 2_000_000)
    exchange(namespace, server, None, 4_000_000, 4_000_000)  # outside every cgroup
    log = agent.stop()
    counted = nft_counters(namespace)
    lo_after = lo(namespace)

    for service, (out, back) in {
        "a.service": (3_000_000, 1_000_000),
        "b.service": (500_000, 2_000_000),
    }.items():
        sent = counted[service][0] - counted_before[service][0]
        recv = counted[service][1] - counted_before[service][1]
        # the kernel counted this cgroup's sockets: payload and headers, nobody else's
        assert out <= sent < out * 1.05 and back <= recv < back * 1.05, (service, sent, recv)
        assert stored(dsn, f"service:{service}") == counted[service], (service, log)
    # the interface's totals are the kernel's, services or not
    assert stored(dsn, None) == (lo_after[0] - lo_before[0], lo_after[1] - lo_before[1]), log
    assert stored(dsn, "lo") == stored(dsn, None)


def test_a_restarted_unit_counts_on_under_its_name(database, namespace, cgroups, server, tmp_path):
    _, dsn = database
    # ticks 10 s apart: what follows the restart within the test's seconds is the watcher
    agent = Agent(namespace, dsn, tmp_path / "spool", "a.service", NETSTATS_INTERVAL="10")
    wait_for_state(tmp_path / "spool")
    exchange(namespace, server, cgroups / "a.service", 2_000_000, 100_000)
    # systemd restarts the unit: its cgroup is removed and made again (another id), and the
    # new process starts a moment later
    (cgroups / "a.service").rmdir()
    (cgroups / "a.service").mkdir()
    time.sleep(0.3)
    exchange(namespace, server, cgroups / "a.service", 3_000_000, 200_000)
    log = agent.stop()
    counted = nft_counters(namespace)["a.service"]
    assert counted[0] >= 5_000_000 and counted[1] >= 300_000, counted
    assert stored(dsn, "service:a.service") == counted, log


def test_traffic_while_the_agent_is_killed_is_counted_when_it_comes_back(
    database, namespace, cgroups, server, tmp_path
):
    _, dsn = database
    services = "a.service"
    agent = Agent(namespace, dsn, tmp_path / "spool", services)
    wait_for_state(tmp_path / "spool")
    exchange(namespace, server, cgroups / "a.service", 1_000_000, 100_000)
    agent.stop(signal.SIGKILL)
    exchange(namespace, server, cgroups / "a.service", 2_000_000, 200_000)  # the table counts on
    again = Agent(namespace, dsn, tmp_path / "spool", services)
    exchange(namespace, server, cgroups / "a.service", 3_000_000, 300_000)
    log = again.stop()
    counted = nft_counters(namespace)["a.service"]
    assert counted[0] >= 6_000_000 and counted[1] >= 600_000, counted
    assert stored(dsn, "service:a.service") == counted, log


def test_a_table_deleted_behind_the_agent_is_made_again_and_counts_no_spike(
    database, namespace, cgroups, server, tmp_path
):
    _, dsn = database
    agent = Agent(namespace, dsn, tmp_path / "spool", "a.service")
    wait_for_state(tmp_path / "spool")
    exchange(namespace, server, cgroups / "a.service", 1_000_000, 100_000)
    time.sleep(1.5)  # a tick has read the counters
    first = nft_counters(namespace)["a.service"]
    sh(*enter(namespace), "nft", "delete", "table", "inet", "netstats")
    wait_for(lambda: "a.service" in nft_counters_or_none(namespace), "the table made again")
    exchange(namespace, server, cgroups / "a.service", 2_000_000, 200_000)
    log = agent.stop()
    after = nft_counters(namespace)["a.service"]
    assert "deleted behind the agent" in log
    got = stored(dsn, "service:a.service")
    # everything the new counters saw, and before the deletion what a tick read; no more
    assert got == (first[0] + after[0], first[1] + after[1]), (got, first, after, log)


def nft_counters_or_none(ns: str) -> dict:
    try:
        return nft_counters(ns)
    except subprocess.CalledProcessError:
        return {}


def test_without_cap_net_admin_one_line_says_so_and_interfaces_are_counted(
    database, namespace, cgroups, tmp_path
):
    _, dsn = database
    for _ in range(2):  # a baseline, then a tick that counts
        proc = subprocess.run(
            [
                *enter(namespace),
                "setpriv",
                "--bounding-set=-net_admin",
                "--inh-caps=-net_admin",
                sys.executable,
                "-m",
                "netstats.cli",
                "agent",
                "--once",
            ],
            env={
                **os.environ,
                "NETSTATS_DATABASE_URL": dsn,
                "NETSTATS_INTERFACES": "lo",
                "NETSTATS_SPOOL": str(tmp_path / "spool"),
                "NETSTATS_HOST": "box",
                "NETSTATS_SERVICES": "a.service",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "CAP_NET_ADMIN" in line]
    assert len(lines) == 1 and "AmbientCapabilities=CAP_NET_ADMIN" in lines[0], proc.stderr
    assert "counting interfaces only" in lines[0]
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT iface FROM netstats_hosts()").fetchall() == [("lo",)]
