"""/metrics: netstats for a Prometheus scraper, in the Prometheus text format (0.0.4, which
every Prometheus and Grafana Agent reads).

Every value is read from the database at scrape time, in five calls whatever the number of
hosts (netstats_series_totals of all time, today and this month, netstats_plans and
netstats_percentile, run at once on the pool: 2 cores share them), so
Prometheus holds what netstats holds: `netstats_bytes_total` is each series' all-time count,
and `increase()` over any window agrees with netstats' own totals wherever no sample arrived
late (a late sample lands in the counter when it is uploaded). Prometheus cannot compute a
billing cycle of its own, so the current day's, month's and each plan's bytes are gauges.

Labels (the cardinality is bounded by what the fleet has, never by time or traffic):
- host, iface: one pair per series the agents report (`netstats_hosts()`); service, one per
  counted systemd unit; direction: sent or recv (total for the percentile); period: today or
  month (in NETSTATS_TZ), per host;
- plan: one per plan or quota (`netstats plan list`); basis; currency where a plan has a price.
Byte counts are printed as exact integers; Prometheus keeps them as float64, exact up to 2^53
bytes (9 PB) per series.

Written here, not by prometheus-client: at 1,000 hosts (12,000 samples) the library took 86 ms
a scrape to build and encode (bench/metrics.py, BENCHMARKS.md), this takes a tenth of that,
and the scrape's target is 50 ms. The tests read the output with prometheus-client's parser
and with a real Prometheus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from netstats.reader import Percentile, Plan, Reader, Scope
from netstats.sample import SERVICE

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DIRECTIONS = (("sent", "bytes_sent"), ("recv", "bytes_recv"))


async def exposition(reader: Reader, tz: str) -> bytes:
    """One scrape's body: the reads at once (on the reader's pool)."""
    series, today, month, plans, percentile = await asyncio.gather(
        reader.series_totals("all", tz),
        reader.series_totals("today", tz, by="host"),
        reader.series_totals("month", tz, by="host"),
        reader.plans(Scope(tz=tz)),
        reader.percentile(Scope("month", tz)),
    )
    periods = {"today": today, "month": month}
    return render(series, periods, plans, percentile, datetime.now(UTC)).encode()


def render(
    series: Sequence[dict[str, Any]],
    periods: dict[str, list[dict[str, Any]]],
    plans: Sequence[Plan],
    p: Percentile,
    now: datetime,
) -> str:
    """The text of one scrape: `series` all time, `periods` today's and this month's sums by
    host (a host without samples in one has no line there). Byte counts and money are printed as the database gave them (exact integers and
    decimals); the per-series lines are written in one loop each (at 12,000 samples a
    generic writer cost 19 ms of the 50)."""
    out: list[str] = []
    interfaces = [(_escape(s["host"]), _escape(s["iface"]), s) for s in series
                  if not s["iface"].startswith(SERVICE)]  # fmt: skip
    head(out, "netstats_bytes_total", "counter",
         "Bytes a host's interface moved since netstats first counted it (all time, exact)")  # fmt: skip
    for h, i, s in interfaces:
        out.append(
            f'netstats_bytes_total{{host="{h}",iface="{i}",direction="sent"}} {s["bytes_sent"]}'
        )
        out.append(
            f'netstats_bytes_total{{host="{h}",iface="{i}",direction="recv"}} {s["bytes_recv"]}'
        )
    head(out, "netstats_service_bytes_total", "counter",
         "Bytes a service moved (also in its host's interfaces: do not add the two up)")  # fmt: skip
    for s in series:
        if s["iface"].startswith(SERVICE):
            h, svc = _escape(s["host"]), _escape(s["iface"].removeprefix(SERVICE))
            for d, key in DIRECTIONS:
                out.append(
                    f'netstats_service_bytes_total{{host="{h}",service="{svc}",direction="{d}"}} {s[key]}'
                )
    head(out, "netstats_period_bytes", "gauge",
         "Bytes a host's interfaces moved in the current day and month (in NETSTATS_TZ)")  # fmt: skip
    for period, rows in periods.items():
        for r in rows:
            h = _escape(r["host"])
            for d, key in DIRECTIONS:
                out.append(
                    f'netstats_period_bytes{{host="{h}",period="{period}",direction="{d}"}} {r[key]}'
                )
    last: dict[str, datetime] = {}
    for s in series:
        if s["host"] not in last or s["last_at"] > last[s["host"]]:
            last[s["host"]] = s["last_at"]
    family(out, "netstats_last_sample_age_seconds", "gauge",
           "Seconds since the host's last sample was taken",
           (((("host", h),), max(0.0, (now - at).total_seconds())) for h, at in sorted(last.items())))  # fmt: skip
    family(out, "netstats_plan_used_bytes", "gauge",
           "Bytes a plan or quota counted in its current cycle, corrections included",
           (((("plan", q.name), ("basis", q.basis)), q.counted_bytes) for q in plans))  # fmt: skip
    family(out, "netstats_plan_included_bytes", "gauge",
           "Bytes a plan includes per cycle (none: unlimited)",
           (((("plan", q.name),), q.included_bytes) for q in plans if q.included_bytes is not None))  # fmt: skip
    family(out, "netstats_plan_projected_bytes", "gauge",
           "Bytes a plan is projected to count by the end of its cycle",
           (((("plan", q.name),), q.projected_bytes) for q in plans if q.projected_bytes is not None))  # fmt: skip
    family(out, "netstats_plan_cycle_end_timestamp_seconds", "gauge",
           "When a plan's current cycle ends (Unix time)",
           (((("plan", q.name),), q.cycle_end.timestamp()) for q in plans))  # fmt: skip
    family(out, "netstats_plan_projected_cost", "gauge",
           "A plan's projected cost of this cycle beyond its allowance, in its currency",
           (((("plan", q.name), ("currency", q.currency)), q.projected_cost)
            for q in plans if q.currency is not None and q.projected_cost is not None))  # fmt: skip
    family(out, "netstats_month_p95_bytes_per_second", "gauge",
           "The 95th percentile of this month's 5-minute rates over every host (burstable billing)",
           (((("direction", d),), rate)
            for d, rate in (("sent", p.sent_bytes_per_s), ("recv", p.recv_bytes_per_s),
                            ("total", p.total_bytes_per_s)) if rate is not None))  # fmt: skip
    out.append("")
    return "\n".join(out)


def head(out: list[str], name: str, kind: str, help: str) -> None:
    out.append(f"# HELP {name} {help}")
    out.append(f"# TYPE {name} {kind}")


def family(
    out: list[str],
    name: str,
    kind: str,
    help: str,
    samples: Iterable[tuple[tuple[tuple[str, str], ...], int | float | Decimal]],
) -> None:
    """A family of few samples (hosts, plans): its head, then each sample's line."""
    head(out, name, kind, help)
    for labels, value in samples:
        pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
        out.append(f"{name}{{{pairs}}} {value}")


def _escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value
