"""The answer to /netstats as a Discord embed: pure, so every field is tested."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import discord

from netstats.bot.i18n import LABELS, period_name
from netstats.reader import CALENDAR_PERIODS, Percentile, Plan, Quota, Scope, Top, Totals
from netstats.units import human_bytes, human_rate, money, percent

COVERAGE_WARNING_BELOW = 0.95
COLOUR = discord.Colour(0x2F80ED)


def mbits(bytes_per_s: float | None) -> str:
    if bytes_per_s is None:
        return "—"
    value = bytes_per_s * 8 / 1_000_000
    if 0 < value < 0.01:
        return "< 0.01 Mbit/s"
    return f"{value:,.{0 if value >= 100 else 1 if value >= 10 else 2}f} Mbit/s"


def local(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


MAX_QUOTAS = 10  # an embed holds 25 fields; the fullest quotas come first
WARNING = discord.Colour(0xF5A524)


def build(
    totals: Totals,
    scope: Scope,
    lang: str,
    quotas: Sequence[Quota] = (),
    services: Sequence[tuple[str, Totals]] = (),
) -> discord.Embed:
    period, tz = scope.period, scope.tz
    text = LABELS[lang]
    embed = discord.Embed(
        title=text["title"].format(period=period_name(period, lang)), colour=COLOUR
    )
    embed.description = _heading(text, totals.period_start, totals.period_end, scope)
    if not totals.samples:
        embed.description += f"\n{text['no_data']}"
    embed.add_field(name=text["sent"], value=human_bytes(totals.bytes_sent))
    embed.add_field(name=text["received"], value=human_bytes(totals.bytes_recv))
    embed.add_field(name=text["total"], value=human_bytes(totals.bytes_total))
    embed.add_field(name=text["average"], value=mbits(totals.avg_bytes_per_s))
    embed.add_field(name=text["peak"], value=mbits(totals.peak_bytes_per_s))
    embed.add_field(name=text["samples"], value=f"{totals.samples:,}")
    coverage = "—" if totals.coverage is None else percent(totals.coverage)
    if totals.coverage is not None and totals.coverage < COVERAGE_WARNING_BELOW:
        coverage += f"\n{text['coverage_warning']}"
    embed.add_field(name=text["coverage"], value=coverage)
    if period in CALENDAR_PERIODS and totals.projected_bytes_total is not None:
        projection = text["projection_by"].format(
            bytes=human_bytes(totals.projected_bytes_total), end=local(totals.period_end, tz)
        )
    else:
        projection = text["not_projected"] if period not in CALENDAR_PERIODS else "—"
    embed.add_field(name=text["projection"], value=projection)
    if services:
        embed.add_field(name=text["services"], value=service_table(services), inline=False)
    for q in sorted(quotas, key=lambda q: -q.used_ratio)[:MAX_QUOTAS]:
        embed.add_field(**quota_field(q, text), inline=False)
        if q.thresholds_crossed or q.projected_exceed_at is not None:
            embed.colour = WARNING
    embed.set_footer(text="netstats · 1 GB = 1,000,000,000 bytes")
    return embed


MAX_SERVICES = 10  # a field holds 1,024 characters


def service_table(services: Sequence[tuple[str, Totals]]) -> str:
    """One line per service, largest first: total, then sent and received."""
    lines = [
        f"`{name}` {human_bytes(t.bytes_total)} "
        f"(↑ {human_bytes(t.bytes_sent)} ↓ {human_bytes(t.bytes_recv)})"
        for name, t in services[:MAX_SERVICES]
    ]
    if len(services) > MAX_SERVICES:
        lines.append(f"… +{len(services) - MAX_SERVICES}")
    return "\n".join(lines)


def _heading(text: dict[str, Any], start: datetime | None, end: datetime, scope: Scope) -> str:
    """The window (in the bot's zone) and what it covers."""
    covers = (
        text["scope_all"]
        if scope.everything
        else text["scope"].format(host=scope.host or text["any"], iface=scope.iface or text["any"])
    )
    tz = scope.tz
    first = local(start, tz) if start else "—"
    return f"{text['window'].format(start=first, end=local(end, tz), tz=tz)}\n{covers}"


def percentile(
    p: Percentile, scope: Scope, lang: str, commit: float | None = None
) -> discord.Embed:
    """Burstable billing as netstats_percentile computed it: each direction's rate, and the
    5-minute buckets above the commit (NETSTATS_COMMIT_MBITS)."""
    text = LABELS[lang]
    embed = discord.Embed(
        title=text["percentile_title"].format(period=period_name(scope.period, lang)),
        colour=COLOUR,
    )
    measured = text["measured"].format(measured=p.measured_buckets, buckets=p.buckets)
    embed.description = f"{_heading(text, p.period_start, p.period_end, scope)}\n{measured}"
    embed.add_field(name=text["sent"], value=mbits(p.sent_bytes_per_s))
    embed.add_field(name=text["received"], value=mbits(p.recv_bytes_per_s))
    embed.add_field(name=text["total"], value=mbits(p.total_bytes_per_s))
    if commit is not None and p.above_commit is not None:
        embed.add_field(
            name=text["above_commit"].format(commit=human_rate(commit)),
            value=text["above_commit_value"].format(
                count=p.above_commit, minutes=5 * p.above_commit
            ),
        )
        if p.above_commit:
            embed.colour = WARNING
    embed.set_footer(text="netstats · 1 Mbit/s = 1,000,000 bits per second")
    return embed


def top(
    listed: Sequence[Top],
    view: str,
    scope: Scope,
    start: datetime | None,
    end: datetime,
    lang: str,
) -> discord.Embed:
    """Where the traffic went, as netstats_top listed it: one field a day or host."""
    text = LABELS[lang]
    embed = discord.Embed(
        title=text[view].format(period=period_name(scope.period, lang)), colour=COLOUR
    )
    embed.description = _heading(text, start, end, scope)
    if not listed:
        embed.description += f"\n{text['no_data']}"
    for i, t in enumerate(listed, 1):
        embed.add_field(
            name=f"{i}. {t.key}",
            value=text["top_row"].format(
                total=human_bytes(t.bytes_total),
                sent=human_bytes(t.bytes_sent),
                recv=human_bytes(t.bytes_recv),
            ),
            inline=False,
        )
    embed.set_footer(text="netstats · 1 GB = 1,000,000,000 bytes")
    return embed


def quota_field(q: Quota, text: dict[str, Any]) -> dict[str, str]:
    """A quota as netstats_quotas computed it: a bar, used of limit, and when it runs out at
    the current rate (or what the period ends at), in the quota's own zone."""
    filled = min(10, round(q.used_ratio * 10))
    warn = "⚠️ " if q.thresholds_crossed else ""
    value = text["quota_used"].format(
        bar="█" * filled + "░" * (10 - filled),
        percent=warn + percent(q.used_ratio),
        used=human_bytes(q.used_bytes),
        limit=human_bytes(q.limit_bytes),
    )
    if q.used_ratio >= 1:
        value += " · " + text["quota_reached"]
    elif q.projected_exceed_at is not None:
        value += " · " + text["quota_runs_out"].format(
            at=f"{local(q.projected_exceed_at, q.tz)} {q.tz}"
        )
    elif q.projected_bytes is not None:
        value += " · " + text["quota_projected"].format(
            bytes=human_bytes(q.projected_bytes), end=f"{local(q.period_end, q.tz)} {q.tz}"
        )
    name = text["quota"].format(
        name=q.name,
        period=text["quota_periods"][q.period],
        direction=text["quota_directions"][q.direction],
    )
    return {"name": name, "value": value}


MAX_PLANS = 20  # an embed holds 25 fields


def plans(listed: Sequence[Plan], lang: str) -> discord.Embed:
    """Every plan (and quota) in its own current cycle, fullest first: a bar, counted of
    included (a correction named), the projection, and the cost against the budget. The
    cycle's end is a Discord timestamp: each reader sees it in their own zone."""
    text = LABELS[lang]
    embed = discord.Embed(title=text["plans_title"], colour=COLOUR)
    if not listed:
        embed.description = text["no_plans"]
    for p in sorted(listed, key=lambda p: (-(p.used_ratio or 0), p.name))[:MAX_PLANS]:
        embed.add_field(**plan_field(p, text, lang), inline=False)
        if p.alarming:
            embed.colour = WARNING
    embed.set_footer(text="netstats · 1 GB = 1,000,000,000 bytes")
    return embed


def plan_field(p: Plan, text: dict[str, Any], lang: str) -> dict[str, str]:
    used = human_bytes(p.counted_bytes)
    if p.included_bytes is None or p.used_ratio is None:
        value = text["plan_unlimited"].format(used=used)
    else:
        filled = min(10, round(p.used_ratio * 10))
        value = text["plan_used"].format(
            bar="█" * filled + "░" * (10 - filled),
            percent=("⚠️ " if p.thresholds_crossed else "") + percent(p.used_ratio),
            used=used,
            included=human_bytes(p.included_bytes),
        )
    if p.adjust_bytes:
        sign = "+" if p.adjust_bytes > 0 else "-"
        value += (
            f" ({text['plan_corrected'].format(bytes=sign + human_bytes(abs(p.adjust_bytes)))})"
        )
    lines = [value]
    if p.projected_bytes is not None:
        lines.append(text["plan_projected"].format(bytes=human_bytes(p.projected_bytes)))
    if p.currency is not None:
        projected = "—" if p.projected_cost is None else money(p.projected_cost, p.currency, lang)
        cost = text["plan_cost"].format(
            cost=money(p.cost_so_far or 0, p.currency, lang), projected=projected
        )
        if p.budget is not None:
            budget = money(p.budget, p.currency, lang)
            key = "plan_over_budget" if p.over_budget else "plan_budget"
            cost += " · " + text[key].format(budget=budget)
        lines.append(cost)
    lines.append(text["plan_cycle"].format(end=f"<t:{int(p.cycle_end.timestamp())}:f>"))
    hosts = ", ".join(p.hosts) if p.hosts else text["plan_hosts_all"]
    name = text["plan"].format(
        name=p.name,
        basis=text["quota_directions"][p.basis],
        hosts=hosts if p.iface is None else f"{hosts} · {p.iface}",
    )
    return {"name": name[:256], "value": "\n".join(lines)}


MAX_STATUS_HOSTS = 20  # an embed holds 25 fields: the rest go to the plans


def status(
    hosts: Sequence[dict[str, Any]],
    listed: Sequence[Plan],
    lang: str,
    every_s: int,
    now: datetime,
) -> discord.Embed:
    """A status message (netstats_status): each host online or silent since when, with its
    bytes today and this billing cycle; then the plans' bars. Times are Discord timestamps."""
    text = LABELS[lang]
    embed = discord.Embed(title=text["status_title"], colour=COLOUR)
    embed.description = text["status_updated"].format(
        at=int(now.timestamp()), minutes=round(every_s / 60)
    )
    if not hosts:
        embed.description += "\n" + text["status_no_hosts"]
    for h in hosts[:MAX_STATUS_HOSTS]:
        last = (
            datetime.fromisoformat(h["last_at"]) if isinstance(h["last_at"], str) else h["last_at"]
        )
        silent = h["silent_since"]
        state = (
            text["status_silent"].format(at=int(last.timestamp()))
            if silent is not None
            else text["status_online"].format(at=int(last.timestamp()))
        )
        use = text["status_use"].format(
            today=human_bytes(int(h["today_sent"]) + int(h["today_recv"])),
            cycle=human_bytes(int(h["cycle_sent"]) + int(h["cycle_recv"])),
        )
        embed.add_field(name=h["host"], value=f"{state}\n{use}", inline=False)
        if silent is not None:
            embed.colour = WARNING
    for p in sorted(listed, key=lambda p: (-(p.used_ratio or 0), p.name))[: 25 - len(embed.fields)]:
        embed.add_field(**plan_field(p, text, lang), inline=False)
    embed.set_footer(text="netstats · 1 GB = 1,000,000,000 bytes")
    return embed
