from datetime import UTC, datetime, timedelta

from tests.db.support import count_rows, every, ingest, series, totals


def hour_floor(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def test_retention_drops_raw_samples_past_35_days_and_keeps_every_total(conn):
    now = datetime.now(UTC)
    old_start = hour_floor(now - timedelta(days=40))
    samples = every(old_start, 1440, step_s=60) + every(
        hour_floor(now - timedelta(hours=3)), 60, step_s=60
    )
    ingest(conn, samples)
    before = {p: totals(conn, p, at=now) for p in ("all", "year", "month", "30d")}

    result = conn.execute("SELECT netstats.apply_retention()").fetchone()[0]

    assert result["deleted_samples"] == 1440
    # whole UTC days go, once all of the day is older than 35 days
    cutoff = datetime.fromisoformat(result["raw_kept_from"])
    assert cutoff.astimezone(UTC).time() == datetime.min.time()
    assert timedelta(days=35) <= now - cutoff < timedelta(days=36)
    assert count_rows(conn)[0] == 60
    assert {p: totals(conn, p, at=now) for p in before} == before
    assert conn.execute("SELECT netstats.apply_retention()").fetchone()[0]["deleted_samples"] == 0


def test_retention_period_is_a_database_setting(conn):
    now = datetime.now(UTC)
    ingest(conn, every(hour_floor(now - timedelta(days=3)), 10))
    conn.execute("UPDATE netstats.settings SET raw_retention = '2 days'")
    assert conn.execute("SELECT netstats.apply_retention()").fetchone()[0]["deleted_samples"] == 10


def test_after_retention_a_cut_five_minutes_count_whole_when_they_start_inside(conn):
    """Raw samples are what splits a 5-minute bucket; once they are gone, an edge inside a
    bucket rounds to it: the bucket counts when it starts inside the window."""
    start = hour_floor(datetime.now(UTC) - timedelta(days=50))
    ingest(conn, every(start, 90, step_s=60, sent=1, recv=0))  # 1 byte a minute for 90 minutes
    at = start + timedelta(minutes=22)  # 2 minutes into the fifth 5-minute bucket
    exact = totals(conn, "all", at=at)["bytes_sent"]
    on_edge = totals(conn, "all", at=start + timedelta(minutes=20) - timedelta(microseconds=1))
    conn.execute("SELECT netstats.apply_retention()")
    assert (exact, on_edge["bytes_sent"]) == (23, 20)
    assert totals(conn, "all", at=at)["bytes_sent"] == 25  # the cut bucket, whole
    # an edge on a 5-minute boundary stays exact
    assert totals(conn, "all", at=on_edge["period_end"])["bytes_sent"] == 20
    # one-minute buckets fall back to the 5-minute rollups where raw samples are gone
    rows = series(conn, start, start + timedelta(minutes=30), "1 minute")
    assert [r["bytes_sent"] for r in rows] == ([5] + [0] * 4) * 6


def test_long_periods_read_no_raw_rows_inside_the_window(conn):
    """Only rollups serve a window's interior: deleting raw rows there changes nothing."""
    now = datetime.now(UTC)
    start = hour_floor(now - timedelta(days=20))
    ingest(conn, every(start, 4000, step_s=400))
    before = {p: totals(conn, p, "Asia/Kathmandu", at=now) for p in ("month", "30d", "all")}
    conn.execute(
        "DELETE FROM netstats.samples WHERE sampled_at > %s AND sampled_at < %s",
        [start + timedelta(days=1), now - timedelta(days=1)],
    )
    assert {p: totals(conn, p, "Asia/Kathmandu", at=now) for p in before} == before
