"""/netstats for any discord.py bot: `await bot.load_extension("netstats.bot")`; with it
/netstats-digest and /netstats-status, which set digests and status messages.

Configuration comes from the environment (DESIGN.md): NETSTATS_DATABASE_URL or SUPABASE_URL
and SUPABASE_KEY, NETSTATS_TZ, NETSTATS_DISCORD_GUILDS (an optional allow-list of server ids),
NETSTATS_AGENT_IN_BOT=1 to run the agent inside the bot."""

from __future__ import annotations

from discord.ext import commands

from netstats.bot.cog import NetStats, setup_translator
from netstats.bot.deliveries import Deliveries


async def setup(bot: commands.Bot) -> None:
    await setup_translator(bot)
    netstats = NetStats(bot)
    await bot.add_cog(netstats)
    await bot.add_cog(Deliveries(netstats))  # /netstats-digest, /netstats-status
