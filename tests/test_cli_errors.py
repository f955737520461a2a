"""What a person sees when a command cannot do its work: one line on stderr saying what to
do, exit status 2, no traceback."""

import psycopg
import pytest

from netstats.db import FUNCTIONS_SERIAL
from netstats.errors import ConfigError
from tests.conftest import create_database
from tests.support.cli import netstats


def one_line(done, *words: str) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_up_refuses_a_second_agent_in_the_bot(tmp_path):
    done = netstats("up", "--data-dir", str(tmp_path / "pg"), NETSTATS_AGENT_IN_BOT="1")
    one_line(done, "NETSTATS_AGENT_IN_BOT=1", "unset it")


def test_up_does_not_migrate_a_shared_database(clusters, tmp_path):
    dsn = create_database(clusters["pg15"], "shared_unmigrated")
    done = netstats(
        "up", "--port", "0", NETSTATS_DATABASE_URL=dsn, NETSTATS_SPOOL=str(tmp_path / "s")
    )
    one_line(done, "schema revision none", "netstats db upgrade")
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regnamespace('netstats')").fetchone() == (None,)


def test_an_older_netstats_never_moves_a_newer_database_back(clusters):
    dsn = create_database(clusters["pg15"], "from_the_future")
    assert netstats("db", "upgrade", NETSTATS_DATABASE_URL=dsn).returncode == 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE netstats.alembic_version SET version_num = '9999'")
    one_line(
        netstats("db", "upgrade", NETSTATS_DATABASE_URL=dsn),
        "migrated by a newer netstats",
        "upgrade netstats on this host",
    )


def test_up_refuses_a_database_whose_functions_are_another_set(clusters, tmp_path):
    """The schema revision alone no longer says which functions a database runs."""
    dsn = create_database(clusters["pg15"], "other_functions")
    assert netstats("db", "upgrade", NETSTATS_DATABASE_URL=dsn).returncode == 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE netstats.function_files SET serial = serial + 1")
    done = netstats(
        "up", "--port", "0", NETSTATS_DATABASE_URL=dsn, NETSTATS_SPOOL=str(tmp_path / "s")
    )
    one_line(done, f"functions are set {FUNCTIONS_SERIAL + 1}", "upgrade netstats on this host")


@pytest.mark.parametrize("command", [["report"], ["maintain"], ["db", "upgrade"]])
def test_an_unreachable_database_is_one_line(command):
    url = "postgresql://nobody@/nodb?host=/nonexistent-socket-dir"
    one_line(netstats(*command, NETSTATS_DATABASE_URL=url), "database")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--tz", "Mars/Base"], ["the database refused: tz: unknown time zone 'Mars/Base'"]),
        (["--tz", "localtime"], ["tz: unknown time zone"]),
    ],
)
def test_report_refusals_are_one_line(dsn, args, words):
    one_line(netstats("report", *args, NETSTATS_DATABASE_URL=dsn), *words)


def test_a_bad_at_is_argparse_one_line(dsn):
    done = netstats("report", "--at", "yesterday", NETSTATS_DATABASE_URL=dsn)
    assert done.returncode == 2 and "expected a date and time with an offset" in done.stderr


def test_a_missing_setting_is_one_line(tmp_path):
    one_line(
        netstats("agent", "--once", NETSTATS_SPOOL=str(tmp_path / "s")),
        "NETSTATS_DATABASE_URL",
    )
    one_line(netstats("agent", "--once", NETSTATS_INTERVAL="0"), "NETSTATS_INTERVAL")


def test_the_dashboard_and_report_find_the_database_netstats_up_runs(monkeypatch, tmp_path):
    from netstats.dashboard import DashboardSettings
    from netstats.db import cluster

    monkeypatch.delenv("NETSTATS_DATABASE_URL", raising=False)
    monkeypatch.setattr(cluster, "running_dsn", lambda datadir: "postgresql://up@/netstats")
    assert DashboardSettings.from_env(env={}).url == "postgresql://up@/netstats"
    monkeypatch.setattr(cluster, "running_dsn", lambda datadir: None)
    with pytest.raises(ConfigError, match="or a running `netstats up`"):
        DashboardSettings.from_env(env={})


def test_dashboard_bad_paths_are_one_line(tmp_path):
    # no `netstats up` runs in this (empty) data folder
    one_line(
        netstats("dashboard", XDG_DATA_HOME=str(tmp_path)),
        "the dashboard needs NETSTATS_DATABASE_URL",
    )
    one_line(
        netstats("dashboard", "--host", "0.0.0.0", NETSTATS_DATABASE_URL="postgresql://x@/y"),
        "NETSTATS_DASHBOARD_TOKEN",
    )


def test_agent_login_without_a_host_is_one_line(dsn):
    one_line(netstats("db", "agent-login", "agent_x", NETSTATS_DATABASE_URL=dsn), "--host")


def test_a_role_without_the_privilege_is_one_line_saying_so(dsn, conn):
    conn.execute("DROP ROLE IF EXISTS cli_nobody")
    conn.execute("CREATE ROLE cli_nobody LOGIN")
    try:
        url = dsn.replace("postgres@", "cli_nobody@")
        one_line(
            netstats("report", "--period", "today", NETSTATS_DATABASE_URL=url),
            "permission denied for function netstats_totals",
            "lacks a privilege",
        )
    finally:
        conn.execute("DROP ROLE cli_nobody")
