"""`netstats alerts`: post the alerts the database raises to a Discord webhook."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from netstats.cli.args import Commands, reading
from netstats.errors import ConfigError


def add(commands: Commands) -> None:
    alerts = commands.add_parser(
        "alerts", help="post the alerts the database raises to Discord (NETSTATS_DISCORD_WEBHOOK)"
    )
    alerts.add_argument("--once", action="store_true", help="one pass, then exit")
    alerts.set_defaults(run=run)
    alerts_commands = alerts.add_subparsers(dest="alerts_command")
    status_ = alerts_commands.add_parser(
        "status", help="the latest alerts, digests and status messages, and their delivery"
    )
    status_.set_defaults(run=status)


def run(args: argparse.Namespace) -> None:
    import asyncio

    from netstats.alerts import Deliverer, webhook_post
    from netstats.config import AlertSettings
    from netstats.reader import Reader

    settings = AlertSettings.from_env()
    if settings.webhook is None:
        raise ConfigError(
            "NETSTATS_DISCORD_WEBHOOK is not set: create a webhook in the channel's settings "
            "(Integrations → Webhooks) and set it, or let the bot post (NETSTATS_ALERT_CHANNEL)"
        )

    async def deliver(reader: Reader) -> None:
        assert settings.webhook is not None
        post = webhook_post(settings.webhook, settings.lang, settings.tz, reader)
        # a digest set for a channel of its own is the bot's to post there
        deliverer = Deliverer(reader, post, settings.every_s, routed=False)
        if args.once:
            await deliverer.once()
            if deliverer.broken:
                raise ConfigError(deliverer.broken)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await deliverer.run(stop)

    reading(deliver, args.verbose)


def status(args: argparse.Namespace) -> None:
    from netstats.cli.render import alert_table, digest_table, status_table
    from netstats.reader import Reader

    async def work(reader: Reader) -> tuple[list[Any], list[dict[str, Any]], list[Any]]:
        return await reader.alerts(50), await reader.digests(), await reader.status_messages()

    alerts, digests, messages = reading(work, args.verbose)
    print(alert_table(alerts))
    if digests:
        print("\ndigests\n" + digest_table(digests))
    if messages:
        print("\nstatus messages (kept by the bot)\n" + status_table(messages))
