"""Core schema: roles, the raw samples table, tiered rollups and settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Functions are not created here: they live in netstats/db/functions/, one object per file,
and are (re)applied by checksum after every upgrade (see netstats.db.sync_functions), so this
revision never replays SQL that a later change may edit.
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# anon/authenticated/service_role exist on Supabase; plain Postgres gets them, marked with a
# comment so that `downgrade base` drops only the roles netstats created.
ROLES = {
    "anon": "NOLOGIN",
    "authenticated": "NOLOGIN",
    "service_role": "NOLOGIN BYPASSRLS",
    "netstats_agent": "NOLOGIN",
}
CREATED_BY = "created by netstats migrations"


def upgrade() -> None:
    for role, options in ROLES.items():
        op.execute(
            f"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} {options};
                COMMENT ON ROLE {role} IS '{CREATED_BY}';
              END IF;
            END $$"""
        )
    op.execute("CREATE SCHEMA IF NOT EXISTS netstats")
    op.execute("REVOKE ALL ON SCHEMA netstats FROM PUBLIC")
    # service_role may call netstats.apply_retention(); it still gets no table privileges.
    op.execute("GRANT USAGE ON SCHEMA netstats TO service_role")
    op.execute(
        """
        CREATE TABLE netstats.samples (
            host        text             NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
            iface       text             NOT NULL CHECK (length(iface) BETWEEN 1 AND 255),
            sampled_at  timestamptz      NOT NULL,
            interval_s  double precision NOT NULL CHECK (interval_s > 0 AND interval_s <= 86400),
            bytes_sent  bigint           NOT NULL CHECK (bytes_sent >= 0),
            bytes_recv  bigint           NOT NULL CHECK (bytes_recv >= 0),
            PRIMARY KEY (host, iface, sampled_at)
        )"""
    )
    # One row per (tier, series, UTC bucket): tier 1 = 15 minutes, 2 = hour, 3 = day,
    # 4 = month. Every column is a sum, min or max, so rows merge in any arrival order.
    # Fifteen minutes is the finest tier because every zone in use today is offset from UTC
    # by a multiple of it (Asia/Kolkata +5:30, Asia/Kathmandu +5:45): local calendar edges
    # stay exact from rollups alone, after raw samples are gone.
    op.execute(
        """
        CREATE TABLE netstats.rollups (
            tier              smallint         NOT NULL CHECK (tier BETWEEN 1 AND 4),
            host              text             NOT NULL,
            iface             text             NOT NULL,
            bucket_start      timestamptz      NOT NULL,
            samples           bigint           NOT NULL,
            bytes_sent        bigint           NOT NULL,
            bytes_recv        bigint           NOT NULL,
            seconds           double precision NOT NULL,
            first_at          timestamptz      NOT NULL,
            last_at           timestamptz      NOT NULL,
            covers_from       timestamptz      NOT NULL,
            peak_bytes_per_s  double precision NOT NULL,
            PRIMARY KEY (tier, host, iface, bucket_start)
        )"""
    )
    op.execute(
        """
        CREATE TABLE netstats.settings (
            singleton          boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
            raw_retention      interval    NOT NULL DEFAULT '35 days'
                                           CHECK (raw_retention > interval '0'),
            cycle_day          smallint    NOT NULL DEFAULT 1 CHECK (cycle_day BETWEEN 1 AND 28),
            raw_purged_before  timestamptz NOT NULL DEFAULT '-infinity'
        )"""
    )
    op.execute("INSERT INTO netstats.settings DEFAULT VALUES")
    op.execute(
        """
        CREATE TABLE netstats.function_files (
            name        text        PRIMARY KEY,
            sha256      text        NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )"""
    )
    for table in ("samples", "rollups", "settings", "function_files"):
        op.execute(f"ALTER TABLE netstats.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"REVOKE ALL ON netstats.{table} "
            "FROM PUBLIC, anon, authenticated, service_role, netstats_agent"
        )


def downgrade() -> None:
    op.execute(
        """
        DO $$ BEGIN
          IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
            PERFORM cron.unschedule(jobid) FROM cron.job
             WHERE jobname IN ('netstats-retention', 'netstats-purge-cron-log');
          END IF;
        END $$"""
    )
    op.execute(
        """
        DO $$ DECLARE f regprocedure; BEGIN
          FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                    WHERE p.pronamespace IN ('public'::regnamespace, 'netstats'::regnamespace)
                      AND (p.pronamespace = 'netstats'::regnamespace OR p.proname LIKE 'netstats\\_%')
          LOOP EXECUTE format('DROP FUNCTION %s', f); END LOOP;
        END $$"""
    )
    for table in ("function_files", "settings", "rollups", "samples"):
        op.execute(f"DROP TABLE netstats.{table}")
    # The schema itself goes once Alembic has removed its version table (see env.py).
    for role in ROLES:
        op.execute(
            f"""
            DO $$ BEGIN
              IF shobj_description((SELECT oid FROM pg_roles WHERE rolname = '{role}'),
                                   'pg_authid') = '{CREATED_BY}' THEN
                REVOKE ALL ON SCHEMA netstats FROM {role};
                DROP ROLE {role};
              END IF;
            EXCEPTION WHEN dependent_objects_still_exist THEN
              RAISE NOTICE 'kept role {role}: another database still grants it privileges';
            END $$"""
        )
