"""`netstats plan`: what a provider bills (a cycle of its own, pooled hosts, an allowance, a
price), corrections of a cycle's count, the provider presets; and the plans' progress and
cost (netstats_plans). A quota is a plan on a calendar period without a price: `netstats
plan list` shows quotas too, and `netstats check` counts both."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from netstats.cli.args import Commands, instant, percentages, reading, size
from netstats.errors import ConfigError


def add(commands: Commands) -> None:
    plan = commands.add_parser(
        "plan", help="what your provider bills: allowance, cycle, price; progress and cost"
    )
    plan_commands = plan.add_subparsers(dest="plan_command", required=True)
    set_ = plan_commands.add_parser("set", help="create or change a plan")
    set_.add_argument("name", help="its name, e.g. hetzner")
    set_.add_argument(
        "--provider", help="fill what is not given from a preset (netstats plan providers)"
    )
    set_.add_argument("--hosts", help="H1,H2 or a glob such as 'bot-*', pooled (default all)")
    set_.add_argument("--iface", help="only this interface (default all)")
    set_.add_argument(
        "--basis",
        choices=("sent", "recv", "total", "max"),
        help="what the provider counts: sent, received, both, or the larger of the two",
    )
    set_.add_argument("--included", help="the allowance of a cycle: 20TB, 100GB, 0 or unlimited")
    set_.add_argument(
        "--cycle-start", help="the wall-clock start of a cycle, e.g. 2026-11-30T14:00 (in --tz)"
    )
    set_.add_argument("--every", help="the cycle's length: '1 month', '30 days', '1 year'")
    set_.add_argument("--tz", help="the zone of --cycle-start, e.g. Europe/Berlin")
    set_.add_argument("--price", help="per unit over the allowance, e.g. '1 EUR/TB', '0.09 USD/GB'")
    set_.add_argument("--budget", help="alert when a cycle's cost is projected above, e.g. '5 EUR'")
    set_.add_argument(
        "--thresholds", type=percentages, default=[80, 90, 100], help="alert at these %% of it"
    )
    set_.set_defaults(run=set_plan)

    adjust = plan_commands.add_parser(
        "adjust", help="correct the current cycle's count, e.g. by what your provider's panel shows"
    )
    adjust.add_argument("name")
    adjust.add_argument("bytes", type=size, help="e.g. 340GB (added; --subtract takes it away)")
    adjust.add_argument("--subtract", action="store_true", help="take the bytes away instead")
    adjust.add_argument("--note", required=True, help="why, e.g. 'panel on 12-04'")
    adjust.set_defaults(run=adjust_plan)

    adjustments = plan_commands.add_parser("adjustments", help="the corrections, newest first")
    adjustments.add_argument("name", nargs="?", help="one plan's (default every plan's)")
    adjustments.add_argument("--json", action="store_true", help="machine-readable output")
    adjustments.set_defaults(run=list_adjustments)
    unadjust = plan_commands.add_parser("unadjust", help="remove a correction by its id")
    unadjust.add_argument("id", type=int)
    unadjust.set_defaults(run=remove_adjustment)

    list_ = plan_commands.add_parser("list", help="every plan's and quota's progress and cost")
    list_.add_argument("--json", action="store_true", help="machine-readable output")
    list_.add_argument("--at", type=instant, help="as of this instant (default now)")
    list_.set_defaults(run=list_plans)
    rm = plan_commands.add_parser("rm", help="remove a plan (and its corrections)")
    rm.add_argument("name")
    rm.set_defaults(run=remove)
    presets = plan_commands.add_parser("providers", help="the provider presets and their sources")
    presets.add_argument("--json", action="store_true", help="machine-readable output")
    presets.set_defaults(run=list_providers)


def plan_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """netstats_plan_set's arguments: the options given, the rest from --provider."""
    from netstats import plans

    preset = plans.provider(args.provider) if args.provider else None

    def given(option: str) -> Any:
        value = getattr(args, option)
        if value is None and preset is not None:
            value = getattr(preset, option)
        return value

    missing = [
        f"--{o.replace('_', '-')}" for o in ("basis", "cycle_start", "every", "tz") if not given(o)
    ]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)}: expected (or --provider NAME to start from a preset); "
            "e.g. --basis sent --cycle-start 2026-11-01T00:00 --every '1 month' --tz UTC"
        )
    n, unit = plans.every(given("every"))
    price = plans.price(given("price")) if given("price") else None
    return {
        "name": args.name,
        "basis": given("basis"),
        "anchor": plans.cycle_start(given("cycle_start")),
        "every": n,
        "unit": unit,
        "tz": given("tz"),
        "included_bytes": plans.included(given("included") or "unlimited"),
        "hosts": [h.strip() for h in (args.hosts or "").split(",") if h.strip()] or None,
        "iface": args.iface,
        "thresholds": args.thresholds,
        "price": price and price[0],
        "currency": price and price[1],
        "price_unit": price and price[2],
        "budget": plans.budget(args.budget, price and price[1]) if args.budget else None,
        "provider": preset and preset.key,
    }


def set_plan(args: argparse.Namespace) -> None:
    from netstats import plans
    from netstats.cli.render import plan_table
    from netstats.reader import Plan, Reader, Scope

    async def work(reader: Reader) -> tuple[Plan, set[str]]:
        return await reader.plan_set(**plan_arguments(args)), {s.host for s in await reader.hosts()}

    plan, known = reading(work, args.verbose)
    print(plan_table([plan]))
    if plan.provider:
        preset = plans.provider(plan.provider)
        print(f"{preset.title}: list price, checked on {preset.checked} ({preset.source})")
    if plan.hosts and not any(plan.covers(Scope(host=h, iface=plan.iface)) for h in known):
        print(
            f"warning: --hosts {','.join(plan.hosts)} matches no host that has reported "
            "yet; the plan counts them once they do",
            file=sys.stderr,
        )


def adjust_plan(args: argparse.Namespace) -> None:
    import getpass
    import socket

    from netstats.cli.render import plan_table

    by = f"{getpass.getuser()}@{socket.gethostname()}"
    change = -args.bytes if args.subtract else args.bytes
    plan = reading(lambda r: r.plan_adjust(args.name, change, args.note, by), args.verbose)
    print(plan_table([plan]))


def list_adjustments(args: argparse.Namespace) -> None:
    from netstats.cli.render import adjustment_table, plain_json

    rows = reading(lambda r: r.plan_adjustments(args.name), args.verbose)
    print(plain_json(rows) if args.json else adjustment_table(rows))


def remove_adjustment(args: argparse.Namespace) -> None:
    if not reading(lambda r: r.plan_adjust_delete(args.id), args.verbose):
        raise ConfigError(f"no correction with id {args.id} (netstats plan adjustments lists them)")
    print(f"removed correction {args.id}")


def list_plans(args: argparse.Namespace) -> None:
    from netstats.cli.render import plan_json, plan_table
    from netstats.reader import Scope

    found = reading(lambda r: r.plans(Scope(at=args.at)), args.verbose)
    if args.json:
        print(plan_json(found))
    else:
        print(plan_table(found) if found else "no plans: netstats plan set NAME --provider KEY")


def remove(args: argparse.Namespace) -> None:
    if not reading(lambda r: r.quota_delete(args.name), args.verbose):
        raise ConfigError(f"no plan named {args.name!r} (netstats plan list shows them)")
    print(f"removed plan {args.name!r}")


def list_providers(args: argparse.Namespace) -> None:
    from dataclasses import asdict

    from netstats import plans
    from netstats.cli.render import grid, plain_json

    presets = plans.providers().values()
    if args.json:
        print(plain_json([asdict(p) for p in presets]))
        return
    rows = [
        (p.key, p.title, p.basis, p.included, p.every, p.price, f"checked on {p.checked}")
        for p in presets
    ]
    print(grid([("provider", "what", "basis", "included", "cycle", "list price", ""), *rows]))
    print("\nsources:\n" + "\n".join(f"  {p.key}: {p.source} ({p.pooled})" for p in presets))
