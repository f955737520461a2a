"""A picture of the answer to /netstats, for people: the embed JSON and chart the bot really
sends, drawn the way Discord lays out an embed, saved to test-artifacts/."""

import asyncio
import base64
import html
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.bot.discord_edge import bot_with_extension, interaction, invoke
from tests.bot.test_netstats_command import env, fields, seed  # noqa: F401 - env is a fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

PAGE = """<!doctype html><meta charset="utf-8"><body style="margin:0;background:#313338;font:15px/1.4 sans-serif">
<div style="margin:16px;max-width:520px;background:#2b2d31;border-left:4px solid #{colour:06x};border-radius:4px;padding:12px 16px;color:#dbdee1">
<div style="font-weight:700;color:#f2f3f5;margin-bottom:6px">{title}</div>
<div style="white-space:pre-line;font-size:14px;margin-bottom:8px">{description}</div>
<div style="display:grid;grid-template-columns:repeat(3,1fr);gap:8px">{fields}</div>
<img style="margin-top:12px;max-width:100%;border-radius:4px" src="data:image/png;base64,{image}">
<div style="margin-top:8px;font-size:12px;color:#b5bac1">{footer}</div></div></body>"""


def test_a_picture_of_the_answer(env, conn):  # noqa: F811
    seed(conn)

    async def main():
        async with bot_with_extension(env) as (bot, sent):
            await invoke(
                bot, interaction(bot, options=[{"name": "period", "type": 3, "value": "today"}])
            )
            return sent

    embed, values, answer = fields(asyncio.run(main()))
    cells = "".join(
        f"<div><div style='font-weight:700;font-size:13px;color:#f2f3f5'>{html.escape(k)}</div>"
        f"<div style='white-space:pre-line;font-size:14px'>{html.escape(v)}</div></div>"
        for k, v in values.items()
    )
    picture = PAGE.format(
        colour=embed["color"],
        title=html.escape(embed["title"]),
        description=html.escape(embed["description"]),
        fields=cells,
        image=base64.b64encode(answer.files[0].fp.read()).decode(),
        footer=html.escape(embed["footer"]["text"]),
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 560, "height": 300})
        page.set_content(picture)
        path = ARTIFACTS / "netstats-command.png"
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    assert path.stat().st_size > 10_000
