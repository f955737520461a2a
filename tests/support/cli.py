"""The `netstats` command as a person runs it: a process of its own with a clean
environment (no NETSTATS_*, SUPABASE_* or DISCORD_* setting leaks in from the test run)."""

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime


def netstats(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NETSTATS_", "SUPABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "netstats.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NETSTATS_", "SUPABASE_", "DISCORD_"))
    }
    return {**env, **extra}


# Reports are pinned to an instant: what "today" holds must not depend on when CI runs.
AT = datetime(2026, 3, 11, 20, 0, tzinfo=UTC)  # 01:30 on 12 March in Asia/Kolkata


def report(dsn: str, *args: str) -> str:
    """`netstats report` as of AT; its standard output."""
    return subprocess.run(
        [sys.executable, "-m", "netstats.cli", "report", *args, "--at", AT.isoformat()],
        env=clean_env(NETSTATS_DATABASE_URL=dsn),
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def refusal(dsn: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "report", *args],
        env=clean_env(NETSTATS_DATABASE_URL=dsn),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done
    assert done.stdout == ""
    *usage, line = done.stderr.splitlines()  # argparse's own refusals print the usage first
    assert not usage or usage[0].startswith("usage: netstats report")
    return line
