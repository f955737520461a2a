"""`netstats db` (upgrade, agent-login, sql, uninstall) and `netstats maintain`."""

from __future__ import annotations

import argparse
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from netstats.cli.args import Commands
from netstats.errors import ConfigError

if TYPE_CHECKING:
    from netstats.db import Installed


def add(commands: Commands) -> None:
    database = commands.add_parser("db", help="database migrations")
    db_commands = database.add_subparsers(dest="db_command", required=True)
    upgrade_ = db_commands.add_parser(
        "upgrade", help="migrate NETSTATS_DATABASE_URL to the newest schema"
    )
    upgrade_.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    upgrade_.set_defaults(run=upgrade)
    login = db_commands.add_parser(
        "agent-login",
        help="create a login for one agent that may write only its own hosts' samples",
    )
    login.add_argument("name", help="the login role's name, e.g. agent_bot1")
    login.add_argument(
        "--host", action="append", default=[], help="a host it reports as (repeat for more)"
    )
    login.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    login.set_defaults(run=agent_login)
    sql = db_commands.add_parser(
        "sql", help="print the SQL of all migrations, for Supabase's SQL editor"
    )
    sql.set_defaults(run=lambda args: _db().offline_sql())
    uninstall_ = db_commands.add_parser(
        "uninstall",
        help="remove netstats and all it stored from the database (asks first)",
        description="Removes every table, function, pg_cron job and role netstats created, "
        "with all traffic history; keeps the roles that were there before (Supabase's anon, "
        "authenticated, service_role) and their grants. Runs as the role that migrated.",
    )
    uninstall_.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    uninstall_.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    uninstall_.set_defaults(run=uninstall)

    maintain = commands.add_parser(
        "maintain", help="apply retention now (what pg_cron does daily where it exists)"
    )
    maintain.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    maintain.set_defaults(
        run=lambda args: print(_db().apply_retention(_db().database_url(args.url)))
    )


def _db() -> ModuleType:
    """Alembic and SQLAlchemy load only for database commands: the agent stays small."""
    from netstats import db

    return db


def upgrade(args: argparse.Namespace) -> None:
    db = _db()
    db.upgrade(args.url)
    print(f"netstats: the database schema is at revision {db.head()}", file=sys.stderr)


def agent_login(args: argparse.Namespace) -> None:
    db = _db()
    url = db.agent_login(db.database_url(args.url), args.name, args.host)
    print(f"NETSTATS_DATABASE_URL={url}")
    print(
        f"# {args.name} may write samples for {', '.join(args.host)} only; put the line above "
        "in that host's agent environment (its password is shown only now)",
        file=sys.stderr,
    )


def uninstall(args: argparse.Namespace) -> None:
    from psycopg.conninfo import conninfo_to_dict

    db = _db()
    url = db.database_url(args.url)
    name = str(conninfo_to_dict(url).get("dbname") or "postgres")
    found = db.installed(url)
    if found.revision is None:
        print(f"netstats is not installed in database {name!r}: nothing to remove")
        return
    print(removal(name, found))
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("not removed: confirm in a terminal, or pass --yes")
        answer = input(f"Type the database's name ({name}) to remove netstats from it: ")
        if answer.strip() != name:
            raise ConfigError("not removed: the name typed was not the database's")
    db.downgrade(url, "base")
    print(f"removed netstats from database {name!r}")


def removal(name: str, found: Installed) -> str:
    """What uninstall removes and what it keeps, in the words a person checks them by."""
    history = (
        f"{found.samples:,} samples from {found.hosts} host{'s' * (found.hosts != 1)} since "
        f"{found.first_sample_at:%Y-%m-%d %H:%M %Z}, raw and rolled up"
        if found.first_sample_at
        else "no samples"
    )
    lines = [
        f"netstats db uninstall removes from database {name!r} (schema revision {found.revision}):",
        f"  all traffic history   {history}",
        f"  tables                {', '.join(found.tables)} (schema netstats)",
        f"  functions             {found.functions} (netstats_* in public, netstats.*)",
        f"  pg_cron jobs          {', '.join(found.jobs) or 'none'}",
        f"  roles                 {', '.join(found.roles_dropped) or 'none'} (created by netstats)",
        "and keeps:",
        f"  roles                 {', '.join(found.roles_kept) or 'none'} (they were there "
        "before netstats) and their grants",
    ]
    if found.logins_kept:
        lines.append(
            f"  agent logins          {', '.join(found.logins_kept)} (netstats db agent-login; "
            "DROP ROLE them when no agent uses them)"
        )
    lines.append("  the pg_cron extension, and everything else in the database")
    return "\n".join(lines)
