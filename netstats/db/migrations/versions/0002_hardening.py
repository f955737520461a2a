"""Hardening: plausible samples only, agent logins bound to their hosts, RLS everywhere.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

- One sample could hold 2^63-1 bytes, and then every sum over it overflowed for every
  reader, for good. A sample now carries at most what a 1 Tbit/s link moves in its interval
  (counted over at least a minute, since some drivers update their counters in steps of
  seconds), is stamped on or after 1970, and covers at least a microsecond. The constraint is
  NOT VALID: rows stored before are kept as they are, unchecked; every new row is checked.
- netstats.agent_hosts binds an agent login to the host names it may write (none listed:
  any host, as before).
- alembic_version was the one table without row level security.
- Tables and functions belong to netstats_owner, a NOLOGIN role with no other power, instead
  of whoever migrated (a superuser on plain PostgreSQL): SECURITY DEFINER functions run as it.
  The migrating role becomes a member, so later migrations can still change them.
- Reading becomes opt-in: on Supabase `authenticated` is anyone who signs up with the public
  anon key. The readers are granted to a new role, netstats_reader, instead (function files);
  `GRANT netstats_reader TO authenticated` gives every signed-in user back what they had.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

import logging

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("samples", "rollups", "settings", "function_files", "agent_hosts")
API_ROLES = "PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader"
CREATED_BY = "created by netstats migrations"  # as in 0001: downgrade drops only these
# The function files this revision ships (netstats.db.functions_digest()): a function change
# comes with a revision of its own, so an older netstats can never re-apply older SQL over
# a newer database (Alembic refuses a database whose revision it does not know).
FUNCTIONS_SHA256 = "8551987e8d4bea978b80d1058f6e6b752c8651644ae9ff1ad872ae5294ee2a10"

log = logging.getLogger("netstats.db")
# 1 Tbit/s in bytes per second: faster than any link a host has today.
MAX_BYTES_PER_S = 125_000_000_000


def upgrade() -> None:
    for role in ("netstats_reader", "netstats_owner"):
        op.execute(
            f"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} NOLOGIN;
                COMMENT ON ROLE {role} IS '{CREATED_BY}';
              END IF;
            END $$"""
        )
    op.execute(
        f"""
        ALTER TABLE netstats.samples ADD CONSTRAINT samples_plausible CHECK (
            sampled_at >= '1970-01-01 00:00:00+00'
            AND interval_s >= 0.000001
            -- Within a minute's worth every sample passes at once; past it, numeric: a double
            -- would round the limit of a day-long sample by a few bytes.
            AND (bytes_sent <= {MAX_BYTES_PER_S * 60}
                 OR bytes_sent <= {MAX_BYTES_PER_S} * greatest(interval_s, 60)::numeric)
            AND (bytes_recv <= {MAX_BYTES_PER_S * 60}
                 OR bytes_recv <= {MAX_BYTES_PER_S} * greatest(interval_s, 60)::numeric)
        ) NOT VALID"""
    )
    op.execute(
        """
        CREATE TABLE netstats.agent_hosts (
            login  name NOT NULL,
            host   text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
            PRIMARY KEY (login, host)
        )"""
    )
    for table in ("agent_hosts", "alembic_version"):
        op.execute(f"ALTER TABLE netstats.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON netstats.{table} FROM {API_ROLES}")
    # The migrating role stays able to change what netstats_owner owns; a new owner needs
    # CREATE on the schema while it takes over, not after.
    op.execute("GRANT netstats_owner TO CURRENT_USER")
    op.execute("GRANT USAGE ON SCHEMA netstats TO netstats_owner")
    op.execute("GRANT CREATE ON SCHEMA netstats TO netstats_owner")
    for table in TABLES:
        op.execute(f"ALTER TABLE netstats.{table} OWNER TO netstats_owner")
    op.execute("REVOKE CREATE ON SCHEMA netstats FROM netstats_owner")
    log.warning(
        "reading netstats is now opt-in: signed-in Supabase users (authenticated) read only "
        "after GRANT netstats_reader TO authenticated (see README, The SQL API)"
    )


def downgrade() -> None:
    # What netstats_owner owns (tables, functions) goes back to the migrating role.
    op.execute(
        f"""
        DO $$ BEGIN
          IF shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'netstats_owner'),
                               'pg_authid') = '{CREATED_BY}' THEN
            REASSIGN OWNED BY netstats_owner TO CURRENT_USER;
            DROP OWNED BY netstats_owner;
            DROP ROLE netstats_owner;
          END IF;
        EXCEPTION WHEN dependent_objects_still_exist THEN
          RAISE NOTICE 'kept role netstats_owner: another database still grants it privileges';
        END $$"""
    )
    op.execute(
        f"""
        DO $$ BEGIN
          IF shobj_description((SELECT oid FROM pg_roles WHERE rolname = 'netstats_reader'),
                               'pg_authid') = '{CREATED_BY}' THEN
            DROP OWNED BY netstats_reader;
            DROP ROLE netstats_reader;
          END IF;
        EXCEPTION WHEN dependent_objects_still_exist THEN
          RAISE NOTICE 'kept role netstats_reader: another database still grants it privileges';
        END $$"""
    )
    op.execute("ALTER TABLE netstats.alembic_version DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TABLE netstats.agent_hosts")
    op.execute("ALTER TABLE netstats.samples DROP CONSTRAINT samples_plausible")
