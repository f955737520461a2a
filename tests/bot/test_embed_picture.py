"""A picture of the answer to /netstats, for people: the embed JSON and chart the bot really
sends, drawn the way Discord lays out an embed, saved to test-artifacts/."""

import asyncio

from tests.bot.discord_edge import bot_with_extension, fields, interaction, invoke, seed
from tests.support.embed_picture import draw


def test_a_picture_of_the_answer(env, conn):  # noqa: F811
    seed(conn)

    async def main():
        async with bot_with_extension(env) as (bot, sent):
            await invoke(
                bot, interaction(bot, options=[{"name": "period", "type": 3, "value": "today"}])
            )
            return sent

    embed, _, answer = fields(asyncio.run(main()))
    path = draw(embed, "netstats-command.png", answer.files[0].fp.read())
    assert path.stat().st_size > 10_000
