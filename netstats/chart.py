"""A PNG bar chart of traffic, when the optional `chart` extra (matplotlib) is installed:
the picture /netstats sends with its answer (complete without it), and
`netstats report --image`."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from netstats.reader import Bucket, Reader, Scope, Totals, history_step
from netstats.units import BYTE_UNITS


async def period_png(reader: Reader, scope: Scope, totals: Totals) -> bytes | None:
    """The chart of the scope's period so far (up to its instant, default now), in bars of an
    hour for a day, a day for up to two months, a week beyond; None when nothing was measured
    in it. `totals` are the scope's, as read already."""
    if totals.period_start is None or totals.samples == 0:
        return None
    end = min(totals.period_end, scope.at or datetime.now(UTC))
    return await window_png(reader, scope, totals.period_start, end, f"{scope.period} ({scope.tz})")


async def window_png(
    reader: Reader, scope: Scope, start: datetime, end: datetime, title: str
) -> bytes | None:
    """The chart of [start, end) in the scope's zone (bars as period_png's); None when
    nothing was measured in it or matplotlib is not installed."""
    buckets = await reader.series(scope, start, end, history_step(end - start))
    if not any(b.bytes_sent or b.bytes_recv for b in buckets):
        return None
    return await asyncio.to_thread(render, buckets, scope.tz, title)


def render(buckets: list[Bucket], tz: str, title: str) -> bytes | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import dates as mdates
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    peak = max((b.bytes_sent + b.bytes_recv for b in buckets), default=0)
    power = 0
    while peak >= 1000 ** (power + 1) and power < len(BYTE_UNITS) - 1:
        power += 1
    scale, unit = 1000**power, BYTE_UNITS[power]
    zone = ZoneInfo(tz)
    local_starts = [b.bucket_start.astimezone(zone).replace(tzinfo=None) for b in buckets]
    starts = mdates.date2num(local_starts)  # type: ignore[no-untyped-call]
    width = float(starts[1] - starts[0]) * 0.8 if len(starts) > 1 else 0.8 / 24
    figure, axes = plt.subplots(figsize=(8, 3), dpi=100)
    try:
        sent = [b.bytes_sent / scale for b in buckets]
        axes.bar(starts, sent, width=width, label="sent", color="#2f80ed")
        axes.bar(
            starts,
            [b.bytes_recv / scale for b in buckets],
            width=width,
            bottom=sent,
            label="received",
            color="#27ae60",
        )
        axes.xaxis_date()
        axes.set_ylabel(unit)
        axes.set_title(title, fontsize=10)
        axes.legend(loc="upper left", fontsize=8)
        figure.autofmt_xdate()
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)
