"""Top hosts and interfaces over every host sum whole buckets, read the shorter way round.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Functions only: no row, index or setting changes; every figure reads as before.

- netstats_top(by => 'host' | 'iface') over every host sums with a new netstats.series_sums:
  the window moved out to 15-minute boundaries is a set of whole buckets
  (netstats.bucket_ranges), each tier read from whichever side of an edge has fewer rows
  (a month cut on the 2nd: its row less its first day, not its 28 other days), one index range
  for all series per term; the two pieces under a quarter hour at the edges go through
  netstats.window_sums as before. 1,000 hosts x 2 interfaces, a billing cycle from the 3rd in
  Tokyo: 42 -> ~11 ms (BENCHMARKS.md). Exact: sums of samples and bytes, which is all a top
  list returns; the property tests compare it with the raw samples.
- A top list of one host's interfaces still walks that host's series (window_sums).

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "393bcf146e7a2d4e17c672e9584f0c97fcf103b8e5de300d384adfd02aae9816"


def upgrade() -> None:
    pass


def downgrade() -> None:
    # The functions stay as they are (netstats never moves a database's functions back; an
    # older netstats refuses a database at 0011).
    pass
