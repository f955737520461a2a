"""A window of one host, or of the fleet series, no longer starts the every-host query.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Functions only: no row, index or setting changes; every figure reads as before.

- netstats.window_sums runs two queries, each only when a window needs it: the walk (windows
  of one host, or of the fleet series: every total) and the every-host query (top hosts and
  interfaces). One query held both, and starting the every-host part's plan cost each total
  ~70 us of ~220 even when no window used it. The function alone, a Tokyo month, 100-host
  set: one host 0.23 -> 0.15 ms, every host (the fleet series) 0.20 -> 0.14 ms; top hosts
  unchanged (BENCHMARKS.md, "Measured by hand beside the run above").
- The cut leaves of both queries are summed by a new netstats.leaf_sums (their raw samples, or
  the whole leaf where retention removed them), whose query runs only when a window cuts one.
- window_sums groups by hashing (enable_sort off): planned for the rows a walk finds, the
  every-host query would sort ~20,000 rows at 1,000 hosts first (top hosts 22 ms, not 15).

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "69c26b8d177bc04a91c9cddf107e9c9a71a5c998161d57f51d4293c02d997ff2"


def upgrade() -> None:
    pass


def downgrade() -> None:
    # The functions stay as they are (netstats never moves a database's functions back; an
    # older netstats refuses a database at 0007).
    pass
