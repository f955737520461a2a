"""`netstats live`: each interface's rate every second, straight from the kernel's counters,
like `vnstat -l`; a summary with the exact bytes when stopped. No database, no spool.

    14:03:01  eth0  received   12.3 Mbit/s   sent   1.02 Mbit/s
    ...
    eth0, 42 s:
      received 61.2 MB (61,204,118 bytes; average 11.7 Mbit/s, peak 98.1 Mbit/s)
      sent     5.31 MB (5,311,904 bytes; average 1.01 Mbit/s, peak 8.2 Mbit/s)

The arithmetic is the agent's own (deltas.step): resets, reboots and impossible jumps count
the same way here as in the database.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from netstats.cli.args import Commands, until_stopped
from netstats.config import AgentSettings

# Imported where they run: the agent parses this same command line, and the delta rules
# (psutil) and units (decimal) would be loaded into every daemon for nothing.
if TYPE_CHECKING:
    from netstats.agent.deltas import Reading, State


def add(commands: Commands) -> None:
    live = commands.add_parser(
        "live", help="each interface's rate every second, from the kernel (like vnstat -l)"
    )
    live.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from netstats.agent.counters import Machine

    chosen = AgentSettings.from_env()
    watch(Machine(chosen.include, chosen.exclude).read, until_stopped(), sys.stdout)


@dataclass
class Direction:
    total: int = 0
    peak_bytes_per_s: float = 0.0

    def add(self, n: int, seconds: float) -> float:
        rate = n / seconds
        self.total += n
        self.peak_bytes_per_s = max(self.peak_bytes_per_s, rate)
        return rate

    def text(self, seconds: float) -> str:
        from netstats.units import human_bytes, human_rate

        return (
            f"{human_bytes(self.total)} ({self.total:,} bytes; average "
            f"{human_rate(self.total / seconds) if seconds else '—'}, "
            f"peak {human_rate(self.peak_bytes_per_s)})"
        )


def watch(
    read: Callable[[], Reading],
    wait: Callable[[float], bool],
    out: TextIO,
    every_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, tuple[Direction, Direction]]:
    """Print every interface's rates every `every_s` until `wait` says stop; then the
    summary. Returns (received, sent) per interface."""
    from netstats.agent.deltas import step
    from netstats.units import human_rate

    state: State = step(None, read(), "live").state
    began = state.monotonic
    seen: dict[str, tuple[Direction, Direction]] = {}
    while not wait(max(0.0, state.monotonic + every_s - clock())):
        result = step(state, read(), "live")
        width = max((len(s.iface) for s in result.samples), default=0)
        for sample in result.samples:
            recv, sent = seen.setdefault(sample.iface, (Direction(), Direction()))
            r = recv.add(sample.bytes_recv, sample.interval_s)
            t = sent.add(sample.bytes_sent, sample.interval_s)
            out.write(
                f"{_clock(sample.sampled_at)}  {sample.iface:<{width}}  "
                f"received {human_rate(r):>13}   sent {human_rate(t):>13}\n"
            )
        for warning in result.warnings:
            out.write(f"  ({warning})\n")
        out.flush()
        state = result.state
    seconds = state.monotonic - began
    for iface, (recv, sent) in sorted(seen.items()):
        out.write(
            f"{iface}, {seconds:.0f} s:\n"
            f"  received {recv.text(seconds)}\n"
            f"  sent     {sent.text(seconds)}\n"
        )
    if not seen:
        out.write("no interface to watch (NETSTATS_INTERFACES selects them)\n")
    return seen


def _clock(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M:%S")
