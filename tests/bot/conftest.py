"""The bot's tests: the environment a bot on the test database runs with."""

import pytest

from tests.support.clock import TZ


@pytest.fixture
def env(monkeypatch, dsn):
    for name in (
        "SUPABASE_URL",
        "SUPABASE_KEY",
        "NETSTATS_DISCORD_GUILDS",
        "NETSTATS_AGENT_IN_BOT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETSTATS_DATABASE_URL", dsn)
    monkeypatch.setenv("NETSTATS_TZ", TZ)
    return monkeypatch
