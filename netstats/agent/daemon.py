"""The Agent: each tick samples the counters and spools exact deltas; every
NETSTATS_UPLOAD_EVERY seconds it uploads what the spool holds, backing off while the database
is unreachable and quarantining what it refuses."""

from __future__ import annotations

import logging
import math
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netstats.agent.counters import Machine
from netstats.agent.deltas import Reading, step
from netstats.agent.spool import Queued, Spool, spool_error
from netstats.agent.transports import Refused, Transport, Unreachable
from netstats.config import AgentSettings
from netstats.errors import NetstatsError

if TYPE_CHECKING:  # asyncio costs a daemon 10 MiB: only a bot, which has it, runs run_async
    import asyncio

log = logging.getLogger("netstats.agent")  # the name its log lines have always had

BATCH = 1000
MAX_BACKOFF_S = 300.0
FINAL_FLUSH_S = 5.0


@dataclass
class Backoff:
    """Exponential backoff with full jitter, from one interval up to five minutes."""

    base_s: float
    failures: int = 0
    not_before: float = 0.0

    def failed(self, now: float) -> float:
        self.failures += 1
        # the exponent is capped: 2.0 ** 1024 overflows, and a long outage must not kill us
        delay = random.uniform(0, min(MAX_BACKOFF_S, self.base_s * 2.0 ** min(self.failures, 32)))
        self.not_before = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures, self.not_before = 0, 0.0


def machine(settings: AgentSettings) -> Callable[[], Reading]:
    """What a tick reads: the interfaces, and the services when NETSTATS_SERVICES names some
    and this machine can count them (otherwise one line says why, and interfaces carry on)."""
    read = Machine(settings.include, settings.exclude).read
    if not settings.services:
        return read
    from netstats.agent.services import Services, ServicesUnavailable, with_services

    try:
        return with_services(read, Services(settings.services))
    except ServicesUnavailable as exc:
        log.warning("NETSTATS_SERVICES: %s; counting interfaces only", exc)
        return read


class Agent:
    def __init__(
        self,
        settings: AgentSettings,
        transport: Transport,
        read: Callable[[], Reading] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.spool = Spool(settings.spool)
        # Read once: from here on every tick computes from this and writes it back.
        self.state = self.spool.state()
        self.read = read or machine(settings)
        self.clock = clock
        self.backoff = Backoff(base_s=min(settings.interval_s, 5.0))
        self.routine = False
        self.next_upload = clock()  # at once: what an earlier run left queued
        self.reading: Reading | None = None  # taken and not counted yet (see _announce)

    def close(self) -> None:
        self.transport.close()
        self.spool.close()

    def tick(self) -> int:
        """Read the counters and queue exact deltas with the new state; returns how many."""
        previous = self.state
        reading, self.reading = self.reading or self.read(), None
        result = step(
            previous,
            reading,
            self.settings.host,
            self.settings.ceiling_bytes_per_s,
            self.settings.interval_s,
        )
        try:
            self.spool.commit_tick(result.samples, result.state, after=previous)
        except (sqlite3.Error, OSError) as exc:
            # Nothing is lost yet: the next tick counts from the last state that was stored.
            raise spool_error(self.settings.spool, exc) from exc
        self.state = result.state
        if previous is None and self.spool.lost:
            log.warning("%s; counting starts again from a baseline", self.spool.lost)
        elif previous is None:
            log.info("first run on this machine: counters recorded as the baseline")
        for warning in result.warnings:
            log.warning("%s", warning)
        return len(result.samples)

    def flush(self, deadline: float | None = None) -> int:
        """Upload queued samples, oldest first, until the queue is empty, the database is
        unreachable or the deadline passes. Returns how many the database now has. The next
        upload is due an upload period later, after the backoff when the database could not
        be reached, and at the next tick when the deadline cut a backlog short."""
        # The cap matters in a long outage, at the upload attempts; not at every tick.
        if merged := self.spool.enforce_cap():
            log.warning("spool over %d samples: merged %d old ones", self.spool.cap, merged)
        uploaded = 0
        self.next_upload = self.clock() + self.settings.upload_every_s
        while deadline is None or self.clock() < deadline:
            if self.clock() < self.backoff.not_before:
                self.next_upload = self.backoff.not_before
                break
            batch = self.spool.oldest(BATCH)
            if not batch:
                break
            try:
                uploaded += self._send(batch)
            except Unreachable as exc:
                self.routine = False
                delay = self.backoff.failed(self.clock())
                log.warning(
                    "database unreachable (%s); %d samples queued, next try in %.1f s",
                    exc,
                    self.spool.depth(),
                    delay,
                )
                self.next_upload = self.backoff.not_before
                break
            self.backoff.succeeded()
        else:
            self.next_upload = self.clock()  # the deadline passed with a backlog left
        if uploaded:
            # The first upload after a start or an outage is news; every later one is routine.
            log.log(
                logging.DEBUG if self.routine else logging.INFO,
                "uploaded %d sample%s (%d queued)",
                uploaded,
                "" if uploaded == 1 else "s",
                self.spool.depth(),
            )
            self.routine = True
        return uploaded

    def _send(self, batch: list[Queued]) -> int:
        """One batch; a refused sample is quarantined and the rest sent again."""
        uploaded = 0
        # In the order the database keeps samples (host, interface, time): ingest stores a
        # batch in the order sent, so each interface's index entries go in one after another
        # (measured 1.75x -> 1.64x a plain insert of the same rows, BENCHMARKS.md), and two
        # uploads that overlap take their locks in one order.
        parts = [sorted(batch, key=lambda q: (q.sample.host, q.sample.iface, q.sample.sampled_at))]
        while parts:
            part = parts.pop()
            try:
                self.transport.ingest([q.sample for q in part])
            except Refused as exc:
                if exc.index is not None and exc.index < len(part):
                    self._quarantine(part[exc.index], str(exc))
                    rest = part[: exc.index] + part[exc.index + 1 :]
                    parts += [rest] if rest else []
                elif len(part) == 1:
                    self._quarantine(part[0], str(exc))
                else:  # no index in the refusal: find the culprit by halves
                    half = len(part) // 2
                    parts += [part[half:], part[:half]]
                continue
            self.spool.confirmed([q.id for q in part])
            uploaded += len(part)
        return uploaded

    def _quarantine(self, item: Queued, error: str) -> None:
        s = item.sample
        log.warning("quarantined %s sample of %s: %s", s.iface, s.sampled_at, error)
        self.spool.quarantine(item, error)

    def run(self, wait: Callable[[float], bool]) -> None:
        """Tick every interval until `wait(seconds)` returns True (a stop, such as
        threading.Event().wait, or cli's signal wait); then a final tick and one short flush."""
        self._announce()
        next_tick = self.clock()
        while True:
            self.cycle()
            next_tick = self._next_tick(next_tick)
            if wait(max(0.0, next_tick - self.clock())):
                break
        self.finish()

    async def run_async(self, stop: asyncio.Event) -> None:
        """The same loop for an asyncio program (a bot): blocking work runs in a thread."""
        import asyncio

        await asyncio.to_thread(self._announce)
        next_tick = self.clock()
        while not stop.is_set():
            await asyncio.to_thread(self.cycle)
            next_tick = self._next_tick(next_tick)
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, next_tick - self.clock()))
            except TimeoutError:
                pass
        await asyncio.to_thread(self.finish)

    def _next_tick(self, last: float) -> float:
        """The next tick on the interval's grid; ticks missed (a suspended machine, a slow
        upload) are skipped, not run back to back."""
        interval, due, now = self.settings.interval_s, last + self.settings.interval_s, self.clock()
        if due < now:
            due += math.ceil((now - due) / interval) * interval
        return due

    def cycle(self) -> None:
        """One tick and, when an upload is due, the uploads until the next tick is. A daemon
        outlives a full disk or a bug in one tick: it says so and tries again at the next,
        which counts from the last state the spool stored."""
        try:
            self.tick()
            # Due at the tick nearest the upload time: the last upload set it a few ms after
            # its own tick (reading, spooling), and due to the millisecond it would wait a
            # whole interval more at every upload (70 s, not 60).
            if self.clock() >= self.next_upload - self.settings.interval_s / 2:
                self.flush(deadline=self.clock() + self.settings.interval_s)
        except NetstatsError as exc:
            log.error("%s", exc)
        except Exception:
            log.exception("unexpected error in this tick; trying again at the next one")

    def _announce(self) -> None:
        # The first tick counts this reading: a read takes the links removed since the last.
        self.reading = reading = self.reading or self.read()
        log.info(
            "%s: monitoring %s every %g s, uploading every %g s (spool %s)",
            self.settings.host,
            ", ".join(reading.counters) or "no interface",
            self.settings.interval_s,
            max(self.settings.interval_s, self.settings.upload_every_s),
            self.settings.spool,
        )
        from netstats.agent.scope import detect

        log.info("counting %s", detect().describe())

    def finish(self) -> None:
        self.tick()
        self.backoff.succeeded()  # one last try now, whatever the backoff said
        self.flush(deadline=self.clock() + FINAL_FLUSH_S)
        log.info("stopped; %d samples stay queued for the next start", self.spool.depth())
