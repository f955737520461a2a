"""Quotas and alerts: limits on a period's bytes, and the alerts the database raises.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

- netstats.quotas: one row per named quota (DESIGN.md, "Quotas and alerts"), with the zone
  it was set in: its periods follow that zone whoever reads them.
- netstats.alerts: every alert raised, once per `key` (quota x period x threshold; quota x
  period; host x silence), with its delivery state: a lease while a deliverer holds it, the
  attempts and last error, the time it was delivered.
- netstats.quota_progress: the row type of a quota's progress.
- settings.silent_after: how long a host that reported within the last day may stay quiet
  before it is reported silent (10 minutes).

Nothing in the samples or rollups changes: every total reads as before. The functions
(netstats_quota_set, netstats_quotas, netstats_alerts_claim, ...) are function files, applied
by checksum after the upgrade as always.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

API_ROLES = "PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader"
# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "05797ec157ac98089613737cb15804bee3ad29026ffe2a5a0fa3da9d725271fa"
FUNCTIONS = (
    "public.netstats_quota_set",
    "public.netstats_quota_delete",
    "public.netstats_quotas",
    "public.netstats_alerts_claim",
    "public.netstats_alerts_done",
    "public.netstats_alerts",
    "netstats.raise_alerts",
    "netstats.last_seen",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE netstats.quotas (
            name         text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
            limit_bytes  bigint      NOT NULL CHECK (limit_bytes > 0),
            period       text        NOT NULL
                                     CHECK (period IN ('day', 'week', 'month', 'year', 'cycle')),
            direction    text        NOT NULL CHECK (direction IN ('sent', 'recv', 'total')),
            host         text,
            iface        text,
            thresholds   integer[]   NOT NULL CHECK (cardinality(thresholds) BETWEEN 1 AND 20),
            tz           text        NOT NULL,
            updated_at   timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """
        CREATE TABLE netstats.alerts (
            id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key           text        NOT NULL UNIQUE,
            kind          text        NOT NULL CHECK (kind IN ('quota_threshold',
                                      'quota_projection', 'host_silent', 'host_back')),
            quota         text,
            host          text,
            iface         text,
            threshold     integer,
            facts         jsonb       NOT NULL,
            raised_at     timestamptz NOT NULL,
            leased_until  timestamptz,
            attempts      integer     NOT NULL DEFAULT 0,
            last_error    text,
            delivered_at  timestamptz
        )"""
    )
    # What a claim looks for: the undelivered, oldest first.
    op.execute("CREATE INDEX alerts_due ON netstats.alerts (id) WHERE delivered_at IS NULL")
    # A quota's progress, as netstats_quotas and netstats_quota_set return it (a type of its
    # own: a function's result columns may not share its arguments' names, such as tz).
    op.execute(
        """
        CREATE TYPE netstats.quota_progress AS (
            name text, host text, iface text, period text, direction text, tz text,
            limit_bytes bigint, thresholds integer[],
            period_start timestamptz, period_end timestamptz,
            used_bytes numeric, used_ratio double precision, remaining_bytes numeric,
            projected_bytes numeric, projected_exceed_at timestamptz,
            daily_allowance_bytes numeric, thresholds_crossed integer[]
        )"""
    )
    op.execute(
        "ALTER TABLE netstats.settings ADD COLUMN silent_after interval NOT NULL "
        "DEFAULT '10 minutes' CHECK (silent_after >= interval '1 minute')"
    )
    # A new owner needs CREATE on the schema while it takes over, not after (as in 0002).
    op.execute("GRANT CREATE ON SCHEMA netstats TO netstats_owner")
    for table in ("quotas", "alerts"):
        op.execute(f"ALTER TABLE netstats.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON netstats.{table} FROM {API_ROLES}")
        op.execute(f"ALTER TABLE netstats.{table} OWNER TO netstats_owner")
    op.execute("ALTER TYPE netstats.quota_progress OWNER TO netstats_owner")
    op.execute("REVOKE CREATE ON SCHEMA netstats FROM netstats_owner")


def downgrade() -> None:
    op.execute(
        """
        DO $$ BEGIN
          IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
            PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname = 'netstats-alerts';
          END IF;
        END $$"""
    )
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
        op.execute(
            f"DELETE FROM netstats.function_files WHERE name = '{function.removeprefix('public.')}'"
        )
    op.execute("DROP TYPE netstats.quota_progress")
    op.execute("ALTER TABLE netstats.settings DROP COLUMN silent_after")
    op.execute("DROP TABLE netstats.alerts")
    op.execute("DROP TABLE netstats.quotas")
