"""`netstats bot`: a Discord bot with /netstats (DISCORD_TOKEN)."""

from __future__ import annotations

import argparse

from netstats.cli.args import Commands


def add(commands: Commands) -> None:
    bot = commands.add_parser("bot", help="run a Discord bot with /netstats (DISCORD_TOKEN)")
    bot.add_argument(
        "--sync", action="store_true", help="register /netstats with Discord even if unchanged"
    )
    bot.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from netstats.bot.runner import run

    run(force_sync=args.sync)
