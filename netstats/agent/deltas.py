"""The arithmetic of the agent: (previous state, a new reading) -> exact samples, new state.

Pure: no clock, no psutil, no I/O, so every rule below is tested exhaustively.

- The very first reading on a machine only records a baseline.
- A counter that goes down (interface re-created, driver reset) or a reboot counts the new
  value as the traffic since the reset. A reboot is a new kernel boot id, never a moved boot
  time: /proc/stat's btime moves whenever the wall clock is stepped.
- A jump above 1.5x the link speed, or above the configured ceiling, cannot be traffic: it is
  treated as a reset whose traffic is unknown, counts nothing, and is logged. It is judged
  over at least the configured interval: counters of some drivers move in steps, and ticks
  a few milliseconds apart (a final tick) would otherwise throw real bytes away.
- An interface that appeared since the last reading counts its whole counter; one that was
  present but not monitored before (a configuration change) is only baselined.
- A name can stand for several links in turn (a container's veth, a VPN link re-created):
  where the kernel's link index is known, a new index under a known name is a new link and
  counts its whole counter, and a link removed since the last reading counts up to its
  final counters, which the kernel announced (agent/links.py): nothing is lost in between.
  A removed link did not reset: a final counter below the last reading counts nothing.
- sampled_at keys stay unique and increasing when the wall clock steps back: a key that
  repeated would be swallowed by the database as a duplicate, and its bytes lost. No sample
  is stamped before the previous one. When the last key ran more than a minute ahead of the
  wall clock (a clock that was wrong and has been corrected), keys follow the wall clock
  again: otherwise every key of this boot would stay ahead, refused as from the future.
- A gap longer than a day (the database's limit for one sample) is split into day-long
  samples that carry the same bytes in total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from netstats.sample import Sample

MAX_INTERVAL_S = 86400.0
LINK_HEADROOM = 1.5
US = timedelta(microseconds=1)
AHEAD = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Counters:
    bytes_sent: int
    bytes_recv: int


@dataclass(frozen=True, slots=True)
class Gone:
    """A link the kernel removed, with its final counters."""

    name: str
    index: int
    counters: Counters


@dataclass(frozen=True, slots=True)
class Reading:
    """One look at the machine."""

    boot_id: str  # /proc/sys/kernel/random/boot_id: new at every boot, and only then
    wall: datetime  # timezone-aware
    monotonic: float  # seconds, comparable within one boot
    counters: Mapping[str, Counters]  # the monitored interfaces
    present: frozenset[str]  # every interface the machine has, monitored or not
    link_bytes_per_s: Mapping[str, float] = field(default_factory=dict)  # when known
    links: Mapping[str, int] = field(default_factory=dict)  # link index by name, when known
    removed: Sequence[Gone] = ()  # monitored links removed since the last reading, in order


@dataclass(frozen=True, slots=True)
class State:
    """What must survive a restart: persisted in the same transaction as the samples."""

    boot_id: str  # "" when unknown (a spool written before boot ids were kept)
    sampled_at: datetime
    monotonic: float
    counters: Mapping[str, Counters]
    present: frozenset[str]
    links: Mapping[str, int] = field(default_factory=dict)  # link index by name, when known


@dataclass(frozen=True, slots=True)
class Step:
    samples: list[Sample]
    state: State
    warnings: list[str]


def step(
    previous: State | None,
    reading: Reading,
    host: str,
    ceiling_bytes_per_s: float | None = None,
    interval_s: float = 0.0,
) -> Step:
    if previous is None:
        return Step([], _state(reading, reading.wall), [])

    warnings: list[str] = []
    if previous.boot_id:
        rebooted = reading.boot_id != previous.boot_id
    else:  # monotonic time counts from boot: it only goes back across a reboot
        rebooted = reading.monotonic < previous.monotonic
    rebased = previous.sampled_at - reading.wall > AHEAD
    if rebased:
        warnings.append(
            f"the last sample was stamped {previous.sampled_at.isoformat()}, "
            f"{(previous.sampled_at - reading.wall).total_seconds():.0f} s after the clock now "
            "reads: the clock was ahead and has been corrected; stamping by the clock again"
        )
    # After a reboot the counters cover the uptime.
    elapsed = max(reading.monotonic - (0 if rebooted else previous.monotonic), 1e-6)
    if rebased:
        sampled_at = reading.wall
    elif rebooted:
        sampled_at = max(reading.wall, previous.sampled_at + US)
        # the samples never reach back before the previous one
        elapsed = max(min(elapsed, (sampled_at - previous.sampled_at).total_seconds()), 1e-6)
    else:
        sampled_at = max(reading.wall, previous.sampled_at + timedelta(seconds=elapsed))

    # Counters of the links the previous reading saw, by name, until a removal or a new
    # link index under the name shows them gone; indexes of another boot mean nothing.
    known = dict(previous.counters)
    indexes = {} if rebooted else previous.links
    gone_since: set[str] = set()
    deltas: dict[str, Counters] = {}

    def count(iface: str, before: Counters, now: Counters) -> None:
        limit = _limit(
            reading.link_bytes_per_s.get(iface), ceiling_bytes_per_s, max(elapsed, interval_s)
        )
        sent = _delta(before.bytes_sent, now.bytes_sent, limit, f"{iface} sent", warnings)
        recv = _delta(before.bytes_recv, now.bytes_recv, limit, f"{iface} received", warnings)
        total = deltas.get(iface, Counters(0, 0))
        deltas[iface] = Counters(total.bytes_sent + sent, total.bytes_recv + recv)

    for gone in reading.removed:
        before = known.get(gone.name)
        if before is not None and not rebooted and indexes.get(gone.name) in (gone.index, None):
            del known[gone.name]  # the link the previous reading saw, up to its removal
            # A removed link did not reset: a final counter below the last reading is one
            # the kernel no longer has (a veth's received bytes are its peer's, unlinked
            # by then, so they are announced as 0): nothing more to count, nothing invented.
            final = Counters(
                max(gone.counters.bytes_sent, before.bytes_sent),
                max(gone.counters.bytes_recv, before.bytes_recv),
            )
        else:
            before, final = Counters(0, 0), gone.counters  # it came and went in between
        count(gone.name, before, final)
        gone_since.add(gone.name)

    for iface, now in sorted(reading.counters.items()):
        before = known.get(iface)
        index, was = reading.links.get(iface), indexes.get(iface)
        if iface in gone_since or (
            before is not None and None not in (index, was) and index != was
        ):
            before = Counters(0, 0)  # another link under the same name: all of it is new
        elif before is None:
            if iface in previous.present and not rebooted:
                continue  # newly monitored, not new: its past traffic is not ours to count
            before = Counters(0, 0)  # appeared since the last reading: all of it is new
        elif rebooted:
            before = Counters(0, 0)
        count(iface, before, now)

    samples = [
        sample
        for iface, delta in deltas.items()
        for sample in _split(host, iface, sampled_at, elapsed, delta)
    ]
    return Step(samples, _state(reading, sampled_at), warnings)


def _state(reading: Reading, sampled_at: datetime) -> State:
    return State(
        boot_id=reading.boot_id,
        sampled_at=sampled_at,
        monotonic=reading.monotonic,
        counters=dict(reading.counters),
        present=reading.present,
        links={n: i for n, i in reading.links.items() if n in reading.counters},
    )


def _limit(link: float | None, ceiling: float | None, elapsed: float) -> float | None:
    rates = [r for r in (link * LINK_HEADROOM if link else None, ceiling) if r]
    return min(rates) * elapsed if rates else None


def _delta(before: int, now: int, limit: float | None, what: str, warnings: list[str]) -> int:
    # A counter that went down restarted from zero: its value is the traffic since then.
    value = now - before if now >= before else now
    if limit is not None and value > limit:
        warnings.append(
            f"{what}: counter went from {before} to {now}, more than the link could carry "
            f"in this interval ({limit:.0f} bytes); treated as a reset, counted nothing"
        )
        return 0
    return value


def _split(host: str, iface: str, end: datetime, elapsed: float, delta: Counters) -> list[Sample]:
    """One sample, or day-long ones with the same bytes when the gap is longer."""
    parts = max(1, int(-(-elapsed // MAX_INTERVAL_S)))
    if parts == 1:
        return [Sample(host, iface, end, elapsed, delta.bytes_sent, delta.bytes_recv)]
    each = elapsed / parts
    samples = []
    for k in range(parts):
        last = k == parts - 1
        sent = (
            delta.bytes_sent - delta.bytes_sent // parts * k if last else delta.bytes_sent // parts
        )
        recv = (
            delta.bytes_recv - delta.bytes_recv // parts * k if last else delta.bytes_recv // parts
        )
        at = end - timedelta(seconds=each * (parts - 1 - k))
        samples.append(Sample(host, iface, at, each, sent, recv))
    return samples
