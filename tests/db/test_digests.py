"""Digests (issue 31): each ended period of a digest is raised once, as an alert of kind
'digest' with the period's figures, and handed to one deliverer at a time like any alert:
exactly once with claimers racing and one dying mid-post, late but not lost or doubled."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.db.support import ingest, sample
from tests.db.test_quotas import claim, done

KOLKATA = ZoneInfo("Asia/Kolkata")


def digest_set(conn, name: str, period: str, tz: str, created: datetime) -> None:
    conn.execute("SELECT netstats_digest_set(%s, %s, %s)", [name, period, tz])
    conn.execute("UPDATE netstats.digests SET created_at = %s WHERE name = %s", [created, name])


def day_start(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def test_each_day_is_posted_once_with_claimers_racing_and_one_dying_mid_post(dsn, conn):
    # a week of traffic, a sample every 20 minutes, more each day
    first = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)  # 00:00 on 2 March in Kolkata
    samples = [
        sample(first + timedelta(minutes=20 * i), sent=1000 + i, recv=7 * i, host=f"bot-{i % 3}")
        for i in range(7 * 72)
    ]
    ingest(conn, samples)
    digest_set(conn, "daily", "day", "Asia/Kolkata", created=first)  # set at midnight there
    at = first + timedelta(days=7, hours=1)  # 01:00 on 9 March in Kolkata
    got: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def deliverer(dies: bool) -> None:
        with psycopg.connect(dsn, autocommit=True) as mine:
            start.wait()
            for _ in range(4):
                claimed = [a for a in claim(mine, at, n=1) if a["kind"] == "digest"]
                if claimed and not dies:
                    done(mine, claimed)
                    with lock:
                        got.extend(claimed)
                if claimed and dies:
                    return  # claimed, never posted: its lease runs out

    threads = [threading.Thread(target=deliverer, args=(i == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(dsn, autocommit=True) as later:  # after the dead one's lease
        while claimed := claim(later, at + timedelta(minutes=6), n=1):
            done(later, claimed)
            got.extend(a for a in claimed if a["kind"] == "digest")
    days = [a["facts"]["period_start"] for a in got]
    assert sorted(days) == [
        (first + timedelta(days=d)).isoformat() for d in range(7)
    ]  # every day once: 2 to 8 March, not the 9th, which has not ended
    assert len({a["id"] for a in got}) == 7
    for a in got:
        f = a["facts"]
        lo, hi = datetime.fromisoformat(f["period_start"]), datetime.fromisoformat(f["period_end"])
        mine = [s for s in samples if lo <= s.sampled_at < hi]
        assert hi - lo == timedelta(days=1) and lo == day_start(lo, KOLKATA)
        assert (f["totals"]["bytes_sent"], f["totals"]["bytes_recv"]) == (
            sum(s.bytes_sent for s in mine),
            sum(s.bytes_recv for s in mine),
        )
        before = [s for s in samples if lo - timedelta(days=1) <= s.sampled_at < lo]
        assert f["previous"]["bytes_sent"] == sum(s.bytes_sent for s in before)
        assert f["top_by"] == "hour" and len(f["top"]) == 5
        hosts = {h: sum(s.bytes_sent + s.bytes_recv for s in mine if s.host == h) for h in
                 ("bot-0", "bot-1", "bot-2")}  # fmt: skip
        assert [(t["key"], t["bytes_total"]) for t in f["top_hosts"]] == sorted(
            hosts.items(), key=lambda kv: -kv[1]
        )
        with conn.cursor(row_factory=dict_row) as cur:
            p = cur.execute(
                "SELECT * FROM netstats_percentile('today', 'Asia/Kolkata', at => %s)",
                [hi - timedelta(microseconds=1)],
            ).fetchone()
        assert f["percentile"]["total_bytes_per_s"] == p["total_bytes_per_s"]
    # and nothing more, however often anyone claims
    assert [a for a in claim(conn, at + timedelta(minutes=30)) if a["kind"] == "digest"] == []


def test_a_digest_missed_while_no_deliverer_ran_is_raised_late_in_order(conn):
    """Across a DST change in Berlin: the days have their real length, and three ended while
    nobody claimed: raised at the next claim, oldest first."""
    ingest(
        conn,
        [sample(datetime(2026, 3, 28, 12, tzinfo=UTC) + timedelta(hours=h)) for h in range(72)],
    )
    digest_set(
        conn, "berlin", "day", "Europe/Berlin", created=datetime(2026, 3, 27, 23, tzinfo=UTC)
    )
    got = [a for a in claim(conn, datetime(2026, 3, 31, 9, tzinfo=UTC)) if a["kind"] == "digest"]
    spans = [
        (
            datetime.fromisoformat(a["facts"]["period_start"]),
            datetime.fromisoformat(a["facts"]["period_end"]),
        )
        for a in got
    ]
    assert [end - start for start, end in spans] == [
        timedelta(hours=24),  # 28 March
        timedelta(hours=23),  # 29 March: clocks go forward
        timedelta(hours=24),  # 30 March
    ]
    assert [a["id"] for a in got] == sorted(a["id"] for a in got)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "day", "UTC"], "name: expected 1 to 100 characters"),
        (["x", "fortnight", "UTC"], "period: expected one of day, week, month, cycle"),
        (["x", "day", "Mars/Olympus"], "tz: unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_bad_digest_is_refused_naming_the_field(conn, args, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        conn.execute("SELECT netstats_digest_set(%s, %s, %s)", args)


def test_a_status_message_is_claimed_by_one_keeper_and_its_failures_are_kept(dsn, conn):
    """Two keepers looking at once: the second neither waits nor gets what the first holds
    (its transaction still open); a shown one is
    not due until its pace has passed; a failure is counted with its error and waits the
    same pace; a keeper that died holding one only delays it until its claim runs out."""
    for channel in (11, 12, 13):
        conn.execute("SELECT netstats_status_set(%s, 'UTC', 300)", [channel])

    def claimed(c, lease_s: int = 120) -> list[int]:
        return [r[0] for r in c.execute("SELECT channel FROM netstats_status_claim(%s)", [lease_s])]

    with psycopg.connect(dsn) as first, psycopg.connect(dsn) as second:
        mine = claimed(first)  # its transaction still open: the rows stay locked
        theirs = claimed(second)
        first.commit(), second.commit()
    assert (mine, theirs) == ([11, 12, 13], [])
    assert claimed(conn) == []  # all held

    conn.execute("SELECT netstats_status_posted(11, 900)")
    conn.execute("SELECT netstats_status_failed(12, 'Discord answered 403: Missing Access')")
    conn.execute(
        "UPDATE netstats.status_messages SET claimed_until = now() - interval '1 s'"
        " WHERE channel_id = 13"
    )  # the keeper holding 13 died: its claim ran out
    assert claimed(conn) == [13]
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT channel, message, failures, last_error FROM netstats_status_messages()"
    )}  # fmt: skip
    assert rows == {
        11: (900, 0, None),
        12: (None, 1, "Discord answered 403: Missing Access"),
        13: (None, 0, None),
    }
    # five minutes later: 11 is due again, 12 tries again, 13 is still held (a 120 s claim
    # taken now would have run out; this one is moved by hand past its pace only for 11, 12)
    conn.execute(
        "UPDATE netstats.status_messages SET edited_at = edited_at - interval '5 min',"
        " claimed_until = claimed_until - interval '5 min' WHERE channel_id IN (11, 12)"
    )
    assert claimed(conn) == [11, 12]
    conn.execute("SELECT netstats_status_posted(12, 901)")
    assert conn.execute(
        "SELECT failures, last_error FROM netstats_status_messages() WHERE channel = 12"
    ).fetchone() == (0, None)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"lease_s: expected 1 to 3600"):
        claimed(conn, 0)


def test_alerts_are_claimed_by_their_destination(conn):
    """A digest set for a channel of its own is the bot's: a webhook deliverer (routed false)
    leaves it, a bot with no default channel (true) takes only it, netstats_alerts_claim all."""
    first = datetime(2026, 3, 1, tzinfo=UTC)
    ingest(conn, [sample(first + timedelta(hours=h), host="bot-1") for h in range(30)])
    digest_set(conn, "default", "day", "UTC", created=first)
    conn.execute("SELECT netstats_digest_set('own', 'day', 'UTC', 3334)")
    conn.execute("UPDATE netstats.digests SET created_at = %s", [first])
    at = first + timedelta(days=1, hours=1)

    def taken(call: str) -> list[str]:
        rows = conn.execute(call, [at]).fetchall()
        conn.execute("UPDATE netstats.alerts SET leased_until = NULL")  # back for the next
        return sorted(r[0] for r in rows)

    routed = "SELECT quota FROM netstats_alerts_claim_routed(%s, at => %%s)"
    assert taken(routed % "false") == ["default"]
    assert taken(routed % "true") == ["own"]
    assert taken(routed % "null") == taken("SELECT quota FROM netstats_alerts_claim(at => %s)")
    assert taken(routed % "null") == ["default", "own"]
