"""`netstats report`: the figures of /netstats in a terminal, vnStat-style, or as JSON; and
vnStat's lists (`--5min`, `--hours`, `--days`, `--months`, `--years`); burstable billing
(`--percentile`) and where the traffic went (`--top day|hour|host|iface`)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from netstats import chart
from netstats.errors import ConfigError
from netstats.reader import (
    CALENDAR_PERIODS,
    AlertStatus,
    Bucket,
    Percentile,
    Plan,
    Quota,
    Reader,
    Scope,
    Top,
    Totals,
    matching,
)
from netstats.units import human_bytes, human_rate, money, percent

ROWS = [
    ("today", "today"),
    ("week", "this week"),
    ("month", "this month"),
    ("cycle", "billing cycle"),
    ("all", "all time"),
]
BAR = 30


async def collect(reader: Reader, periods: list[str], scope: Scope) -> dict[str, Totals]:
    return {p: await reader.totals(scope.to(period=p)) for p in periods}


# The report's row each quota period belongs to
QUOTA_ROWS = {"day": "today", "week": "week", "month": "month", "year": "year", "cycle": "cycle"}


def as_json(figures: dict[str, Totals], tz: str, quotas: Sequence[Quota] = ()) -> str:
    """One object per period; a period's quotas (netstats_quotas' rows) ride along in it."""
    rows = [
        {
            "period": p,
            "tz": tz,
            **{k: _plain(v) for k, v in asdict(t).items()},
            "quotas": [_quota(q) for q in quotas if QUOTA_ROWS[q.period] == p],
        }
        for p, t in figures.items()
    ]
    return json.dumps(rows, indent=2)


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _quota(q: Quota) -> dict[str, Any]:
    return {**{k: _plain(v) for k, v in asdict(q).items()}, "alarm": q.alarming}


PERIOD_NAMES = dict(ROWS) | {
    "year": "this year",
    "24h": "last 24 hours",
    "7d": "last 7 days",
    "30d": "last 30 days",
}


def table(
    figures: dict[str, Totals], scope: Scope, binary: bool = False, since: datetime | None = None
) -> str:
    names = PERIOD_NAMES
    tz = scope.tz
    cycle = figures.get("cycle")
    lines = [
        _title(scope, binary),
        f"counting since {since.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"
        if since
        else "nothing counted yet: the agent's first upload starts the count",
        *(
            [
                f"billing cycle: {cycle.period_start.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} to "
                f"{cycle.period_end.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"
                " (the database's cycle day; plans keep their own: netstats plan list)"
            ]
            if cycle and cycle.period_start
            else []
        ),
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


def _title(scope: Scope, binary: bool) -> str:
    units = "binary units: 1 GiB = 1024³ bytes" if binary else "decimal units: 1 GB = 1000³ bytes"
    return f"netstats · {covers(scope)} · {scope.tz} · {units}"


def covers(scope: Scope) -> str:
    """What the scope covers, in words."""
    if scope.everything:
        return "all hosts and interfaces"
    return f"host {scope.host or 'all'}, interface {scope.iface or 'all'}"


def bars(
    title: str,
    buckets: list[Bucket],
    tz: str,
    fmt: str,
    binary: bool = False,
    since: datetime | None = None,
) -> str:
    """One bar per bucket, from the one that holds `since`, the first sample (vnStat too
    leaves out what came before it: not measured is not zero)."""
    buckets = [b for b in buckets if since is not None and (b.samples or b.bucket_start >= since)]
    if not buckets:
        return ""
    peak = max(b.bytes_sent + b.bytes_recv for b in buckets) or 1
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


def oneline(figures: dict[str, Totals], scope: Scope) -> str:
    """`vnstat --oneline b`'s fields, in its order, in exact bytes and bit/s:
    1;host/iface;today's date;received;sent;total;average bit/s;month;received;sent;total;
    average bit/s;all received;all sent;all total (dates in `tz`)."""
    today, month, every = (figures[p] for p in ONELINE_PERIODS)

    def part(t: Totals) -> list[str]:
        return [str(t.bytes_recv), str(t.bytes_sent), str(t.bytes_total)]

    def rate(t: Totals) -> str:
        return "" if t.avg_bytes_per_s is None else str(round(t.avg_bytes_per_s * 8))

    day = (today.period_start or today.period_end).astimezone(ZoneInfo(scope.tz))
    return ";".join(
        [
            "1",
            f"{scope.host or 'all'}/{scope.iface or 'all'}",
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
    reader: Reader, periods: list[str], scope: Scope, form: str = "table", binary: bool = False
) -> str:
    """The report of `periods` as of the scope's instant (default now): a `table`, `json`, or
    `oneline`."""
    if form == "oneline":
        periods = ONELINE_PERIODS
    figures = await collect(reader, periods, scope)
    tz = scope.tz
    if form == "json":
        return as_json(figures, tz, matching(await reader.quotas(scope), scope))
    if form == "oneline":
        return oneline(figures, scope)
    every = figures.get("all") or await reader.totals(scope.to(period="all"))
    since = every.first_sample_at
    now = scope.at or datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hours = await reader.series(scope, hour - timedelta(hours=24), hour, timedelta(hours=1))
    today = now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = await reader.series(
        scope, today - timedelta(days=13), today + timedelta(days=1), timedelta(days=1)
    )
    plans = [p for p in await reader.plans(scope) if p.covers(scope)]
    parts = [
        table(figures, scope, binary, since),
        *(
            ["\nplans and quotas (each in its own cycle)\n" + plan_table(plans, binary)]
            if plans
            else []
        ),
        bars("last 14 days", days, tz, "%a %m-%d", binary, since),
        bars("last 24 hours", hours, tz, "%a %H:00", binary, since),
    ]
    return "\n".join(part for part in parts if part)  # no bars before the first sample


@dataclass(frozen=True, slots=True)
class View:
    """One of vnStat's lists: buckets of one step, the last `rows` of them by default."""

    title: str
    step: timedelta | str  # a str is a PostgreSQL interval the database steps in tz's calendar
    rows: int | None  # None: from the first sample on
    label: str  # strftime of a row's local start

    def floor(self, local: datetime) -> datetime:
        """The start of the bucket holding `local` (aware, in the report's zone)."""
        minute = local.replace(second=0, microsecond=0)
        if isinstance(self.step, timedelta) and self.step < timedelta(hours=1):
            return minute.replace(minute=local.minute - local.minute % 5)
        if self.step == timedelta(hours=1):
            return minute.replace(minute=0)
        midnight = minute.replace(hour=0, minute=0)
        if self.step == "1 month":
            return midnight.replace(day=1)
        if self.step == "1 year":
            return midnight.replace(month=1, day=1)
        return midnight

    def shift(self, start: datetime, k: int) -> datetime:
        """`start` moved by k buckets: exact durations for minutes and hours, the zone's
        wall clock for days, months and years (as netstats_series steps)."""
        if self.step == "1 month":
            months = start.year * 12 + start.month - 1 + k
            return start.replace(year=months // 12, month=months % 12 + 1)
        if self.step == "1 year":
            return start.replace(year=start.year + k)
        assert isinstance(self.step, timedelta)
        if self.step >= timedelta(days=1):
            return start + self.step * k  # aware arithmetic keeps the wall clock
        zone = start.tzinfo
        return (start.astimezone(UTC) + self.step * k).astimezone(zone)


# vnStat's lists and its default lengths (List5Mins, ListHours, ListDays, ListMonths, ListYears)
VIEWS = {
    "5min": View("5 minutes", timedelta(minutes=5), 24, "%Y-%m-%d %H:%M"),
    "hours": View("hours", timedelta(hours=1), 24, "%Y-%m-%d %H:00"),
    "days": View("days", timedelta(days=1), 30, "%Y-%m-%d %a"),
    "months": View("months", "1 month", 12, "%Y-%m"),
    "years": View("years", "1 year", None, "%Y"),
}
MAX_ROWS = 1000  # netstats_series' limit


@dataclass(frozen=True, slots=True)
class Row:
    bucket: Bucket
    end: datetime  # the bucket's end, or `at` in the bucket still running

    @property
    def bytes_total(self) -> int:
        return self.bucket.bytes_sent + self.bucket.bytes_recv

    @property
    def avg_bytes_per_s(self) -> float | None:
        """None in a bucket that begins at the very instant the report is taken as of."""
        elapsed = (self.end - self.bucket.bucket_start).total_seconds()
        return self.bytes_total / elapsed if elapsed > 0 else None


async def rows(
    reader: Reader,
    view: View,
    scope: Scope,
    begin: datetime | None = None,
    end: datetime | None = None,
) -> list[Row]:
    """The view's buckets from the one holding `begin` to the one holding `end` (both
    included; naive times are in the scope's zone), counting samples up to its instant
    (default now). Without `begin`, the view's default number of rows ending at `end`
    (default that instant)."""
    tz, at = scope.tz, scope.at
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"--tz: unknown time zone {tz!r}; expected an IANA zone name such as UTC, "
            "Europe/Berlin, America/New_York or Asia/Tokyo"
        ) from None
    now = (at or datetime.now(UTC)).astimezone(zone)
    last = view.floor(_local(end, zone) if end else now)
    if begin is not None:
        first = view.floor(_local(begin, zone))
    elif view.rows is not None:
        first = view.shift(last, 1 - view.rows)
    else:
        every = await reader.totals(scope.to(period="all"))
        first = view.floor((every.first_sample_at or now).astimezone(zone))
    stop = min(view.shift(last, 1), now + timedelta(microseconds=1))  # samples up to `at`
    if first >= stop:
        raise ConfigError(
            f"--begin: expected a time before {min(last, now):%Y-%m-%d %H:%M} ({tz}), "
            f"got {first:%Y-%m-%d %H:%M}"
        )
    if (count := _count(view, first, stop)) > MAX_ROWS:
        raise ConfigError(
            f"--begin: {count} rows of {view.title} from {first:%Y-%m-%d %H:%M}; at most "
            f"{MAX_ROWS}: choose a later --begin or a longer view"
        )
    buckets = await reader.series(scope, first, stop, view.step)
    ends = [b.bucket_start for b in buckets[1:]] + [stop]
    return [Row(b, min(e, now)) for b, e in zip(buckets, ends, strict=True)]


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def _count(view: View, first: datetime, stop: datetime) -> int:
    if isinstance(view.step, timedelta):
        return -(-(stop - first) // view.step)
    months = (stop.year - first.year) * 12 + stop.month - first.month + 1
    return months if view.step == "1 month" else stop.year - first.year + 1


def list_table(view: View, listed: list[Row], scope: Scope, binary: bool = False) -> str:
    zone = ZoneInfo(scope.tz)
    labels = [f"{r.bucket.bucket_start.astimezone(zone):{view.label}}" for r in listed]
    width = max(map(len, labels), default=10) + 2
    header = f"{view.title:<{width}}{'sent':>11}{'received':>11}{'total':>11}{'avg. rate':>14}"
    lines = [_title(scope, binary), "", header]
    for label, r in zip(labels, listed, strict=True):
        b = r.bucket
        lines.append(
            f"{label:<{width}}{human_bytes(b.bytes_sent, binary):>11}"
            f"{human_bytes(b.bytes_recv, binary):>11}{human_bytes(r.bytes_total, binary):>11}"
            f"{'—' if r.avg_bytes_per_s is None else human_rate(r.avg_bytes_per_s):>14}"
        )
    sent = sum(r.bucket.bytes_sent for r in listed)
    recv = sum(r.bucket.bytes_recv for r in listed)
    lines += [
        "─" * len(header),
        f"{'total':<{width}}{human_bytes(sent, binary):>11}{human_bytes(recv, binary):>11}"
        f"{human_bytes(sent + recv, binary):>11}",
    ]
    return "\n".join(lines)


def list_json(view: str, listed: list[Row], tz: str) -> str:
    zone = ZoneInfo(tz)
    return json.dumps(
        [
            {
                "view": view,
                "tz": tz,
                "bucket_start": r.bucket.bucket_start.astimezone(zone).isoformat(),
                "bucket_end": r.end.astimezone(zone).isoformat(),
                "bytes_sent": r.bucket.bytes_sent,
                "bytes_recv": r.bucket.bytes_recv,
                "bytes_total": r.bytes_total,
                "samples": r.bucket.samples,
                "avg_bytes_per_s": r.avg_bytes_per_s,
            }
            for r in listed
        ],
        indent=2,
    )


async def render_list(
    reader: Reader,
    view: str,
    scope: Scope,
    as_json: bool = False,
    begin: datetime | None = None,
    end: datetime | None = None,
    binary: bool = False,
) -> str:
    listed = await rows(reader, VIEWS[view], scope, begin, end)
    if as_json:
        return list_json(view, listed, scope.tz)
    return list_table(VIEWS[view], listed, scope, binary)


async def write_image(
    path: Path,
    reader: Reader,
    view: str | None,
    scope: Scope,
    begin: datetime | None = None,
    end: datetime | None = None,
) -> None:
    """`--image`: the chart /netstats sends for the scope's period, or the bars of a list
    `view`."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigError("--image: drawing needs matplotlib: pip install 'netstats[chart]'")
    tz = scope.tz
    if view is None:
        png = await chart.period_png(reader, scope, await reader.totals(scope))
        if png is None:
            raise ConfigError(
                f"--image: nothing was measured {scope.period} ({tz}): no chart to draw"
            )
    else:
        listed = await rows(reader, VIEWS[view], scope, begin, end)
        png = chart.render([r.bucket for r in listed], tz, f"{VIEWS[view].title} ({tz})")
        assert png is not None  # matplotlib is there
    try:
        path.write_bytes(png)
    except OSError as exc:
        raise ConfigError(f"--image: cannot write {path}: {exc.strerror}") from None
    print(f"chart written to {path} ({human_bytes(len(png))})", file=sys.stderr)


def quota_table(quotas: list[Quota], binary: bool = False) -> str:
    """Each quota's progress as netstats_quotas computed it; times in the quota's zone."""
    rows = [("quota", "scope", "period", "used", "limit", "", "remaining", "projected",
             "runs out", "per day")]  # fmt: skip
    for q in quotas:
        zone = ZoneInfo(q.tz)
        filled = min(BAR // 3, round(q.used_ratio * BAR / 3))
        rows.append(
            (
                q.name,
                f"{q.host or 'all'}/{q.iface or 'all'}",
                f"{q.period} {q.direction} to {q.period_end.astimezone(zone):%m-%d %H:%M} {q.tz}",
                human_bytes(q.used_bytes, binary),
                human_bytes(q.limit_bytes, binary),
                "█" * filled + "░" * (BAR // 3 - filled) + f" {percent(q.used_ratio)}",
                human_bytes(q.remaining_bytes, binary),
                "—" if q.projected_bytes is None else human_bytes(q.projected_bytes, binary),
                "reached"
                if q.used_ratio >= 1
                else "—"
                if q.projected_exceed_at is None
                else f"{q.projected_exceed_at.astimezone(zone):%m-%d %H:%M}",
                "—"
                if q.daily_allowance_bytes is None
                else human_bytes(q.daily_allowance_bytes, binary),
            )
        )
    return grid(rows)


def grid(rows: Sequence[Sequence[str]]) -> str:
    """Columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def quota_json(quotas: list[Quota]) -> str:
    return json.dumps([_quota(q) for q in quotas], indent=2)


def plain_json(rows: Any) -> str:
    """Times as ISO strings, money (Decimal) as exact strings."""
    return json.dumps(rows, indent=2, default=_exact)


def _exact(v: Any) -> str:
    if isinstance(v, Decimal):
        return format(v, "f")  # never 1E-9
    return _plain(v) if isinstance(v, datetime) else str(v)


def plan_json(plans: list[Plan]) -> str:
    return plain_json([{**asdict(p), "alarm": p.alarming} for p in plans])


def plan_table(plans: list[Plan], binary: bool = False) -> str:
    """Each plan's cycle as netstats_plans computed it; times in the plan's zone."""
    rows = [("plan", "hosts", "basis", "cycle", "counted", "included", "", "projected",
             "runs out", "cost", "projected cost")]  # fmt: skip
    for p in plans:
        zone = ZoneInfo(p.tz)
        ratio = p.used_ratio
        filled = 0 if ratio is None else min(BAR // 3, round(ratio * BAR / 3))
        counted = human_bytes(p.counted_bytes, binary)
        if p.adjust_bytes:
            sign = "+" if p.adjust_bytes > 0 else "-"
            counted += f" ({sign}{human_bytes(abs(p.adjust_bytes), binary)} corrected)"
        rows.append(
            (
                p.name,
                f"{','.join(p.hosts) if p.hosts else 'all'}/{p.iface or 'all'}",
                p.basis,
                f"{p.cycle_start.astimezone(zone):%Y-%m-%d %H:%M} to "
                f"{p.cycle_end.astimezone(zone):%m-%d %H:%M} {p.tz}",
                counted,
                "unlimited" if p.included_bytes is None else human_bytes(p.included_bytes, binary),
                ""
                if ratio is None
                else "█" * filled + "░" * (BAR // 3 - filled) + f" {percent(ratio)}",
                "—" if p.projected_bytes is None else human_bytes(p.projected_bytes, binary),
                "reached"
                if (ratio or 0) >= 1
                else "—"
                if p.runs_out_at is None
                else f"{p.runs_out_at.astimezone(zone):%m-%d %H:%M}",
                "—" if p.currency is None else money(p.cost_so_far or 0, p.currency),
                "—"
                if p.currency is None or p.projected_cost is None
                else money(p.projected_cost, p.currency)
                + (f" (budget {money(p.budget, p.currency)})" if p.budget is not None else ""),
            )
        )
    return grid(rows)


def digest_table(rows: list[dict[str, Any]]) -> str:
    """Each digest, when its next one is due and how its latest went (times in UTC)."""
    if not rows:
        return "no digests: netstats digest add NAME --period week --tz ZONE"

    def when(v: datetime | str | None) -> str:
        return "—" if v is None else f"{_instant(v):%Y-%m-%d %H:%M} UTC"

    return grid(
        [("digest", "period", "zone", "channel", "next", "latest period", "delivered")]
        + [
            (
                r["digest"],
                r["every"],
                r["zone"],
                str(r["channel"] or "default"),
                when(r["next_at"]),
                when(r["last_period_start"]),
                f"failed: {r['failed']}" if r["failed"] else when(r["delivered_at"]),
            )
            for r in rows
        ]
    )


def status_table(rows: list[dict[str, Any]]) -> str:
    """Each status message, its last edit and the failures since (times in UTC)."""
    if not rows:
        return "no status messages: netstats status-message add CHANNEL"

    def state(r: dict[str, Any]) -> str:
        if not r["failures"]:
            return "ok" if r["edited"] is not None else "not posted yet"
        s = "" if r["failures"] == 1 else "s"
        return f"failed {r['failures']} time{s}: {r['last_error']}"

    return grid(
        [("channel", "zone", "every", "message", "edited", "state")]
        + [
            (
                str(r["channel"]),
                r["zone"],
                f"{r['every'] // 60} min",
                str(r["message"] or "—"),
                "—" if r["edited"] is None else f"{_instant(r['edited']):%Y-%m-%d %H:%M} UTC",
                state(r),
            )
            for r in rows
        ]
    )


def adjustment_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no corrections: netstats plan adjust NAME BYTES --note WHY"
    return grid(
        [("id", "plan", "cycle start", "bytes", "note", "by", "at")]
        + [
            (
                str(r["id"]),
                r["plan"],
                f"{_instant(r['cycle_start']):%Y-%m-%d %H:%M} UTC",
                ("+" if r["bytes"] > 0 else "-") + human_bytes(abs(r["bytes"])),
                r["note"],
                r["made_by"],
                f"{_instant(r['made_at']):%Y-%m-%d %H:%M} UTC",
            )
            for r in rows
        ]
    )


def _instant(v: datetime | str) -> datetime:
    return (datetime.fromisoformat(v) if isinstance(v, str) else v).astimezone(UTC)


def alert_table(alerts: list[AlertStatus]) -> str:
    if not alerts:
        return "no alerts raised yet"
    lines = []
    for a in alerts:
        what = a.quota or a.host or ""
        if a.threshold is not None:
            what += f" {a.threshold}%"
        line = f"{a.id:>6}  {a.raised_at:%Y-%m-%d %H:%M} UTC  {a.kind:<16}  {what:<20}  {a.state}"
        if a.state != "delivered" and a.attempts:
            line += f" after {a.attempts} attempt{'' if a.attempts == 1 else 's'}"
        if a.last_error and a.state != "delivered":
            line += f": {a.last_error}"
        lines.append(line)
    return "\n".join(lines)


def _span(start: datetime | None, end: datetime, tz: str) -> str:
    zone = ZoneInfo(tz)
    first = "the first sample" if start is None else f"{start.astimezone(zone):%Y-%m-%d %H:%M}"
    return f"{first} to {end.astimezone(zone):%Y-%m-%d %H:%M}"


def percentile_text(p: Percentile, scope: Scope, pct: float, commit: float | None) -> str:
    """Burstable billing as a provider states it: the percentile's rate per direction, and
    the 5-minute buckets above the commit (each is 5 minutes of bursting)."""

    def rate(value: float | None) -> str:
        return "—" if value is None else human_rate(value)

    lines = [
        f"netstats · {covers(scope)} · {scope.tz}",
        "",
        f"{pct:g}th percentile of 5-minute rates, {PERIOD_NAMES[scope.period]} "
        f"({_span(p.period_start, p.period_end, scope.tz)})",
        f"  sent      {rate(p.sent_bytes_per_s):>14}",
        f"  received  {rate(p.recv_bytes_per_s):>14}",
        f"  total     {rate(p.total_bytes_per_s):>14}",
        f"  measured  {p.measured_buckets:,} of {p.buckets:,} five-minute buckets",
    ]
    if commit is not None and p.above_commit is not None:
        lines.append(
            f"  above the commit of {human_rate(commit)}: {p.above_commit:,} buckets "
            f"({p.above_commit * 5:,} minutes)"
        )
    return "\n".join(lines)


def percentile_json(p: Percentile, period: str, pct: float, commit: float | None, tz: str) -> str:
    return json.dumps(
        {
            "period": period,
            "tz": tz,
            "pct": pct,
            "commit_bytes_per_s": commit,
            **{k: _plain(v) for k, v in asdict(p).items()},
        },
        indent=2,
    )


TOP_TITLES = {
    "day": "day",
    "hour": "hour",
    "host": "host",
    "iface": "interface",
    "service": "service",
}


def top_text(listed: list[Top], by: str, scope: Scope, binary: bool = False) -> str:
    period = scope.period
    if not listed:
        return f"netstats · {covers(scope)} · {scope.tz}\n\nno traffic {PERIOD_NAMES[period]}"
    zone = ZoneInfo(scope.tz)
    labels = [
        f"{t.bucket_start.astimezone(zone):%a %Y-%m-%d %H:%M}"
        if by == "hour" and t.bucket_start is not None
        else t.key
        for t in listed
    ]
    width = max(len(TOP_TITLES[by]), *map(len, labels)) + 2
    lines = [
        _title(scope, binary),
        "",
        f"top {len(listed)} by {TOP_TITLES[by]}, {PERIOD_NAMES[period]}",
        f"{'#':>3}  {TOP_TITLES[by]:<{width}}{'sent':>11}{'received':>11}{'total':>11}",
    ]
    for i, (label, t) in enumerate(zip(labels, listed, strict=True), 1):
        lines.append(
            f"{i:>3}  {label:<{width}}{human_bytes(t.bytes_sent, binary):>11}"
            f"{human_bytes(t.bytes_recv, binary):>11}{human_bytes(t.bytes_total, binary):>11}"
        )
    return "\n".join(lines)


def top_json(listed: list[Top], by: str, period: str, tz: str) -> str:
    return json.dumps(
        [{"by": by, "period": period, "tz": tz, **{k: _plain(v) for k, v in asdict(t).items()}}
         for t in listed],
        indent=2,
    )  # fmt: skip


async def render_percentile(
    reader: Reader, scope: Scope, pct: float, commit: float | None, as_json: bool = False
) -> str:
    p = await reader.percentile(scope, pct, commit)
    if as_json:
        return percentile_json(p, scope.period, pct, commit, scope.tz)
    return percentile_text(p, scope, pct, commit)


async def render_top(
    reader: Reader, scope: Scope, by: str, n: int, as_json: bool = False, binary: bool = False
) -> str:
    listed = await reader.top(scope, by, n)
    if as_json:
        return top_json(listed, by, scope.period, scope.tz)
    return top_text(listed, by, scope, binary)


async def render_services(
    reader: Reader, scope: Scope, as_json: bool = False, binary: bool = False
) -> str:
    """Each service's traffic (NETSTATS_SERVICES) on the scope's host or every host, as a top
    list."""
    scope = scope.to(iface=None)
    listed = [
        Top(name, None, t.bytes_sent, t.bytes_recv, t.bytes_total)
        for name, t in await reader.services(scope)
    ]
    if as_json:
        return top_json(listed, "service", scope.period, scope.tz)
    return top_text(listed, "service", scope, binary)
