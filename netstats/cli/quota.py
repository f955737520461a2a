"""`netstats quota` (limits on a calendar period's bytes, and their progress: a quota is a
plan without a price on a calendar period, see cli/plan.py) and `netstats check` (exit 1 when
a plan or quota needs attention, for cron)."""

from __future__ import annotations

import argparse

from netstats.cli.args import Commands, instant, percentages, reading, size, zone
from netstats.errors import ConfigError


def add(commands: Commands) -> None:
    quota = commands.add_parser("quota", help="limits on a period's bytes, and their progress")
    quota_commands = quota.add_subparsers(dest="quota_command", required=True)
    set_ = quota_commands.add_parser("set", help="create or change a quota")
    set_.add_argument("name", help="its name, e.g. plan")
    set_.add_argument("limit", type=size, help="e.g. 1TB, 500GB, 750GiB, 1.5TiB, bytes")
    set_.add_argument(
        "--period", default="cycle", choices=("day", "week", "month", "year", "cycle")
    )
    set_.add_argument(
        "--direction",
        default="total",
        choices=("sent", "recv", "total", "max"),
        help="what counts: sent, received, both, or the larger of the two (max) over the period",
    )
    set_.add_argument("--host", help="only this host (default all)")
    set_.add_argument("--iface", help="only this interface (default all)")
    set_.add_argument(
        "--thresholds",
        type=percentages,
        default=[80, 90, 100],
        help="alert at these %% (80,90,100)",
    )
    set_.add_argument("--tz", help="the zone its periods follow (default NETSTATS_TZ or UTC)")
    set_.set_defaults(run=set_quota)
    list_ = quota_commands.add_parser("list", help="every quota's progress")
    list_.add_argument("--json", action="store_true", help="machine-readable output")
    list_.add_argument("--at", type=instant, help="as of this instant (default now)")
    list_.set_defaults(run=list_quotas)
    rm = quota_commands.add_parser("rm", help="remove a quota")
    rm.add_argument("name")
    rm.set_defaults(run=remove)

    check_ = commands.add_parser(
        "check",
        help="exit 1 when a plan or quota crossed a threshold, will run out or go over budget",
    )
    check_.add_argument("--json", action="store_true", help="machine-readable output")
    check_.add_argument("--at", type=instant, help="as of this instant (default now)")
    check_.set_defaults(run=check)


def set_quota(args: argparse.Namespace) -> None:
    from netstats.cli.render import quota_table

    quota = reading(
        lambda r: r.quota_set(
            args.name,
            args.limit,
            args.period,
            args.direction,
            args.host,
            args.iface,
            args.thresholds,
            zone(args),
        ),  # fmt: skip
        args.verbose,
    )
    print(quota_table([quota]))


def list_quotas(args: argparse.Namespace) -> None:
    from netstats.cli.render import quota_json, quota_table
    from netstats.reader import Scope

    quotas = reading(lambda r: r.quotas(Scope(tz=zone(args), at=args.at)), args.verbose)
    if args.json:
        print(quota_json(quotas))
    else:
        print(quota_table(quotas) if quotas else "no quotas: netstats quota set NAME LIMIT")


def remove(args: argparse.Namespace) -> None:
    if not reading(lambda r: r.quota_delete(args.name), args.verbose):
        raise ConfigError(f"no quota named {args.name!r} (netstats quota list shows them)")
    print(f"removed quota {args.name!r}")


def check(args: argparse.Namespace) -> int:
    """vnstat --alert's contract: 0 all is well, 1 a plan or quota needs attention (a
    threshold crossed, the allowance reached at the current rate, the cost projected over
    its budget), 2 an error."""
    from netstats.cli.render import plan_json, plan_table
    from netstats.reader import Scope

    plans = reading(lambda r: r.plans(Scope(tz=zone(args), at=args.at)), args.verbose)
    bad = [p for p in plans if p.alarming]
    if args.json:
        print(plan_json(plans))
    elif bad:
        print(plan_table(bad))
    else:
        what = "plan or quota" if len(plans) == 1 else "plans and quotas"
        print(f"ok: {len(plans)} {what}, none crossed, running out or over budget")
    return 1 if bad else 0
