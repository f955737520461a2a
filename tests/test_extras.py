"""Every command on each extra's install: a command works where its extras are installed, and
elsewhere says in one line which extra to install. The wheel is built once from this
checkout and installed, with one extra, into a fresh virtualenv outside the source tree, its
dependencies from PyPI, as a user of a release would: `netstats up` then serves its page from
what the wheel carries."""

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.cli import clean_env, free_port
from tests.support.postgrest import serve

ROOT = Path(__file__).resolve().parent.parent
# pyproject.toml's extras and what each brings (`up` is three of the others)
EXTRAS = {
    "agent": {"agent"},
    "supabase": {"supabase"},
    "chart": {"chart"},
    "dashboard": {"dashboard"},
    "bot": {"bot"},
    "up": {"up", "agent", "embedded", "dashboard"},
}


# What .gitignore names, and the repository itself: not needed to build the package
UNPACKAGED = (".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".mypy_cache",
              ".ruff_cache", ".hypothesis", "build", "dist", "test-artifacts")  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """netstats' wheel, built as a release is. pip builds in the source tree (build/,
    *.egg-info): xdist workers building at once would share those folders, so each builds
    from a copy."""
    here = tmp_path_factory.mktemp("wheel")
    source = here / "netstats"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*UNPACKAGED))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(here), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    shutil.rmtree(source)
    (built,) = here.glob("netstats-*.whl")
    return built


@pytest.fixture(scope="module")
def installs(wheel: Path, tmp_path_factory: pytest.TempPathFactory):
    made: dict[str, Path] = {}

    def install(extra: str) -> Path:
        if extra not in made:
            here = tmp_path_factory.mktemp(f"only-{extra}")
            venv = here / "venv"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [venv / "bin/python", "-m", "pip", "install", "-q", f"{wheel}[{extra}]"],
                check=True, capture_output=True, timeout=900, cwd=here,
            )  # fmt: skip
            made[extra] = venv / "bin/netstats"
        return made[extra]

    return install


def run(netstats: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A command of the installed netstats, run outside the source tree (its venv's folder)."""
    return subprocess.run(
        [netstats, *args], env=clean_env(**env), capture_output=True, text=True, timeout=120,
        cwd=netstats.parents[2],
    )  # fmt: skip


def until(
    netstats: Path, args: list[str], line: str, then: Callable[[], None] = lambda: None, **env: str
) -> str:
    """Start a command that runs until stopped, wait for `line`, do `then`, stop it with
    Ctrl-C."""
    proc = subprocess.Popen(
        [netstats, *args],
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=netstats.parents[2],
    )
    assert proc.stdout is not None
    seen = []
    try:
        for said in proc.stdout:
            seen.append(said)
            if line in said:
                then()
                break
    finally:
        proc.send_signal(signal.SIGINT)
        seen += proc.stdout.read()
        code = proc.wait(timeout=60)
        proc.stdout.close()
    out = "".join(seen)
    assert line in out and code in (0, 130), out  # 130: stopped by Ctrl-C, as a shell says
    return out


def refused(done: subprocess.CompletedProcess[str], missing: set[str]) -> None:
    assert done.returncode == 2, done
    (line,) = done.stderr.splitlines()
    assert any(f"pip install 'netstats[{extra}]'" in line for extra in missing), line


@pytest.mark.parametrize("extra", list(EXTRAS))
def test_every_command_on_an_install_of_one_extra(extra, installs, migrated, tmp_path):
    netstats, has = installs(extra), EXTRAS[extra]
    dsn = migrated["pg15"]
    db = {"NETSTATS_DATABASE_URL": dsn}
    agent_env = {
        **db,
        "NETSTATS_SPOOL": str(tmp_path / "spool.sqlite3"),
        "NETSTATS_INTERFACES": "lo",
        "NETSTATS_HOST": f"only-{extra}",
    }

    def check(needs: set[str], args: list[str], env: dict[str, str]) -> None:
        done = run(netstats, *args, **env)
        if needs <= has:
            assert done.returncode == 0, (args, done.stderr)
        else:
            refused(done, needs - has)

    # core: the database and the report
    for args in (["db", "upgrade"], ["maintain"], ["report", "--json"], ["report", "--days"]):
        check(set(), args, db)
    assert run(netstats, "db", "sql").stdout.startswith("BEGIN;")
    here = subprocess.run([sys.executable, "-m", "netstats.cli", "--version"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert run(netstats, "--version").stdout == here  # the same schema as this checkout
    check({"chart"}, ["report", "--days", "--image", str(tmp_path / "days.png")], db)
    with serve(dsn) as (url, _):
        check(
            {"supabase"},
            ["report", "--json"],
            {"SUPABASE_URL": url, "SUPABASE_KEY": "service-role-key"},
        )
    # the agent
    for args in (["agent", "--once"], ["agent", "--once"], ["agent", "status"]):
        check({"agent"}, args, agent_env)
    if "agent" in has:
        assert "lo, " in until(netstats, ["live"], "lo ", NETSTATS_INTERFACES="lo")
    else:
        refused(run(netstats, "live"), {"agent"})
    # the servers
    port = str(free_port())
    if "dashboard" in has:
        until(netstats, ["dashboard", "--port", port], f"http://127.0.0.1:{port}/", **db)
    else:
        refused(run(netstats, "dashboard", "--port", port, **db), {"dashboard"})
    if "bot" in has:  # it gets as far as Discord's servers, which this machine cannot reach
        done = run(netstats, "bot", DISCORD_TOKEN="x", **db)
        (line,) = done.stderr.splitlines()[-1:]
        assert done.returncode == 2 and "Discord" in line and "pip install" not in line, line
    else:
        refused(run(netstats, "bot", DISCORD_TOKEN="x", **db), {"bot"})
    up = ["up", "--data-dir", str(tmp_path / "up"), "--port", port]

    def served() -> None:  # the page, its script and its figures, from the wheel's files
        url = f"http://127.0.0.1:{port}"
        assert "<title>netstats</title>" in httpx.get(f"{url}/").text
        assert httpx.get(f"{url}/static/app.js").status_code == 200
        assert httpx.get(f"{url}/static/vendor/uplot/uPlot.iife.min.js").status_code == 200
        assert httpx.get(f"{url}/api/totals?period=today").json()["tz"]
        assert httpx.get(f"{url}/metrics").text.startswith("# HELP netstats_bytes_total")

    if {"agent", "embedded", "dashboard"} <= has:
        until(netstats, up, "running; Ctrl-C stops", served, NETSTATS_INTERFACES="lo")
    else:
        refused(run(netstats, *up), {"agent", "embedded", "dashboard"} - has)
