import asyncio
import subprocess
import sys

from netstats.bot.runner import Runner
from tests.bot.discord_edge import APP_ID


def test_the_runner_loads_the_extension_and_syncs_to_one_server(monkeypatch, dsn):
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    requests = []

    async def request(self, route, **kwargs):  # Discord's REST API, the edge we cannot reach
        requests.append((route.method, route.url.split("/api/v10", 1)[-1], kwargs.get("json")))
        # Discord answers with the commands it stored
        return [
            {**c, "id": str(9000 + i), "application_id": str(APP_ID), "version": "1"}
            for i, c in enumerate(kwargs.get("json", []))
        ]

    async def main():
        bot = Runner(guild=777)
        monkeypatch.setattr(type(bot.http), "request", request)
        async with bot:
            bot._connection.application_id = APP_ID
            await bot.setup_hook()
            await bot.unload_extension("netstats.bot")

    asyncio.run(main())
    ((method, path, payload),) = requests
    assert (method, path) == ("PUT", f"/applications/{APP_ID}/guilds/777/commands")
    assert [c["name"] for c in payload] == ["netstats"]
    assert payload[0]["description_localizations"] == {
        "ja": "このボットのホストの送受信量を表示します"
    }


def test_netstats_bot_without_a_token_says_what_to_set():
    result = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "bot"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
