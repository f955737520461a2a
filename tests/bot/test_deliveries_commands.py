"""/netstats-digest and /netstats-status through discord.py's real CommandTree, against the
real test database: server admins set, list and remove digests and status messages, every
answer private, refusals naming the field, in English and Japanese."""

import asyncio

import pytest

from tests.bot.discord_edge import GUILD_ID, bot_with_extension, interaction, invoke
from tests.support.clock import TZ
from tests.support.discord_server import ALERT_CHANNEL, DIGEST_CHANNEL

EPHEMERAL = 1 << 6


def test_both_commands_are_for_server_admins_and_say_everything_in_japanese_too(env):
    async def main():
        async with bot_with_extension(env) as (bot, _):
            translator = bot.tree.translator
            return {
                name: await bot.tree.get_command(name).get_translated_payload(bot.tree, translator)
                for name in ("netstats-digest", "netstats-status")
            }

    payloads = asyncio.run(main())
    for payload in payloads.values():
        assert payload["default_member_permissions"] == 32  # Manage Server
        assert payload["contexts"] == [0] and payload["dm_permission"] is False
    digest, status = payloads["netstats-digest"], payloads["netstats-status"]
    assert [(c["name"], c["type"]) for c in digest["options"]] == [
        ("add", 1), ("list", 1), ("remove", 1)
    ]  # fmt: skip
    assert [(c["name"], c["type"]) for c in status["options"]] == [
        ("add", 1), ("list", 1), ("remove", 1)
    ]  # fmt: skip
    add = digest["options"][0]
    assert [(o["name"], o["type"], o["required"]) for o in add["options"]] == [
        ("name", 3, True), ("period", 3, False), ("zone", 3, False), ("channel", 7, False)
    ]  # fmt: skip
    assert [c["value"] for c in add["options"][1]["choices"]] == ["day", "week", "month", "cycle"]
    assert add["options"][2]["autocomplete"] is True
    assert add["options"][3]["channel_types"] == [0, 5]  # text and announcement channels
    every = status["options"][0]["options"][2]
    assert (every["name"], every["min_value"], every["max_value"]) == ("every", 1, 1440)

    def described(node):  # every description and option name, all the way down
        yield node
        for option in node.get("options", []):
            yield from described(option)

    for node in [n for p in payloads.values() for n in described(p)]:
        assert node["description_localizations"].get("ja"), node["description"]
        if node.get("type") not in (None, 1):  # options (not commands) have Japanese names
            assert node["name_localizations"].get("ja"), node["name"]


def call(env, command, sub, options=(), resolved=None, **kwargs):
    async def main():
        async with bot_with_extension(env) as (bot, sent):
            event = interaction(
                bot,
                command=command,
                options=[{"type": 1, "name": sub, "options": list(options)}],
                resolved=resolved,
                **kwargs,
            )
            await invoke(bot, event)
            return sent

    return asyncio.run(main())


def private_answer(sent):
    """The deferred answer's flags and the one follow-up: what the admin alone sees."""
    (deferred,) = [s for s in sent if s.path.endswith("/callback")]
    (answer,) = [s for s in sent if s.method == "POST" and s.path.endswith("interaction-token")]
    assert deferred.payload["data"]["flags"] & EPHEMERAL
    assert answer.payload["flags"] & EPHEMERAL
    return answer.payload


def opt(name, value, kind=3):
    return {"type": kind, "name": name, "value": value}


CHANNEL = {
    "channels": {
        str(DIGEST_CHANNEL): {
            "id": str(DIGEST_CHANNEL),
            "type": 0,
            "name": "digests",
            "guild_id": str(GUILD_ID),
            "permissions": str((1 << 53) - 1),
        }
    }
}


def test_a_digest_is_set_listed_and_removed_from_discord(env, conn):
    digest = "netstats-digest"
    answer = private_answer(call(env, digest, "add", [
        opt("name", "weekly"), opt("period", "week"), opt("zone", "Asia/Kolkata"),
        opt("channel", str(DIGEST_CHANNEL), kind=7),
    ], resolved=CHANNEL))  # fmt: skip
    (row,) = conn.execute("SELECT * FROM netstats_digests()").fetchall()
    assert row[:4] == ("weekly", "week", "Asia/Kolkata", DIGEST_CHANNEL)
    next_at = int(row[5].timestamp())
    assert answer["content"] == (
        f"Digest “weekly”: each week in Asia/Kolkata, posted to <#{DIGEST_CHANNEL}>. "
        f"The first one comes at <t:{next_at}:f>."
    )
    # no channel chosen: the one it was typed in; no zone: the bot's (NETSTATS_TZ)
    private_answer(call(env, digest, "add", [opt("name", "daily"), opt("period", "day")]))
    rows = conn.execute("SELECT digest, zone, channel FROM netstats_digests()").fetchall()
    assert rows == [("daily", TZ, ALERT_CHANNEL), ("weekly", "Asia/Kolkata", DIGEST_CHANNEL)]

    listed = private_answer(call(env, digest, "list"))["embeds"][0]
    assert listed["title"] == "Digests"
    assert listed["description"].splitlines()[2:] == [
        f"**weekly** · each week · Asia/Kolkata · <#{DIGEST_CHANNEL}> · next <t:{next_at}:f>",
        "nothing posted yet",
    ]
    gone = private_answer(call(env, digest, "remove", [opt("name", "daily")]))
    assert gone["content"] == "Digest “daily” removed."
    again = private_answer(call(env, digest, "remove", [opt("name", "daily")]))
    assert again["content"] == "There is no digest named “daily”."
    assert conn.execute("SELECT digest FROM netstats_digests()").fetchall() == [("weekly",)]


def test_a_bad_zone_is_refused_privately_naming_the_field(env, conn):
    answer = private_answer(call(env, "netstats-digest", "add", [
        opt("name", "weekly"), opt("zone", "Mars/Olympus"),
    ]))  # fmt: skip
    assert answer["content"].startswith("That was refused: tz: unknown time zone 'Mars/Olympus';")
    assert "expected an IANA zone name" in answer["content"]
    assert conn.execute("SELECT count(*) FROM netstats_digests()").fetchone() == (0,)


@pytest.mark.parametrize(
    ("command", "sub"), [("netstats-digest", "list"), ("netstats-status", "add")]
)
def test_without_manage_server_nothing_is_set_or_shown(env, conn, command, sub):
    sent = call(env, command, sub, permissions=0)
    (answer,) = [s for s in sent if s.method == "POST" and s.path.endswith("/callback")]
    assert answer.payload["data"]["flags"] & EPHEMERAL
    assert answer.payload["data"]["content"] == (
        "You need the Manage Server permission to see traffic figures."
    )
    assert conn.execute("SELECT count(*) FROM netstats_status_messages()").fetchone() == (0,)


def test_a_status_message_is_set_listed_and_removed_in_japanese(env, conn):
    status = "netstats-status"
    answer = private_answer(call(env, status, "add", [
        opt("zone", "Asia/Tokyo"), opt("every", 10, kind=4),
    ], locale="ja"))  # fmt: skip
    assert answer["content"] == (
        f"<#{ALERT_CHANNEL}> にステータスメッセージを置き、10 分ごとに更新します"
        "（日とサイクルは Asia/Tokyo 基準）。1分以内に表示されます。"
    )
    rows = conn.execute("SELECT channel, zone, every FROM netstats_status_messages()").fetchall()
    assert rows == [(ALERT_CHANNEL, "Asia/Tokyo", 600)]
    conn.execute("SELECT netstats_status_failed(%s, 'Missing Access')", [ALERT_CHANNEL])
    listed = private_answer(call(env, status, "list", locale="ja"))["embeds"][0]
    assert listed["description"] == (
        f"<#{ALERT_CHANNEL}> · 10 分ごと · Asia/Tokyo · ⚠️ 1 回失敗: Missing Access"
    )
    gone = private_answer(call(env, status, "remove", locale="ja"))
    assert gone["content"] == (
        f"<#{ALERT_CHANNEL}> のステータスメッセージの更新を止めました（メッセージは残ります）。"
    )
    assert conn.execute("SELECT count(*) FROM netstats_status_messages()").fetchone() == (0,)


def test_zones_are_offered_as_they_are_typed(env, conn):
    async def main():
        async with bot_with_extension(env) as (bot, sent):
            event = interaction(
                bot,
                command="netstats-status",
                kind=4,
                options=[{"type": 1, "name": "add", "options": [
                    {"type": 3, "name": "zone", "value": "kolk", "focused": True}
                ]}],
            )  # fmt: skip
            await invoke(bot, event)
            return sent

    (answer,) = [s for s in asyncio.run(main()) if s.path.endswith("/callback")]
    assert answer.payload["data"]["choices"] == [{"name": "Asia/Kolkata", "value": "Asia/Kolkata"}]
