"""`netstats bot` end to end against a local Discord (tests/support/discord_server.py): its
real login, gateway connection, command sync, /netstats, autocomplete, a refusal, a database
outage, and a gateway close followed by a resume and another /netstats."""

import asyncio

import psycopg

from netstats import db
from netstats.units import human_bytes
from tests.bot.discord_edge import interaction_data, seed
from tests.conftest import create_database
from tests.db.support import totals
from tests.support.clock import TZ
from tests.support.discord_server import GUILD_ID, FakeDiscord, bot_against


def test_netstats_bot_through_a_local_discord(monkeypatch, clusters, tmp_path):
    dsn = create_database(clusters["pg15"], "gateway")
    db.upgrade(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        seed(conn)
        want = totals(conn, "today", TZ, host="bot-1")
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    monkeypatch.setenv("NETSTATS_TZ", TZ)
    # the agent in the bot's own loop, sampling loopback every second, across the reconnect
    monkeypatch.setenv("NETSTATS_AGENT_IN_BOT", "1")
    monkeypatch.setenv("NETSTATS_INTERFACES", "lo")
    monkeypatch.setenv("NETSTATS_INTERVAL", "1")
    monkeypatch.setenv("NETSTATS_UPLOAD_EVERY", "1")
    monkeypatch.setenv("NETSTATS_HOST", "in-bot")
    monkeypatch.setenv("NETSTATS_SPOOL", str(tmp_path / "spool.sqlite3"))
    for name in ("SUPABASE_URL", "NETSTATS_DISCORD_GUILDS"):
        monkeypatch.delenv(name, raising=False)

    def in_bot_samples() -> int:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM netstats.samples WHERE host = 'in-bot'"
            ).fetchone()
        return row[0]

    async def ask(fake, **kwargs):
        """One interaction through the gateway; returns what the bot sent back."""
        since = len(fake.requests)
        await fake.dispatch("INTERACTION_CREATE", interaction_data(**kwargs))
        if kwargs.get("kind") == 4:  # autocomplete: one callback
            return await fake.wait_for(lambda r: r.path.endswith("/callback"), since)
        # a command: deferred, then a followup; or refused at once by its check
        return await fake.wait_for(
            lambda r: (
                (r.method == "POST" and r.path.startswith("/webhooks/"))
                or (r.path.endswith("/callback") and r.payload["type"] == 4)
            ),
            since,
        )

    async def main():
        fake = FakeDiscord()
        async with bot_against(fake, monkeypatch, tmp_path) as bot:
            await asyncio.wait_for(bot.wait_until_ready(), 20)
            sync = await fake.wait_for(lambda r: r.method == "PUT")
            assert sync.path == f"/applications/{1111}/guilds/{GUILD_ID}/commands"

            today = [
                {"name": "period", "type": 3, "value": "today"},
                {"name": "host", "type": 3, "value": "bot-1"},
            ]
            answer = await ask(fake, options=today)
            fields = {f["name"]: f["value"] for f in answer.payload["embeds"][0]["fields"]}
            assert fields["Sent"] == human_bytes(want["bytes_sent"])
            assert answer.files == ["netstats.png"]

            choices = await ask(
                fake,
                kind=4,
                options=[{"name": "host", "type": 3, "value": "bot-", "focused": True}],
            )
            assert [c["value"] for c in choices.payload["data"]["choices"]] == ["bot-1", "bot-2"]

            denied = await ask(fake, options=today, permissions=0)
            assert denied.payload["data"]["flags"] == 64

            with psycopg.connect(clusters["pg15"].dsn(), autocommit=True) as admin:
                admin.execute("ALTER DATABASE gateway ALLOW_CONNECTIONS false")
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'gateway'"
                )
                try:
                    failed = await ask(fake, options=today)
                finally:
                    admin.execute("ALTER DATABASE gateway ALLOW_CONNECTIONS true")
            assert failed.payload["content"].startswith("Sorry, I could not read")
            assert failed.payload["flags"] == 64

            before_close = in_bot_samples()
            await fake.close_from_server()
            deadline = asyncio.get_running_loop().time() + 20
            while fake.resumed == 0:
                assert asyncio.get_running_loop().time() < deadline, "the bot did not resume"
                await asyncio.sleep(0.1)
            again = await ask(fake, options=today)
            fields = {f["name"]: f["value"] for f in again.payload["embeds"][0]["fields"]}
            assert fields["Sent"] == human_bytes(want["bytes_sent"])
            assert fake.identified == 1  # resumed, not identified anew
            # the in-bot agent kept sampling through the outage and the reconnect
            deadline = asyncio.get_running_loop().time() + 10
            while in_bot_samples() < before_close + 2:
                assert asyncio.get_running_loop().time() < deadline, "the in-bot agent stopped"
                await asyncio.sleep(0.2)

    asyncio.run(main())
