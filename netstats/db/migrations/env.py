"""Alembic environment: version table and everything else inside the `netstats` schema."""

from __future__ import annotations

import psycopg
from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from netstats.db import create_pg_cron, database_url, sqlalchemy_url, sync_statements

config = context.config
SCHEMA = "netstats"
# Any constant works; it keeps two `upgrade` runs from interleaving.
LOCK_KEY = 0x6E657473


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
            with context.begin_transaction():
                context.run_migrations()
                finish(connection)
            connection.commit()
    finally:  # a refused migration too: its pooled connection would stay open until collected
        engine.dispose()


def finish(connection: Connection) -> None:
    """At head, bring functions up to date; at base, remove the schema Alembic needed."""
    heads = set(ScriptDirectory.from_config(config).get_heads())
    current = set(context.get_context().get_current_heads())
    if current == heads:
        rows = connection.execute(text(f"SELECT name, sha256 FROM {SCHEMA}.function_files"))
        applied: dict[str, str] = {name: digest for name, digest in rows}
        # A function file holds several statements: psycopg runs them as one simple query.
        raw = connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        create_pg_cron(raw)
        for statement in sync_statements(applied):
            raw.execute(statement)
    elif not current:
        connection.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.alembic_version"))
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA}"))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
