"""A fifth rollup tier of 5 minutes, for 95th-percentile billing after raw samples are gone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

- netstats.rollups takes tier 0: 5-minute buckets (UTC, like every tier; every zone's offset
  is a multiple of 5 minutes too). Ingest maintains it with the others, in the same
  transaction. Totals and series open a cut 15-minute bucket into its 5-minute ones and only
  a cut 5-minute bucket into raw samples.
- It is built here from the raw samples still retained. Where retention had already removed
  them there is none, and a 15-minute bucket whose 5-minute rows do not hold all its samples
  is opened into raw samples as before (the walk compares sample counts, so no setting
  records where the tier begins). Percentiles count the 5-minute buckets there are.

- The fleet series: rows of every tier with host and iface '' (no sample may have them)
  hold every series added up, kept by ingest with the others. A total over all hosts walks
  it alone instead of each host's rows, so its cost no longer grows with the number of
  hosts; only a cut 5-minute bucket of it opens into the raw samples of every series.
  Built here from the rollups of every series, tier by tier.

Every total reads as before: the new rows hold the same samples as the older ones.
"""

import logging

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "8c7e17020bd800322ad5e2378e2f114e88acc7bc5b8f227bab35482e4474d09a"

log = logging.getLogger("netstats.db")


def upgrade() -> None:
    op.execute("ALTER TABLE netstats.rollups DROP CONSTRAINT rollups_tier_check")
    op.execute(
        "ALTER TABLE netstats.rollups ADD CONSTRAINT rollups_tier_check CHECK (tier BETWEEN 0 AND 4)"
    )
    log.warning("building the 5-minute rollup tier from the retained raw samples …")
    op.execute(
        """
        INSERT INTO netstats.rollups
        SELECT 0, host, iface, date_bin('5 minutes', sampled_at, '2000-01-01 00:00:00+00'),
               count(*), sum(bytes_sent), sum(bytes_recv), sum(interval_s),
               min(sampled_at), max(sampled_at), min(sampled_at - interval_s * interval '1 second'),
               max((bytes_sent + bytes_recv) / interval_s)
          FROM netstats.samples
         GROUP BY 2, 3, 4"""
    )
    log.warning("adding up every host into the fleet series …")
    op.execute(FLEET)


# Every tier of the fleet series from the same tier of every series (bench/datasets.py, too)
FLEET = """
INSERT INTO netstats.rollups
SELECT tier, '', '', bucket_start, sum(samples), sum(bytes_sent), sum(bytes_recv), sum(seconds),
       min(first_at), max(last_at), min(covers_from), max(peak_bytes_per_s)
  FROM netstats.rollups
 WHERE host <> ''
 GROUP BY tier, bucket_start
"""


def downgrade() -> None:
    op.execute("DELETE FROM netstats.rollups WHERE tier = 0 OR host = ''")
    op.execute("ALTER TABLE netstats.rollups DROP CONSTRAINT rollups_tier_check")
    op.execute(
        "ALTER TABLE netstats.rollups ADD CONSTRAINT rollups_tier_check CHECK (tier BETWEEN 1 AND 4)"
    )
