"""Quotas and the alerts the database raises (DESIGN.md, "Quotas and alerts"): figures equal
netstats_totals in the quota's own zone, and every alert is raised and handed out exactly
once per key, whoever claims and however often."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.db.support import every, ingest, sample, totals

AT = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
GB = 10**9


def quota_set(conn: psycopg.Connection, name: str, limit: int, **kw: Any) -> dict[str, Any]:
    args = {"name": name, "limit_bytes": limit, **kw}
    named = ", ".join(f"{k} => %({k})s" for k in args)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT * FROM netstats_quota_set({named})", args).fetchone()
    assert row is not None
    return row


def quotas(conn: psycopg.Connection, at: datetime = AT) -> dict[str, dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM netstats_quotas(at => %s)", [at]).fetchall()
    return {r["name"]: r for r in rows}


def claim(conn: psycopg.Connection, at: datetime = AT, n: int = 20) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM netstats_alerts_claim(%s, %s)", [n, at]).fetchall()


def done(conn: psycopg.Connection, alerts: list[dict[str, Any]], error: str | None = None) -> int:
    ids = [a["id"] for a in alerts]
    return conn.execute("SELECT netstats_alerts_done(%s, %s)", [ids, error]).fetchone()[0]


def keys(alerts: list[dict[str, Any]]) -> list[tuple]:
    return sorted((a["kind"], a["quota"], a["host"], a["threshold"]) for a in alerts)


def test_progress_follows_the_quotas_own_zone_and_direction(conn):
    # Kathmandu (+05:45): March began there at 18:15 UTC on 28 February.
    ingest(
        conn,
        every(datetime(2026, 2, 28, 18, 0, tzinfo=UTC), 200, step_s=3600, sent=GB, recv=7 * GB),
    )
    row = quota_set(
        conn,
        "uplink",
        500 * GB,
        period="month",
        direction="sent",
        thresholds=[100, 25, 25, 50],
        tz="Asia/Kathmandu",
    )
    assert row["thresholds"] == [25, 50, 100]  # sorted, once each
    q = quotas(conn)["uplink"]
    month = totals(conn, "month", "Asia/Kathmandu", at=AT)
    used = month["bytes_sent"]
    assert used == 200 * GB - GB  # the 18:00 UTC sample was still February there
    assert (q["period_start"], q["period_end"]) == (month["period_start"], month["period_end"])
    assert (q["used_bytes"], q["remaining_bytes"]) == (used, 500 * GB - used)
    assert q["used_ratio"] == pytest.approx(float(used) / (500 * GB))
    elapsed = Decimal((AT - month["period_start"]).total_seconds())
    span = Decimal((month["period_end"] - month["period_start"]).total_seconds())
    assert q["projected_bytes"] == (used * span / elapsed).quantize(1, ROUND_HALF_EVEN)
    assert q["thresholds_crossed"] == [25]  # received bytes (7x more) are not counted
    left = Decimal((month["period_end"] - AT).total_seconds())
    assert q["daily_allowance_bytes"] == ((500 * GB - used) * 86400 // left)
    assert q["projected_exceed_at"] is None  # at this rate the month ends first
    quota_set(conn, "small", 250 * GB, period="month", direction="sent", tz="Asia/Kathmandu")
    fast = quotas(conn)["small"]
    rate = Decimal(used) / elapsed
    expected = AT + timedelta(seconds=float((250 * GB - used) / rate))
    assert abs(fast["projected_exceed_at"] - expected) < timedelta(milliseconds=1)


def test_max_counts_the_larger_of_the_periods_two_sums(conn):
    """A provider billing the larger of in and out compares the cycle's sums, not samples."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    ingest(conn, every(start, 100, step_s=600, sent=3 * GB, recv=1 * GB))
    ingest(conn, every(start + timedelta(days=2), 100, step_s=600, sent=0, recv=5 * GB))
    quota_set(conn, "larger", 1000 * GB, period="month", direction="max")
    q = quotas(conn)["larger"]
    assert q["direction"] == "max"
    assert q["used_bytes"] == 600 * GB  # received 100 + 500 beat sent 300; not 300 + 500
    assert q["thresholds_crossed"] == []
    quota_set(conn, "larger", 500 * GB, period="month", direction="max")
    assert quotas(conn)["larger"]["thresholds_crossed"] == [80, 90, 100]


def test_every_quota_read_at_once_equals_its_own_total(conn):
    """netstats_quotas sums all quotas in one query: each must equal netstats_totals asked
    alone, whatever its host, interface, period, zone and direction."""
    start = AT - timedelta(days=40)
    for host, iface, step in (
        ("bot-1", "eth0", 910),
        ("bot-1", "wg0", 970),
        ("bot-2", "eth0", 730),
    ):
        ingest(conn, every(start, int(41 * 86400 / step), step_s=step, host=host, iface=iface))
    conn.execute("UPDATE netstats.settings SET cycle_day = 15")
    cases = [
        (period, tz, host, iface, direction)
        for period in ("day", "week", "month", "year", "cycle")
        for tz, host, iface, direction in (
            ("Asia/Kathmandu", "bot-1", None, "sent"),
            ("America/New_York", None, "eth0", "recv"),
            ("Australia/Lord_Howe", "bot-2", "eth0", "total"),
            ("UTC", "bot-1", "wg0", "max"),
            ("Asia/Tokyo", "nobody", None, "total"),
        )
    ]
    for i, (period, tz, host, iface, direction) in enumerate(cases):
        quota_set(
            conn,
            f"q{i:02}",
            10**15,
            period=period,
            direction=direction,
            host=host,
            iface=iface,
            tz=tz,
        )
    got = quotas(conn)
    assert len(got) == len(cases)
    for i, (period, tz, host, iface, direction) in enumerate(cases):
        alone = totals(
            conn, "today" if period == "day" else period, tz, host=host, iface=iface, at=AT
        )
        q = got[f"q{i:02}"]
        assert (q["period_start"], q["period_end"]) == (alone["period_start"], alone["period_end"])
        expected = (
            max(alone["bytes_sent"], alone["bytes_recv"])
            if direction == "max"
            else alone[f"bytes_{direction}"]
        )
        assert q["used_bytes"] == expected, (period, tz, host, iface, direction)
    assert got["q00"]["used_bytes"] > 0 and got["q04"]["used_bytes"] == 0


def test_every_alert_kind_is_raised_and_claimed_once_by_concurrent_claimers(dsn, conn):
    # bot-1 sent 270 GB up to a minute before AT; bot-2 fell silent an hour before it
    ingest(
        conn,
        every(AT - timedelta(minutes=300), 300, step_s=60, sent=9 * GB // 10, recv=0, host="bot-1"),
    )
    ingest(conn, every(AT - timedelta(hours=2), 60, step_s=60, sent=1, recv=0, host="bot-2"))
    quota_set(conn, "daily", 300 * GB, period="day", thresholds=[50, 80, 100])
    got: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def claimer() -> None:
        with psycopg.connect(dsn, autocommit=True) as mine:
            start.wait()
            for _ in range(3):  # a deliverer's passes; each one raises and claims
                mine_got = claim(mine, n=1)
                if mine_got:
                    done(mine, mine_got)
                with lock:
                    got.extend(mine_got)

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert keys(got) == [
        ("host_silent", None, "bot-2", None),  # quiet since an hour before AT
        ("quota_projection", "daily", None, None),  # 270 GB by 06:00: 1.08 TB projected
        ("quota_threshold", "daily", None, 50),
        ("quota_threshold", "daily", None, 80),
    ]
    assert len({a["id"] for a in got}) == 4
    # a restart: new connections, claims again and again, later in the day too
    with psycopg.connect(dsn, autocommit=True) as again:
        for minutes in (0, 1, 5):
            assert claim(again, AT + timedelta(minutes=minutes)) == []


def test_thresholds_arm_again_in_the_next_period_across_a_dst_change(conn):
    conn.execute("UPDATE netstats.settings SET silent_after = '2 days'")  # quotas only here
    # New York's clocks went forward on 8 March 2026: that day had 23 hours.
    day1 = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # midnight, EST
    ingest(conn, every(day1 + timedelta(hours=1), 10, step_s=600, sent=10 * GB, recv=0))
    quota_set(
        conn,
        "day",
        100 * GB,
        period="day",
        direction="sent",
        thresholds=[90],
        tz="America/New_York",
    )
    first = claim(conn, day1 + timedelta(hours=3))
    assert keys(first) == [
        ("quota_projection", "day", None, None),
        ("quota_threshold", "day", None, 90),
    ]
    done(conn, first)
    day2 = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # midnight, EDT: 23 hours later
    assert quotas(conn, day2)["day"]["period_start"] == day2
    assert claim(conn, day2 - timedelta(microseconds=1)) == []
    ingest(conn, every(day2 + timedelta(hours=1), 10, step_s=600, sent=10 * GB, recv=0))
    second = claim(conn, day2 + timedelta(hours=3))
    assert keys(second) == keys(first)
    assert {a["facts"]["period_start"] for a in second} == {"2026-03-09T04:00:00+00:00"}


def test_thresholds_arm_again_at_midnight_in_a_quarter_hour_zone(conn):
    """Kathmandu is +05:45: its days begin at 18:15 UTC, and so do a day quota's alerts."""
    conn.execute("UPDATE netstats.settings SET silent_after = '2 days'")  # quotas only here
    quota_set(
        conn, "day", 10 * GB, period="day", direction="recv", thresholds=[50], tz="Asia/Kathmandu"
    )
    before = datetime(2026, 3, 9, 18, 14, tzinfo=UTC)  # 23:59 there
    ingest(conn, [sample(before, sent=0, recv=6 * GB)])
    claimed = claim(conn, before)
    (first,) = [a for a in claimed if a["kind"] == "quota_threshold"]
    assert first["facts"]["period_start"] == "2026-03-08T18:15:00+00:00"
    done(conn, claimed)
    after = datetime(2026, 3, 9, 18, 15, tzinfo=UTC)  # midnight there: a new day, a new key
    ingest(conn, [sample(after, sent=0, recv=6 * GB)])
    (second,) = [a for a in claim(conn, after) if a["kind"] == "quota_threshold"]
    assert second["facts"]["period_start"] == "2026-03-09T18:15:00+00:00"
    assert second["facts"]["used_bytes"] == 6 * GB  # yesterday's 6 GB are not in it


def test_a_billing_cycle_from_the_15th(conn):
    conn.execute("UPDATE netstats.settings SET cycle_day = 15")
    ingest(
        conn,
        [
            sample(datetime(2026, 3, 14, 23, 0, tzinfo=UTC), sent=5 * GB, recv=0),
            sample(datetime(2026, 3, 15, 0, 0, tzinfo=UTC), sent=3 * GB, recv=0),
        ],
    )
    quota_set(conn, "cycle", 10 * GB)
    q = quotas(conn, datetime(2026, 3, 15, 1, 0, tzinfo=UTC))["cycle"]
    assert q["period"] == "cycle" and q["direction"] == "total"
    assert (q["period_start"], q["used_bytes"]) == (datetime(2026, 3, 15, tzinfo=UTC), 3 * GB)
    assert quotas(conn, datetime(2026, 3, 14, 23, 30, tzinfo=UTC))["cycle"]["used_bytes"] == 5 * GB


def test_a_silent_host_is_reported_once_and_its_return_once(conn):
    last = AT - timedelta(minutes=11)
    ingest(conn, every(last - timedelta(minutes=30), 31, step_s=60, host="bot-1"))
    assert claim(conn, AT - timedelta(minutes=2)) == []  # quiet for 9 minutes: not yet
    silent = claim(conn, AT)
    assert keys(silent) == [("host_silent", None, "bot-1", None)]
    assert silent[0]["facts"]["last_seen"] == "2026-03-20T05:49:00+00:00"
    done(conn, silent)
    assert claim(conn, AT + timedelta(hours=3)) == []
    conn.execute("UPDATE netstats.settings SET silent_after = '1 hour'")
    ingest(conn, [sample(AT + timedelta(hours=4), host="bot-1")])
    back = claim(conn, AT + timedelta(hours=4, minutes=1))
    assert keys(back) == [("host_back", None, "bot-1", None)]
    assert back[0]["facts"]["silent_since"] == "2026-03-20T05:49:00+00:00"
    done(conn, back)
    assert claim(conn, AT + timedelta(hours=4, minutes=30)) == []
    again = claim(conn, AT + timedelta(hours=5, minutes=1))  # silent for an hour again
    assert keys(again) == [("host_silent", None, "bot-1", None)]
    done(conn, again)
    assert claim(conn, AT + timedelta(days=2)) == []  # a day quiet: no longer a reporter


def test_a_lease_that_runs_out_or_an_error_makes_an_alert_due_again(conn):
    ingest(conn, [sample(AT - timedelta(minutes=20), host="bot-1")])
    (first,) = claim(conn)
    assert first["attempts"] == 1
    assert claim(conn, AT + timedelta(minutes=4)) == []  # leased for 5 minutes
    (again,) = claim(conn, AT + timedelta(minutes=5))
    assert (again["id"], again["attempts"]) == (first["id"], 2)
    assert done(conn, [again], "Discord answered 404 Not Found") == 1
    with conn.cursor(row_factory=dict_row) as cur:
        status = cur.execute("SELECT * FROM netstats_alerts()").fetchone()
    assert (status["state"], status["last_error"]) == ("failed", "Discord answered 404 Not Found")
    (third,) = claim(conn, AT + timedelta(minutes=6))
    assert (third["attempts"], third["last_error"]) == (3, "Discord answered 404 Not Found")
    assert done(conn, [third]) == 1
    assert done(conn, [third]) == 0  # delivered once is delivered
    assert claim(conn, AT + timedelta(hours=1)) == []
    with conn.cursor(row_factory=dict_row) as cur:
        status = cur.execute("SELECT * FROM netstats_alerts()").fetchone()
    assert status["state"] == "delivered" and status["delivered_at"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "", "limit_bytes": 1}, "name: expected 1 to 100 characters, got ''"),
        ({"name": "q", "limit_bytes": 0}, "limit_bytes: expected a number of bytes above 0, got 0"),
        (
            {"name": "q", "limit_bytes": 1, "period": "24h"},
            "period: expected one of day, week, month, year, cycle, got '24h'",
        ),
        (
            {"name": "q", "limit_bytes": 1, "direction": "in"},
            "direction: expected one of sent, recv, total, max, got 'in'",
        ),
        (
            {"name": "q", "limit_bytes": 1, "thresholds": []},
            "thresholds: expected 1 to 20 percentages of the limit, each 1 to 1000, got {}",
        ),
        (
            {"name": "q", "limit_bytes": 1, "thresholds": [80, 0]},
            "thresholds: expected 1 to 20 percentages of the limit, each 1 to 1000, got {80,0}",
        ),
        (
            {"name": "q", "limit_bytes": 1, "host": ""},
            "host: expected 1 to 255 characters, or null for every host",
        ),
        ({"name": "q", "limit_bytes": 1, "tz": "UTC+9"}, "tz: unknown time zone 'UTC+9'"),
    ],
)
def test_a_bad_quota_is_refused_naming_the_argument(conn, args, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
        rest = dict(args)
        quota_set(conn, rest.pop("name"), rest.pop("limit_bytes"), **rest)
    assert str(refused.value).startswith(message)
    assert quotas(conn) == {}


def test_claims_and_status_refuse_a_bad_max(conn):
    for sql in ("SELECT * FROM netstats_alerts_claim(0)", "SELECT * FROM netstats_alerts(1001)"):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="^max: expected 1 to 1000"):
            conn.execute(sql)


def test_deleting_a_quota(conn):
    quota_set(conn, "q", GB)
    assert conn.execute("SELECT netstats_quota_delete('q')").fetchone() == (True,)
    assert conn.execute("SELECT netstats_quota_delete('q')").fetchone() == (False,)
    assert quotas(conn) == {}
