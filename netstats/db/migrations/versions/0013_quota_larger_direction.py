"""A quota may count the larger of sent and received: direction 'max'.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

Some providers bill the larger of a cycle's outbound and inbound traffic (issue 30's "basis";
Komari offers it too). A quota's direction gains 'max': the larger of the period's sent and
received bytes, each summed over the period first (not per sample). Every existing quota keeps
its direction and its figures.

Downgrade puts back the older check without validating it (NOT VALID): a quota set to 'max'
stays, for the newer netstats that will read it again (an older one counts it as 'total'),
and uninstalling (down to base) is never stopped by one.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE netstats.quotas DROP CONSTRAINT quotas_direction_check,"
        " ADD CONSTRAINT quotas_direction_check"
        " CHECK (direction IN ('sent', 'recv', 'total', 'max'))"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE netstats.quotas DROP CONSTRAINT quotas_direction_check,"
        " ADD CONSTRAINT quotas_direction_check"
        " CHECK (direction IN ('sent', 'recv', 'total')) NOT VALID"
    )
