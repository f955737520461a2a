"""Plans (a quota grows its own billing cycle, pooled hosts, a price and corrections), and
digests.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

A plan is a quota that says what a provider bills (issue 30): the hosts it covers (a list or
globs, pooled), a cycle anchored at a wall-clock instant in its zone and repeating every N
days, weeks, months or years (netstats.cycle_window), an included allowance (or unlimited),
and a price per unit of bytes over it with an optional budget. Plans live in netstats.quotas
beside the quotas: a row has either a calendar `period` (a quota, read by netstats_quotas as
before) or an `anchor`, `every` and `unit` (a plan); netstats_plans reads both.

- netstats.quotas: period and limit_bytes may be null for a plan (limit_bytes null: unlimited,
  0: every byte is paid for);
  new columns anchor, every, unit, hosts, price, currency, price_unit, budget, provider.
- netstats.plan_adjustments: corrections of one cycle's count ("the provider's panel shows
  340 GB"), with who, when and why; never written into samples or rollups.
- netstats.plan_usage: each listed-hosts plan's sent and received bytes per cycle, added by
  ingest as it stores samples (quotas.patterns: the hosts as LIKE patterns; counted_from: the
  first cycle the rows hold whole), so a pool of a thousand hosts reads one row.
- netstats.alerts: new kinds, plan_budget (the projected cost passed the budget) and digest.
- netstats.digests: a period's figures to post once it ends (issue 31), raised as alerts.
- netstats.status_messages: a channel's status message, which the bot edits in place.
- netstats.plan_state: the row type of netstats_plans.

Every existing quota keeps its row and its figures. Downgrade removes the plans (a quota
stays), their corrections, counts, budget alerts and the digests, and puts back the four function files
this revision's set replaced (0014_set3/, byte for byte those of function set 3), so the
database below is what set 3 made it.
"""

import hashlib
import logging
from pathlib import Path

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

log = logging.getLogger("netstats.db")
API_ROLES = "PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader"
SET3 = Path(__file__).with_name("0014_set3")
NEW_FUNCTIONS = (
    "public.netstats_plans(text, timestamptz)",
    "public.netstats_plan_set(text, text, timestamp, integer, text, text, bigint, text[],"
    " text, integer[], numeric, text, text, numeric, text)",
    "public.netstats_plan_adjust(text, bigint, text, text, timestamptz)",
    "public.netstats_plan_adjustments(text)",
    "public.netstats_plan_adjust_delete(bigint)",
    "public.netstats_digest_set(text, text, text, bigint)",
    "public.netstats_digest_delete(text)",
    "public.netstats_digests()",
    "netstats.digest_facts(text, text, text, timestamptz, timestamptz)",
    "public.netstats_status_set(bigint, text, integer)",
    "public.netstats_status_delete(bigint)",
    "public.netstats_status_messages()",
    "public.netstats_status_posted(bigint, bigint)",
    "public.netstats_status(text)",
)
KINDS = "'quota_threshold', 'quota_projection', 'host_silent', 'host_back'"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE netstats.quotas
          ALTER COLUMN period DROP NOT NULL,
          ALTER COLUMN limit_bytes DROP NOT NULL,
          DROP CONSTRAINT quotas_limit_bytes_check,
          ADD CONSTRAINT quotas_limit_bytes_check
            CHECK (limit_bytes > 0 OR (limit_bytes = 0 AND period IS NULL)),
          ADD COLUMN anchor timestamp,
          ADD COLUMN every integer CHECK (every BETWEEN 1 AND 1000),
          ADD COLUMN unit text CHECK (unit IN ('day', 'week', 'month', 'year')),
          ADD COLUMN hosts text[] CHECK (cardinality(hosts) BETWEEN 1 AND 1000),
          ADD COLUMN price numeric CHECK (price >= 0 AND price < 'Infinity'),
          ADD COLUMN currency text CHECK (currency ~ '^[A-Z]{3}$'),
          ADD COLUMN price_unit text CHECK (price_unit IN ('GB', 'GiB', 'TB', 'TiB')),
          ADD COLUMN budget numeric CHECK (budget >= 0 AND budget < 'Infinity'),
          ADD COLUMN provider text,
          ADD COLUMN patterns text[],
          ADD COLUMN counted_from timestamptz,
          ADD CONSTRAINT quotas_plan_cycle_check CHECK (
            (period IS NULL) = (anchor IS NOT NULL) AND (anchor IS NULL) = (every IS NULL)
            AND (anchor IS NULL) = (unit IS NULL)
            AND (period IS NULL OR (limit_bytes IS NOT NULL AND hosts IS NULL))),
          ADD CONSTRAINT quotas_plan_price_check CHECK (
            (price IS NULL) = (currency IS NULL) AND (price IS NULL) = (price_unit IS NULL)
            AND (budget IS NULL OR price IS NOT NULL))"""
    )
    op.execute(
        """
        CREATE TABLE netstats.plan_adjustments (
            id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            plan         text        NOT NULL REFERENCES netstats.quotas (name)
                                     ON DELETE CASCADE ON UPDATE CASCADE,
            cycle_start  timestamptz NOT NULL,
            bytes        bigint      NOT NULL CHECK (bytes <> 0),
            note         text        NOT NULL CHECK (length(note) BETWEEN 1 AND 500),
            made_by      text        NOT NULL,
            made_at      timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        "CREATE INDEX plan_adjustments_cycle ON netstats.plan_adjustments (plan, cycle_start)"
    )
    # What ingest counts for each plan with a list of hosts, per cycle: a pool read from one
    # row instead of a walk over each of its hosts' series (see netstats_plans).
    op.execute(
        """
        CREATE TABLE netstats.plan_usage (
            plan         text        NOT NULL REFERENCES netstats.quotas (name)
                                     ON DELETE CASCADE ON UPDATE CASCADE,
            cycle_start  timestamptz NOT NULL,
            bytes_sent   numeric     NOT NULL,
            bytes_recv   numeric     NOT NULL,
            PRIMARY KEY (plan, cycle_start)
        )"""
    )
    # Digests (issue 31): a period's figures posted to Discord once it ends, raised and
    # handed out as alerts are (kind 'digest', one per digest and period).
    op.execute(
        """
        CREATE TABLE netstats.digests (
            name        text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
            period      text        NOT NULL CHECK (period IN ('day', 'week', 'month', 'cycle')),
            tz          text        NOT NULL,
            channel_id  bigint,
            created_at  timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        "ALTER TABLE netstats.alerts DROP CONSTRAINT alerts_kind_check,"
        f" ADD CONSTRAINT alerts_kind_check CHECK (kind IN ({KINDS}, 'plan_budget', 'digest'))"
    )
    # Status messages (issue 31): one message per channel, edited in place by the bot.
    op.execute(
        """
        CREATE TABLE netstats.status_messages (
            channel_id  bigint      PRIMARY KEY CHECK (channel_id > 0),
            tz          text        NOT NULL,
            every_s     integer     NOT NULL CHECK (every_s BETWEEN 60 AND 86400),
            message_id  bigint,
            edited_at   timestamptz,
            created_at  timestamptz NOT NULL DEFAULT now()
        )"""
    )
    # netstats_plans' row (a type of its own, as quota_progress: a result column is named tz).
    op.execute(
        """
        CREATE TYPE netstats.plan_state AS (
            name text, period text, anchor timestamp, every integer, unit text,
            hosts text[], iface text, basis text, tz text,
            cycle_start timestamptz, cycle_end timestamptz,
            used_bytes numeric, adjust_bytes numeric, included_bytes numeric,
            used_ratio double precision, remaining_bytes numeric,
            projected_bytes numeric, projected_over_bytes numeric, runs_out_at timestamptz,
            daily_allowance_bytes numeric, thresholds integer[], thresholds_crossed integer[],
            price numeric, price_unit text, currency text, budget numeric,
            cost_so_far numeric, projected_cost numeric, provider text
        )"""
    )
    op.execute("GRANT CREATE ON SCHEMA netstats TO netstats_owner")
    for table in ("plan_adjustments", "plan_usage", "digests", "status_messages"):
        op.execute(f"ALTER TABLE netstats.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON netstats.{table} FROM {API_ROLES}")
        op.execute(f"ALTER TABLE netstats.{table} OWNER TO netstats_owner")
    op.execute("ALTER TYPE netstats.plan_state OWNER TO netstats_owner")
    op.execute("REVOKE CREATE ON SCHEMA netstats FROM netstats_owner")


def downgrade() -> None:
    # psycopg's own connection: function files hold % and several statements each
    raw = op.get_bind().connection.driver_connection
    assert raw is not None
    for function in NEW_FUNCTIONS:
        raw.execute(f"DROP FUNCTION IF EXISTS {function}")
        name = function.removeprefix("public.").split("(")[0]
        raw.execute("DELETE FROM netstats.function_files WHERE name = %s", [name])
    raw.execute("GRANT CREATE ON SCHEMA public, netstats TO netstats_owner")  # as OWN_FUNCTIONS
    for path in sorted(SET3.glob("*.sql")):
        sql = path.read_text()
        raw.execute(f"DROP FUNCTION IF EXISTS {_signature(path.stem)}")
        raw.execute(sql)
        raw.execute(
            "UPDATE netstats.function_files SET sha256 = %s WHERE name = %s",
            [hashlib.sha256(sql.encode()).hexdigest(), path.stem],
        )
        raw.execute(f"ALTER FUNCTION {_signature(path.stem)} OWNER TO netstats_owner")
    raw.execute("REVOKE CREATE ON SCHEMA public FROM netstats_owner")
    (plans,) = raw.execute("SELECT count(*) FROM netstats.quotas WHERE period IS NULL").fetchone()
    if plans:
        log.warning("removing %d plan(s): revision 0013 knows quotas only", plans)
    op.execute("DROP TYPE netstats.plan_state")
    op.execute("DROP TABLE netstats.plan_usage")
    op.execute("DROP TABLE netstats.plan_adjustments")
    op.execute("DELETE FROM netstats.alerts WHERE kind IN ('plan_budget', 'digest')")
    op.execute("DROP TABLE netstats.digests")
    op.execute("DROP TABLE netstats.status_messages")
    op.execute(
        "ALTER TABLE netstats.alerts DROP CONSTRAINT alerts_kind_check,"
        f" ADD CONSTRAINT alerts_kind_check CHECK (kind IN ({KINDS}))"
    )
    op.execute("DELETE FROM netstats.quotas WHERE period IS NULL")
    op.execute(
        """
        ALTER TABLE netstats.quotas
          DROP CONSTRAINT quotas_plan_cycle_check, DROP CONSTRAINT quotas_plan_price_check,
          DROP COLUMN anchor, DROP COLUMN every, DROP COLUMN unit, DROP COLUMN hosts,
          DROP COLUMN price, DROP COLUMN currency, DROP COLUMN price_unit, DROP COLUMN budget,
          DROP COLUMN provider, DROP COLUMN patterns, DROP COLUMN counted_from,
          DROP CONSTRAINT quotas_limit_bytes_check,
          ADD CONSTRAINT quotas_limit_bytes_check CHECK (limit_bytes > 0),
          ALTER COLUMN period SET NOT NULL,
          ALTER COLUMN limit_bytes SET NOT NULL"""
    )


def _signature(name: str) -> str:
    return {
        "netstats.raise_alerts": "netstats.raise_alerts(timestamptz)",
        "netstats_quota_set": "public.netstats_quota_set(text, bigint, text, text, text, text,"
        " integer[], text)",
        "netstats_ingest": "public.netstats_ingest(jsonb)",
        "netstats_quotas": "public.netstats_quotas(text, timestamptz)",
    }[name]
