"""Raw samples live in daily partitions (revision 0008): every day a sample may have gets one
when it is needed, and retention drops whole days."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg

from tests.db.support import T0, count_rows, every, ingest, sample, totals

PARTITIONS = """
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'netstats.samples'::regclass ORDER BY 1
"""


def partitions(conn: psycopg.Connection) -> dict[str, str]:
    conn.execute("SET timezone = 'UTC'")
    return dict(conn.execute(PARTITIONS).fetchall())


def midnight(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def test_a_sample_of_any_day_is_stored_in_that_days_partition(conn):
    """The oldest instant the contract accepts, a spool's weeks-old backlog, 5 minutes ahead:
    none is refused for want of a partition, each lands in its UTC day's."""
    now = datetime.now(UTC)
    days = [
        datetime(1970, 1, 1, tzinfo=UTC),
        T0 - timedelta(microseconds=1),
        T0,
        now - timedelta(days=40),
        now + timedelta(minutes=4),
    ]
    batch = [sample(t, sent=i + 1) for i, t in enumerate(days)]
    assert ingest(conn, batch) == {"inserted": 5, "duplicates": 0}
    assert totals(conn, "all", at=now + timedelta(minutes=5))["bytes_sent"] == 15
    stored = conn.execute(
        "SELECT tableoid::regclass::text, sampled_at FROM netstats.samples ORDER BY 2"
    ).fetchall()
    assert stored == [(f"netstats.samples_{t:%Y%m%d}", t) for t in days]
    bounds = partitions(conn)
    for t in days:
        lo, hi = midnight(t), midnight(t) + timedelta(days=1)
        assert bounds[f"samples_{t:%Y%m%d}"] == (
            f"FOR VALUES FROM ('{lo:%Y-%m-%d %H:%M:%S}+00') TO ('{hi:%Y-%m-%d %H:%M:%S}+00')"
        )


def test_concurrent_batches_of_a_new_day_both_create_it_and_are_both_stored(dsn, conn):
    """Two agents whose first samples of a day arrive together: one creates the partition,
    the other waits for it and uses it; neither is refused."""
    day = midnight(datetime.now(UTC)) - timedelta(days=300)
    conn.execute(f"DROP TABLE IF EXISTS netstats.samples_{day:%Y%m%d}")
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def upload(host: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as own:
            start.wait()
            try:
                results[host] = ingest(own, every(day, 50, host=host))
            except psycopg.Error as exc:
                results[host] = exc

    threads = [threading.Thread(target=upload, args=(h,)) for h in ("bot-1", "bot-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {h: {"inserted": 50, "duplicates": 0} for h in ("bot-1", "bot-2")}
    assert count_rows(conn)[0] == 100


def test_an_invalid_sample_is_still_refused_by_name_on_a_day_without_a_partition(conn):
    day = midnight(datetime.now(UTC)) - timedelta(days=301)
    conn.execute(f"DROP TABLE IF EXISTS netstats.samples_{day:%Y%m%d}")
    bad = sample(day, interval_s=0).to_json()
    try:
        ingest(conn, [sample(day).to_json(), bad])
    except psycopg.errors.InvalidParameterValue as exc:
        assert str(exc).startswith("samples[1].interval_s")
    else:
        raise AssertionError("an interval of 0 s was stored")
    assert count_rows(conn) == (0, 0)


def test_retention_drops_only_days_wholly_older_than_raw_retention(conn):
    now = datetime.now(UTC)
    conn.execute("UPDATE netstats.settings SET raw_retention = '3 days'")
    cutoff = now - timedelta(days=3)
    # a sample every 10 minutes from 5 days ago to now: the day holding the cutoff stays
    ingest(conn, every(midnight(now) - timedelta(days=5), (5 * 144) + now.hour * 6, step_s=600))
    before = {p: totals(conn, p, "Asia/Kathmandu", at=now) for p in ("all", "month", "7d")}
    kept_rows = conn.execute(
        "SELECT count(*) FROM netstats.samples WHERE sampled_at >= %s", [midnight(cutoff)]
    ).fetchone()[0]

    result = conn.execute("SELECT netstats.apply_retention()").fetchone()[0]

    # (other tests' days, emptied, go too: every day before the cutoff's, and none after)
    dropped = [
        datetime.strptime(n[-8:], "%Y%m%d").replace(tzinfo=UTC)
        for n in result["dropped_partitions"]
    ]
    assert {midnight(cutoff) - timedelta(days=d) for d in (2, 1)} <= set(dropped)
    assert max(dropped) + timedelta(days=1) <= cutoff
    assert result["deleted_samples"] == 2 * 144
    assert datetime.fromisoformat(result["raw_kept_from"]) == midnight(cutoff)
    assert count_rows(conn)[0] == kept_rows
    assert conn.execute("SELECT min(sampled_at) FROM netstats.samples").fetchone()[0] == (
        midnight(cutoff)
    )
    # every total reads the same, from rollups where the raw samples are gone
    assert {p: totals(conn, p, "Asia/Kathmandu", at=now) for p in before} == before
    # today and the next two days are ready before any sample needs them
    for d in range(3):
        assert f"samples_{midnight(now) + timedelta(days=d):%Y%m%d}" in partitions(conn)
    again = conn.execute("SELECT netstats.apply_retention()").fetchone()[0]
    assert (again["deleted_samples"], again["dropped_partitions"]) == (0, [])
