"""`netstats up`: agent + dashboard (+ bot) on an embedded PostgreSQL or your database."""

from __future__ import annotations

import argparse
from pathlib import Path

from netstats.cli.args import Commands


def add(commands: Commands) -> None:
    up = commands.add_parser(
        "up", help="agent + dashboard (+ bot) on an embedded PostgreSQL or your database"
    )
    up.add_argument("--data-dir", type=Path, help="where the embedded database lives")
    up.add_argument("--port", type=int, default=8787, help="dashboard port (default 8787)")
    up.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    import asyncio

    from netstats.db.cluster import default_data_dir
    from netstats.up import up

    asyncio.run(up(args.data_dir or default_data_dir(), args.port))
