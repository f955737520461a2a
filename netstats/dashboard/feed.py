"""The live chart's feed: one LISTEN connection for the whole server, and the live points of
each filter (host, interface) computed once per burst of ingests for every open stream that
shows them, however many there are.

Each stream holds at most one undelivered answer, the newest: a slow client skips answers
instead of growing a queue. The number of streams is bounded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

log = logging.getLogger(__name__)

Filters = tuple[str | None, str | None]  # (host, iface); None = all
# An answer computed this recently is shown again instead of asking the database.
FRESH_S = 2.0
CACHED_FILTERS = 256


class TooManyStreams(Exception):
    pass


class Stream:
    """One open page: the newest answer not yet sent, if any."""

    def __init__(self, filters: Filters) -> None:
        self.filters = filters
        self.ended = False
        self._newest: str | None = None
        self._ready = asyncio.Event()

    def offer(self, data: str) -> None:
        self._newest = data
        self._ready.set()

    def end(self) -> None:
        """The server is stopping: next() returns at once, and the response ends."""
        self.ended = True
        self._ready.set()

    async def next(self, timeout_s: float) -> str | None:
        """The newest answer, or None when nothing came within `timeout_s` (or it ended)."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError:
            return None
        self._ready.clear()
        data, self._newest = self._newest, None
        return data


class LiveFeed:
    def __init__(
        self,
        url: str,
        points: Callable[[str | None, str | None], Awaitable[dict[str, Any]]],
        max_streams: int = 1000,
    ) -> None:
        self.url = url
        self.points = points
        self.max_streams = max_streams
        self.streams: dict[Filters, set[Stream]] = {}
        self._dirty: set[Filters] = set()
        self._wake = asyncio.Event()
        self._cache: dict[Filters, tuple[float, str]] = {}
        self._computing: dict[Filters, asyncio.Future[str]] = {}
        self.ended = False

    @property
    def open_streams(self) -> int:
        return sum(len(s) for s in self.streams.values())

    def open(self, filters: Filters) -> Stream:
        if self.open_streams >= self.max_streams:
            raise TooManyStreams(
                f"{self.max_streams} live streams are open already; try again later"
            )
        stream = Stream(filters)
        if self.ended:
            stream.end()
        self.streams.setdefault(filters, set()).add(stream)
        return stream

    def end(self) -> None:
        """Ends every open stream: a server waits for its responses before it stops, and a
        live stream never ends by itself."""
        self.ended = True
        for streams in self.streams.values():
            for stream in streams:
                stream.end()

    def close(self, stream: Stream) -> None:
        streams = self.streams.get(stream.filters, set())
        streams.discard(stream)
        if not streams:
            self.streams.pop(stream.filters, None)

    async def current(self, filters: Filters) -> str:
        """The live points as JSON text: cached when fresh; computed once for all who ask
        at the same time."""
        cached = self._cache.get(filters)
        if cached and time.monotonic() - cached[0] < FRESH_S:
            return cached[1]
        future = self._computing.get(filters)
        if future is None:
            future = asyncio.ensure_future(self._compute(filters))
            self._computing[filters] = future
            future.add_done_callback(lambda _: self._computing.pop(filters, None))
        return await asyncio.shield(future)

    async def _compute(self, filters: Filters) -> str:
        data = json.dumps(await self.points(*filters))
        self._cache.pop(filters, None)
        self._cache[filters] = (time.monotonic(), data)
        while len(self._cache) > CACHED_FILTERS:  # dicts keep insertion order: oldest first
            del self._cache[next(iter(self._cache))]
        return data

    async def run(self) -> None:
        await asyncio.gather(self._listen(), self._publish())

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute("LISTEN netstats_samples")
                    self._mark(None)  # anything may have been missed while not listening
                    async for note in conn.notifies():
                        self._mark(note.payload)
            except psycopg.Error as exc:
                log.warning("LISTEN netstats_samples lost (%s); reconnecting in 2 s", exc)
                await asyncio.sleep(2)

    def _mark(self, payload: str | None) -> None:
        series = None if payload is None else json.loads(payload).get("series")
        for filters in self.streams:
            if series is None or _touches(series, *filters):
                self._dirty.add(filters)
                self._cache.pop(filters, None)
        self._wake.set()

    async def _publish(self) -> None:
        """Ingests that arrive while answers are computed are folded into the next round."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for filters in dirty:
                if not self.streams.get(filters):
                    continue
                try:
                    data = await self._compute(filters)
                except (psycopg.Error, OSError) as exc:
                    log.warning("live points for %s failed: %s", filters, exc)
                    continue
                for stream in self.streams.get(filters, ()):
                    stream.offer(data)


def _touches(series: list[dict[str, str]], host: str | None, iface: str | None) -> bool:
    return any(host in (None, s["host"]) and iface in (None, s["iface"]) for s in series)
