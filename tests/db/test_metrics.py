"""netstats_series_totals (what /metrics exposes): per series, everything it ever moved and
its last sample, or its bytes of a period, each equal to netstats_totals for that series."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.db.support import every, ingest, totals


def test_every_series_reads_as_netstats_totals_reads_it(conn):
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=40)  # across a month's edge in every zone
    for host, iface, step in [("bot-1", "eth0", 3600), ("bot-1", "wg0", 7200),
                              ("bot-2", "ens3", 5400)]:  # fmt: skip
        ingest(conn, every(start, int(40 * 86400 / step), step_s=step, host=host, iface=iface,
                           sent=1000 + step, recv=7 * step))  # fmt: skip
    ingest(conn, every(now - timedelta(hours=30), 30, step_s=3600, host="bot-1",
                       iface="service:bot", sent=5, recv=9))  # fmt: skip
    tz = "Asia/Kathmandu"

    def read(period: str, by: str = "series") -> list[dict]:
        with conn.cursor(row_factory=dict_row) as cur:
            query = "SELECT * FROM netstats_series_totals(%s, %s, %s)"
            return cur.execute(query, [period, tz, by]).fetchall()

    rows = read("all")
    assert [(r["host"], r["iface"]) for r in rows] == [
        ("bot-1", "eth0"), ("bot-1", "service:bot"), ("bot-1", "wg0"), ("bot-2", "ens3")
    ]  # fmt: skip
    for r in rows:
        ever = totals(conn, "all", tz, host=r["host"], iface=r["iface"])
        assert (r["bytes_sent"], r["bytes_recv"]) == (ever["bytes_sent"], ever["bytes_recv"])
        assert r["last_at"] == ever["last_sample_at"]
    for period in ("today", "month", "week", "24h"):
        rows = read(period)  # interfaces only: a service's traffic is in them too
        assert [(r["host"], r["iface"]) for r in rows] == [
            ("bot-1", "eth0"), ("bot-1", "wg0"), ("bot-2", "ens3")
        ]  # fmt: skip
        for r in rows:
            t = totals(conn, period, tz, host=r["host"], iface=r["iface"])
            assert (r["bytes_sent"], r["bytes_recv"], r["last_at"]) == (
                t["bytes_sent"], t["bytes_recv"], None
            )  # fmt: skip
        for r in read(period, by="host"):
            t = totals(conn, period, tz, host=r["host"])  # every interface, no service
            assert (r["iface"], r["bytes_sent"], r["bytes_recv"]) == (
                None, t["bytes_sent"], t["bytes_recv"]
            )  # fmt: skip
    for r in read("all", by="host"):
        t = totals(conn, "all", tz, host=r["host"])
        assert (r["bytes_sent"], r["bytes_recv"]) == (t["bytes_sent"], t["bytes_recv"])
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="by: expected series or host"):
        read("all", by="iface")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="tz: unknown time zone"):
        read_zone = "SELECT * FROM netstats_series_totals('all', 'Mars/Olympus')"
        conn.execute(read_zone)


def test_the_fleet_reads_each_host_as_netstats_totals_reads_it(conn):
    now = datetime.now(UTC).replace(microsecond=0)
    conn.execute("UPDATE netstats.settings SET silent_after = '1 hour'")
    ingest(conn, every(now - timedelta(days=20), 480, step_s=3600, host="bot-1", sent=5, recv=9))
    ingest(conn, every(now - timedelta(days=20), 240, step_s=7200, host="bot-1", iface="wg0",
                       sent=500, recv=900))  # fmt: skip
    ingest(
        conn,
        every(
            now - timedelta(hours=30), 20, step_s=3600, host="bot-2", iface="ens3", sent=7, recv=1
        ),
    )  # fmt: skip  (silent for the last ten hours)
    ingest(conn, every(now - timedelta(hours=5), 50, step_s=300, host="bot-1",
                       iface="service:bot", sent=10**9, recv=10**9))  # fmt: skip
    tz = "America/St_Johns"
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM netstats_fleet(%s)", [tz]).fetchall()
    assert [r["host"] for r in rows] == ["bot-1", "bot-2"]
    fleet = totals(conn, "month", tz)["bytes_total"]
    for r in rows:
        today, month = (totals(conn, p, tz, host=r["host"]) for p in ("today", "month"))
        assert (r["today_sent"], r["today_recv"]) == (today["bytes_sent"], today["bytes_recv"])
        assert (r["month_sent"], r["month_recv"]) == (month["bytes_sent"], month["bytes_recv"])
        assert r["month_share"] == pytest.approx(float(month["bytes_total"] / fleet))
        (last,) = conn.execute(  # its last sample, a service's too
            "SELECT max(last_seen) FROM netstats_hosts() WHERE host = %s", [r["host"]]
        ).fetchone()
        assert r["last_at"] == last
    one, two = rows
    assert one["silent_since"] is None and two["silent_since"] == two["last_at"]
    wg0 = totals(conn, "month", tz, host="bot-1", iface="wg0")["bytes_total"]
    assert (one["busiest_iface"], one["busiest_bytes"]) == ("wg0", wg0)  # not the service
