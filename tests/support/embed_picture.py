"""Draws a Discord embed (its JSON, as the bot or a webhook sends it) the way Discord lays it
out, in headless Chromium, to a PNG under test-artifacts/: pictures for people and README."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

PAGE = """<!doctype html><meta charset="utf-8"><body style="margin:0;background:#313338;font:15px/1.4 sans-serif">
<div style="margin:16px;max-width:520px;background:#2b2d31;border-left:4px solid #{colour:06x};border-radius:4px;padding:12px 16px;color:#dbdee1">
<div style="font-weight:700;color:#f2f3f5;margin-bottom:6px">{title}</div>
<div style="white-space:pre-line;font-size:14px;margin-bottom:8px">{description}</div>
<div style="display:grid;grid-template-columns:repeat(3,1fr);gap:8px">{fields}</div>
{image}<div style="margin-top:8px;font-size:12px;color:#b5bac1">{footer}</div></div></body>"""


def timestamps(text: str) -> str:
    """Discord timestamps (<t:unix:f>, <t:unix:R>) as Discord shows them to a reader in UTC."""

    def shown(match: re.Match[str]) -> str:
        at = datetime.fromtimestamp(int(match[1]), UTC)
        if match[2] != "R":
            return f"{at:%-d %B %Y %H:%M}"
        hours = round((datetime.now(UTC) - at).total_seconds() / 3600)
        if hours == 0:
            minutes = round((datetime.now(UTC) - at).total_seconds() / 60)
            return f"{minutes} minutes ago" if minutes else "just now"
        return f"{hours} hours ago" if hours > 0 else f"in {-hours} hours"

    return re.sub(r"<t:(\d+):([fFR])>", shown, text)


def draw(embed: dict[str, Any], name: str, image: bytes | None = None) -> Path:
    embed = json.loads(timestamps(json.dumps(embed)))
    cells = "".join(
        f"<div style='grid-column:span {1 if f.get('inline', True) else 3}'>"
        f"<div style='font-weight:700;font-size:13px;color:#f2f3f5'>{html.escape(f['name'])}</div>"
        f"<div style='white-space:pre-line;font-size:14px'>{html.escape(f['value'])}</div></div>"
        for f in embed.get("fields", [])
    )
    picture = PAGE.format(
        colour=embed.get("color", 0),
        title=html.escape(embed.get("title", "")),
        description=html.escape(embed.get("description", "")),
        fields=cells,
        image=(
            "<img style='margin-top:12px;max-width:100%;border-radius:4px' "
            f"src='data:image/png;base64,{base64.b64encode(image).decode()}'>"
            if image
            else ""
        ),
        footer=html.escape(embed.get("footer", {}).get("text", "")),
    )
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 560, "height": 200})
        page.set_content(picture)
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    return path
