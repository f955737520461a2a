"""Network namespaces the tests make, the kernel's counters in them, and traffic sent there;
the agent's spool read as it goes. Needs root and iproute2 (scripts/test.sh installs it)."""

import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from netstats.agent.spool import Spool
from netstats.errors import SpoolError

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


def kernel(ns: str, iface: str) -> tuple[int, int]:
    stats = f"/sys/class/net/{iface}/statistics"
    out = sh("ip", "netns", "exec", ns, "cat", f"{stats}/tx_bytes", f"{stats}/rx_bytes").split()
    return int(out[0]), int(out[1])


def send(ns: str, host: str, total: int, seconds: float = 1.0) -> None:
    sh("ip", "netns", "exec", ns, sys.executable, "-c", SENDER, host, str(total), str(seconds))


def wait_for_state(spool_path: Path, ticks_after: float = 0.0):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            spool = Spool.read_only(spool_path)
        except SpoolError:  # not there yet, or the agent is creating its tables right now
            time.sleep(0.1)
            continue
        try:
            state = spool.state()
        except sqlite3.OperationalError:  # opened between the file and its tables
            state = None
        finally:
            spool.close()
        if state is not None and (ticks_after == 0 or state.monotonic >= ticks_after):
            return state
        time.sleep(0.1)
    raise AssertionError("the agent wrote no state in 20 s")
