import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import pytest

from netstats.agent.deltas import Counters, State
from netstats.agent.spool import Spool
from netstats.errors import SpoolError
from netstats.sample import Sample

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def state(n: int) -> State:
    return State(
        "boot-1",
        T0 + timedelta(seconds=n),
        float(n),
        {"eth0": Counters(n, 2 * n)},
        frozenset({"eth0", "lo"}),
        {"eth0": 2},
    )


def sample(n: int, iface: str = "eth0", interval_s: float = 10.0) -> Sample:
    return Sample("bot-1", iface, T0 + timedelta(seconds=10 * n), interval_s, n, 2 * n)


def test_a_tick_and_its_state_survive_reopening(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite3")
    assert spool.state() is None
    spool.commit_tick([sample(1), sample(1, "eth1")], state(7))
    spool.close()
    again = Spool(tmp_path / "spool.sqlite3")
    assert again.state() == state(7)
    assert [q.sample for q in again.oldest(10)] == [sample(1), sample(1, "eth1")]
    assert again.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_confirmed_samples_leave_and_quarantined_ones_are_kept_with_their_error(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.commit_tick([sample(i) for i in range(5)], state(5))
    first, second, *rest = spool.oldest(10)
    spool.quarantine(second, "samples[1].bytes_sent: expected an integer >= 0")
    spool.confirmed([first.id])
    status = spool.status()
    assert status.depth == 3 and [q.sample for q in spool.oldest(10)] == [q.sample for q in rest]
    assert [(q.sample, q.error) for q in status.quarantined] == [
        (sample(1), "samples[1].bytes_sent: expected an integer >= 0")
    ]
    assert status.last_upload is not None
    assert status.oldest == sample(2).sampled_at


def test_past_its_cap_the_spool_merges_old_samples_and_keeps_every_byte(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite3", cap=100)
    samples = [sample(i, iface) for i in range(1, 151) for iface in ("eth0", "eth1")]
    spool.commit_tick(samples, state(1))
    merged = spool.enforce_cap()
    kept = [q.sample for q in spool.oldest(10_000)]
    assert merged == 200 and len(kept) == 100
    for iface in ("eth0", "eth1"):
        mine = [s for s in kept if s.iface == iface]
        assert sum(s.bytes_sent for s in mine) == sum(range(1, 151))
        assert sum(s.interval_s for s in mine) == 1500
        assert mine[-1].sampled_at == sample(150).sampled_at
        assert [s.sampled_at for s in mine] == sorted({s.sampled_at for s in mine})


def test_a_spool_of_day_long_samples_cannot_merge_and_drops_nothing(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite3", cap=2)
    spool.commit_tick([sample(i, interval_s=86400) for i in range(5)], state(1))
    assert spool.enforce_cap() == 0
    assert spool.depth() == 5


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from netstats.agent.deltas import Counters, State
    from netstats.agent.spool import Spool
    from netstats.sample import Sample

    spool = Spool(Path(sys.argv[1]))
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    n = 0 if spool.state() is None else int(spool.state().monotonic)
    print("ready", flush=True)
    while True:
        n += 1
        # tick n adds n bytes; the state holds the running total
        total = n * (n + 1) // 2
        spool.commit_tick(
            [Sample("h", "eth0", t0 + timedelta(seconds=n), 1.0, n, 0)],
            State("boot-1", t0 + timedelta(seconds=n), float(n), {"eth0": Counters(total, 0)}, frozenset({"eth0"})),
        )
    """
)


def test_sigkill_at_any_instant_loses_no_tick_and_splits_none(tmp_path):
    """A writer committing ticks as fast as it can is killed with SIGKILL, five times; after
    each kill, the queued bytes equal the state's running total exactly."""
    path = tmp_path / "spool.sqlite3"
    for round_ in range(5):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(0.2 + 0.1 * round_)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        spool = Spool(path)
        saved = spool.state()
        queued = spool.oldest(10**7)
        assert saved is not None and len(queued) == int(saved.monotonic)
        assert sum(q.sample.bytes_sent for q in queued) == saved.counters["eth0"].bytes_sent
        spool.close()


def test_a_spool_written_before_boot_ids_keeps_its_queue_and_forgets_the_boot_time(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE queue (id INTEGER PRIMARY KEY, host TEXT NOT NULL, iface TEXT NOT NULL,
            sampled_us INTEGER NOT NULL, interval_s REAL NOT NULL, bytes_sent INTEGER NOT NULL,
            bytes_recv INTEGER NOT NULL);
        CREATE TABLE state (singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
            boot_time REAL NOT NULL, sampled_us INTEGER NOT NULL, monotonic REAL NOT NULL,
            counters TEXT NOT NULL, present TEXT NOT NULL);
        INSERT INTO queue VALUES (1, 'bot-1', 'eth0', 1772409600000000, 10.0, 5, 6);
        INSERT INTO state VALUES (1, 1700000000.0, 1772409600000000, 123.5, '{"eth0": [7, 8]}', '["eth0"]');
        """
    )
    old.commit()
    old.close()
    spool = Spool(path)
    assert spool.state() == State("", T0, 123.5, {"eth0": Counters(7, 8)}, frozenset({"eth0"}))
    assert [(q.sample.bytes_sent, q.sample.bytes_recv) for q in spool.oldest(10)] == [(5, 6)]


def test_a_second_agent_on_the_same_spool_is_refused_naming_the_first(tmp_path):
    path = tmp_path / "spool.sqlite3"
    first = Spool(path)
    with pytest.raises(
        SpoolError, match=rf"in use by another netstats agent \(PID {os.getpid()}\)"
    ):
        Spool(path)
    first.close()
    Spool(path).close()  # free again once the first is gone


def test_requeue_moves_quarantined_samples_back_in_order(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.commit_tick([sample(1), sample(2), sample(3)], state(3))
    for queued in spool.oldest(2):
        spool.quarantine(queued, "samples[0].sampled_at: … more than 5 minutes after …")
    assert spool.requeue() == 2
    assert [q.sample for q in spool.oldest(10)] == [sample(3), sample(1), sample(2)]
    assert spool.status().quarantined == []


def test_a_tick_computed_from_a_state_that_changed_meanwhile_writes_nothing(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.commit_tick([], state(1), after=None)  # the first tick: nothing before it
    spool.commit_tick([sample(2)], state(2), after=state(1))
    with pytest.raises(SpoolError, match="changed under this tick"):
        spool.commit_tick([sample(3)], state(3), after=state(1))  # computed from a stale state
    assert spool.state() == state(2) and spool.depth() == 1
    spool.close()
