"""The role matrix, exercised the way Supabase's API (PostgREST) runs a call: SET ROLE."""

import psycopg
import pytest

from netstats import db
from tests.db.support import T0, sample

CALLS = {
    "ingest": (
        "SELECT netstats_ingest(%s::jsonb)",
        [
            '[{"host":"h","iface":"i","sampled_at":"2026-03-02T00:00:00Z",'
            '"interval_s":10,"bytes_sent":1,"bytes_recv":2}]'
        ],
    ),
    "totals": ("SELECT * FROM netstats_totals('month', 'Asia/Tokyo')", []),
    "series": ("SELECT * FROM netstats_series(now() - interval '1 day', now())", []),
    "hosts": ("SELECT * FROM netstats_hosts()", []),
    "retention": ("SELECT netstats.apply_retention()", []),
}
ALLOWED = {
    "anon": set(),
    "authenticated": set(),  # anyone who signs up on Supabase: reading is opt-in
    "netstats_reader": {"totals", "series", "hosts"},
    "service_role": {"ingest", "totals", "series", "hosts", "retention"},
    "netstats_agent": {"ingest"},
}
MATRIX = [(role, call) for role in ALLOWED for call in CALLS]


def as_role(conn: psycopg.Connection, role: str, sql: str, params: list) -> None:
    with conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL ROLE {role}")
        conn.execute(sql, params).fetchall()


@pytest.mark.parametrize(("role", "call"), MATRIX, ids=[f"{r}-{c}" for r, c in MATRIX])
def test_role_matrix(conn, role, call):
    sql, params = CALLS[call]
    if call in ALLOWED[role]:
        as_role(conn, role, sql, params)
    else:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            as_role(conn, role, sql, params)


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize(
    "table", ["samples", "rollups", "settings", "function_files", "agent_hosts", "alembic_version"]
)
def test_api_roles_cannot_touch_tables(conn, role, table):
    for sql in (f"SELECT * FROM netstats.{table}", f"DELETE FROM netstats.{table}"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_role(conn, role, sql, [])


def test_every_table_has_row_level_security(conn):
    rows = conn.execute(
        "SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace = 'netstats'::regnamespace AND relkind IN ('r', 'p')"
    ).fetchall()
    assert {name for name, _ in rows} >= {"samples", "rollups", "settings", "function_files"}
    assert all(secure for _, secure in rows), rows


def test_no_function_is_overloaded_or_executable_by_public(conn):
    rows = conn.execute(
        """SELECT p.oid::regprocedure::text, p.proconfig,
                  EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner)))
                           WHERE grantee = 0) AS public_may_execute
             FROM pg_proc p
            WHERE p.pronamespace = 'netstats'::regnamespace
               OR (p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'netstats\\_%')"""
    ).fetchall()
    assert sorted(signature.split("(")[0] for signature, _, _ in rows) == sorted(
        db.function_files()
    )
    for signature, _, public_may_execute in rows:
        assert not public_may_execute, f"{signature} is executable by PUBLIC"


def test_the_agent_role_writes_through_ingest_only(conn):
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL ROLE netstats_agent")
        row = conn.execute(
            "SELECT netstats_ingest(%s::jsonb)",
            [f"[{__import__('json').dumps(sample(T0).to_json())}]"],
        ).fetchone()
        assert row[0] == {"inserted": 1, "duplicates": 0}


def test_granting_the_reader_role_to_authenticated_lets_signed_in_users_read(conn):
    with conn.transaction(force_rollback=True):
        conn.execute("GRANT netstats_reader TO authenticated")
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute("SELECT * FROM netstats_totals('month')").fetchall()
