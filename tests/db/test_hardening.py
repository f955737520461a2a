"""Security: SECURITY DEFINER functions run as their owner, so nothing a caller can plant may
run inside them. Reproduces the attack found in review: a login role in each API role plants
pg_temp domains over the types the functions use (and pg_temp tables named like netstats'
own), then calls every function it may call."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest
from psycopg import sql

from netstats import db
from tests.db.support import T0, ingest, sample

# pg_temp is searched first for types and relations unless the path lists it explicitly.
PLANTED_TYPES = ["timestamptz", "jsonb", "text", "int8", "float8", "date", "name", "numeric"]
PLANTED_TABLES = ["samples", "rollups", "settings", "function_files", "agent_hosts"]
# T0 is stored before the attack; the next day's partition is made during it (by ingest, as
# netstats_owner)
NEW_DAY = T0 + timedelta(days=1)
BATCH = json.dumps([sample(T0).to_json(), sample(NEW_DAY).to_json()])
CALLS = {
    # the caller's own cast names pg_catalog, so that only code inside the functions can trip
    "netstats_agent": ["SELECT netstats_ingest(%s::pg_catalog.jsonb)"],
    "netstats_reader": [
        "SELECT * FROM netstats_totals('month', 'Asia/Tokyo', at => '2026-03-02T01:00:00Z')",
        "SELECT * FROM netstats_totals('today', 'Asia/Kolkata', at => '2026-03-02T01:00:00Z')",
        "SELECT * FROM netstats_totals('all')",
        "SELECT * FROM netstats_series('2026-03-01T00:00:00Z', '2026-03-03T00:00:00Z')",
        "SELECT * FROM netstats_series('2026-03-02T00:00:00Z', '2026-03-02T06:00:00Z', '1 minute')",
        "SELECT * FROM netstats_hosts()",
    ],
}
CALLS["service_role"] = [
    *CALLS["netstats_agent"],
    *CALLS["netstats_reader"],
    "SELECT netstats.apply_retention()",
]


def plant(conn: psycopg.Connection) -> None:
    """The attacker's objects: each says who ran it whenever PostgreSQL evaluates it."""
    conn.execute(
        """CREATE FUNCTION pg_temp.who(v pg_catalog.text) RETURNS pg_catalog.bool
           LANGUAGE plpgsql AS $$ BEGIN
             RAISE NOTICE 'planted code ran as %', current_user; RETURN true; END $$"""
    )
    for name in PLANTED_TYPES:
        conn.execute(
            sql.SQL(
                "CREATE DOMAIN pg_temp.{} AS pg_catalog.{} CHECK (pg_temp.who(VALUE::pg_catalog.text))"
            ).format(sql.Identifier(name), sql.Identifier(name))
        )
    for name in PLANTED_TABLES:
        conn.execute(sql.SQL("CREATE TEMP TABLE {} (x int)").format(sql.Identifier(name)))


@pytest.mark.parametrize("role", sorted(CALLS))
def test_planted_pg_temp_code_never_runs_as_the_owner(conn, dsn, role):
    login = f"attacker_{role}"
    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))
    conn.execute(
        sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(*map(sql.Identifier, (login, role)))
    )
    ingest(conn, [sample(T0)])  # so that totals and series open raw samples too
    conn.execute(f"DROP TABLE IF EXISTS netstats.samples_{NEW_DAY:%Y%m%d}")
    notices: list[str] = []
    try:
        with psycopg.connect(dsn, user=login, autocommit=True) as attacker:
            attacker.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
            attacker.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            plant(attacker)
            attacker.execute("SELECT pg_temp.who('probe')")  # the trap works
            assert notices == [f"planted code ran as {role}"]
            notices.clear()
            for call in CALLS[role]:
                with attacker.transaction(force_rollback=True):
                    attacker.execute(call, [BATCH] if "%s" in call else []).fetchall()
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(login)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))
    assert notices == [], f"planted code ran inside netstats' functions: {notices}"
    superusers = conn.execute(
        "SELECT count(*) FROM pg_roles WHERE rolsuper AND rolname LIKE 'attacker%'"
    ).fetchone()
    assert superusers == (0,)


def test_every_function_lists_pg_temp_last_in_its_search_path(conn):
    rows = conn.execute(
        """SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p
            WHERE p.pronamespace = 'netstats'::regnamespace
               OR (p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'netstats\\_%')"""
    ).fetchall()
    assert len(rows) == len(db.function_files())
    for signature, config in rows:
        paths = [
            c.removeprefix("search_path=") for c in config or [] if c.startswith("search_path=")
        ]
        assert paths == ["pg_catalog, pg_temp"], signature


def test_functions_and_tables_belong_to_a_powerless_nologin_owner(conn):
    owners = conn.execute(
        """SELECT DISTINCT pg_get_userbyid(p.proowner) FROM pg_proc p
            WHERE p.pronamespace = 'netstats'::regnamespace
               OR (p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'netstats\\_%')
           UNION
           SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c
            WHERE c.relnamespace = 'netstats'::regnamespace AND c.relkind IN ('r', 'p')
              AND c.relname <> 'alembic_version'"""
    ).fetchall()
    assert owners == [("netstats_owner",)]
    role = conn.execute(
        "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication"
        " FROM pg_roles WHERE rolname = 'netstats_owner'"
    ).fetchone()
    assert role == (False,) * 6
