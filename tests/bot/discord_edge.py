"""Discord's servers are the one part that cannot run here: this fakes exactly that edge.

A bot loads the real extension and builds the real CommandTree; an interaction is built from
the JSON Discord would send and dispatched through discord.py's own tree. Only the HTTP
requests discord.py makes back to Discord (defer, followups, deletes) are recorded here
instead of being sent."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
from discord.ext import commands
from discord.webhook.async_ import AsyncWebhookAdapter

from tests.db.support import every, ingest
from tests.support.discord_server import APP_ID, GUILD_ID, callback_answer, message

MANAGE_GUILD = 1 << 5
ids = itertools.count(10**17)


@dataclass
class Sent:
    method: str
    path: str
    payload: dict[str, Any] | None
    files: list[discord.File] = field(default_factory=list)


@asynccontextmanager
async def bot_with_extension(monkeypatch) -> AsyncIterator[tuple[commands.Bot, list[Sent]]]:
    sent: list[Sent] = []

    async def request(self, route, session, *, payload=None, multipart=None, files=None, **kwargs):
        if multipart:  # files: discord.py sends the JSON in the first multipart field
            payload = json.loads(multipart[0]["value"])
        # the File objects are read here, as Discord would
        sent.append(
            Sent(route.method, route.path.format(**route.__dict__), payload, list(files or []))
        )
        if route.path.endswith("/callback"):  # the answer to an interaction, with_response=true
            return callback_answer(route.webhook_id, payload)
        if route.method == "POST" and "webhooks" in route.path:
            return message()
        return None

    monkeypatch.setattr(AsyncWebhookAdapter, "request", request)
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), application_id=APP_ID)
    # What Discord's READY event would tell the bot: who it is.
    bot._connection.user = discord.ClientUser(
        state=bot._connection,
        data={
            "id": str(APP_ID),
            "username": "netstats",
            "discriminator": "0",
            "avatar": None,
            "bot": True,
        },
    )
    async with bot:  # what bot.start() does before it connects
        await bot.load_extension("netstats.bot")
        try:
            yield bot, sent
        finally:
            await bot.unload_extension("netstats.bot")


def interaction(bot: commands.Bot, **kwargs: Any) -> discord.Interaction:
    return discord.Interaction(data=interaction_data(**kwargs), state=bot._connection)  # type: ignore[arg-type]


def interaction_data(
    *,
    options: list[dict[str, Any]] | None = None,
    locale: str = "en-US",
    permissions: int = MANAGE_GUILD,
    guild_id: int | None = GUILD_ID,
    kind: int = 2,
    command: str = "netstats",
    resolved: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The interaction payload Discord sends when someone runs /netstats (or `command`; a
    subcommand is an option of type 1 holding its own options)."""
    data: dict[str, Any] = {
        "id": str(next(ids)),
        "application_id": str(APP_ID),
        "type": kind,  # 2: a command, 4: autocomplete
        "token": "interaction-token",
        "version": 1,
        "locale": locale,
        "channel_id": "3333",
        "channel": {
            "id": "3333",
            "type": 0,
            "name": "alerts",
            "guild_id": str(GUILD_ID),
            "position": 0,
        },  # fmt: skip
        "app_permissions": str((1 << 53) - 1),
        "entitlements": [],
        "attachment_size_limit": 8 * 1024 * 1024,
        "authorizing_integration_owners": {},
        "data": {"id": "4444", "name": command, "type": 1, "options": options or []},
    }
    if resolved is not None:
        data["data"]["resolved"] = resolved
    user = {
        "id": "5555",
        "username": "admin",
        "discriminator": "0",
        "avatar": None,
        "global_name": "Admin",
    }
    if guild_id is None:
        data["user"] = user
        data["context"] = 1
    else:
        data["guild_id"] = str(guild_id)
        data["context"] = 0
        data["member"] = {
            "user": user,
            "roles": [],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(permissions),
        }
    return data


async def invoke(bot: commands.Bot, event: discord.Interaction) -> None:
    """What discord.py does when the gateway delivers an interaction."""
    await bot.tree._call(event)
    await asyncio.sleep(0)


def fields(sent):
    """The answer's embed, its fields by name, and the request that carried it."""
    (answer,) = [s for s in sent if s.method == "POST" and s.path.endswith("interaction-token")]
    embed = answer.payload["embeds"][0]
    return embed, {f["name"]: f["value"] for f in embed["fields"]}, answer


def seed(conn) -> None:
    """The data the answer tests read: three hours of two hosts, up to now."""
    now = datetime.now(UTC)
    start = now.replace(second=0, microsecond=0) - timedelta(hours=3)
    ingest(conn, every(start, 600, sent=1_500_000, recv=2_500_000, host="bot-1"))
    ingest(conn, every(start, 600, sent=10, recv=20, host="bot-2", iface="ens3"))
