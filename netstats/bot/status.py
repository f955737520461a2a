"""Status messages (netstats_status_messages): one message per channel that the bot edits in
place every few minutes, hosts online or silent and the plans' bars. A deleted message is
posted again and said once in the log; Discord's rate limits are discord.py's to honour."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import discord

from netstats.bot import embed
from netstats.bot.i18n import language
from netstats.reader import Reader, Scope

log = logging.getLogger(__name__)

TICK_S = 30.0  # how often the bot looks for a status message that is due
LEASE_S = 120  # a claimed message is this bot's to show for this long


class NotText(Exception):
    pass


class StatusKeeper:
    def __init__(self, bot: discord.Client, reader: Reader, tick_s: float = TICK_S) -> None:
        self.bot, self.reader, self.tick_s = bot, reader, tick_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception as exc:  # a database or Discord that is away: next tick
                log.warning("status messages: %s; trying again in %.0f s", exc, self.tick_s)
            try:
                await asyncio.wait_for(stop.wait(), self.tick_s)
            except TimeoutError:
                pass

    async def once(self) -> int:
        """Posts or edits every status message that is due and that no other bot holds
        (netstats_status_claim); returns how many were shown. One that fails is counted in
        the database with its error and waits its pace."""
        now = datetime.now(UTC)
        done = 0
        for row in await self.reader.status_claim(LEASE_S):
            try:
                await self._show(row, now)
            except (discord.HTTPException, NotText) as exc:  # 429s: discord.py waited them out
                error = str(exc)
                if isinstance(exc, discord.Forbidden | discord.NotFound):
                    error = (
                        f"cannot post to channel {row['channel']}: {exc.text or exc.status}; "
                        "check the id and that the bot may send messages there"
                    )
                elif isinstance(exc, discord.HTTPException):
                    error = f"Discord answered {exc.status}: {exc.text or exc.status}"
                log.warning("status message in channel %s: %s", row["channel"], error)
                await self.reader.status_failed(int(row["channel"]), error)
                continue
            done += 1
        return done

    async def _show(self, row: dict[str, Any], now: datetime) -> None:
        channel_id, message_id = int(row["channel"]), row["message"]
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise NotText(f"channel {channel_id} is not a text channel")
        guild = getattr(channel, "guild", None)
        lang = language(guild.preferred_locale if guild else None)
        hosts = await self.reader.status(row["zone"])
        plans = await self.reader.plans(Scope(tz=row["zone"]))
        shown = embed.status(hosts, plans, lang, row["every"], now)
        if message_id is not None:
            try:
                await channel.get_partial_message(int(message_id)).edit(embed=shown)
                await self.reader.status_posted(channel_id, int(message_id))
                return
            except discord.NotFound:
                log.warning(
                    "the status message in channel %s was deleted; posting a new one",
                    channel_id,
                )
        posted = await channel.send(embed=shown)
        await self.reader.status_posted(channel_id, posted.id)
