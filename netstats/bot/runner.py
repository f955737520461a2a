"""`netstats bot`: a minimal bot that loads the extension and syncs /netstats.

Discord rate-limits command registration, and discord.py's maintainers advise against
syncing at every start: the runner syncs only when the commands it would send differ from
the last ones it synced (a checksum in the user data folder), or when asked (`--sync`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from pathlib import Path

import discord
from discord.ext import commands

from netstats.config import data_dir
from netstats.errors import ConfigError

log = logging.getLogger(__name__)


def default_stamp() -> Path:
    return data_dir() / "discord-commands.json"


class Runner(commands.Bot):
    def __init__(
        self, guild: int | None, *, force_sync: bool = False, stamp: Path | None = None
    ) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
        self.sync_guild = guild
        self.force_sync = force_sync
        self.stamp = stamp or default_stamp()

    async def setup_hook(self) -> None:
        await self.load_extension("netstats.bot")
        guild = discord.Object(id=self.sync_guild) if self.sync_guild is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        where = f"server {self.sync_guild}" if guild is not None else "every server"
        key = f"{self.application_id}/{self.sync_guild or 'global'}"
        digest = await self._digest(guild)
        known = self._stamps()
        if not self.force_sync and known.get(key) == digest:
            log.info(
                "/netstats is registered for %s already; not syncing (--sync forces it)", where
            )
            return
        synced = await self.tree.sync(guild=guild)  # global: Discord may take a while to show it
        log.info("synced %d commands to %s", len(synced), where)
        self._save_stamps({**known, key: digest})

    async def _digest(self, guild: discord.Object | None) -> str:
        translator = self.tree.translator  # the extension always sets one
        assert translator is not None
        payloads = [
            await command.get_translated_payload(self.tree, translator)
            for command in self.tree.get_commands(guild=guild)
        ]
        return hashlib.sha256(json.dumps(payloads, sort_keys=True).encode()).hexdigest()

    def _stamps(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.stamp.read_text()))
        except (OSError, ValueError):
            return {}

    def _save_stamps(self, stamps: dict[str, str]) -> None:
        try:
            self.stamp.parent.mkdir(parents=True, exist_ok=True)
            self.stamp.write_text(json.dumps(stamps, indent=1))
        except OSError as exc:  # the next start syncs again: harmless
            log.warning("could not remember the synced commands in %s: %s", self.stamp, exc)


def sync_guild() -> int | None:
    raw = os.environ.get("NETSTATS_DISCORD_GUILD")
    try:
        return int(raw) if raw else None
    except ValueError:
        raise ConfigError(f"NETSTATS_DISCORD_GUILD={raw!r}: expected a server id") from None


def run(force_sync: bool = False) -> None:
    """Logging is the netstats command's: discord.py's own handler would print every line twice."""
    token = os.environ.get("DISCORD_TOKEN")
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set: create a bot at discord.com/developers")
    guild = sync_guild()

    async def main() -> None:
        async with Runner(guild, force_sync=force_sync) as bot:
            await bot.start(token)

    asyncio.run(main())
