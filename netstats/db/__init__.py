"""The database: Alembic migrations for tables and roles, SQL files for functions.

Functions live in netstats/db/functions/, one object per file named after it. They are not
frozen into a revision: after every upgrade, each file whose checksum differs from the one
recorded in netstats.function_files is dropped and re-created (a file carries its own grants),
and functions whose file was deleted are dropped. Upgrading twice therefore changes nothing.

The files as a set have a serial (FUNCTION_SETS): a change to any of them appends the next
serial with the new digest, and no revision (revisions are for schema changes). The
database records the serial it was given and refuses an older set, so an older netstats
never puts its older SQL back over a newer one.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from netstats.errors import ConfigError

if TYPE_CHECKING:
    import psycopg
    from alembic.config import Config

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
# serial -> functions_digest() of the files of that set. Changed a function file? Append
# the next serial with the new digest (tests/db/test_migrations.py says which); never
# change a line that has been released.
FUNCTION_SETS = {
    1: "6d086658c4ae0f722cec6ecb70a7d0c0422158da164bf40eeb6f389b1529da0f",  # as of 0011
    2: "ff6b812b9302790a8383a472caa1b8aa07211d897d7c87913bdf2aab72c381b0",  # netstats.period_window, first_covered
    3: "b845b006528ce8c60191a7339d71bbbb0346b218506a5faf12de634c319ab18f",  # ingest's partition race (40001), cycle_window, quotas' 'max' (0013)
    4: "a6f56330a23cdb7727eee8032b8e3f3a5a946bc48ff4c642b854720b7614b4b0",  # plans (0014), digests, status messages
    5: "8acf8a1060101cffed3e910de4133564f0de4973f1e160ab8e3e5c794d2703df",  # status messages claimed, alerts routed (0015), series totals, fleet
}
FUNCTIONS_SERIAL = max(FUNCTION_SETS)
FUNCTIONS_DIR = HERE / "functions"
MIGRATIONS_DIR = HERE / "migrations"


def function_files() -> dict[str, str]:
    """Object name -> SQL, helpers in the private schema first so later files can use them."""
    files = sorted(
        FUNCTIONS_DIR.glob("*.sql"), key=lambda p: (not p.stem.startswith("netstats."), p.stem)
    )
    return {path.stem: path.read_text() for path in files}


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def functions_digest() -> str:
    """One checksum over every function file: what FUNCTION_SETS names for each serial."""
    files = function_files()
    return checksum("".join(f"{name}\0{checksum(sql)}\n" for name, sql in sorted(files.items())))


def sync_statements(applied: Mapping[str, str], serial: int = 0) -> list[str]:
    """SQL that brings the database's functions from `applied` (name -> sha256) and set
    `serial` to the files; refuses a database whose set is newer than this netstats'."""
    if serial > FUNCTIONS_SERIAL:
        raise ConfigError(
            f"this database's functions are set {serial}, newer than this netstats' "
            f"({FUNCTIONS_SERIAL}); upgrade netstats on this host: netstats never moves a "
            "database's schema or functions back"
        )
    statements = []
    files = function_files()
    for name, sql in files.items():
        digest = checksum(sql)
        if applied.get(name) == digest:
            continue
        statements += [
            f"DROP FUNCTION IF EXISTS {_qualified(name)}",
            sql,
            "INSERT INTO netstats.function_files (name, sha256) "
            f"VALUES ('{name}', '{digest}') ON CONFLICT (name) DO UPDATE "
            "SET sha256 = excluded.sha256, applied_at = now()",
        ]
    for name in sorted(set(applied) - set(files)):
        statements += [
            f"DROP FUNCTION IF EXISTS {_qualified(name)}",
            f"DELETE FROM netstats.function_files WHERE name = '{name}'",
        ]
    statements.append(f"UPDATE netstats.function_files SET serial = {FUNCTIONS_SERIAL}")
    # SECURITY DEFINER functions run as their owner: netstats_owner (revision 0002), never
    # the superuser who may have migrated. Then schedule retention where pg_cron is
    # installed, and tell PostgREST (Supabase) to reload.
    statements += [
        OWN_FUNCTIONS,
        "SELECT netstats.schedule_jobs()",
        "NOTIFY pgrst, 'reload schema'",
    ]
    return statements


# A new owner needs CREATE on the schema while it takes over, not after; on netstats it
# keeps it, to make the daily partitions of the raw samples (revision 0008). (No
# format('%s'): offline SQL for Supabase's editor would double the %.)
OWN_FUNCTIONS = """
DO $$ DECLARE f regprocedure; BEGIN
  GRANT CREATE ON SCHEMA public, netstats TO netstats_owner;
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE (p.pronamespace = 'netstats'::regnamespace
                   OR (p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'netstats\\_%'))
              AND p.proowner <> 'netstats_owner'::regrole
  LOOP EXECUTE 'ALTER FUNCTION ' || f::text || ' OWNER TO netstats_owner'; END LOOP;
  REVOKE CREATE ON SCHEMA public FROM netstats_owner;
END $$"""


def _qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


def create_pg_cron(conn: psycopg.Connection) -> None:
    """Where this server offers pg_cron but this database lacks the extension, retention
    would never run: create it when this role may (a superuser; Supabase's postgres), and
    else say in one line how to. (Whether the server preloads pg_cron, and for which
    database, only a superuser may read: pg_cron's own refusal tells.)"""
    import psycopg

    offered = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_cron')"
        " AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron')"
    ).fetchone()
    if not (offered and offered[0]):
        return
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION pg_cron")
    except psycopg.errors.InsufficientPrivilege as exc:
        log.warning(
            "pg_cron is available but not created in this database, and this role may not "
            "create it (%s): run CREATE EXTENSION pg_cron as a superuser (Supabase: Database → "
            "Extensions), then netstats db upgrade; until then run netstats maintain daily",
            exc.diag.message_primary or exc,
        )
    except psycopg.Error as exc:  # not preloaded, or preloaded for another database
        log.info("pg_cron is not for this database (%s)", exc.diag.message_primary or exc)
    else:
        log.info("created the pg_cron extension: retention runs daily")


def database_url(url: str | None = None) -> str:
    url = url or os.environ.get("NETSTATS_DATABASE_URL")
    if not url:
        raise ConfigError(
            "no database: set NETSTATS_DATABASE_URL=postgresql://user:password@host:5432/db "
            "(for Supabase, the connection string of its session pooler or direct connection)"
        )
    return url


def sqlalchemy_url(url: str) -> str:
    """psycopg 3 drives every connection, Alembic's included."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config  # Alembic and SQLAlchemy load only when migrating

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser treats % as interpolation; passwords may contain it.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(database_url(url)), revision)
    except CommandError as exc:
        if "Can't locate revision" not in str(exc):
            raise
        raise ConfigError(
            f"this database was migrated by a newer netstats ({exc}); upgrade netstats on this "
            "host: netstats never moves a database's schema or functions back"
        ) from None


def head() -> str:
    """The newest schema revision this netstats knows."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def require_current(url: str) -> None:
    """Refuse to run against a database whose schema is not this netstats' own."""
    import psycopg

    head_revision = head()
    serial = None
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            row = conn.execute("SELECT version_num FROM netstats.alembic_version").fetchone()
            if row and row[0] == head_revision:
                (serial,) = conn.execute(
                    "SELECT max(serial) FROM netstats.function_files"
                ).fetchone() or (None,)
    except psycopg.errors.UndefinedTable:
        row = None
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot reach the database ({exc}); check NETSTATS_DATABASE_URL"
        ) from None
    current = row[0] if row else None
    if current != head_revision:
        raise ConfigError(
            f"the database is at schema revision {current or 'none'}, this netstats needs "
            f"{head_revision}: "
            "run `netstats db upgrade` once every host that uses it runs this netstats or newer"
        )
    if serial != FUNCTIONS_SERIAL:
        raise ConfigError(
            f"the database's functions are set {serial}, this netstats ships set "
            f"{FUNCTIONS_SERIAL}: "
            + (
                "upgrade netstats on this host"
                if (serial or 0) > FUNCTIONS_SERIAL
                else "run `netstats db upgrade` once every host that uses it runs this "
                "netstats or newer"
            )
        )


def downgrade(url: str | None = None, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url(url)), revision)


def offline_sql() -> None:
    """Print the SQL of every migration and function, for Supabase's SQL editor."""
    from alembic import command

    command.upgrade(alembic_config("postgresql+psycopg://"), "head", sql=True)


def agent_login(url: str, login: str, hosts: list[str]) -> str:
    """Create (or renew) a login role for one agent, allowed to write samples only for
    `hosts`, with a new random password; returns the URL the agent should use."""
    import secrets

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if not hosts:
        raise ConfigError("--host: name at least one host this agent reports as")
    password = secrets.token_urlsafe(24)
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        exists = conn.execute("SELECT FROM pg_roles WHERE rolname = %s", [login]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(login), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("GRANT netstats_agent TO {}").format(sql.Identifier(login)))
        conn.execute("DELETE FROM netstats.agent_hosts WHERE login = %s", [login])
        for host in hosts:
            conn.execute("INSERT INTO netstats.agent_hosts VALUES (%s, %s)", [login, host])
    params = conninfo_to_dict(url)
    params.update(user=login, password=password)
    return make_conninfo("", **params)


def apply_retention(url: str) -> str:
    """Run netstats.apply_retention() once; returns what it deleted as JSON text."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT netstats.apply_retention()::text").fetchone()
    assert row is not None
    return str(row[0])


@dataclass(frozen=True, slots=True)
class Installed:
    """What netstats put into a database, and what of the database's it leaves alone: what
    `netstats db uninstall` says before it removes anything."""

    revision: str | None
    tables: list[str]
    functions: int
    jobs: list[str]
    samples: int
    hosts: int
    first_sample_at: datetime | None
    roles_dropped: list[str]  # those netstats' migrations created (marked by a comment)
    roles_kept: list[str]  # API roles that were there before netstats (Supabase's)
    logins_kept: list[str]  # `netstats db agent-login` roles: LOGIN roles may own more


# The comment revisions 0001 and 0002 put on every role they create.
CREATED_BY = "created by netstats migrations"
API_ROLES = ("anon", "authenticated", "service_role", "netstats_agent", "netstats_reader")


def installed(url: str) -> Installed:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        if conn.execute("SELECT to_regclass('netstats.alembic_version')").fetchone() == (None,):
            return Installed(None, [], 0, [], 0, 0, None, [], [], [])
        (revision,) = conn.execute(
            "SELECT version_num FROM netstats.alembic_version"
        ).fetchone() or (None,)
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'netstats'::regnamespace"
                " AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1"
            )
        ]
        (functions,) = conn.execute(
            "SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'netstats'::regnamespace"
            " OR (p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'netstats\\_%')"
        ).fetchone() or (0,)
        jobs = []
        if conn.execute("SELECT to_regclass('cron.job')").fetchone() != (None,):
            jobs = [
                name
                for (name,) in conn.execute(
                    "SELECT jobname FROM cron.job WHERE jobname LIKE 'netstats-%' ORDER BY 1"
                )
            ]
        # From the month rows, not the raw samples: a count of a large fleet's raw window
        # would keep a person waiting minutes for the question.
        samples, hosts, first = conn.execute(
            "SELECT coalesce(sum(samples), 0), count(DISTINCT host), min(first_at)"
            " FROM netstats.rollups WHERE tier = 4 AND host <> '' AND iface NOT LIKE 'service:%'"
        ).fetchone() or (0, 0, None)
        roles = conn.execute(
            "SELECT rolname, shobj_description(oid, 'pg_authid') = %s FROM pg_roles"
            " WHERE rolname = ANY(%s) OR rolname = 'netstats_owner' ORDER BY 1",
            [CREATED_BY, list(API_ROLES)],
        ).fetchall()
        logins = [
            name
            for (name,) in conn.execute(
                "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member"
                " WHERE a.roleid = 'netstats_agent'::regrole AND m.rolcanlogin ORDER BY 1"
            )
        ]
    return Installed(
        revision,
        tables,
        int(functions),
        jobs,
        int(samples),
        int(hosts),
        first,
        [name for name, ours in roles if ours],
        [name for name, ours in roles if not ours],
        logins,
    )
