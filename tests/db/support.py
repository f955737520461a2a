"""Calls into the SQL API the way every client does: functions with bind parameters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from netstats.sample import Sample

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday


def sample(
    at: datetime,
    sent: int = 100,
    recv: int = 200,
    *,
    host: str = "bot-1",
    iface: str = "eth0",
    interval_s: float = 10.0,
) -> Sample:
    return Sample(host, iface, at, interval_s, sent, recv)


def every(start: datetime, count: int, step_s: float = 10.0, **kwargs: Any) -> list[Sample]:
    return [
        sample(start + timedelta(seconds=step_s * i), interval_s=step_s, **kwargs)
        for i in range(count)
    ]


def ingest(
    conn: psycopg.Connection, samples: list[Sample] | list[dict[str, Any]] | Any
) -> dict[str, int]:
    payload = (
        [s.to_json() if isinstance(s, Sample) else s for s in samples]
        if isinstance(samples, list)
        else samples
    )
    row = conn.execute("SELECT netstats_ingest(%s::jsonb)", [json.dumps(payload)]).fetchone()
    assert row is not None
    return dict(row[0])


def totals(
    conn: psycopg.Connection,
    period: str = "today",
    tz: str = "UTC",
    *,
    host: str | None = None,
    iface: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM netstats_totals(period => %s, tz => %s, host => %s, iface => %s, at => %s)",
            [period, tz, host, iface, at],
        ).fetchall()
    assert len(rows) == 1
    return rows[0]


def series(
    conn: psycopg.Connection,
    start_at: datetime,
    end_at: datetime,
    step: timedelta | str | None = None,
    tz: str = "UTC",
    **filters: str | None,
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM netstats_series(start_at => %s, end_at => %s, step => %s::interval, tz => %s,"
            " host => %s, iface => %s)",
            [start_at, end_at, step, tz, filters.get("host"), filters.get("iface")],
        ).fetchall()


def count_rows(conn: psycopg.Connection) -> tuple[int, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM netstats.samples), (SELECT count(*) FROM netstats.rollups)"
    ).fetchone()
    assert row is not None
    return row[0], row[1]
