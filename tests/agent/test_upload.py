"""The agent's queue meets a real database, through both transports."""

import asyncio
import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from netstats.agent import Agent
from netstats.agent.deltas import Counters, Reading
from netstats.agent.transports import PostgresTransport, SupabaseTransport, Unreachable
from netstats.config import AgentSettings
from netstats.sample import Sample
from tests.db.support import totals
from tests.support.postgrest import serve


class Machine:
    """Counters that grow by a known amount per reading: 1000 sent, 3000 received per tick."""

    def __init__(self, start: datetime | None = None) -> None:
        self.n = itertools.count()
        self.start = start or datetime.now(UTC) - timedelta(hours=1)

    def __call__(self) -> Reading:
        n = next(self.n)
        return Reading(
            boot_id="boot-1",
            wall=self.start + timedelta(seconds=10 * n),
            monotonic=10.0 * n,
            counters={"eth0": Counters(1000 * n, 3000 * n)},
            present=frozenset({"eth0", "lo"}),
        )


def make_agent(tmp_path, transport, machine=None, interval_s=10.0) -> Agent:
    settings = AgentSettings(host="bot-1", interval_s=interval_s, spool=tmp_path / "spool.sqlite3")
    return Agent(settings, transport, read=machine or Machine())


def test_ticks_reach_the_database_exactly(conn, dsn, tmp_path):
    agent = make_agent(tmp_path, PostgresTransport(dsn))
    for _ in range(6):
        agent.tick()  # the first only records the baseline
    assert agent.flush() == 5
    row = totals(conn, "all")
    assert (row["bytes_sent"], row["bytes_recv"], row["samples"]) == (5000, 15000, 5)
    assert agent.spool.depth() == 0
    agent.close()


def test_uploads_come_every_upload_period_and_at_the_stop_not_every_tick(conn, dsn, tmp_path):
    now = [0.0]
    settings = AgentSettings(
        host="bot-1", interval_s=10, upload_every_s=60, spool=tmp_path / "spool.sqlite3"
    )
    agent = Agent(settings, PostgresTransport(dsn), read=Machine(), clock=lambda: now[0])
    stored = []
    for _ in range(13):  # the body of Agent.run's loop, 10 s apart
        agent.cycle()
        stored.append(totals(conn, "all")["samples"])
        now[0] += 10
    # the first tick is the baseline; each tick's sample is in the spool until the upload
    assert stored == [0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 12]
    assert agent.spool.depth() == 0
    agent.finish()  # a last tick, uploaded at once
    assert totals(conn, "all")["samples"] == 13
    agent.close()


def test_uploads_keep_their_period_when_a_tick_takes_time(conn, dsn, tmp_path):
    """Time passes inside a cycle (reading, spooling, the spool's cap check) before the next
    upload's time is set: it must still be due at the tick a period later, not one interval
    after it (the fleet bench saw uploads every 70 s with NETSTATS_UPLOAD_EVERY=60)."""
    now = [0.0]

    def clock() -> float:  # a millisecond passes at every look
        now[0] += 0.001
        return now[0]

    settings = AgentSettings(
        host="bot-1", interval_s=10, upload_every_s=60, spool=tmp_path / "spool.sqlite3"
    )
    agent = Agent(settings, PostgresTransport(dsn), read=Machine(), clock=clock)
    stored = []
    for tick in range(19):  # the body of Agent.run's loop, on its 10 s grid
        now[0] = tick * 10.0
        agent.cycle()
        stored.append(totals(conn, "all")["samples"])
    assert stored == [0] * 6 + [6] * 6 + [12] * 6 + [18]
    agent.close()


def test_an_unreachable_database_keeps_every_sample_and_backs_off(conn, dsn, tmp_path):
    agent = make_agent(
        tmp_path, PostgresTransport("postgresql://postgres@/netstats?host=/nonexistent")
    )
    for _ in range(4):
        agent.tick()
    assert agent.flush() == 0
    assert agent.spool.depth() == 3
    assert agent.backoff.failures == 1 and agent.backoff.not_before > agent.clock()
    assert agent.flush() == 0  # still backing off: no new attempt
    agent.transport = PostgresTransport(dsn)
    agent.backoff.succeeded()
    assert agent.flush() == 3
    assert totals(conn, "all")["bytes_sent"] == 3000
    agent.close()


def test_a_refused_sample_is_quarantined_and_never_blocks_the_queue(conn, dsn, tmp_path):
    agent = make_agent(tmp_path, PostgresTransport(dsn))
    agent.tick()
    agent.tick()
    future = Sample("bot-1", "eth0", datetime.now(UTC) + timedelta(days=1), 10.0, 7, 7)
    agent.spool.commit_tick([future], agent.spool.state())
    agent.tick()
    assert agent.flush() == 2
    status = agent.spool.status()
    assert status.depth == 0
    assert [q.sample for q in status.quarantined] == [future]
    assert "more than 5 minutes after the database clock" in status.quarantined[0].error
    assert totals(conn, "all")["bytes_sent"] == 2000
    agent.close()


class Recording(PostgresTransport):
    """The real transport, keeping what it was asked to send."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn)
        self.batches: list[list[Sample]] = []

    def ingest(self, samples: list[Sample]) -> dict[str, int]:
        self.batches.append(list(samples))
        return super().ingest(samples)


def test_batches_go_in_the_order_the_database_stores_them_and_refusals_hit_the_right_sample(
    conn, dsn, tmp_path
):
    """Interfaces interleave in the spool (one tick, then the next); batches are sent sorted
    by host, interface and time, and a refusal's index still names the sample at fault."""

    def two_ifaces() -> Reading:
        reading = machine()
        return Reading(
            reading.boot_id,
            reading.wall,
            reading.monotonic,
            {"eth0": reading.counters["eth0"], "ens3": reading.counters["eth0"]},
            frozenset({"eth0", "ens3"}),
        )

    machine, transport = Machine(), Recording(dsn)
    agent = make_agent(tmp_path, transport, machine=two_ifaces)
    for _ in range(4):
        agent.tick()
    future = Sample("bot-1", "eth0", datetime.now(UTC) + timedelta(days=1), 10.0, 7, 7)
    agent.spool.commit_tick([future], agent.spool.state())
    agent.tick()
    assert agent.flush() == 8
    first = transport.batches[0]
    assert [s.iface for s in first] == ["ens3"] * 4 + ["eth0"] * 5
    assert first == sorted(first, key=lambda s: (s.host, s.iface, s.sampled_at))
    assert [q.sample for q in agent.spool.status().quarantined] == [future]
    assert totals(conn, "all")["samples"] == 8
    agent.close()


def test_supabase_transport_reaches_the_database_through_the_api(conn, dsn, tmp_path):
    with serve(dsn) as (url, up):
        agent = make_agent(tmp_path, SupabaseTransport(url, "agent-key"))
        for _ in range(4):
            agent.tick()
        up.clear()  # the API answers 503: samples stay queued
        assert agent.flush() == 0 and agent.spool.depth() == 3
        up.set()
        agent.backoff.succeeded()
        assert agent.flush() == 3
    assert totals(conn, "all")["bytes_recv"] == 9000
    agent.close()


def test_supabase_refusals_name_the_sample_and_a_wrong_key_loses_nothing(conn, dsn, tmp_path):
    good = Sample("bot-1", "eth0", datetime.now(UTC) - timedelta(minutes=1), 10.0, 1, 1)
    bad = Sample("bot-1", "eth0", datetime.now(UTC) + timedelta(days=1), 10.0, 1, 1)
    with serve(dsn) as (url, _):
        with pytest.raises(Unreachable, match="42501"):
            SupabaseTransport(url, "anon-key").ingest([good])
        agent = make_agent(tmp_path, SupabaseTransport(url, "service-role-key"))
        agent.spool.commit_tick([good, bad], _state())
        assert agent.flush() == 1
        (quarantined,) = agent.spool.status().quarantined
        assert quarantined.sample == bad and quarantined.error.startswith("samples[1].sampled_at")
    agent.close()


def _state():
    from netstats.agent.deltas import step

    return step(None, Machine()(), "bot-1").state


def test_the_asyncio_loop_ticks_until_stopped_then_flushes(conn, dsn, tmp_path):
    agent = make_agent(tmp_path, PostgresTransport(dsn), interval_s=0.05)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(agent.run_async(stop))
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert agent.spool.depth() == 0
    row = totals(conn, "all")
    assert row["samples"] >= 3 and row["bytes_sent"] == 1000 * row["samples"]
    agent.close()


def test_the_thread_loop_stops_on_its_event(conn, dsn, tmp_path):
    agent = make_agent(tmp_path, PostgresTransport(dsn), interval_s=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop.wait,))
    thread.start()
    threading.Timer(0.4, stop.set).start()
    thread.join(10)
    assert not thread.is_alive() and agent.spool.depth() == 0
    assert totals(conn, "all")["samples"] >= 3
    agent.close()


def test_a_thousand_refused_samples_are_all_quarantined_without_recursion(migrated, tmp_path):
    """Regression: quarantining refused samples one by one recursed once per sample and hit
    Python's recursion limit on a batch of 1,000 future-dated samples. (One engine: the
    loop is the agent's, and it takes 1,000 round trips.)"""
    agent = make_agent(tmp_path, PostgresTransport(migrated["pg15"]))
    future = datetime.now(UTC) + timedelta(days=1)
    bad = [Sample("bot-1", "eth0", future + timedelta(seconds=i), 10.0, 1, 1) for i in range(1000)]
    agent.spool.commit_tick(
        bad + [Sample("bot-1", "eth0", datetime.now(UTC), 10.0, 5, 5)], _state()
    )
    assert agent.flush() == 1
    status = agent.spool.status()
    assert (status.depth, len(status.quarantined)) == (0, 1000)
    agent.close()


def test_the_postgres_transport_survives_a_dropped_connection_and_says_why(conn, dsn):
    transport = PostgresTransport(dsn)
    at = datetime.now(UTC) - timedelta(minutes=1)
    assert transport.ingest([Sample("bot-1", "eth0", at, 10.0, 1, 2)]) == {
        "inserted": 1,
        "duplicates": 0,
    }
    # its connection says who it is, for whoever reads pg_stat_activity
    dropped = conn.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = 'netstats agent'"
    ).fetchone()
    assert dropped == (1,)
    later = Sample("bot-1", "eth0", at + timedelta(seconds=10), 10.0, 3, 4)
    with pytest.raises(Unreachable, match="terminat") as failed:
        transport.ingest([later])
    assert "\n" not in str(failed.value)  # one log line
    assert transport.ingest([later]) == {"inserted": 1, "duplicates": 0}  # a new connection
    assert totals(conn, "all")["bytes_recv"] == 6
    transport.close()
