"""`netstats dashboard`: the live web page over the SQL functions."""

from __future__ import annotations

import argparse

from netstats.cli.args import Commands


def add(commands: Commands) -> None:
    dashboard = commands.add_parser("dashboard", help="serve the live web page")
    dashboard.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=8787, help="port (default 8787)")
    dashboard.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from netstats.dashboard import DashboardSettings, serve

    serve(DashboardSettings.from_env(args.host, args.port))
