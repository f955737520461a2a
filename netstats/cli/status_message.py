"""`netstats status-message`: a message in a channel that the bot keeps current, edited in
place (hosts online or silent, today's and the cycle's use, the plans' bars)."""

from __future__ import annotations

import argparse

from netstats.cli.args import Commands, reading, zone
from netstats.errors import ConfigError


def add(commands: Commands) -> None:
    status = commands.add_parser(
        "status-message", help="a message the bot keeps current in a channel, edited in place"
    )
    status_commands = status.add_subparsers(dest="status_command", required=True)
    add_ = status_commands.add_parser("add", help="keep one in this channel")
    add_.add_argument("channel", type=int, help="the Discord channel's id")
    add_.add_argument("--tz", help="the zone of its days and cycle (default NETSTATS_TZ or UTC)")
    add_.add_argument("--every", type=int, default=5, help="minutes between edits (at least 1)")
    add_.set_defaults(run=add_status)
    list_ = status_commands.add_parser("list", help="every status message and its last edit")
    list_.set_defaults(run=list_status)
    rm = status_commands.add_parser("rm", help="stop keeping one (the message stays)")
    rm.add_argument("channel", type=int)
    rm.set_defaults(run=remove)


def add_status(args: argparse.Namespace) -> None:
    reading(lambda r: r.status_set(args.channel, zone(args), args.every * 60), args.verbose)
    print(
        f"the bot keeps a status message in channel {args.channel}, edited every {args.every} min"
    )


def list_status(args: argparse.Namespace) -> None:
    from netstats.cli.render import status_table

    print(status_table(reading(lambda r: r.status_messages(), args.verbose)))


def remove(args: argparse.Namespace) -> None:
    if not reading(lambda r: r.status_delete(args.channel), args.verbose):
        raise ConfigError(
            f"no status message in channel {args.channel} (netstats status-message list)"
        )
    print(f"no longer keeping the status message in channel {args.channel}")
