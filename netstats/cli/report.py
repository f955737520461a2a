"""`netstats report`: today, week, month, cycle and all in a table; vnStat's lists;
burstable billing; where the traffic went."""

from __future__ import annotations

import argparse
from pathlib import Path

from netstats.cli.args import Commands, instant, period, reading, when, zone
from netstats.errors import ConfigError

# vnStat's lists (netstats.cli.render.VIEWS, which holds their steps; named here so that parsing
# the command line, which the agent does too, never imports the report)
VIEWS = {
    "5min": "5-minute rows (the last 24)",
    "hours": "hourly rows (the last 24)",
    "days": "daily rows (the last 30)",
    "months": "monthly rows (the last 12)",
    "years": "yearly rows (from the first sample)",
}


def add(commands: Commands) -> None:
    report = commands.add_parser("report", help="today, week, month, cycle and all in a table")
    report.add_argument(
        "--period",
        type=period,
        help="only this period: today, week, month, year, cycle, 24h, 7d, 30d or all",
    )
    report.add_argument("--tz", help="IANA time zone (default NETSTATS_TZ or UTC)")
    report.add_argument("--host", help="only this host")
    report.add_argument(
        "--iface", help="only this interface (or service: --iface service:mybot.service)"
    )
    report.add_argument(
        "--binary", action="store_true", help="sizes in KiB, MiB, GiB (1024-based), as vnStat"
    )
    forms = report.add_mutually_exclusive_group()
    forms.add_argument("--json", action="store_true", help="machine-readable output")
    forms.add_argument(
        "--oneline",
        action="store_true",
        help="today, month and all time on one line, in exact bytes (vnstat --oneline b's fields)",
    )
    report.add_argument(
        "--at",
        type=instant,
        help="report as of this instant, e.g. 2026-10-31T23:59:59+09:00 (default now)",
    )
    views = report.add_mutually_exclusive_group()
    for name, what in VIEWS.items():
        views.add_argument(
            f"--{name}", dest="view", action="store_const", const=name, help=f"a list of {what}"
        )
    views.add_argument(
        "--percentile",
        dest="view",
        action="store_const",
        const="percentile",
        help="burstable billing: the 95th percentile of 5-minute rates (of --period, "
        "default cycle)",
    )
    views.add_argument(
        "--top",
        choices=("day", "hour", "host", "iface"),
        help="the days, hours, hosts or interfaces that moved the most (of --period, "
        "default month)",
    )
    views.add_argument(
        "--services",
        dest="view",
        action="store_const",
        const="services",
        help="what each service (NETSTATS_SERVICES) moved, part of the totals (of --period, "
        "default month)",
    )
    report.add_argument(
        "--pct", type=float, default=95.0, help="with --percentile: which one (default 95)"
    )
    report.add_argument(
        "--commit-mbits",
        type=float,
        help="with --percentile: count the buckets above this rate (default NETSTATS_COMMIT_MBITS)",
    )
    report.add_argument("-n", type=int, default=10, help="with --top: how many (default 10)")
    for edge in ("begin", "end"):
        report.add_argument(
            f"--{edge}",
            type=when,
            help="with a list: from/to the row holding this time, e.g. 2026-11-01 or "
            "'2026-11-01 14:00' (in --tz), or with an offset",
        )
    report.add_argument(
        "--image",
        type=Path,
        metavar="FILE.png",
        help="also draw the chart /netstats sends (of --period, default today; or of the list)",
    )
    report.set_defaults(run=run, view=None)


def check(args: argparse.Namespace) -> None:
    """Refuses the combinations that mean nothing, naming the option."""
    if args.top:
        args.view = "top"
    if args.view is None and (args.begin or args.end):
        raise ConfigError(
            f"--{'begin' if args.begin else 'end'}: goes with a list: "
            + ", ".join(f"--{v}" for v in VIEWS)
        )
    billing = args.view in ("percentile", "top", "services")
    if args.view and (args.oneline or (args.period and not billing)):
        raise ConfigError(
            f"--{'oneline' if args.oneline else 'period'}: not with --{args.view} "
            "(a list has rows of its own; --json gives them to programs)"
        )
    if not 0 < args.pct <= 100:
        raise ConfigError(f"--pct: expected a percentile above 0 and at most 100, got {args.pct:g}")
    if billing and (args.begin or args.end or args.image):
        raise ConfigError(
            f"--{'begin' if args.begin else 'end' if args.end else 'image'}: "
            f"not with --{args.view}; it reports one --period"
        )
    if args.view == "services" and args.iface:
        raise ConfigError("--iface: not with --services, which lists every service")


# The period a view reports when --period is not given
DEFAULT_PERIODS = {"percentile": "cycle", "top": "month", "services": "month"}


def run(args: argparse.Namespace) -> None:
    from netstats.cli.render import (
        ROWS,
        render,
        render_list,
        render_percentile,
        render_services,
        render_top,
        write_image,
    )
    from netstats.reader import Reader, Scope

    check(args)
    period = args.period or DEFAULT_PERIODS.get(args.view, "today")
    scope = Scope(period, zone(args), args.host, args.iface, args.at)

    async def report(reader: Reader) -> str:
        if args.image:
            await write_image(args.image, reader, args.view, scope, args.begin, args.end)
        if args.view == "percentile":
            return await render_percentile(reader, scope, args.pct, commit(args), args.json)
        if args.view == "services":
            return await render_services(reader, scope, args.json, args.binary)
        if args.view == "top":
            return await render_top(reader, scope, args.top, args.n, args.json, args.binary)
        if args.view:
            return await render_list(
                reader, args.view, scope, args.json, args.begin, args.end, args.binary
            )
        periods = [args.period] if args.period else [p for p, _ in ROWS]
        form = "json" if args.json else "oneline" if args.oneline else "table"
        return await render(reader, periods, scope, form, args.binary)

    print(reading(report, args.verbose))


def commit(args: argparse.Namespace) -> float | None:
    from netstats.config import commit_bytes_per_s

    mbits: float | None = args.commit_mbits
    if mbits is None:
        return commit_bytes_per_s()
    if not 0 <= mbits <= 10**7:
        raise ConfigError(f"--commit-mbits: expected 0 to 10000000 Mbit/s, got {mbits:g}")
    return mbits * 1e6 / 8
