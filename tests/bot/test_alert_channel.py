"""The bot posts the alerts the database raised to NETSTATS_ALERT_CHANNEL, through its real
login, gateway and REST code against the local Discord (tests/support/discord_server.py), in
the language of the channel's server, each once."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from netstats import db
from netstats.units import human_bytes
from tests.conftest import create_database
from tests.db.support import every, ingest
from tests.support.clock import noon_zone
from tests.support.discord_server import ALERT_CHANNEL, DIGEST_CHANNEL, FakeDiscord, bot_against
from tests.support.embed_picture import draw

MB = 10**6


@pytest.mark.parametrize(
    ("locale", "title"),
    [("en-US", "Quota “plan”: 100% used"), ("ja", "クォータ「plan」: 100% に到達")],
)
def test_the_bot_posts_each_alert_to_its_channel_once(
    monkeypatch, clusters, tmp_path, locale, title
):
    dsn = create_database(clusters["pg15"], f"alerts_{locale.replace('-', '_').lower()}")
    db.upgrade(dsn)
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ingest(conn, every(now - timedelta(minutes=10), 60, sent=2 * MB, recv=MB, host="bot-1"))
        conn.execute(
            "SELECT netstats_quota_set('plan', %s, 'day', thresholds => '{100}', tz => %s)",
            [150 * MB, noon_zone(now)],
        )
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    monkeypatch.setenv("NETSTATS_ALERT_CHANNEL", str(ALERT_CHANNEL))
    for name in ("SUPABASE_URL", "NETSTATS_DISCORD_GUILDS", "NETSTATS_AGENT_IN_BOT"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> list:
        fake = FakeDiscord(locale=locale)
        posts = f"/channels/{ALERT_CHANNEL}/messages"
        async with bot_against(fake, monkeypatch, tmp_path):
            first = await fake.wait_for(lambda r: r.method == "POST" and r.path == posts)
            since = fake.requests.index(first) + 1
            await fake.wait_for(lambda r: r.method == "POST" and r.path == posts, since)
            return [r.payload for r in fake.requests if r.method == "POST" and r.path == posts]

    payloads = asyncio.run(main())
    titles = sorted(p["embeds"][0]["title"] for p in payloads)
    assert len(payloads) == 2  # the threshold and the projection, once each
    assert title in titles
    with psycopg.connect(dsn) as conn:
        states = conn.execute("SELECT state FROM netstats_alerts()").fetchall()
    assert states == [("delivered",), ("delivered",)]


def test_the_bot_takes_its_alert_pace_and_commit_from_the_environment():
    from netstats.bot.cog import BotSettings
    from netstats.errors import ConfigError

    settings = BotSettings.from_env({"NETSTATS_ALERTS_EVERY": "5", "NETSTATS_COMMIT_MBITS": "100"})
    assert (settings.alerts_every_s, settings.commit_bytes_per_s) == (5.0, 12.5e6)
    assert (
        BotSettings.from_env({}).alerts_every_s,
        BotSettings.from_env({}).commit_bytes_per_s,
    ) == (
        30.0,
        None,
    )
    with pytest.raises(
        ConfigError, match=r"NETSTATS_ALERTS_EVERY='0': expected a number from 1 to 3600"
    ):
        BotSettings.from_env({"NETSTATS_ALERTS_EVERY": "0"})
    with pytest.raises(
        ConfigError, match=r"NETSTATS_COMMIT_MBITS='fast': expected a number from 0"
    ):
        BotSettings.from_env({"NETSTATS_COMMIT_MBITS": "fast"})


def test_the_bot_posts_a_digest_in_its_servers_language(monkeypatch, clusters, tmp_path):
    """A digest set for the alert channel: yesterday's, once, in Japanese for a Japanese
    server, its window in Discord timestamps."""
    from zoneinfo import ZoneInfo

    dsn = create_database(clusters["pg15"], "digest_ja")
    db.upgrade(dsn)
    zone = ZoneInfo("Asia/Tokyo")
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = (midnight - timedelta(days=1)).astimezone(UTC)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ingest(conn, every(yesterday + timedelta(hours=3), 30, step_s=60, sent=MB, recv=MB))
        conn.execute("SELECT netstats_digest_set('daily', 'day', 'Asia/Tokyo')")
        conn.execute("UPDATE netstats.digests SET created_at = %s", [yesterday])
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    monkeypatch.setenv("NETSTATS_ALERT_CHANNEL", str(ALERT_CHANNEL))
    for name in ("SUPABASE_URL", "NETSTATS_DISCORD_GUILDS", "NETSTATS_AGENT_IN_BOT"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> Any:
        fake = FakeDiscord(locale="ja")
        posts = f"/channels/{ALERT_CHANNEL}/messages"
        async with bot_against(fake, monkeypatch, tmp_path):
            posted = await fake.wait_for(lambda r: r.method == "POST" and r.path == posts)
            return posted

    posted = asyncio.run(main())
    (embed,) = posted.payload["embeds"]
    assert posted.files == ["netstats.png"]  # the period's chart, as /netstats sends one
    assert embed["image"]["url"] == "attachment://netstats.png"
    assert embed["title"] == "昨日の通信量 · daily"
    assert embed["description"].startswith(
        f"<t:{int(yesterday.timestamp())}:f> → <t:{int(midnight.timestamp())}:f>"
    )
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["送信"].splitlines() == ["30 MB", "前の期間は 0"]
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT state FROM netstats_alerts()").fetchall() == [("delivered",)]


def test_a_digest_set_for_its_own_channel_is_posted_there_by_a_bot_without_an_alert_channel(
    monkeypatch, clusters, tmp_path
):
    """/netstats-digest names a channel: the bot posts the digest there even with no
    NETSTATS_ALERT_CHANNEL, and leaves the alerts meant for the default channel waiting (for
    a webhook deliverer, or until that channel is set)."""
    dsn = create_database(clusters["pg15"], "digest_routed")
    db.upgrade(dsn)
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ingest(conn, every(midnight - timedelta(hours=5), 30, step_s=60, sent=MB, recv=MB))
        ingest(conn, every(now - timedelta(minutes=10), 60, sent=2 * MB, recv=MB))
        conn.execute("SELECT netstats_digest_set('daily', 'day', 'UTC', %s)", [DIGEST_CHANNEL])
        conn.execute("UPDATE netstats.digests SET created_at = %s", [midnight - timedelta(days=1)])
        conn.execute(
            "SELECT netstats_quota_set('plan', %s, 'day', thresholds => '{100}', tz => %s)",
            [10 * MB, noon_zone(now)],
        )
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    monkeypatch.setenv("NETSTATS_ALERTS_EVERY", "1")
    for name in ("SUPABASE_URL", "NETSTATS_DISCORD_GUILDS", "NETSTATS_AGENT_IN_BOT",
                 "NETSTATS_ALERT_CHANNEL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)

    async def main() -> list:
        fake = FakeDiscord(locale="en-US")
        async with bot_against(fake, monkeypatch, tmp_path):
            await fake.wait_for(lambda r: r.method == "POST" and r.path.endswith("/messages"))
            await asyncio.sleep(2.5)  # two more passes: nothing else is posted
            return [r for r in fake.requests if r.method == "POST" and "/channels/" in r.path]

    (posted,) = asyncio.run(main())
    assert posted.path == f"/channels/{DIGEST_CHANNEL}/messages"
    assert posted.payload["embeds"][0]["title"] == "Traffic yesterday · daily"
    with psycopg.connect(dsn) as conn:
        states = dict(conn.execute("SELECT kind, state FROM netstats_alerts()").fetchall())
    assert states == {"digest": "delivered", "quota_threshold": "pending",
                      "quota_projection": "pending"}  # fmt: skip


def test_a_status_message_is_edited_in_place_and_posted_again_once_deleted(
    monkeypatch, clusters, tmp_path, caplog
):
    """Posted once, then edited (PATCH) when due, through a 429 discord.py waits out; after
    someone deletes it, posted anew and said once in the log."""
    dsn = create_database(clusters["pg15"], "status_message")
    db.upgrade(dsn)
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ingest(conn, every(now - timedelta(minutes=10), 60, sent=2 * MB, recv=MB, host="bot-1"))
        ingest(conn, every(now - timedelta(hours=2), 30, sent=MB, recv=MB, host="bot-2"))
        conn.execute(
            "SELECT netstats_plan_set('pool', 'sent', %s, 1, 'month', 'UTC', 10000000000,"
            " '{bot-*}')", [(now - timedelta(days=3)).replace(tzinfo=None)]
        )  # fmt: skip
        conn.execute("SELECT netstats_status_set(%s, 'Asia/Tokyo', 60)", [ALERT_CHANNEL])
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    monkeypatch.setenv("NETSTATS_STATUS_TICK", "0.2")
    for name in ("SUPABASE_URL", "NETSTATS_DISCORD_GUILDS", "NETSTATS_AGENT_IN_BOT",
                 "NETSTATS_ALERT_CHANNEL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    posts = f"/channels/{ALERT_CHANNEL}/messages"

    def due() -> None:  # as if the minute had passed
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE netstats.status_messages SET edited_at = now() - interval '2 min'")

    async def stored(other_than: str | None) -> str:
        """The message id the bot stored once it posted, when it is not `other_than`."""
        while True:
            (row,) = _rows(dsn, "SELECT message FROM netstats_status_messages()")
            if row["message"] is not None and str(row["message"]) != other_than:
                return str(row["message"])
            await asyncio.sleep(0.05)

    async def edited_again() -> None:
        query = "SELECT edited > now() - interval '1 min' AS fresh FROM netstats_status_messages()"
        while not _rows(dsn, query)[0]["fresh"]:
            await asyncio.sleep(0.05)

    async def main(fake: FakeDiscord) -> tuple:
        async with bot_against(fake, monkeypatch, tmp_path):
            first = await fake.wait_for(lambda r: r.method == "POST" and r.path == posts)
            mid = await stored(None)
            fake.throttle = 1
            due()
            since = len(fake.requests)

            def edit(r: Any) -> bool:
                return r.method == "PATCH" and r.path == f"{posts}/{mid}"

            refused = await fake.wait_for(edit, since)  # answered 429
            edited = await fake.wait_for(edit, fake.requests.index(refused) + 1)
            # the 429 was waited out: the same edit, sent again, and nothing posted meanwhile
            tries = [r for r in fake.requests[since:] if r.path.startswith(posts)]
            fake.deleted.add(mid)
            await asyncio.wait_for(edited_again(), 10)  # the bot has noted its edit
            due()
            since = len(fake.requests)
            again = await fake.wait_for(lambda r: r.method == "POST" and r.path == posts, since)
            new = await asyncio.wait_for(stored(mid), 10)
            return first.payload, edited.payload, tries, again.payload, mid, new

    with caplog.at_level("WARNING", "netstats.bot.status"):
        first, edited, tries, again, mid, new = asyncio.run(main(FakeDiscord(locale="en-US")))
    (embed,) = first["embeds"]
    assert embed["title"] == "Traffic status"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["bot-1"].startswith("🟢 online · last sample <t:")
    assert fields["bot-2"].startswith("🔴 silent since <t:")
    rows = _rows(dsn, "SELECT * FROM netstats_status('Asia/Tokyo')")
    today = {r["host"]: r["today_sent"] + r["today_recv"] for r in rows}
    assert fields["bot-1"].splitlines()[1].startswith(f"today {human_bytes(today['bot-1'])}")
    assert "Plan “pool” · sent · bot-*" in fields
    assert [r.method for r in tries][:2] == ["PATCH", "PATCH"]  # 429, then the edit
    assert draw(embed, "status-message.png").stat().st_size > 5_000
    assert not [r for r in tries if r.method == "POST"]
    assert edited["embeds"][0]["title"] == again["embeds"][0]["title"] == "Traffic status"
    assert [r.getMessage() for r in caplog.records if "deleted" in r.getMessage()] == [
        f"the status message in channel {ALERT_CHANNEL} was deleted; posting a new one"
    ]
    assert new != mid  # the new message is the one kept from now on


def _rows(dsn: str, query: str) -> list:
    from psycopg.rows import dict_row

    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(query).fetchall()
