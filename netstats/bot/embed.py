"""The answer to /netstats as a Discord embed: pure, so every field is tested."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from netstats.bot.i18n import LABELS, period_name
from netstats.reader import CALENDAR_PERIODS, Totals
from netstats.units import human_bytes, percent

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


def build(
    totals: Totals, period: str, tz: str, host: str | None, iface: str | None, lang: str
) -> discord.Embed:
    text = LABELS[lang]
    embed = discord.Embed(
        title=text["title"].format(period=period_name(period, lang)), colour=COLOUR
    )
    scope = (
        text["scope_all"]
        if host is None and iface is None
        else text["scope"].format(host=host or text["any"], iface=iface or text["any"])
    )
    start = local(totals.period_start, tz) if totals.period_start else "—"
    window = text["window"].format(start=start, end=local(totals.period_end, tz), tz=tz)
    embed.description = f"{window}\n{scope}" + ("" if totals.samples else f"\n{text['no_data']}")
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
    embed.set_footer(text="netstats · 1 GB = 1,000,000,000 bytes")
    return embed
