"""The 5-minute tier in a partition of its own whose index holds the bytes: a month's
percentile of one host reads the index alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

- netstats.rollups becomes a table partitioned by list of tier: netstats.rollups_5m holds
  tier 0, netstats.rollups_coarse tiers 1 to 4. Every query names netstats.rollups as before
  and reads only the partition its tier is in.
- rollups_5m's primary key INCLUDEs bytes_sent and bytes_recv, so netstats_percentile reads
  a period's 5-minute buckets from the index without visiting the table: ingest writes every
  series' rows side by side, and one host's month (17,280 rows on the 100-host set) lay on
  17,394 table pages; it took 23.6 ms, now 9.9 (target 15). A covering index on the old table
  cost every rollup update its HOT update (ingest 1.66x -> 1.73x a plain insert, target 1.7):
  in a partition of their own, only the 5-minute rows pay it (ingest 1.68x). Autovacuum
  visits rollups_5m every 10,000 new rows, so that the index stays enough on its own
  (index-only scans skip the table only on pages vacuum marked all-visible).
- rollups_coarse keeps the primary key and the index by time (tier, bucket_start) of 0006.
- The parent has no primary key of its own: each partition's key is unique on (tier, host,
  iface, bucket_start), and the tier picks the partition, so the pair is unique all the same;
  ingest merges into each partition by its own key (a parent's key would be a second index
  on rollups_5m, written for every row).
- The rows are copied into the partitions (tier 0 in series order); the copy is checked
  row for row (count and a checksum) before the old table is dropped. Rollups are a small
  part of a database (raw samples are not moved): a year of one host with two interfaces is
  about 450,000 rows, seconds.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

import logging

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "0ed23ef6b2ecb903810435117e1b1f3b4696f344995ea39f71416d1bd5541d84"

API_ROLES = "PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader"
COLUMNS = """
    tier              smallint         NOT NULL,
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
    CONSTRAINT rollups_tier_check CHECK (tier BETWEEN 0 AND 4)"""
# The copy must hold the same rows: refused otherwise, before anything is dropped.
SAME_ROWS = """
DO $$ BEGIN
  IF (SELECT (count(*), sum(hashtext(r::text)::numeric)) FROM netstats.{old} r)
     IS DISTINCT FROM (SELECT (count(*), sum(hashtext(r::text)::numeric)) FROM netstats.{new} r)
  THEN
    RAISE EXCEPTION 'netstats.{new} does not hold the rows of netstats.{old}; nothing was changed';
  END IF;
END $$"""

log = logging.getLogger("netstats.db")


def finish(*tables: str) -> None:
    for table in tables:
        op.execute(f"ALTER TABLE netstats.{table} OWNER TO netstats_owner")
        op.execute(f"ALTER TABLE netstats.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON netstats.{table} FROM {API_ROLES}")


def upgrade() -> None:
    op.execute("ALTER TABLE netstats.rollups RENAME TO rollups_unpartitioned")
    op.execute("DROP INDEX netstats.rollups_by_time")  # its name goes to rollups_coarse's
    op.execute(f"CREATE TABLE netstats.rollups ({COLUMNS}) PARTITION BY LIST (tier)")
    op.execute(
        """
        CREATE TABLE netstats.rollups_5m PARTITION OF netstats.rollups (
          PRIMARY KEY (tier, host, iface, bucket_start) INCLUDE (bytes_sent, bytes_recv)
        ) FOR VALUES IN (0)
          WITH (autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000)"""
    )
    op.execute(
        """
        CREATE TABLE netstats.rollups_coarse PARTITION OF netstats.rollups (
          PRIMARY KEY (tier, host, iface, bucket_start)
        ) FOR VALUES IN (1, 2, 3, 4)"""
    )
    op.execute("CREATE INDEX rollups_by_time ON netstats.rollups_coarse (tier, bucket_start)")
    log.warning("moving the rollups into a partition per tier group …")
    op.execute(
        "INSERT INTO netstats.rollups SELECT * FROM netstats.rollups_unpartitioned"
        " ORDER BY tier, host, iface, bucket_start"
    )
    op.execute(SAME_ROWS.format(old="rollups_unpartitioned", new="rollups"))
    op.execute("DROP TABLE netstats.rollups_unpartitioned")
    finish("rollups", "rollups_5m", "rollups_coarse")


def downgrade() -> None:
    op.execute("ALTER TABLE netstats.rollups RENAME TO rollups_partitioned")
    op.execute(f"CREATE TABLE netstats.rollups ({COLUMNS})")
    op.execute("INSERT INTO netstats.rollups SELECT * FROM netstats.rollups_partitioned")
    op.execute(SAME_ROWS.format(old="rollups_partitioned", new="rollups"))
    op.execute("DROP TABLE netstats.rollups_partitioned")
    op.execute("ALTER TABLE netstats.rollups ADD PRIMARY KEY (tier, host, iface, bucket_start)")
    op.execute(
        "CREATE INDEX rollups_by_time ON netstats.rollups (tier, bucket_start) WHERE tier > 0"
    )
    finish("rollups")
