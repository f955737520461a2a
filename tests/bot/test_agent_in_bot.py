"""NETSTATS_AGENT_IN_BOT=1: the agent runs in the bot's loop and survives what goes wrong."""

import asyncio

from tests.bot.discord_edge import bot_with_extension


def test_the_agent_runs_inside_the_bot_and_survives_an_error(monkeypatch, dsn, conn, tmp_path):
    for name, value in {
        "NETSTATS_DATABASE_URL": dsn,
        "NETSTATS_AGENT_IN_BOT": "1",
        "NETSTATS_INTERFACES": "lo",
        "NETSTATS_INTERVAL": "1",
        "NETSTATS_UPLOAD_EVERY": "1",
        "NETSTATS_SPOOL": str(tmp_path / "spool.sqlite3"),
        "NETSTATS_HOST": "bot-agent",
    }.items():
        monkeypatch.setenv(name, value)
    ticks_after_error = []

    async def main():
        async with bot_with_extension(monkeypatch) as (bot, _):
            cog = bot.get_cog("NetStats")
            assert not cog.agent_task.done()  # it needs nothing from Discord
            await asyncio.sleep(2.2)
            real_tick = cog.agent.tick
            failures = iter([OSError("disk hiccup")])

            def flaky_tick():
                for error in failures:
                    raise error
                ticks_after_error.append(1)
                return real_tick()

            cog.agent.tick = flaky_tick
            await asyncio.sleep(3.5)
            assert not cog.agent_task.done()

    asyncio.run(main())
    assert ticks_after_error, "the loop stopped at the first error"
    rows = conn.execute(
        "SELECT count(*) FROM netstats.samples WHERE host = 'bot-agent' AND iface = 'lo'"
    ).fetchone()
    assert rows[0] >= 3  # baseline, then ticks before and after the error, then the final one
