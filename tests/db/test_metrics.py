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
