"""The `netstats` command."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from netstats import __version__, db
from netstats.errors import NetstatsError

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="netstats", description="Exact network-traffic accounting for Discord-bot hosts."
    )
    parser.add_argument("--version", action="version", version=f"netstats {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser(
        "up", help="run netstats on an embedded PostgreSQL (or NETSTATS_DATABASE_URL)"
    )
    up.add_argument("--data-dir", type=Path, help="where the embedded database lives")
    up.set_defaults(run=_up)

    database = commands.add_parser("db", help="database migrations")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    upgrade = database_commands.add_parser(
        "upgrade", help="migrate NETSTATS_DATABASE_URL to the newest schema"
    )
    upgrade.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    upgrade.set_defaults(run=lambda args: db.upgrade(args.url))
    sql = database_commands.add_parser(
        "sql", help="print the SQL of all migrations, for Supabase's SQL editor"
    )
    sql.set_defaults(run=lambda args: db.offline_sql())

    maintain = commands.add_parser(
        "maintain", help="apply retention now (what pg_cron does daily where it exists)"
    )
    maintain.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    maintain.set_defaults(run=lambda args: print(db.apply_retention(db.database_url(args.url))))

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-8s %(name)s %(message)s",
    )
    try:
        args.run(args)
    except NetstatsError as exc:
        print(f"netstats: {exc}", file=sys.stderr)
        return 2
    return 0


def _up(args: argparse.Namespace) -> None:
    """Start (or resume) the embedded database and keep it running until Ctrl-C."""
    from netstats.db.cluster import embedded_bindir, start_cluster

    data_dir = args.data_dir or platformdirs.user_data_path("netstats") / "postgres"
    first_time = not (data_dir / "PG_VERSION").exists()
    print(f"netstats: {'creating' if first_time else 'starting'} the database in {data_dir} …")
    cluster = start_cluster(embedded_bindir(), data_dir)
    stop = threading.Event()
    try:
        url = cluster.dsn()
        print("netstats: migrating …")
        db.upgrade(url)
        print(f"netstats: database ready at {url}")
        print(
            "netstats: the agent and the dashboard are not built yet; point "
            "NETSTATS_DATABASE_URL at the URL above to use the SQL API. Ctrl-C stops."
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            log.info("retention: %s", db.apply_retention(url))
            stop.wait(RETENTION_EVERY_S)
    finally:
        print("netstats: stopping the database …")
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
