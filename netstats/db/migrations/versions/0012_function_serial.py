"""Function files carry a serial of their own: a revision is for schema changes only.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Until 0011, a change to any function file came with a revision of its own (seven of eleven
revisions were nothing else), so that an older netstats, which does not know the newer
revision, could never put its older SQL back. Now the set of function files has a serial
(netstats.db.FUNCTION_SETS, with each set's digest), recorded per row here, and migrating
refuses to apply a set older than the one the database holds, whatever the revision. Rows
applied before this revision get serial 0: any set may replace them, as before.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE netstats.function_files ADD COLUMN serial integer NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE netstats.function_files DROP COLUMN serial")
