"""A window of one host, or of the fleet series, no longer starts the every-host query.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Functions only: no row, index or setting changes; every figure reads as before.

- netstats.window_sums runs two queries, each only when a window needs it: the walk (windows
  of one host, or of the fleet series: every total) and the every-host query (top hosts and
  interfaces). One query held both, and starting the every-host part's plan cost each total
  ~60 us of ~220 even when no window used it. A month of one host: 0.22 -> 0.15 ms; of every
  host (the fleet series): 0.20 -> 0.13 ms (the function alone, 100-host set).
- The cut leaves of both queries are summed by a new netstats.leaf_sums (their raw samples, or
  the whole leaf where retention removed them), called only when a window cuts one.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "8cf8761ac4869435db7a4d633bf3d3129c9532b0b354aa4310e1408f29f47cde"


def upgrade() -> None:
    pass


def downgrade() -> None:
    # The functions stay as they are (netstats never moves a database's functions back; an
    # older netstats refuses a database at 0007).
    pass
