import asyncio
import logging
import subprocess
import sys

from netstats.bot.runner import Runner
from tests.bot.discord_edge import APP_ID


def start(monkeypatch, tmp_path, **options) -> list:
    """One start of the runner; returns the REST requests it made."""
    requests = []

    async def request(self, route, **kwargs):  # Discord's REST API, the edge we cannot reach
        requests.append((route.method, route.url.split("/api/v10", 1)[-1], kwargs.get("json")))
        # Discord answers with the commands it stored
        return [
            {**c, "id": str(9000 + i), "application_id": str(APP_ID), "version": "1"}
            for i, c in enumerate(kwargs.get("json", []))
        ]

    async def main():
        bot = Runner(guild=777, stamp=tmp_path / "stamps.json", **options)
        monkeypatch.setattr(type(bot.http), "request", request)
        async with bot:
            bot._connection.application_id = APP_ID
            await bot.setup_hook()
            await bot.unload_extension("netstats.bot")

    asyncio.run(main())
    return requests


def test_the_runner_loads_the_extension_and_syncs_to_one_server(monkeypatch, dsn, tmp_path):
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    ((method, path, payload),) = start(monkeypatch, tmp_path)
    assert (method, path) == ("PUT", f"/applications/{APP_ID}/guilds/777/commands")
    assert [c["name"] for c in payload] == ["netstats", "netstats-digest", "netstats-status"]
    assert payload[0]["description_localizations"] == {
        "ja": "このボットのホストの送受信量を表示します"
    }


def test_a_second_start_with_the_same_commands_makes_no_sync_request(monkeypatch, dsn, tmp_path):
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    assert len(start(monkeypatch, tmp_path)) == 1
    assert start(monkeypatch, tmp_path) == []  # Discord has them: nothing sent
    assert len(start(monkeypatch, tmp_path, force_sync=True)) == 1  # netstats bot --sync


def test_netstats_bot_logs_each_line_once(monkeypatch, dsn, tmp_path, capfd):
    from netstats import cli
    from netstats.bot import runner

    async def start_(self, token):  # in place of logging in to Discord
        runner.log.info("a line netstats bot logs")

    monkeypatch.setattr(runner.Runner, "start", start_)
    monkeypatch.setattr(runner, "default_stamp", lambda: tmp_path / "stamps.json")
    monkeypatch.setenv("DISCORD_TOKEN", "token")
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    # as in a fresh process: pytest's own capture handler would stop basicConfig
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    assert cli.main(["bot"]) == 0
    err = capfd.readouterr().err
    assert err.count("a line netstats bot logs") == 1, err


def test_netstats_bot_without_a_token_says_what_to_set():
    result = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "bot"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
