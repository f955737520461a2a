"""/netstats-digest and /netstats-status: digests and status messages set from Discord, as
`netstats digest` and `netstats status-message` set them from a shell (the same SQL). Server
admins only (the checks of /netstats), every answer private.

Discord lets a command have options or subcommands, not both: `/netstats period:…` stays as
it is, and these two are commands of their own that Discord lists beside it."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from netstats.bot.embed import COLOUR
from netstats.bot.i18n import DIGEST_CHOICES, LABELS, language
from netstats.reader import Reader

if TYPE_CHECKING:
    from netstats.bot.cog import NetStats

MANAGE_SERVER = discord.Permissions(manage_guild=True)
SERVERS_ONLY = app_commands.AppCommandContext(guild=True)


class TextChannel(app_commands.Transformer):
    """A text channel picked in Discord, as its id: the id is all that is stored, and the
    bot needs no channel cache (no privileged intent) to take it."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> int:
        return int(value.id)


Channel = app_commands.Transform[int, TextChannel]


class Refused(app_commands.AppCommandError):
    """The database refused a setting; its message names the field and what was expected."""


class Deliveries(commands.Cog):
    digest = app_commands.Group(
        name="netstats-digest",
        description=_("Post each day's, week's, month's or billing cycle's traffic to a channel"),
        guild_only=True,
        allowed_contexts=SERVERS_ONLY,
        default_permissions=MANAGE_SERVER,
    )
    status = app_commands.Group(
        name="netstats-status",
        description=_("Keep a message with each host's status current in a channel"),
        guild_only=True,
        allowed_contexts=SERVERS_ONLY,
        default_permissions=MANAGE_SERVER,
    )

    def __init__(self, netstats: NetStats) -> None:
        self.netstats = netstats

    @property
    def reader(self) -> Reader:
        assert self.netstats.reader is not None
        return self.netstats.reader

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await self.netstats.interaction_check(interaction)

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        refused = getattr(error, "original", error)  # raised in the command: wrapped
        if isinstance(refused, Refused):
            text = LABELS[language(interaction.locale)]
            await _answer(interaction, text["refused"].format(why=refused))
            return
        await self.netstats.cog_app_command_error(interaction, error)

    # /netstats-digest add | list | remove

    @digest.command(name="add", description=_("Create or change a digest"))
    @app_commands.rename(name=_("name"), period=_("period"), zone=_("zone"), channel=_("channel"))
    @app_commands.describe(
        name=_("Its name, e.g. weekly"),
        period=_("Which period each digest covers"),
        zone=_("The time zone its periods follow, e.g. Asia/Tokyo (default: the bot's)"),
        channel=_("Where to post it (default: this channel)"),
    )
    @app_commands.choices(
        period=[app_commands.Choice(name=_(name), value=value) for name, value in DIGEST_CHOICES]
    )
    async def digest_add(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 100],
        period: str = "week",
        zone: str | None = None,
        channel: Channel | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel_id = channel if channel is not None else interaction.channel_id
        tz = zone or self.netstats.settings.tz
        row = await _refusing(self.reader.digest_set(name, period, tz, channel_id))
        text = LABELS[language(interaction.locale)]
        saved = text["digest_saved"].format(
            name=row["digest"],
            period=text["digest_every"][row["every"]],
            zone=row["zone"],
            channel=f"<#{row['channel']}>",
            next=_stamp(row["next_at"]),
        )
        await interaction.followup.send(saved, ephemeral=True)

    @digest.command(name="list", description=_("List the digests and their latest delivery"))
    async def digest_list(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = LABELS[language(interaction.locale)]
        lines = []
        for r in await self.reader.digests():
            if r["failed"]:
                latest = text["digest_failed"].format(error=r["failed"])
            elif r["delivered_at"] is not None:
                latest = text["digest_delivered"].format(at=_unix(r["delivered_at"]))
            else:
                latest = text["digest_none_yet"]
            channel = (
                text["digest_default_channel"] if r["channel"] is None else f"<#{r['channel']}>"
            )
            lines.append(
                text["digest_line"].format(
                    name=r["digest"],
                    period=text["digest_every"][r["every"]],
                    zone=r["zone"],
                    channel=channel,
                    next=_stamp(r["next_at"]),
                    latest=latest,
                )
            )
        await _listing(interaction, text["digests_title"], lines, text["no_digests"])

    @digest.command(name="remove", description=_("Remove a digest"))
    @app_commands.rename(name=_("name"))
    @app_commands.describe(name=_("The digest to remove"))
    async def digest_remove(self, interaction: discord.Interaction, name: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = LABELS[language(interaction.locale)]
        gone = await self.reader.digest_delete(name)
        key = "digest_removed" if gone else "digest_unknown"
        await interaction.followup.send(text[key].format(name=name), ephemeral=True)

    @digest_remove.autocomplete("name")
    async def _digest_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await self.netstats._may_see(interaction):
            return []
        names = [r["digest"] for r in await self.reader.digests()]
        return [
            app_commands.Choice(name=n, value=n) for n in names if current.lower() in n.lower()
        ][:25]

    # /netstats-status add | list | remove

    @status.command(
        name="add", description=_("Keep a status message in a channel, edited in place")
    )
    @app_commands.rename(channel=_("channel"), zone=_("zone"), every=_("every"))
    @app_commands.describe(
        channel=_("Where to post it (default: this channel)"),
        zone=_("The time zone of its days and billing cycle (default: the bot's)"),
        every=_("Minutes between edits (1 to 1440)"),
    )
    async def status_add(
        self,
        interaction: discord.Interaction,
        channel: Channel | None = None,
        zone: str | None = None,
        every: app_commands.Range[int, 1, 1440] = 5,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel_id = channel if channel is not None else interaction.channel_id
        assert channel_id is not None
        tz = zone or self.netstats.settings.tz
        row = await _refusing(self.reader.status_set(channel_id, tz, every * 60))
        text = LABELS[language(interaction.locale)]
        saved = text["status_saved"].format(
            channel=f"<#{channel_id}>", every=row["every"] // 60, zone=row["zone"]
        )
        await interaction.followup.send(saved, ephemeral=True)

    @status.command(name="list", description=_("List the status messages and their last edit"))
    async def status_list(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = LABELS[language(interaction.locale)]
        lines = []
        for r in await self.reader.status_messages():
            if r["failures"]:
                state = text["status_failing"].format(failures=r["failures"], error=r["last_error"])
            elif r["edited"] is not None:
                state = text["status_edited"].format(at=_unix(r["edited"]))
            else:
                state = text["status_not_yet"]
            lines.append(
                text["status_line"].format(
                    channel=f"<#{r['channel']}>",
                    every=r["every"] // 60,
                    zone=r["zone"],
                    state=state,
                )
            )
        await _listing(interaction, text["statuses_title"], lines, text["no_statuses"])

    @status.command(
        name="remove", description=_("Stop keeping a channel's status message (the message stays)")
    )
    @app_commands.rename(channel=_("channel"))
    @app_commands.describe(channel=_("The channel whose status message to stop keeping"))
    async def status_remove(
        self, interaction: discord.Interaction, channel: Channel | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel_id = channel if channel is not None else interaction.channel_id
        assert channel_id is not None
        text = LABELS[language(interaction.locale)]
        gone = await self.reader.status_delete(channel_id)
        key = "status_removed" if gone else "status_unknown"
        await interaction.followup.send(
            text[key].format(channel=f"<#{channel_id}>"), ephemeral=True
        )

    @digest_add.autocomplete("zone")
    @status_add.autocomplete("zone")
    async def _zones(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """IANA zones containing what was typed (Tokyo finds Asia/Tokyo)."""
        typed = current.lower().replace(" ", "_")
        zones = sorted(z for z in zoneinfo.available_timezones() if typed in z.lower())
        return [app_commands.Choice(name=z, value=z) for z in zones[:25]]


async def _refusing(call: Any) -> Any:
    """The database's refusal of a setting (SQLSTATE class 22: the field and what was
    expected), for the one who set it; anything else is a failure like any other."""
    try:
        return await call
    except Exception as exc:
        code = str(getattr(exc, "sqlstate", None) or getattr(exc, "code", None) or "")
        if not code.startswith("22"):
            raise
        diag = getattr(exc, "diag", None)
        why = getattr(diag, "message_primary", None) or getattr(exc, "message", None) or exc
        raise Refused(str(why)) from None


async def _listing(
    interaction: discord.Interaction, title: str, lines: list[str], empty: str
) -> None:
    if not lines:
        await interaction.followup.send(empty, ephemeral=True)
        return
    embed = discord.Embed(title=title, description="\n".join(lines)[:4096], colour=COLOUR)
    await interaction.followup.send(embed=embed, ephemeral=True)


async def _answer(interaction: discord.Interaction, message: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True)
    else:
        await interaction.response.send_message(message, ephemeral=True)


def _unix(at: datetime | str) -> int:
    return int((datetime.fromisoformat(at) if isinstance(at, str) else at).timestamp())


def _stamp(at: datetime | str | None) -> str:
    return "—" if at is None else f"<t:{_unix(at)}:f>"
