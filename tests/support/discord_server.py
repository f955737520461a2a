"""A local stand-in for Discord's servers: the REST API and the gateway (websocket), as far
as `netstats bot` uses them. discord.py reaches it through its own aiohttp code with only its
base URL pointed here; the gateway speaks zlib-stream JSON like Discord's: HELLO, IDENTIFY ->
READY and GUILD_CREATE, heartbeats, dispatched interactions, a close from the server side and
the RESUME that follows."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 1111
GUILD_ID = 2222
ALERT_CHANNEL = 3333
DIGEST_CHANNEL = 3334  # a second text channel in the same server
CHANNELS = (ALERT_CHANNEL, DIGEST_CHANNEL)
BOT_USER = {
    "id": str(APP_ID),
    "username": "netstats",
    "discriminator": "0",
    "avatar": None,
    "global_name": None,
    "bot": True,
    "flags": 0,
}
ids = itertools.count(10**17)


def callback_answer(interaction_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Discord's answer to an interaction callback sent with with_response=true."""
    flags = (payload.get("data") or {}).get("flags", 0)
    return {
        "interaction": {
            "id": interaction_id,
            "type": 2,
            "response_message_loading": payload["type"] == 5,
            "response_message_ephemeral": bool(flags & 64),
        },
        "resource": {"type": payload["type"]},
    }


def message() -> dict[str, Any]:
    """The message Discord returns for a webhook (followup) post."""
    return {
        "id": str(next(ids)),
        "channel_id": "3333",
        "type": 0,
        "content": "",
        "author": BOT_USER,
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": "2026-11-28T10:00:00+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "components": [],
    }


@dataclass
class Request:
    method: str
    path: str  # after /api/v10
    payload: Any
    files: list[str] = field(default_factory=list)


class FakeDiscord:
    def __init__(self, locale: str = "en-US") -> None:
        self.locale = locale  # the guild's preferred locale
        self.requests: list[Request] = []
        self.identified = 0
        self.resumed = 0
        self.sockets: list[web.WebSocketResponse] = []
        self.arrived = asyncio.Condition()
        self._sequence = 0
        self._compressors: dict[int, Any] = {}
        self.url = ""
        self.deleted: set[str] = set()  # message ids whose edit answers 404 (deleted by someone)
        self.throttle = 0  # how many edits to answer with 429 first

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        await self._runner.cleanup()

    # REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        payload: Any = None
        files: list[str] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    files.append(part.filename or "")
                    await part.read()
        elif request.can_read_body:
            payload = await request.json()
        async with self.arrived:
            self.requests.append(Request(request.method, path, payload, files))
            self.arrived.notify_all()
        edit = re.fullmatch(rf"/channels/(?:{ALERT_CHANNEL}|{DIGEST_CHANNEL})/messages/(\d+)", path)
        if request.method == "PATCH" and edit and self.throttle > 0:
            self.throttle -= 1  # Discord's 429, as it sends one
            body = {"message": "You are being rate limited.", "retry_after": 0.2, "global": False}
            return web.Response(
                status=429, body=json.dumps(body).encode(), content_type="application/json",
                # Discord's own 429s come through its proxy (Via); discord.py takes one without
                # it for a Cloudflare ban and raises instead of waiting
                headers={"Retry-After": "0.2", "X-RateLimit-Scope": "user", "Via": "1.1 google"},
            )  # fmt: skip
        if request.method == "PATCH" and edit and edit[1] in self.deleted:
            body = {"message": "Unknown Message", "code": 10008}
            return web.Response(
                status=404, body=json.dumps(body).encode(), content_type="application/json"
            )
        if request.method == "PATCH" and edit:
            answer = {**message(), "id": edit[1], "embeds": (payload or {}).get("embeds", [])}
            return web.Response(body=json.dumps(answer).encode(), content_type="application/json")
        answer = self._answer(request.method, path, payload)
        if answer is None:
            return web.Response(status=204)
        # exactly application/json, as Discord sends it: discord.py reads any other type as text
        return web.Response(body=json.dumps(answer).encode(), content_type="application/json")

    def _answer(self, method: str, path: str, payload: Any) -> Any:
        if path == "/users/@me":
            return BOT_USER
        if path == "/oauth2/applications/@me":
            return {
                "id": str(APP_ID),
                "name": "netstats",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": BOT_USER,
                "verify_key": "0" * 64,
                "flags": 0,
            }
        if path == "/gateway/bot":
            return {
                "url": self.url.replace("http", "ws") + "/gateway",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        if method == "PUT" and path.endswith("/commands"):
            return [
                {**c, "id": str(next(ids)), "application_id": str(APP_ID), "version": "1"}
                for c in payload
            ]
        if path.endswith("/callback"):
            return callback_answer(path.split("/")[2], payload)
        if method in ("POST", "PATCH") and path.startswith("/webhooks/"):
            return message()
        if method == "POST" and path in {f"/channels/{c}/messages" for c in CHANNELS}:
            return {**message(), "embeds": payload.get("embeds", [])}
        return None

    async def wait_for(self, predicate: Any, since: int = 0, timeout: float = 20.0) -> Request:
        """The first request from the `since`-th on that `predicate` accepts."""

        async def found() -> Request:
            async with self.arrived:
                while True:
                    for r in self.requests[since:]:
                        if predicate(r):
                            return r
                    await self.arrived.wait()

        return await asyncio.wait_for(found(), timeout)

    # The gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        assert request.query.get("compress") == "zlib-stream", request.query
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self._compressors[id(ws)] = zlib.compressobj()
        await self._send(ws, {"op": 10, "d": {"heartbeat_interval": 41250}})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame["op"] == 1:  # heartbeat
                await self._send(ws, {"op": 11})
            elif frame["op"] == 2:  # IDENTIFY
                self.identified += 1
                await self.dispatch(
                    "READY",
                    {
                        "v": 10,
                        "user": BOT_USER,
                        "session_id": "session-1",
                        "resume_gateway_url": self.gateway_url,
                        "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                        "application": {"id": str(APP_ID), "flags": 0},
                    },
                    ws,
                )
                await self.dispatch(
                    "GUILD_CREATE",
                    {
                        "id": str(GUILD_ID),
                        "name": "bots",
                        "unavailable": False,
                        "owner_id": "5555",
                        "member_count": 1,
                        "members": [],
                        "channels": [
                            {
                                "id": str(channel),
                                "type": 0,
                                "name": name,
                                "position": n,
                                "permission_overwrites": [],
                            }
                            for n, (channel, name) in enumerate(
                                [(ALERT_CHANNEL, "alerts"), (DIGEST_CHANNEL, "digests")]
                            )
                        ],
                        "roles": [
                            {
                                "id": str(GUILD_ID),
                                "name": "@everyone",
                                "permissions": "0",
                                "position": 0,
                                "color": 0,
                                "hoist": False,
                                "managed": False,
                                "mentionable": False,
                                "flags": 0,
                            }
                        ],
                        "emojis": [],
                        "stickers": [],
                        "features": [],
                        "threads": [],
                        "stage_instances": [],
                        "guild_scheduled_events": [],
                        "voice_states": [],
                        "presences": [],
                        "large": False,
                        "premium_tier": 0,
                        "nsfw_level": 0,
                        "preferred_locale": self.locale,
                        "verification_level": 0,
                        "explicit_content_filter": 0,
                        "default_message_notifications": 0,
                        "mfa_level": 0,
                        "joined_at": "2025-01-01T00:00:00+00:00",
                    },
                    ws,
                )
            elif frame["op"] == 6:  # RESUME
                self.resumed += 1
                await self.dispatch("RESUMED", {}, ws)
        self.sockets.remove(ws)
        return ws

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        compressor = self._compressors[id(ws)]
        data = compressor.compress(json.dumps(frame).encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
        await ws.send_bytes(data)

    async def dispatch(
        self, event: str, data: Any, ws: web.WebSocketResponse | None = None
    ) -> None:
        self._sequence += 1
        await self._send(
            ws or self.sockets[-1], {"op": 0, "t": event, "s": self._sequence, "d": data}
        )

    async def close_from_server(self) -> None:
        """What Discord does now and then: a close the bot may resume after."""
        await self.sockets[-1].close(code=4000, message=b"unknown error")


@contextlib.asynccontextmanager
async def bot_against(fake: FakeDiscord, monkeypatch: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """`netstats bot` (its Runner: login, gateway, REST) against the local Discord: Discord's
    two base URLs, and nothing else, point at it. Yields the running bot."""
    import discord
    import yarl

    from netstats.bot.runner import Runner

    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.url + "/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )
    bot = Runner(GUILD_ID, stamp=tmp_path / "stamps.json")
    running = asyncio.create_task(bot.start("bot-token"))
    try:
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(running, 10)
        await fake.stop()
