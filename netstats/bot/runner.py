"""`netstats bot`: a minimal bot that loads the extension and syncs /netstats."""

from __future__ import annotations

import asyncio
import logging
import os

import discord
from discord.ext import commands

from netstats.errors import ConfigError

log = logging.getLogger(__name__)


class Runner(commands.Bot):
    def __init__(self, guild: int | None) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
        self.sync_guild = guild

    async def setup_hook(self) -> None:
        await self.load_extension("netstats.bot")
        if self.sync_guild is not None:
            guild = discord.Object(id=self.sync_guild)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)  # instant, for one server
            log.info("synced %d commands to server %d", len(synced), self.sync_guild)
        else:
            synced = await self.tree.sync()  # global: Discord may take a while to show it
            log.info("synced %d commands globally", len(synced))


def sync_guild() -> int | None:
    raw = os.environ.get("NETSTATS_DISCORD_GUILD")
    try:
        return int(raw) if raw else None
    except ValueError:
        raise ConfigError(f"NETSTATS_DISCORD_GUILD={raw!r}: expected a server id") from None


def run() -> None:
    token = os.environ.get("DISCORD_TOKEN")
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set: create a bot at discord.com/developers")
    guild = sync_guild()
    discord.utils.setup_logging()

    async def main() -> None:
        async with Runner(guild) as bot:
            await bot.start(token)

    asyncio.run(main())
