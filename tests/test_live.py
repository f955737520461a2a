"""`netstats live` against real kernel counters, in a network namespace this test makes."""

import os
import re
import signal
import subprocess
import sys
import time

from tests.support.netns import kernel, make_namespace, send


def test_live_shows_rates_then_the_exact_bytes_when_stopped():
    ns = make_namespace()
    try:
        watch_a_burst(ns)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def watch_a_burst(ns: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NETSTATS_")}
    live = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "netstats.cli", "live"],
        env={**clean, "NETSTATS_INTERFACES": "lo"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert live.stdout is not None
    first = live.stdout.readline()  # the baseline was taken a second before this line
    assert re.search(r"\d\d:\d\d:\d\d  lo  received +0 bit/s   sent +0 bit/s", first), first
    before = kernel(ns, "lo")
    send(ns, "127.0.0.1", 3_000_000)
    after = kernel(ns, "lo")
    time.sleep(1.5)  # a reading after the traffic
    live.send_signal(signal.SIGINT)
    out, _ = live.communicate(timeout=30)
    assert live.returncode == 0
    assert re.search(r"lo  received +\d[\d.]* [kMG]bit/s", out), out  # the burst, as a rate
    received = re.search(r"received [\d.]+ [kMG]?B \(([\d,]+) bytes", out)
    sent = re.search(r"sent +[\d.]+ [kMG]?B \(([\d,]+) bytes", out)
    assert received and sent, out
    assert int(received.group(1).replace(",", "")) == after[1] - before[1] > 3_000_000
    assert int(sent.group(1).replace(",", "")) == after[0] - before[0]
