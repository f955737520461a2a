"""Oracles: what each SQL reader must return, computed here independently from the samples
themselves, and hypothesis strategies that draw samples and instants. Used by the property
tests of tests/db and by the report tests that compare the terminal with the database."""

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from psycopg.rows import dict_row

from netstats.sample import Sample
from tests.db.support import totals

ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
]
PERIODS = ["today", "week", "month", "year", "cycle", "24h", "7d", "30d", "all"]
ROLLING = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# Three days around New York's spring-forward change and the end of a month.
SPAN_START = datetime(2026, 2, 27, tzinfo=UTC)
SPAN = timedelta(days=10)
US = timedelta(microseconds=1)


def calendar_bounds(
    period: str, tz: str, at: datetime, cycle_day: int
) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    day = at.astimezone(zone).date()
    if period == "today":
        first, after = day, day + timedelta(days=1)
    elif period == "week":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    elif period == "year":
        first, after = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        start_day = 1 if period == "month" else cycle_day
        first = date(day.year, day.month, start_day)
        if first > day:
            first = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, start_day)
        after = date(first.year + (first.month == 12), first.month % 12 + 1, start_day)
    as_instant = lambda d: datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)  # noqa: E731
    return as_instant(first), as_instant(after)


def expected(samples: list[Sample], period: str, tz: str, at: datetime, cycle_day: int) -> dict:
    if period in ROLLING:
        inside = [s for s in samples if at - ROLLING[period] < s.sampled_at <= at]
    elif period == "all":
        inside = [s for s in samples if s.sampled_at <= at]
    else:
        start, end = calendar_bounds(period, tz, at, cycle_day)
        inside = [s for s in samples if start <= s.sampled_at < end and s.sampled_at <= at]
    return {
        "bytes_sent": sum(s.bytes_sent for s in inside),
        "bytes_recv": sum(s.bytes_recv for s in inside),
        "samples": len(inside),
        "first_sample_at": min((s.sampled_at for s in inside), default=None),
        "last_sample_at": max((s.sampled_at for s in inside), default=None),
    }


def got(conn, period, tz, at, **filters) -> dict:
    row = totals(conn, period, tz, at=at, **filters)
    return {
        key: row[key]
        for key in ("bytes_sent", "bytes_recv", "samples", "first_sample_at", "last_sample_at")
    }


instants = st.integers(0, int(SPAN / US)).map(lambda us: SPAN_START + us * US)


def samples_over(ifaces: list[str]) -> st.SearchStrategy[list[Sample]]:
    """Samples of two hosts on these interfaces (or services), at any instant of the span."""
    return st.lists(
        st.builds(
            Sample,
            host=st.sampled_from(["bot-1", "bot-2"]),
            iface=st.sampled_from(ifaces),
            # 5-minute boundaries are where rollups split; hit them on purpose.
            sampled_at=st.one_of(
                instants,
                instants.map(
                    lambda t: t.replace(minute=t.minute // 5 * 5, second=0, microsecond=0)
                ),
            ),
            interval_s=st.floats(0.5, 3600, allow_nan=False),
            bytes_sent=st.integers(0, 10**12),
            bytes_recv=st.integers(0, 10**12),
        ),
        max_size=120,
        unique_by=lambda s: (s.host, s.iface, s.sampled_at),
    )


samples_strategy = samples_over(["eth0", "ens3"])

FIVE = 300


def window(period: str, tz: str, at: datetime, cycle_day: int, samples: list[Sample]):
    """(first instant, predicate) of the period that holds `at`, as DESIGN.md defines it."""
    if period in ROLLING:
        lo = at - ROLLING[period]
        return lo + US, lambda t: lo < t <= at
    if period == "all":  # from the earliest instant a counted sample covers
        first = min(
            (s.sampled_at - timedelta(seconds=s.interval_s) for s in samples if s.sampled_at <= at),
            default=None,
        )
        return first, lambda t: t <= at
    start, end = calendar_bounds(period, tz, at, cycle_day)
    return start, lambda t: start <= t < end and t <= at


def bucket(t: datetime) -> int:
    return math.floor(t.timestamp() / FIVE) * FIVE


def expected_percentile(samples, period, tz, at, cycle_day, pct, commit) -> dict:
    first, inside = window(period, tz, at, cycle_day, samples)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for s in samples:
        if inside(s.sampled_at):
            sums[bucket(s.sampled_at)][0] += s.bytes_sent
            sums[bucket(s.sampled_at)][1] += s.bytes_recv
    rates = [(float(a) / FIVE, float(b) / FIVE, float(a + b) / FIVE) for a, b in sums.values()]
    rank = max(1, math.ceil(pct / 100 * len(rates)))  # nearest rank, as percentile_disc

    def nth(i: int) -> float | None:
        return sorted(r[i] for r in rates)[rank - 1] if rates else None

    return {
        "buckets": 0 if first is None else max(0, (bucket(at) - bucket(first)) // FIVE + 1),
        "measured_buckets": len(rates),
        "sent_bytes_per_s": nth(0),
        "recv_bytes_per_s": nth(1),
        "total_bytes_per_s": nth(2),
        "above_commit": None if commit is None else sum(max(a, b) > commit for a, b, _ in rates),
    }


def percentile(conn, period, tz, at, pct=95.0, commit=None, **filters) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT * FROM netstats_percentile(period => %s, tz => %s, host => %s, iface => %s,"
            " at => %s, pct => %s, commit_bytes_per_s => %s)",
            [period, tz, filters.get("host"), filters.get("iface"), at, pct, commit],
        ).fetchone()
    assert row is not None and row["bucket_s"] == FIVE
    return {
        k: row[k]
        for k in (
            "buckets",
            "measured_buckets",
            "sent_bytes_per_s",
            "recv_bytes_per_s",
            "total_bytes_per_s",
            "above_commit",
        )
    }


def top(conn, period, tz, by, n=10, at=None, **filters) -> list[tuple]:
    return conn.execute(
        "SELECT key, bucket_start, bytes_sent, bytes_recv, bytes_total FROM netstats_top("
        "period => %s, tz => %s, by => %s, n => %s, host => %s, iface => %s, at => %s)",
        [period, tz, by, n, filters.get("host"), filters.get("iface"), at],
    ).fetchall()


def expected_top(samples, period, tz, at, by, n) -> list[tuple]:
    _, inside = window(period, tz, at, 1, samples)
    zone = ZoneInfo(tz)
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for s in samples:
        if not inside(s.sampled_at):
            continue
        local = s.sampled_at.astimezone(zone)
        if by == "day":
            start = datetime(local.year, local.month, local.day, tzinfo=zone)
            key = (start.strftime("%Y-%m-%d"), start.astimezone(UTC))
        elif by == "hour":
            start = local.replace(minute=0, second=0, microsecond=0)
            offset = start.strftime("%z")
            key = (
                start.strftime("%Y-%m-%dT%H:%M") + offset[:3] + ":" + offset[3:],
                start.astimezone(UTC),
            )
        else:
            key = (s.host if by == "host" else f"{s.host}/{s.iface}", None)
        sums[key][0] += s.bytes_sent
        sums[key][1] += s.bytes_recv
    rows = [(k, b, sent, recv, sent + recv) for (k, b), (sent, recv) in sums.items()]
    rows.sort(key=lambda r: -r[4])
    return rows[:n]
