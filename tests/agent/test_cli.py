import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.cli import netstats


def test_agent_once_records_a_baseline_then_uploads_and_status_tells(dsn, conn, tmp_path):
    env = {
        "NETSTATS_DATABASE_URL": dsn,
        "NETSTATS_SPOOL": str(tmp_path / "spool.sqlite3"),
        "NETSTATS_INTERFACES": "lo",
        "NETSTATS_HOST": "cli-host",
    }
    first = netstats("agent", "--once", **env)
    assert first.returncode == 0, first.stderr
    assert "first run on this machine" in first.stderr
    second = netstats("agent", "--once", **env)
    assert second.returncode == 0 and "uploaded 1 sample (0 queued)" in second.stderr, second.stderr
    assert conn.execute(
        "SELECT count(*) FROM netstats.samples WHERE host = 'cli-host' AND iface = 'lo'"
    ).fetchone() == (1,)
    status = netstats("agent", "status", **env)
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert any(line.startswith("queued") and "0 samples" in line for line in lines)
    assert any(line.startswith("quarantined") and "0 samples" in line for line in lines)
    assert any(line.strip().startswith("lo ") and "sent" in line for line in lines)
    assert "never" not in status.stdout  # there was a successful upload


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_daemon_stops_on_a_signal_and_uploads_what_it_held(dsn, conn, tmp_path, signum):
    """Uploads wait for NETSTATS_UPLOAD_EVERY; a stop sends what the spool holds at once."""
    host = f"stop-{signum.name}"
    env = {
        "NETSTATS_DATABASE_URL": dsn,
        "NETSTATS_SPOOL": str(tmp_path / "spool.sqlite3"),
        "NETSTATS_INTERFACES": "lo",
        "NETSTATS_HOST": host,
        "NETSTATS_INTERVAL": "1",
        "NETSTATS_UPLOAD_EVERY": "3600",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NETSTATS_", "SUPABASE_"))}
    agent = subprocess.Popen(
        [sys.executable, "-m", "netstats.cli", "agent"],
        env={**clean, **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert agent.stderr is not None
    started = []
    for line in agent.stderr:  # started and past its first tick (and first, empty, upload)
        started.append(line)
        if "first run on this machine" in line:
            break
    from netstats.agent.scope import detect

    # it says once what its counters cover (this machine, or a container's own traffic)
    assert sum(f"counting {detect().describe()}" in line for line in started) == 1
    time.sleep(2.5)  # two more ticks, held in the spool
    count = f"SELECT count(*) FROM netstats.samples WHERE host = '{host}'"
    assert conn.execute(count).fetchone() == (0,)
    agent.send_signal(signum)
    _, rest = agent.communicate(timeout=30)
    assert agent.returncode == 0, rest
    assert "stopped; 0 samples stay queued" in rest
    assert conn.execute(count).fetchone()[0] >= 3  # the held ticks and the final one


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set NETSTATS_DATABASE_URL=postgresql://… or SUPABASE_URL and SUPABASE_KEY"),
        ({"SUPABASE_URL": "http://127.0.0.1:9"}, "SUPABASE_KEY is not set"),
        (
            {"NETSTATS_DATABASE_URL": "postgresql://x", "NETSTATS_INTERVAL": "0"},
            "NETSTATS_INTERVAL='0': expected a number from 1 to 3600",
        ),
        (
            {"NETSTATS_DATABASE_URL": "postgresql://x", "NETSTATS_INTERVAL": "ten"},
            "NETSTATS_INTERVAL='ten': expected a number from 1 to 3600",
        ),
        (
            {"NETSTATS_DATABASE_URL": "postgresql://x", "NETSTATS_UPLOAD_EVERY": "1m"},
            "NETSTATS_UPLOAD_EVERY='1m': expected a number from 1 to 3600",
        ),
    ],
)
def test_agent_configuration_errors_name_the_setting(env, message, tmp_path):
    result = netstats("agent", "--once", NETSTATS_SPOOL=str(tmp_path / "s.sqlite3"), **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_status_before_any_run_says_so(tmp_path):
    result = netstats("agent", "status", NETSTATS_SPOOL=str(tmp_path / "none.sqlite3"))
    assert result.returncode == 0 and "the agent has not run here yet" in result.stdout


def test_status_in_the_agents_first_instant_says_to_ask_again(tmp_path):
    spool = tmp_path / "new.sqlite3"
    spool.touch()  # what the agent's first instant leaves: the file, no tables yet
    result = netstats("agent", "status", NETSTATS_SPOOL=str(spool))
    assert result.returncode == 2, result
    assert result.stderr.strip() == (
        f"netstats: spool {spool} (NETSTATS_SPOOL) has no queue yet: the agent is just "
        "starting it; ask again in a moment"
    )


def test_an_agent_login_writes_its_own_host_and_quarantines_any_other(dsn, conn, tmp_path):
    made = netstats(
        "db", "agent-login", "agent_cli", "--host", "cli-own", NETSTATS_DATABASE_URL=dsn
    )
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip().removeprefix("NETSTATS_DATABASE_URL=")
    assert "user=agent_cli" in url and "password=" in url and "cli-own" in made.stderr
    try:
        for host in ("cli-own", "cli-other"):
            env = {
                "NETSTATS_DATABASE_URL": url,
                "NETSTATS_SPOOL": str(tmp_path / f"{host}.sqlite3"),
                "NETSTATS_INTERFACES": "lo",
                "NETSTATS_HOST": host,
            }
            for _ in range(2):
                assert netstats("agent", "--once", **env).returncode == 0
        status = netstats("agent", "status", **env)
        assert "quarantined    1 samples" in status.stdout
        assert "may write samples only for cli-own" in status.stdout
        stored = conn.execute("SELECT DISTINCT host FROM netstats.samples").fetchall()
        assert stored == [("cli-own",)]
    finally:
        conn.execute("DELETE FROM netstats.agent_hosts")
        conn.execute("DROP ROLE agent_cli")


@pytest.mark.parametrize("xdg", [None, "", "  ", "/srv/data"])
def test_the_default_data_dir_is_where_platformdirs_puts_it(monkeypatch, xdg):
    import platformdirs

    from netstats.config import data_dir

    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", xdg)
    assert data_dir() == platformdirs.user_data_path("netstats")
