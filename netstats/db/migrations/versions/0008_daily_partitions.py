"""Raw samples in daily partitions: retention drops whole days instead of deleting rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

- netstats.samples becomes a table partitioned by range of sampled_at, one partition a UTC
  day (netstats.samples_YYYYMMDD, [midnight, next midnight)), with the same columns,
  constraints (samples_plausible still NOT VALID: rows stored under 0001 stay as they are)
  and primary key. Retention (netstats.apply_retention) drops every partition all of whose
  day is older than raw_retention: no DELETE, no dead tuples, no vacuum behind it.
- The rows stored before this revision are not copied: the old table itself becomes the
  first partition, netstats.samples_until_YYYYMMDD, for every instant before the day after
  the upgrade (or after its newest sample). Attaching it reads it once to check that bound
  and moves nothing, so a fleet's hundreds of millions of rows upgrade in seconds, with no
  sample lost or written twice and no second copy on disk. Retention drops it like any other
  partition once all of it is older than raw_retention: until then (at most raw_retention
  and a day after the upgrade) it keeps its oldest samples a little longer than before.
- Partitions are made before they are needed (netstats.add_partitions): by retention, for
  today and the next two days (daily with pg_cron; hourly from `netstats up`; by `netstats
  maintain`); and by ingest itself for any day a batch needs that has none yet (a spool that
  was offline for weeks, a database without pg_cron), so no sample is ever refused for want
  of one. netstats_owner, whose functions create them, may create tables in the schema.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "e054b1329652bc502be8f8533bfe5a58510e6d3be8e0df22d637ff1ac2ecb7ba"

API_ROLES = "PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader"


def copy_checks(source: str) -> str:
    """PL/pgSQL that gives netstats.samples every CHECK constraint of `source` (an SQL
    expression naming a table), under its own name (a partition's must match), NOT VALID
    where it was: rows stored under 0001 were never checked against samples_plausible."""
    return f"""
          FOR c IN SELECT k.conname, pg_catalog.pg_get_constraintdef(k.oid) AS def, k.convalidated
                     FROM pg_catalog.pg_constraint k
                    WHERE k.conrelid = ({source})::regclass AND k.contype = 'c'
                    ORDER BY k.conname
          LOOP
            EXECUTE 'ALTER TABLE netstats.samples ADD CONSTRAINT '
              || pg_catalog.quote_ident(c.conname) || ' ' || c.def
              || CASE WHEN c.convalidated THEN '' ELSE ' NOT VALID' END;
          END LOOP;"""


def upgrade() -> None:
    # Ingest and retention create partitions as netstats_owner (SECURITY DEFINER); a new
    # owner needs it to take over the parent too.
    op.execute("GRANT CREATE ON SCHEMA netstats TO netstats_owner")
    # One block (offline SQL for Supabase's editor cannot read a name back), and no format()
    # (offline SQL doubles every %): the old table and its primary key take the legacy
    # partition's name, the new parent takes theirs.
    op.execute(
        f"""
        DO $$ DECLARE
          upto constant timestamptz := pg_catalog.date_bin('1 day',
            greatest(now(), (SELECT max(sampled_at) FROM netstats.samples)),
            '2000-01-01 00:00:00+00') + interval '1 day';
          legacy constant text := 'samples_until_'
            || pg_catalog.to_char(upto AT TIME ZONE 'UTC', 'YYYYMMDD');
          kept boolean;
          c record;
        BEGIN
          EXECUTE 'ALTER TABLE netstats.samples RENAME TO ' || pg_catalog.quote_ident(legacy);
          EXECUTE 'ALTER INDEX netstats.samples_pkey RENAME TO '
            || pg_catalog.quote_ident(legacy || '_pkey');
          EXECUTE 'CREATE TABLE netstats.samples (LIKE netstats.' || pg_catalog.quote_ident(legacy)
            || ' INCLUDING DEFAULTS) PARTITION BY RANGE (sampled_at)';
          {copy_checks("'netstats.' || legacy")}
          ALTER TABLE netstats.samples ADD PRIMARY KEY (host, iface, sampled_at);
          ALTER TABLE netstats.samples OWNER TO netstats_owner;
          ALTER TABLE netstats.samples ENABLE ROW LEVEL SECURITY;
          REVOKE ALL ON netstats.samples FROM {API_ROLES};
          -- Reads the old rows once to check the bound; moves none of them. A new database
          -- has none: every day of it gets a partition of its own.
          EXECUTE 'SELECT EXISTS (SELECT FROM netstats.' || pg_catalog.quote_ident(legacy) || ')'
            INTO kept;
          IF kept THEN
            EXECUTE 'ALTER TABLE netstats.samples ATTACH PARTITION netstats.'
              || pg_catalog.quote_ident(legacy) || ' FOR VALUES FROM (MINVALUE) TO ('
              || pg_catalog.quote_literal(upto) || ')';
          ELSE
            EXECUTE 'DROP TABLE netstats.' || pg_catalog.quote_ident(legacy);
          END IF;
        END $$"""
    )


def downgrade() -> None:
    # Back to one plain table: the only step that copies rows. Constraints come after the
    # rows, as they were: NOT VALID ones never checked the rows stored under 0001.
    op.execute("REVOKE CREATE ON SCHEMA netstats FROM netstats_owner")
    op.execute("ALTER TABLE netstats.samples RENAME TO samples_partitioned")
    op.execute("ALTER INDEX netstats.samples_pkey RENAME TO samples_partitioned_pkey")
    op.execute(
        "CREATE TABLE netstats.samples (LIKE netstats.samples_partitioned INCLUDING DEFAULTS)"
    )
    op.execute("INSERT INTO netstats.samples SELECT * FROM netstats.samples_partitioned")
    checks = copy_checks("'netstats.samples_partitioned'")
    op.execute(f"DO $$ DECLARE c record; BEGIN {checks} END $$")
    op.execute("DROP TABLE netstats.samples_partitioned")
    op.execute("ALTER TABLE netstats.samples ADD PRIMARY KEY (host, iface, sampled_at)")
    op.execute("ALTER TABLE netstats.samples OWNER TO netstats_owner")
    op.execute("ALTER TABLE netstats.samples ENABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE ALL ON netstats.samples FROM {API_ROLES}")
