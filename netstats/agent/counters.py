"""Reading the machine: per-interface byte counters, boot time, link speeds. Reads only."""

from __future__ import annotations

import fnmatch
import functools
import os
import time
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import psutil

from netstats.agent.deltas import Counters, Gone, Reading
from netstats.agent.links import Links, Removed

VIRTUAL_NET = Path("/sys/devices/virtual/net")
CLASS_NET = Path("/sys/class/net")
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
NET_DEV = "/proc/net/dev"
CHUNK = 65536


@functools.cache
def boot_id() -> str:
    """This boot's id: a process never outlives its boot, so it is read once."""
    try:
        return BOOT_ID.read_text().strip()
    except OSError:  # not Linux: the boot time, which a clock step moves (rarely matters there)
        return f"btime-{psutil.boot_time():.0f}"


LOOK_AGAIN_S = 60.0
REMOVAL_WAIT_S = 0.5


class Machine:
    """Reads the counters of the interfaces netstats should count.

    Each read looks at /proc/net/dev once. What rarely changes (which interfaces to count:
    virtual, bridged, matching the globs; their link speeds, for the over-speed check) is
    looked up again only when the machine's set of interfaces changes, or LOOK_AGAIN_S after
    the last look: it costs as much as the counters themselves (an ioctl and a few stat calls
    per interface).

    On Linux each read also takes the kernel's link announcements (agent/links.py): the
    index of each counted link, and the final counters of those removed since the last read.
    /proc/net/dev names no index, so a read counts only once no announcement arrived before
    it was over (otherwise it is taken again: one poll a tick when nothing happened); and a
    counted link that vanished from it is waited for until the kernel announces its removal
    (it unlists a link a moment before it does)."""

    def __init__(
        self,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        virtual_dir: Path = VIRTUAL_NET,
        net_dir: Path = CLASS_NET,
    ) -> None:
        self.include, self.exclude = tuple(include), tuple(exclude)
        self.virtual_dir, self.net_dir = virtual_dir, net_dir
        self._names: frozenset[str] | None = None
        self._looked_at = 0.0
        self._chosen: list[str] = []
        self._links: dict[str, float] = {}
        self._virtual: frozenset[str] = frozenset()
        self._bridged: frozenset[str] = frozenset()
        self._net_dev = NetDev()
        try:
            self.links: Links | None = Links() if self._net_dev.fd is not None else None
        except OSError:  # no rtnetlink (a sandbox): links removed between ticks are not seen
            self.links = None

    def read(self) -> Reading:
        """One consistent look at every interface netstats should count."""
        links, removed = self.links, []
        # Read until no announcement came since the previous read (bounded: endless churn).
        for _ in range(10):
            wall = datetime.now(UTC)
            monotonic = time.monotonic()
            io = self._net_dev.read()
            if links is None or not links.poll.poll(0):  # nothing announced: the usual case
                break
            announced, gone = links.changes()
            removed += gone
            if not announced and not gone:
                break
        names = frozenset(io)
        counted_before = set(self._chosen)
        if links is not None and (vanished := counted_before - names - {r.name for r in removed}):
            removed += links.wait_for(vanished, REMOVAL_WAIT_S)
        if names != self._names or monotonic - self._looked_at >= LOOK_AGAIN_S:
            self._look(names)
            self._names, self._looked_at = names, monotonic
        index = links.index if links is not None else {}
        return Reading(
            boot_id=boot_id(),
            wall=wall,
            monotonic=monotonic,
            counters={name: io[name] for name in self._chosen},
            present=names,
            link_bytes_per_s=self._links,
            links={name: index[name] for name in self._chosen if name in index},
            removed=[
                Gone(r.name, r.index, r.counters)
                for r in removed
                if r.name in counted_before or self._would_count(r)
            ],
        )

    def _would_count(self, link: Removed) -> bool:
        """A link that came and went between two reads counts if it would have been chosen."""
        names = (self._names or frozenset()) | {link.name}
        return link.name in choose_interfaces(
            names,
            self.include,
            self.exclude,
            self._virtual | ({link.name} if link.virtual else set()),
            self._bridged | ({link.name} if link.bridged else set()),
        )

    def _look(self, names: frozenset[str]) -> None:
        self._virtual = virtual(names, self.virtual_dir)
        self._bridged = bridged(names, self.net_dir)
        self._chosen = choose_interfaces(
            names, self.include, self.exclude, self._virtual, self._bridged
        )
        stats = psutil.net_if_stats()
        # psutil reports Mbit/s (0 when unknown): bytes per second = Mbit/s * 125,000
        self._links = {
            name: stats[name].speed * 125_000.0
            for name in self._chosen
            if name in stats and stats[name].speed > 0
        }


class NetDev:
    """Every interface's byte counters, as the kernel has them now: on Linux /proc/net/dev,
    which is what psutil reads too, but kept open (a read is one pread, 30 us, instead of an
    open, read and close, 100 us) and without psutil's text decoding and eight named fields
    per interface (another 110 us); measured at the agent's cadence. Elsewhere psutil."""

    def __init__(self, path: str = NET_DEV) -> None:
        try:
            self.fd: int | None = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self.fd = None
        else:
            weakref.finalize(self, os.close, self.fd)

    def read(self) -> dict[str, Counters]:
        if self.fd is None:
            io = psutil.net_io_counters(pernic=True, nowrap=False)
            return {name: Counters(c.bytes_sent, c.bytes_recv) for name, c in io.items()}
        text = os.pread(self.fd, CHUNK, 0)
        # a short read is the end (the kernel fills the buffer while it has lines)
        while len(text) % CHUNK == 0 and (more := os.pread(self.fd, CHUNK, len(text))):
            text += more
        counters = {}
        for line in text.splitlines()[2:]:  # two header lines
            # "  eth0: rx_bytes rx_packets ... (8 received fields) tx_bytes ..."; no ":" in names
            name, _, fields = line.partition(b":")
            values = fields.split()
            counters[name.strip().decode()] = Counters(int(values[8]), int(values[0]))
        return counters


def virtual(names: Iterable[str], virtual_dir: Path = VIRTUAL_NET) -> frozenset[str]:
    """Loopback, bridges, veth, docker, tun: everything Linux lists as a virtual device."""
    return frozenset(n for n in names if (virtual_dir / n).exists() or n == "lo")


def bridged(names: Iterable[str], net_dir: Path = CLASS_NET) -> frozenset[str]:
    """Bridges and the ports enslaved to them: their traffic is counted where it enters or
    leaves the machine, and counting them too would count it two or three times."""
    return frozenset(
        n for n in names if (net_dir / n / "bridge").exists() or (net_dir / n / "brport").exists()
    )


def choose_interfaces(
    names: Iterable[str],
    include: Iterable[str],
    exclude: Iterable[str],
    virtual_names: frozenset[str],
    bridged_names: frozenset[str] = frozenset(),
) -> list[str]:
    """NETSTATS_INTERFACES globs when given; else every physical interface, or, where there
    is none (a container, an OpenVZ/LXC VPS), every virtual one but loopback, bridges and
    bridge ports. NETSTATS_EXCLUDE globs always win."""
    names = sorted(names)
    include, exclude = list(include), list(exclude)
    if include:
        chosen = [n for n in names if any(fnmatch.fnmatchcase(n, g) for g in include)]
    else:
        chosen = [n for n in names if n not in virtual_names]
        if not chosen:
            chosen = [n for n in names if n != "lo" and n not in bridged_names]
    return [n for n in chosen if not any(fnmatch.fnmatchcase(n, g) for g in exclude)]
