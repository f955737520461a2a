"""Percentiles read whole 5-minute buckets directly; ingest cuts its buckets inline.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

No table, row or setting changes: every figure reads as before. The function files change:

- netstats_percentile reads the 5-minute buckets wholly inside the period straight from the
  tier (one index range per series, added up per bucket in double precision: exact below
  2^53 bytes a bucket) and asks netstats.window_sums for the two buckets the period's edges
  may cut, the code every total uses to cut a bucket. It kept every row of the month in a
  materialized list and checked each for a cut; a month of one host took 26 ms, now 12.
- netstats_ingest computes the coarser tiers' bucket starts inline instead of calling
  netstats.bucket_start (a PL/pgSQL call per bucket and tier: ~4% of a batch of 500).

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "fc30be00ed9b7ee9f6efa8874390c08cb569c8aa52be3ff03e696b35f1cfeb06"


def upgrade() -> None:
    pass  # the function files are the change


def downgrade() -> None:
    # The functions stay as they are: 0005's schema is this one, and netstats never moves a
    # database's functions back (an older netstats refuses a database at 0006).
    pass
