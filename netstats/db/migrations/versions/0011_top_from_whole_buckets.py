"""Top hosts from whole buckets, fleet totals count series by hashing, ingest keeps batch order.

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
- netstats_totals counts the series of a total over every host (for its coverage) by hashing:
  its generic plan sorted them (1,000 hosts, a year: 10.5 -> 5.0 ms).
- netstats_ingest stores a batch in the order sent instead of sorting it first (the agent
  sends batches sorted; the sort was ~3% of a call), and the batch's shape check matches a
  JSON string as "[^"\\]*(\\.[^"\\]*)*" (the same strings, a fifth of the time). With
  both, ingest is back at 0007's ratio to a plain insert of the same rows (1.71x vs 1.73x,
  the same batches into both databases in turn; BENCHMARKS.md), from 1.80x at 0010.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "6d086658c4ae0f722cec6ecb70a7d0c0422158da164bf40eeb6f389b1529da0f"


def upgrade() -> None:
    pass


def downgrade() -> None:
    # The functions stay as they are (netstats never moves a database's functions back; an
    # older netstats refuses a database at 0011).
    pass
