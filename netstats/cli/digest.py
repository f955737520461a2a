"""`netstats digest`: a period's traffic posted to Discord once it ends (day, week, month or
billing cycle, in a zone), by the bot or by `netstats alerts` to a webhook. The database
raises each digest once (netstats_digests, netstats.digest_facts); the deliverers post it."""

from __future__ import annotations

import argparse

from netstats.cli.args import Commands, reading, zone
from netstats.errors import ConfigError


def add(commands: Commands) -> None:
    digest = commands.add_parser(
        "digest", help="post each day's, week's, month's or cycle's traffic to Discord"
    )
    digest_commands = digest.add_subparsers(dest="digest_command", required=True)
    add_ = digest_commands.add_parser("add", help="create or change a digest")
    add_.add_argument("name", help="its name, e.g. weekly")
    add_.add_argument("--period", default="week", choices=("day", "week", "month", "cycle"))
    add_.add_argument("--tz", help="the zone its periods follow (default NETSTATS_TZ or UTC)")
    add_.add_argument(
        "--channel", type=int, help="the bot posts it here (default NETSTATS_ALERT_CHANNEL)"
    )
    add_.set_defaults(run=add_digest)
    list_ = digest_commands.add_parser("list", help="every digest and its latest delivery")
    list_.add_argument("--json", action="store_true", help="machine-readable output")
    list_.set_defaults(run=list_digests)
    rm = digest_commands.add_parser("rm", help="remove a digest")
    rm.add_argument("name")
    rm.set_defaults(run=remove)


def add_digest(args: argparse.Namespace) -> None:
    from netstats.cli.render import digest_table

    row = reading(
        lambda r: r.digest_set(args.name, args.period, zone(args), args.channel), args.verbose
    )
    print(digest_table([row]))


def list_digests(args: argparse.Namespace) -> None:
    from netstats.cli.render import digest_table, plain_json

    rows = reading(lambda r: r.digests(), args.verbose)
    print(plain_json(rows) if args.json else digest_table(rows))


def remove(args: argparse.Namespace) -> None:
    if not reading(lambda r: r.digest_delete(args.name), args.verbose):
        raise ConfigError(f"no digest named {args.name!r} (netstats digest list shows them)")
    print(f"removed digest {args.name!r}")
