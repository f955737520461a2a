"""`netstats up`: agent, dashboard and (with DISCORD_TOKEN) the bot in one process, on an
embedded PostgreSQL 18 unless a database is configured.

asyncio is imported where it runs: the agent parses this same command line, and a daemon
that loaded it would carry 10 MiB it never uses."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netstats.cli.args import Commands
from netstats.config import AgentSettings, AlertSettings, Database, upload_every_s
from netstats.errors import AlreadyRunning, ConfigError, NetstatsError

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600


def _hold(data_dir: Path, port: int) -> int:
    """One `netstats up` per data folder: the second says where the first one is."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    path = data_dir.parent / f"{data_dir.name}.up.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            other = json.loads(os.read(fd, 4096) or b"{}")
        finally:
            os.close(fd)
        raise AlreadyRunning(
            f"netstats is already running (PID {other.get('pid', '?')}); its dashboard is at "
            f"{other.get('dashboard', '?')}. Stop it with Ctrl-C there, or kill {other.get('pid', '')}"
        ) from None
    os.ftruncate(fd, 0)
    os.write(
        fd, json.dumps({"pid": os.getpid(), "dashboard": f"http://127.0.0.1:{port}/"}).encode()
    )
    return fd


def say(message: str) -> None:
    print(f"netstats: {message}", flush=True)


async def up(data_dir: Path, port: int) -> None:
    lock = _hold(data_dir, port)
    try:
        await _up(data_dir, port)
    finally:
        os.close(lock)


async def _up(data_dir: Path, port: int) -> None:
    import asyncio

    from netstats import db
    from netstats.agent import Agent
    from netstats.agent.transports import connect
    from netstats.db.cluster import Cluster, embedded_bindir, start_cluster

    if os.environ.get("NETSTATS_AGENT_IN_BOT") == "1":
        raise ConfigError(
            "NETSTATS_AGENT_IN_BOT=1 would run a second agent beside the one netstats up runs, "
            "on the same spool: unset it for netstats up"
        )
    configured = any(os.environ.get(v) for v in ("NETSTATS_DATABASE_URL", "SUPABASE_URL"))
    cluster: Cluster | None = None
    if configured:
        database = Database.from_env()
    else:
        first = not (data_dir / "PG_VERSION").exists()
        say(("creating" if first else "starting") + f" the embedded PostgreSQL in {data_dir} …")
        cluster = await asyncio.to_thread(start_cluster, embedded_bindir(), data_dir)
        database = Database(url=cluster.dsn())
    try:
        if cluster is not None and database.url:
            say("bringing the database schema up to date …")
            await asyncio.to_thread(db.upgrade, database.url)
        elif database.url:
            # A shared database is migrated on purpose, by `netstats db upgrade`: other hosts
            # may run another netstats against it.
            await asyncio.to_thread(db.require_current, database.url)
        settings = AgentSettings.from_env()
        alerting = AlertSettings.from_env()
        agent = Agent(settings, connect(database))
        # the first tick counts this reading (a read takes the links removed since the last)
        agent.reading = reading = await asyncio.to_thread(agent.read)
        say(
            f"counting {', '.join(reading.counters) or 'no interface'} as {settings.host}, "
            f"every {settings.interval_s:g} s, uploading every "
            f"{max(settings.interval_s, settings.upload_every_s):g} s (spool {settings.spool})"
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            # A task that fails ends them all, loudly: never an agent silently gone.
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(agent.run_async(stop))
                if database.url:
                    tasks.create_task(await _dashboard(database.url, port, stop))
                    say(f"dashboard on http://127.0.0.1:{port}/")
                    if cluster is not None:
                        say(f"database URL for other tools: {database.url}")
                        tasks.create_task(_retention(database.url, stop))
                else:
                    say(
                        "no dashboard: it needs NETSTATS_DATABASE_URL (Supabase: the session pooler)"
                    )
                if os.environ.get("DISCORD_TOKEN"):
                    tasks.create_task(_bot(stop))
                    say("Discord bot starting with /netstats")
                if alerting.webhook:
                    tasks.create_task(_alerts(database, alerting, stop))
                    say("alerts go to the Discord webhook (NETSTATS_DISCORD_WEBHOOK)")
                say("running; Ctrl-C stops")
                await stop.wait()
                say("stopping …")
        except* NetstatsError as failed:
            raise failed.exceptions[0] from None
        finally:
            agent.close()
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)
            say(f"stopped; your data stays in {data_dir}")


async def _dashboard(url: str, port: int, stop: asyncio.Event) -> Coroutine[Any, Any, None]:
    """Starts the dashboard and returns once it listens, with what to run until `stop`."""
    import asyncio

    from netstats.dashboard import DashboardSettings
    from netstats.dashboard import server as dashboard_server

    settings = DashboardSettings(
        url, port=port, tz=os.environ.get("NETSTATS_TZ") or "UTC", upload_every_s=upload_every_s()
    )
    server = dashboard_server(settings, log_level="warning", signals=False)  # up owns Ctrl-C
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises why it could not start (port taken, …)
            raise OSError(f"the dashboard could not listen on port {port}")
        await asyncio.sleep(0.05)

    async def run() -> None:
        await stop.wait()
        server.should_exit = True
        await serving

    return run()


async def _alerts(database: Database, settings: AlertSettings, stop: asyncio.Event) -> None:
    from netstats.alerts import Deliverer, webhook_post
    from netstats.reader import open_reader

    assert settings.webhook is not None
    reader = await open_reader(database)
    try:
        post = webhook_post(settings.webhook, settings.lang, settings.tz)
        await Deliverer(reader, post, settings.every_s).run(stop)
    finally:
        await reader.close()


async def _retention(url: str, stop: asyncio.Event) -> None:
    """pg_cron does this daily where it exists; the embedded database has no pg_cron."""
    import asyncio

    from netstats import db

    while not stop.is_set():
        done = await asyncio.to_thread(db.apply_retention, url)
        what = json.loads(done)
        # an hourly "nothing to do" would be the one line a quiet `netstats up` prints
        busy = what.get("deleted_samples") or what.get("dropped_partitions")
        log.log(logging.INFO if busy else logging.DEBUG, "retention: %s", done)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RETENTION_EVERY_S)


async def _bot(stop: asyncio.Event) -> None:
    import asyncio

    from netstats.bot.runner import Runner, sync_guild

    bot = Runner(sync_guild())
    async with bot:
        running = asyncio.create_task(bot.start(os.environ["DISCORD_TOKEN"]))
        await stop.wait()
        await bot.close()
        with contextlib.suppress(Exception):
            await running


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

    asyncio.run(up(args.data_dir or default_data_dir(), args.port))
