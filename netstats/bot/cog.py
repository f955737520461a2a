"""The NetStats cog: /netstats, its access checks, and optionally the agent in the bot."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from netstats import chart
from netstats.bot import embed
from netstats.bot.i18n import (
    LABELS,
    PERIOD_CHOICES,
    VIEW_CHOICES,
    VIEW_PERIODS,
    Translator,
    language,
)
from netstats.config import AgentSettings, Database, alerts_every_s, commit_bytes_per_s
from netstats.errors import ConfigError
from netstats.reader import Alert, Reader, Scope, SeriesInfo, matching, open_reader
from netstats.sample import SERVICE

if TYPE_CHECKING:  # the agent (psutil) is imported only when the bot runs it
    from netstats.agent import Agent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BotSettings:
    tz: str = "UTC"
    guilds: frozenset[int] = frozenset()  # NETSTATS_DISCORD_GUILDS: an allow-list, when set
    agent_in_bot: bool = False  # NETSTATS_AGENT_IN_BOT=1
    alert_channel: int | None = None  # NETSTATS_ALERT_CHANNEL: where alerts are posted
    commit_bytes_per_s: float | None = None  # NETSTATS_COMMIT_MBITS: the percentile's commit
    alerts_every_s: float = 30.0  # NETSTATS_ALERTS_EVERY: the alert channel's pace
    status_tick_s: float = 30.0  # how often status messages are looked at (tests: less)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> BotSettings:
        raw = env.get("NETSTATS_DISCORD_GUILDS", "")
        try:
            guilds = frozenset(int(g) for g in raw.split(",") if g.strip())
        except ValueError:
            raise ConfigError(
                f"NETSTATS_DISCORD_GUILDS={raw!r}: expected comma-separated server ids"
            ) from None
        channel = env.get("NETSTATS_ALERT_CHANNEL") or None
        if channel is not None and not channel.isdigit():
            raise ConfigError(
                f"NETSTATS_ALERT_CHANNEL={channel!r}: expected a channel id (Discord's developer "
                "mode: right-click the channel, Copy Channel ID)"
            )
        return cls(
            tz=env.get("NETSTATS_TZ") or "UTC",
            guilds=guilds,
            agent_in_bot=env.get("NETSTATS_AGENT_IN_BOT", "") == "1",
            alert_channel=int(channel) if channel else None,
            commit_bytes_per_s=commit_bytes_per_s(env),
            alerts_every_s=alerts_every_s(env),
            # not for users: how often status messages are looked at (tests make it short)
            status_tick_s=float(env.get("NETSTATS_STATUS_TICK") or 30.0),
        )


class GuildNotAllowed(app_commands.CheckFailure):
    pass


class UnknownHost(app_commands.AppCommandError):
    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


class InterfaceOrService(app_commands.AppCommandError):
    """A service's traffic is counted on every interface: one or the other."""


class NetStats(commands.Cog):
    def __init__(self, bot: commands.Bot, settings: BotSettings | None = None) -> None:
        self.bot = bot
        self.settings = settings or BotSettings.from_env()
        self.reader: Reader | None = None
        self.agent: Agent | None = None  # NETSTATS_AGENT_IN_BOT=1
        self.agent_task: asyncio.Task[None] | None = None
        self.agent_stop = asyncio.Event()
        self.alerts_task: asyncio.Task[None] | None = None
        self.alerts_stop = asyncio.Event()
        self.status_task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        from netstats.db.cluster import find_database

        self.reader = await open_reader(find_database())
        if self.settings.agent_in_bot:
            await self._start_agent()
        self.alerts_task = asyncio.create_task(self._deliver_alerts())
        self.status_task = asyncio.create_task(self._keep_status())

    async def cog_unload(self) -> None:
        if self.alerts_task is not None:
            self.alerts_stop.set()  # a pass in flight ends; one still waiting for Discord is cancelled
            if not self.bot.is_ready():
                self.alerts_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.alerts_task
        if self.status_task is not None:  # (maybe still waiting for Discord: cancelled)
            self.status_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.status_task
        await self._stop_agent()
        if self.reader is not None:
            await self.reader.close()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # default_permissions is only a hint that server admins can change: check for real.
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage("netstats works in servers only")
        if self.settings.guilds and interaction.guild.id not in self.settings.guilds:
            raise GuildNotAllowed("this server is not in NETSTATS_DISCORD_GUILDS")
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    async def _may_see(self, interaction: discord.Interaction) -> bool:
        """The same check for autocomplete, which discord.py runs without any check: host and
        interface names are the owner's, not every member's."""
        try:
            return await self.interaction_check(interaction)
        except app_commands.AppCommandError:
            return False

    @app_commands.command(
        name="netstats", description=_("Show how much this bot's host sent and received")
    )
    @app_commands.rename(
        period=_("period"),
        host=_("host"),
        interface=_("interface"),
        view=_("view"),
        service=_("service"),
    )
    @app_commands.describe(
        period=_("Which period; calendar periods follow the bot's time zone"),
        host=_("Only this host"),
        interface=_("Only this network interface"),
        view=_(
            "What to show: totals, burstable billing, where the traffic went, or plans and their cost"
        ),
        service=_("Only this service (a systemd unit the agent counts)"),
    )
    @app_commands.choices(
        period=[app_commands.Choice(name=_(name), value=value) for name, value in PERIOD_CHOICES],
        view=[app_commands.Choice(name=_(name), value=value) for name, value in VIEW_CHOICES],
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def netstats(
        self,
        interaction: discord.Interaction,
        period: str | None = None,
        host: str | None = None,
        interface: str | None = None,
        view: str = "totals",
        service: str | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)  # Discord allows 3 s; the rest waits
        assert self.reader is not None
        if host is not None and host not in {s.host for s in await self.reader.hosts()}:
            raise UnknownHost(host)
        if service is not None:
            if interface is not None:
                raise InterfaceOrService()
            interface = SERVICE + service
        scope = Scope(period or VIEW_PERIODS[view], self.settings.tz, host, interface)
        lang = language(interaction.locale)
        if view == "percentile":
            commit = self.settings.commit_bytes_per_s
            p = await self.reader.percentile(scope, 95.0, commit)
            await interaction.followup.send(embed=embed.percentile(p, scope, lang, commit))
            return
        if view == "plans":
            covering = [p for p in await self.reader.plans(scope) if p.covers(scope)]
            await interaction.followup.send(embed=embed.plans(covering, lang))
            return
        totals = await self.reader.totals(scope)
        if view in ("top_days", "top_hosts"):
            by = "day" if view == "top_days" else "host"
            listed = await self.reader.top(scope, by, 10)
            answer = embed.top(listed, view, scope, totals.period_start, totals.period_end, lang)
            await interaction.followup.send(embed=answer)
            return
        quotas = matching(await self.reader.quotas(scope), scope)
        # what each service moved, beside a host's or every host's interfaces
        services = await self.reader.services(scope) if interface is None else []
        answer = embed.build(totals, scope, lang, quotas, services)
        png = await chart.period_png(self.reader, scope, totals)
        if png is None:
            await interaction.followup.send(embed=answer)
            return
        answer.set_image(url="attachment://netstats.png")
        await interaction.followup.send(
            embed=answer, file=discord.File(io.BytesIO(png), "netstats.png")
        )

    @netstats.autocomplete("host")
    async def _hosts(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, lambda s: s.host, any_host=True)

    @netstats.autocomplete("interface")
    async def _interfaces(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, lambda s: None if s.service else s.iface)

    @netstats.autocomplete("service")
    async def _services(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, lambda s: s.service)

    async def _choices(
        self,
        interaction: discord.Interaction,
        current: str,
        name: Callable[[SeriesInfo], str | None],
        any_host: bool = False,
    ) -> list[app_commands.Choice[str]]:
        """Up to 25 names (of netstats_hosts' series, on the host chosen unless `any_host`)
        that contain what was typed; none for whoever may not see them."""
        assert self.reader is not None
        if not await self._may_see(interaction):
            return []
        host = None if any_host else getattr(interaction.namespace, "host", None)
        names = sorted(
            {n for s in await self.reader.hosts() if (n := name(s)) and host in (None, s.host)}
        )
        return [
            app_commands.Choice(name=n, value=n) for n in names if current.lower() in n.lower()
        ][:25]

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        text = LABELS[language(interaction.locale)]
        if isinstance(error, app_commands.MissingPermissions | app_commands.NoPrivateMessage):
            message = text["denied"]
        elif isinstance(error, GuildNotAllowed):
            message = text["guild_not_allowed"]
        elif isinstance(error, UnknownHost):
            message = text["unknown_host"].format(host=error.host)
        elif isinstance(error, InterfaceOrService):
            message = text["interface_or_service"]
        else:
            log.exception("/netstats failed", exc_info=error)
            message = text["failed"]
        if interaction.response.is_done():
            # The deferred "thinking…" answer is public: replace it with a private one.
            await interaction.delete_original_response()
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)

    # Alerts (NETSTATS_ALERT_CHANNEL) and digests (their own channel, or that one): the
    # database raises them; the bot posts them, in the language of the channel's server, as
    # `netstats alerts` does to a webhook.

    async def _deliver_alerts(self) -> None:
        from netstats.alerts import Deliverer

        await self.bot.wait_until_ready()  # the channel comes from Discord
        assert self.reader is not None
        # without a default channel (NETSTATS_ALERT_CHANNEL), only what names its own: a
        # digest set with /netstats-digest (the rest waits for a webhook deliverer)
        routed = None if self.settings.alert_channel is not None else True
        every_s = self.settings.alerts_every_s
        deliverer = Deliverer(self.reader, self._post_alert, every_s, routed)
        await deliverer.run(self.alerts_stop)

    async def _keep_status(self) -> None:
        from netstats.bot.status import StatusKeeper

        await self.bot.wait_until_ready()
        assert self.reader is not None
        await StatusKeeper(self.bot, self.reader, self.settings.status_tick_s).run(asyncio.Event())

    async def _post_alert(self, alert: Alert) -> None:
        from netstats.alerts import PICTURE, Broken, Failed, embed, picture

        # a digest may name its own channel (netstats_digest_set)
        channel_id = alert.facts.get("channel_id") or self.settings.alert_channel
        assert channel_id is not None
        try:
            channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise Broken(f"NETSTATS_ALERT_CHANNEL {channel_id} is not a text channel")
            guild = getattr(channel, "guild", None)
            lang = language(guild.preferred_locale if guild else None)
            message = discord.Embed.from_dict(embed(alert, lang, self.settings.tz))
            assert self.reader is not None
            png = await picture(self.reader, alert)  # a digest's chart
            if png is None:
                await channel.send(embed=message)
            else:
                message.set_image(url=f"attachment://{PICTURE}")
                await channel.send(embed=message, file=discord.File(io.BytesIO(png), PICTURE))
        except (discord.NotFound, discord.Forbidden) as exc:
            raise Broken(
                f"cannot post to the alert channel {channel_id} (NETSTATS_ALERT_CHANNEL): "
                f"{exc.text or exc.status}; check the id and that the bot may send messages there"
            ) from None
        except discord.HTTPException as exc:  # discord.py has already waited out 429s
            raise Failed(f"Discord answered {exc.status}: {exc.text}") from None

    # The agent in the bot's own process (NETSTATS_AGENT_IN_BOT=1): the same loop as
    # `netstats agent`, its blocking work (spool, counters, uploads) in a worker thread; it
    # survives every error of a tick and needs nothing from Discord.

    async def _start_agent(self) -> None:
        from netstats.agent import Agent
        from netstats.agent.transports import connect

        settings = AgentSettings.from_env()
        self.agent = await asyncio.to_thread(lambda: Agent(settings, connect(Database.from_env())))
        self.agent_task = asyncio.create_task(self.agent.run_async(self.agent_stop))

    async def _stop_agent(self) -> None:
        if self.agent_task is not None:
            self.agent_stop.set()
            await self.agent_task  # its final tick and flush
        if self.agent is not None:
            await asyncio.to_thread(self.agent.close)


async def setup_translator(bot: commands.Bot) -> None:
    current = bot.tree.translator
    if not isinstance(current, Translator):
        await bot.tree.set_translator(Translator(fallback=current))
