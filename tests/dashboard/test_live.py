"""The live feed over a real LISTEN: one computation per ingest for every stream that shows
the same filters, and a slow stream holds only the newest answer."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from netstats.dashboard import DashboardSettings
from netstats.dashboard.feed import LiveFeed
from tests.dashboard.server import Server
from tests.db.support import ingest, sample
from tests.support.cli import free_port


def test_one_computation_per_ingest_serves_every_stream_with_those_filters(dsn, conn):
    asked: list[tuple] = []

    async def points(host, iface):
        asked.append((host, iface))
        async with await psycopg.AsyncConnection.connect(dsn) as c:
            row = await (await c.execute("SELECT count(*) FROM netstats.samples")).fetchone()
        return {"samples": row[0]}

    async def main():
        feed = LiveFeed(dsn, points)
        runner = asyncio.create_task(feed.run())
        everyone = [feed.open((None, None)) for _ in range(200)]
        bot1 = [feed.open(("bot-1", None)) for _ in range(50)]
        elsewhere = feed.open(("bot-9", None))
        await asyncio.sleep(0.5)  # listening (its first round marks every filter)
        for s in [*everyone, *bot1, elsewhere]:
            await s.next(2)
        asked.clear()
        await asyncio.to_thread(ingest, conn, [sample(datetime.now(UTC), host="bot-1")])
        got = await asyncio.gather(*(s.next(5) for s in everyone + bot1))
        quiet = await elsewhere.next(0.5)
        runner.cancel()
        return got, quiet, feed

    got, quiet, feed = asyncio.run(main())
    # two filters, two queries
    assert len(asked) == 2 and set(asked) == {("bot-1", None), (None, None)}
    assert got == ['{"samples": 1}'] * 250
    assert quiet is None  # bot-9 was not touched: nothing recomputed or sent
    assert feed.open_streams == 251


def test_a_slow_stream_keeps_only_the_newest_answer():
    async def main():
        feed = LiveFeed("unused", None)  # type: ignore[arg-type]
        stream = feed.open((None, None))
        for n in range(1000):
            stream.offer(str(n))
        first = await stream.next(1)
        second = await stream.next(0.1)
        feed.close(stream)
        return first, second, feed.open_streams

    assert asyncio.run(main()) == ("999", None, 0)


def test_the_live_rate_is_bytes_over_the_seconds_the_samples_cover(migrated):
    """An agent at a 60 s interval sends one sample every sixth 10 s bucket: 1 MB/s is
    8 Mbit/s in every point, not 48 Mbit/s spikes."""
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [
        sample(now - timedelta(seconds=60 * k), 60_000_000, 0, interval_s=60.0)
        for k in range(1, 10)
    ]
    with psycopg.connect(migrated["pg15"], autocommit=True) as pg15:
        pg15.execute("TRUNCATE netstats.samples, netstats.rollups")
        ingest(pg15, rows)
        with Server(DashboardSettings(migrated["pg15"], port=free_port())) as running:
            points = httpx.get(running.url + "/api/live").json()["points"]
    assert len(points) == 9
    assert {round(rate) for _, rate in points} == {8_000_000}


def test_the_live_window_spans_15_uploads_in_at_most_900_points():
    from datetime import timedelta

    from netstats.dashboard import live_window

    minutes = timedelta(minutes=1)
    assert live_window(10) == (15 * minutes, timedelta(seconds=10))
    assert live_window(60) == (15 * minutes, timedelta(seconds=10))
    assert live_window(300) == (75 * minutes, timedelta(seconds=10))
    assert live_window(3600) == (900 * minutes, timedelta(seconds=60))
