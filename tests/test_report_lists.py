"""`netstats report --5min/--hours/--days/--months/--years`: vnStat's lists, each row the
exact bytes of its local bucket, checked against the samples themselves."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from netstats.sample import Sample
from netstats.units import human_bytes
from tests.db.support import ingest, sample
from tests.support.cli import AT, clean_env, refusal, report
from tests.support.postgrest import serve


@pytest.fixture
def data(conn) -> list[Sample]:
    """Ten weeks before AT, a sample every 10 minutes, every one a different size."""
    start = AT - timedelta(days=70)
    made = [
        sample(start + timedelta(minutes=10 * i), sent=1000 * i + 7, recv=3 * i + 1, interval_s=600)
        for i in range(70 * 144 + 1)
    ]
    for i in range(0, len(made), 5000):  # the largest batch netstats_ingest takes
        ingest(conn, made[i : i + 5000])
    return made


def listed(dsn: str, *args: str) -> list[dict]:
    return json.loads(report(dsn, "--json", *args))


def check(rows: list[dict], data: list[Sample], tz: str, boundary) -> None:
    """Rows follow each other, start on the zone's boundaries, and hold exactly the samples
    between their edges (the last one up to AT, which the report is taken as of)."""
    zone = ZoneInfo(tz)
    assert rows, "no rows"
    for row, after in zip(rows, rows[1:] + [None], strict=True):
        start = datetime.fromisoformat(row["bucket_start"])
        end = datetime.fromisoformat(row["bucket_end"])
        assert boundary(start.astimezone(zone)), row
        assert start.utcoffset() == start.astimezone(zone).utcoffset()  # printed in tz
        if after is not None:
            assert datetime.fromisoformat(after["bucket_start"]) == end
        last = after is None  # up to AT, AT included
        inside = [s for s in data if start <= s.sampled_at and (s.sampled_at < end or last)]
        assert (row["bytes_sent"], row["bytes_recv"], row["samples"]) == (
            sum(s.bytes_sent for s in inside),
            sum(s.bytes_recv for s in inside),
            len(inside),
        ), row
        assert row["bytes_total"] == row["bytes_sent"] + row["bytes_recv"]
        seconds = (end - start).total_seconds()
        rate = row["bytes_total"] / seconds if seconds else None
        assert row["avg_bytes_per_s"] == pytest.approx(rate)
    assert datetime.fromisoformat(rows[-1]["bucket_end"]) == AT


def test_days_are_local_midnights_and_default_to_the_last_30(dsn, data):
    rows = listed(dsn, "--days", "--tz", "Asia/Kathmandu")  # +05:45
    assert len(rows) == 30
    check(rows, data, "Asia/Kathmandu", lambda t: (t.hour, t.minute) == (0, 0))
    assert rows[-1]["bucket_start"] == "2026-03-12T00:00:00+05:45"  # AT is 01:45 there


def test_hours_and_5min_follow_a_quarter_hour_zone(dsn, data):
    hours = listed(dsn, "--hours", "--tz", "Asia/Kathmandu")
    assert len(hours) == 24
    check(hours, data, "Asia/Kathmandu", lambda t: t.minute == 0)
    fives = listed(dsn, "--5min", "--tz", "Asia/Kathmandu")
    assert len(fives) == 24
    check(fives, data, "Asia/Kathmandu", lambda t: t.minute % 5 == 0)
    # AT is on a 5-minute edge: its row has begun at AT and holds only AT's sample
    assert (fives[-1]["bucket_start"], fives[-1]["samples"]) == ("2026-03-12T01:45:00+05:45", 1)
    assert fives[-1]["avg_bytes_per_s"] is None
    assert sum(r["samples"] for r in fives) == 12  # 115 minutes and AT itself


def test_months_between_begin_and_end_across_a_dst_zone(dsn, data):
    rows = listed(
        dsn, "--months", "--tz", "America/New_York", "--begin", "2026-01", "--end", "2026-03-05"
    )
    assert [r["bucket_start"][:7] for r in rows] == ["2026-01", "2026-02", "2026-03"]
    # DST began on 8 March: March's row starts at -05:00 and AT is at -04:00
    assert rows[-1]["bucket_start"] == "2026-03-01T00:00:00-05:00"
    check(rows, data, "America/New_York", lambda t: (t.day, t.hour, t.minute) == (1, 0, 0))
    assert sum(r["bytes_sent"] for r in rows) == sum(
        s.bytes_sent for s in data if s.sampled_at >= datetime(2026, 1, 1, 5, tzinfo=UTC)
    )


def test_years_start_at_the_first_sample(dsn, data):
    # The first sample: 31 Dec 2025, 20:00 UTC, which is already 2026 at +14:00
    rows = listed(dsn, "--years", "--tz", "UTC")
    assert [(r["bucket_start"], r["samples"]) for r in rows] == [
        ("2025-01-01T00:00:00+00:00", 24),
        ("2026-01-01T00:00:00+00:00", len(data) - 24),
    ]
    check(rows, data, "UTC", lambda t: (t.month, t.day, t.hour) == (1, 1, 0))
    (row,) = listed(dsn, "--years", "--tz", "Pacific/Kiritimati")
    assert row["bucket_start"] == "2026-01-01T00:00:00+14:00"
    check([row], data, "Pacific/Kiritimati", lambda t: (t.month, t.day, t.hour) == (1, 1, 0))


def test_a_list_for_people_with_its_total(dsn, data):
    out = report(dsn, "--days", "--tz", "Asia/Kolkata", "--begin", "2026-03-10").splitlines()
    assert (
        out[0]
        == "netstats · all hosts and interfaces · Asia/Kolkata · decimal units: 1 GB = 1000³ bytes"
    )
    assert out[2].split() == ["days", "sent", "received", "total", "avg.", "rate"]
    assert [line[:14] for line in out[3:6]] == [
        "2026-03-10 Tue",
        "2026-03-11 Wed",
        "2026-03-12 Thu",
    ]
    assert out[6].startswith("─")
    since = datetime(2026, 3, 9, 18, 30, tzinfo=UTC)  # 10 March, 00:00 in Kolkata
    inside = [s for s in data if s.sampled_at >= since]
    sent, recv = sum(s.bytes_sent for s in inside), sum(s.bytes_recv for s in inside)
    assert out[7].split() == [
        "total",
        *human_bytes(sent).split(),
        *human_bytes(recv).split(),
        *human_bytes(sent + recv).split(),
    ]
    assert out[3].split()[-1] in ("kbit/s", "Mbit/s")


def test_lists_refuse_what_does_not_fit_with_one_line(dsn, conn):
    assert refusal(dsn, "--begin", "2026-03-01") == (
        "netstats: --begin: goes with a list: --5min, --hours, --days, --months, --years"
    )
    assert refusal(dsn, "--days", "--oneline").startswith("netstats: --oneline: not with --days")
    assert refusal(dsn, "--days", "--tz", "Nowhere") == (
        "netstats: --tz: unknown time zone 'Nowhere'; expected an IANA zone name such as UTC, "
        "Europe/Berlin, America/New_York or Asia/Tokyo"
    )
    assert refusal(dsn, "--5min", "--begin", "2026-01-01", "--at", AT.isoformat()) == (
        "netstats: --begin: 20113 rows of 5 minutes from 2026-01-01 00:00; at most 1000: "
        "choose a later --begin or a longer view"
    )
    assert refusal(dsn, "--days", "--begin", "2026-03-20", "--at", AT.isoformat()).startswith(
        "netstats: --begin: expected a time before 2026-03-11"
    )
    assert refusal(dsn, "--days", "--begin", "March").endswith(
        "argument --begin: expected a date such as 2026-11-01, '2026-11-01 14:00' or 2026-11, "
        "got 'March'"
    )


def test_image_draws_the_chart_of_a_list_or_a_period(dsn, data, tmp_path):
    for args in (["--days"], ["--period", "month"]):
        path = tmp_path / "chart.png"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "netstats.cli",
                "report",
                *args,
                "--image",
                str(path),
                "--at",
                AT.isoformat(),
            ],
            env=clean_env(NETSTATS_DATABASE_URL=dsn),
            capture_output=True,
            text=True,
            check=True,
        )
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert done.stderr.startswith(f"chart written to {path} (")
        path.unlink()
    assert refusal(
        dsn,
        "--period",
        "today",
        "--image",
        str(tmp_path / "x.png"),
        "--at",
        (AT + timedelta(days=400)).isoformat(),
    ).startswith("netstats: --image: nothing was measured")


def test_the_supabase_path_gives_the_same_rows(dsn, data):
    """Month steps travel to PostgREST as an interval string; supabase-py's real HTTP code."""
    with serve(dsn) as (url, _):
        through_api = subprocess.run(
            [
                sys.executable,
                "-m",
                "netstats.cli",
                "report",
                "--months",
                "--json",
                "--tz",
                "America/New_York",
                "--at",
                AT.isoformat(),
            ],
            env=clean_env(SUPABASE_URL=url, SUPABASE_KEY="service-role-key"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert json.loads(through_api) == listed(dsn, "--months", "--tz", "America/New_York")
