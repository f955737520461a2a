"""An install with only the agent's extra runs the agent and `netstats report`; a command
that needs another extra says which, in one line. The package is installed from this
checkout into a fresh virtualenv, its dependencies from PyPI, as a user would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def agent_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("agent-only") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [venv / "bin/python", "-m", "pip", "install", "-q", f"{ROOT}[agent]"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return venv / "bin/netstats"


def run(netstats: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NETSTATS_", "SUPABASE_"))}
    return subprocess.run(
        [netstats, *args], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_an_agent_only_install_runs_the_agent_and_the_report(agent_only, migrated, tmp_path):
    env = {
        "NETSTATS_DATABASE_URL": migrated["pg15"],
        "NETSTATS_SPOOL": str(tmp_path / "spool.sqlite3"),
        "NETSTATS_INTERFACES": "lo",
        "NETSTATS_HOST": "agent-only",
    }
    for _ in range(2):  # a baseline, then a sample
        done = run(agent_only, "agent", "--once", **env)
        assert done.returncode == 0, done.stderr
    report = run(agent_only, "report", "--period", "all", "--host", "agent-only", "--json", **env)
    assert report.returncode == 0, report.stderr
    (row,) = json.loads(report.stdout)
    assert (row["period"], row["samples"]) == ("all", 1)


@pytest.mark.parametrize(
    ("args", "env", "extra"),
    [
        (("dashboard",), {"NETSTATS_DATABASE_URL": "postgresql://"}, "dashboard"),
        (("bot",), {"NETSTATS_DATABASE_URL": "postgresql://", "DISCORD_TOKEN": "x"}, "bot"),
        (("report",), {"SUPABASE_URL": "http://127.0.0.1:9", "SUPABASE_KEY": "k"}, "supabase"),
    ],
)
def test_a_command_of_another_extra_names_it(agent_only, args, env, extra):
    done = run(agent_only, *args, **env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"netstats: {done.stderr.strip().removeprefix('netstats: ')}"
    ]
    assert f"pip install 'netstats[{extra}]'" in done.stderr
