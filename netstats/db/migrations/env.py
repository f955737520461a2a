"""Alembic environment: version table and everything else inside the `netstats` schema."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg
from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from netstats.db import (
    CREATED_BY,
    create_pg_cron,
    database_url,
    sqlalchemy_url,
    sync_statements,
)

config = context.config
SCHEMA = "netstats"
# Any constant works; it keeps two `upgrade` runs from interleaving.
LOCK_KEY = 0x6E657473
VERSIONS = Path(__file__).parent / "versions"


def configured_url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url()


def run_offline() -> None:
    context.configure(
        url=sqlalchemy_url(configured_url()),
        literal_binds=True,
        version_table_schema=SCHEMA,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        context.run_migrations()
        # Written as they are: compiled as SQL text, every % would be doubled (format()
        # strings: refusals printed "samples[%s]", partitions could not be made).
        impl = context.get_context().impl
        for statement in sync_statements({}):
            impl.static_output(statement.strip() + ";")


def run_online() -> None:
    engine = create_engine(sqlalchemy_url(configured_url()))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            context.configure(
                connection=connection, version_table_schema=SCHEMA, transactional_ddl=True
            )
            with context.begin_transaction(), quiet_when_empty(connection):
                lent = lend(connection)
                context.run_migrations()
                for statement in lent:
                    connection.execute(text(statement))
                finish(connection)
            connection.commit()
    finally:  # a refused migration too: its pooled connection would stay open until collected
        engine.dispose()


class RevisionNotices(logging.Filter):
    """Holds back what revisions announce ("moving the rollups …", "reading is now opt-in"):
    on a database that stores nothing yet, there is nothing to move and nobody to warn."""

    def filter(self, record: logging.LogRecord) -> bool:
        return Path(record.pathname).parent != VERSIONS


@contextlib.contextmanager
def quiet_when_empty(connection: Connection) -> Iterator[None]:
    stored = connection.execute(text("SELECT to_regclass('netstats.samples')")).scalar_one()
    if stored is not None:
        stored = connection.execute(text("SELECT EXISTS (SELECT FROM netstats.samples)")).scalar()
    if stored:
        yield
        return
    notices = RevisionNotices()
    log = logging.getLogger("netstats.db")
    log.addFilter(notices)
    try:
        yield
    finally:
        log.removeFilter(notices)


def lend(connection: Connection) -> list[str]:
    """What a migrating role that is no superuser (Supabase's `postgres`) lacks for the
    landed downgrades, lent for this transaction only; returns the statements that take it
    back before the commit, so no other session ever sees it.

    - CREATE on the schema for every role: a role must have it to be given a table there,
      and 0008's downgrade revokes netstats_owner's before handing it the rebuilt samples.
    - Membership in the roles netstats created: 0002's downgrade runs DROP OWNED BY
      netstats_reader, which needs it.
    A superuser skips both checks. Landed revisions are never edited, hence this."""
    back = []
    open_schema = connection.execute(
        text("SELECT NOT has_schema_privilege('public', :schema, 'CREATE')"), {"schema": SCHEMA}
    ).scalar_one()
    if open_schema:
        connection.execute(text(f"GRANT CREATE ON SCHEMA {SCHEMA} TO PUBLIC"))
        back.append(
            f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_namespace WHERE nspname = '{SCHEMA}') THEN "
            f"REVOKE CREATE ON SCHEMA {SCHEMA} FROM PUBLIC; END IF; END $$"
        )
    roles = connection.execute(
        text(
            "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = :marker"
            " AND NOT pg_has_role(current_user, oid, 'USAGE') ORDER BY 1"
        ),
        {"marker": CREATED_BY},
    ).scalars()
    for role in roles:
        connection.execute(text(f'GRANT "{role}" TO CURRENT_USER'))
        back.append(
            f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f'REVOKE "{role}" FROM CURRENT_USER; END IF; END $$'
        )
    return back


def has_serial(connection: Connection) -> bool:
    return bool(
        connection.execute(
            text(
                "SELECT EXISTS (SELECT FROM pg_attribute WHERE attname = 'serial'"
                f" AND attrelid = '{SCHEMA}.function_files'::regclass AND NOT attisdropped)"
            )
        ).scalar()
    )


def finish(connection: Connection) -> None:
    """At head, bring functions up to date; at base, remove the schema Alembic needed."""
    heads = set(ScriptDirectory.from_config(config).get_heads())
    current = set(context.get_context().get_current_heads())
    if current == heads:
        rows = connection.execute(
            text(f"SELECT name, sha256, serial FROM {SCHEMA}.function_files")
        ).all()
        applied: dict[str, str] = {name: digest for name, digest, _ in rows}
        statements = sync_statements(applied, max((serial for *_, serial in rows), default=0))
        # A function file holds several statements: psycopg runs them as one simple query.
        raw = connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        create_pg_cron(raw)
        for statement in statements:
            raw.execute(statement)
    elif current and has_serial(connection):
        # Moved down to a revision that still has serials: the functions are this netstats'
        # own, on an older schema, and whichever netstats migrates next puts its set there.
        connection.execute(text(f"UPDATE {SCHEMA}.function_files SET serial = 0"))
    elif not current:
        connection.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.alembic_version"))
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA}"))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
