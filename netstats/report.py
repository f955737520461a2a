"""`netstats report`: the figures of /netstats in a terminal, vnStat-style, or as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from netstats.reader import CALENDAR_PERIODS, Bucket, Reader, Totals
from netstats.units import human_bytes, percent

ROWS = [
    ("today", "today"),
    ("week", "this week"),
    ("month", "this month"),
    ("cycle", "billing cycle"),
    ("all", "all time"),
]
BAR = 30


async def collect(
    reader: Reader,
    periods: list[str],
    tz: str,
    host: str | None,
    iface: str | None,
    at: datetime | None = None,
) -> dict[str, Totals]:
    return {p: await reader.totals(p, tz, host, iface, at) for p in periods}


def as_json(figures: dict[str, Totals], tz: str) -> str:
    def value(v: Any) -> Any:
        return v.isoformat() if isinstance(v, datetime) else v

    rows = [
        {"period": p, "tz": tz, **{k: value(v) for k, v in asdict(t).items()}}
        for p, t in figures.items()
    ]
    return json.dumps(rows, indent=2)


def table(figures: dict[str, Totals], scope: str, tz: str, binary: bool = False) -> str:
    names = dict(ROWS) | {
        "year": "this year",
        "24h": "last 24 hours",
        "7d": "last 7 days",
        "30d": "last 30 days",
    }
    lines = [
        f"netstats · {scope} · {tz} · "
        + ("binary units: 1 GiB = 1024³ bytes" if binary else "decimal units: 1 GB = 1000³ bytes"),
        "",
        f"{'':<15}{'sent':>10}{'received':>12}{'total':>12}{'coverage':>11}   projection",
    ]
    for period, t in figures.items():
        projection = (
            f"≈ {human_bytes(t.projected_bytes_total, binary)}"
            if period in CALENDAR_PERIODS and t.projected_bytes_total is not None
            else "—"
        )
        coverage = "—" if t.coverage is None else percent(t.coverage)
        lines.append(
            f"{names[period]:<15}{human_bytes(t.bytes_sent, binary):>10}"
            f"{human_bytes(t.bytes_recv, binary):>12}"
            f"{human_bytes(t.bytes_total, binary):>12}{coverage:>11}   {projection}"
        )
    return "\n".join(lines)


def bars(title: str, buckets: list[Bucket], tz: str, fmt: str, binary: bool = False) -> str:
    peak = max((b.bytes_sent + b.bytes_recv for b in buckets), default=0) or 1
    lines = ["", title]
    for b in buckets:
        total = b.bytes_sent + b.bytes_recv
        eighths = round(total / peak * BAR * 8)
        bar = "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]
        lines.append(
            f" {b.bucket_start.astimezone(ZoneInfo(tz)):{fmt}} {bar:<{BAR + 1}} {human_bytes(total, binary)}"
        )
    return "\n".join(lines)


ONELINE_PERIODS = ["today", "month", "all"]


def oneline(figures: dict[str, Totals], host: str | None, iface: str | None, tz: str) -> str:
    """`vnstat --oneline b`'s fields, in its order, in exact bytes and bit/s:
    1;host/iface;today's date;received;sent;total;average bit/s;month;received;sent;total;
    average bit/s;all received;all sent;all total (dates in `tz`)."""
    today, month, every = (figures[p] for p in ONELINE_PERIODS)

    def part(t: Totals) -> list[str]:
        return [str(t.bytes_recv), str(t.bytes_sent), str(t.bytes_total)]

    def rate(t: Totals) -> str:
        return "" if t.avg_bytes_per_s is None else str(round(t.avg_bytes_per_s * 8))

    day = (today.period_start or today.period_end).astimezone(ZoneInfo(tz))
    return ";".join(
        [
            "1",
            f"{host or 'all'}/{iface or 'all'}",
            f"{day:%Y-%m-%d}",
            *part(today),
            rate(today),
            f"{day:%Y-%m}",
            *part(month),
            rate(month),
            *part(every),
        ]
    )


async def render(
    reader: Reader,
    periods: list[str],
    tz: str,
    host: str | None,
    iface: str | None,
    form: str = "table",
    at: datetime | None = None,
    binary: bool = False,
) -> str:
    """The report as of `at` (default now): a `table`, `json`, or `oneline`."""
    if form == "oneline":
        periods = ONELINE_PERIODS
    figures = await collect(reader, periods, tz, host, iface, at)
    if form == "json":
        return as_json(figures, tz)
    if form == "oneline":
        return oneline(figures, host, iface, tz)
    scope = (
        "all hosts and interfaces"
        if host is None and iface is None
        else f"host {host or 'all'}, interface {iface or 'all'}"
    )
    now = at or datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hours = await reader.series(
        hour - timedelta(hours=24), hour, timedelta(hours=1), tz, host, iface
    )
    today = now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = await reader.series(
        today - timedelta(days=13), today + timedelta(days=1), timedelta(days=1), tz, host, iface
    )
    return "\n".join(
        [
            table(figures, scope, tz, binary),
            bars("last 14 days", days, tz, "%a %m-%d", binary),
            bars("last 24 hours", hours, tz, "%a %H:00", binary),
        ]
    )
