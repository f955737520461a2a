"""Sums over every host read each edge once for all hosts; percentiles read whole buckets.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

No row or setting changes: every figure reads as before.

- An index on netstats.rollups (tier, bucket_start), tiers 1 to 4: a window over every host
  (the top hosts and interfaces) looks up the buckets holding its edges once for all hosts
  instead of walking each host's tiers: top hosts over 1,000 hosts for a month took 64 ms,
  now 16 (netstats.window_sums; windows of one host or the fleet series still walk theirs).
  Ingest adds to the index only when a 15-minute or coarser bucket opens.
- Top days and hours over all hosts walk the fleet series (netstats.bucket_sums takes host
  '' as window_sums does): a month's top days over 1,000 hosts took 3.7 s, now 1.4 ms.
- netstats_percentile reads the 5-minute buckets wholly inside the period straight from the
  tier (one index range per series, added up per bucket in double precision: exact below
  2^53 bytes a bucket) and asks netstats.window_sums for the two buckets the period's edges
  may cut, the code every total uses to cut a bucket. It kept every row of the month in a
  materialized list and checked each for a cut; a month of one host took 26 ms, now 12.
- netstats_ingest checks a batch's shape with one regular expression over the batch as
  jsonb prints it (the six fields, their JSON types, sampled_at in RFC 3339) and reads it with
  jsonb_to_recordset, instead of six checks and six lookups per sample; a batch that does not
  match is explained by netstats.check_samples as before. It computes the coarser tiers'
  bucket starts inline instead of calling netstats.bucket_start once per bucket and tier.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "25cc7bf19f1d455768ff8f6d87a02ae2397e61d21a8f851f38c9c5a007d64bac"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX rollups_by_time ON netstats.rollups (tier, bucket_start) WHERE tier > 0"
    )


def downgrade() -> None:
    # The functions stay as they are (netstats never moves a database's functions back; an
    # older netstats refuses a database at 0006). 0005's window_sums walks every host.
    op.execute("DROP INDEX netstats.rollups_by_time")
