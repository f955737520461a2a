"""Per-service traffic: series named 'service:<name>' count apart from their host's.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

A service's series (a systemd unit's or a cgroup's sockets, counted by the agent with
nftables) is stored like an interface's, under its host, with iface 'service:<name>': the
same rows, tiers, retention, exactness, quotas and analytics. Its bytes are a part of its
host's interface traffic, so no figure over several series adds them in: a host's totals,
every host's (the fleet series) and an interface's are what they were. They are read by
naming them (iface => 'service:mybot.service'), on one host or over every host; the
services of every host have a fleet series of their own (host '', iface 'service:'), which
the sums over every host need to find their cut buckets. Linux allows no ':' in an
interface's name, so no interface can be taken for a service.

No row changes; the functions are re-created from netstats/db/functions/ by checksum after
the upgrade, as always. A database holding a series named 'service:…' from before (not
written by any netstats agent) is refused, with the names: its bytes are in the host's and
the fleet's rows, and would count twice.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "ddb9b829e791a262a8039ff966b8f9095efd3a51e8040a9296cba6350391b667"


def upgrade() -> None:
    # (no % in migration SQL: offline SQL for Supabase's editor doubles every one)
    op.execute(
        """
        DO $$ DECLARE
          taken text := (SELECT string_agg(DISTINCT host || '/' || iface, ', ')
                           FROM netstats.rollups
                          WHERE tier = 4 AND host <> '' AND left(iface, 8) = 'service:');
        BEGIN
          IF taken IS NOT NULL THEN
            RAISE EXCEPTION USING MESSAGE = 'series named service:… are per-service series from revision 0010 on, and these hold interface traffic: '
              || taken || '; rename them (UPDATE netstats.samples and netstats.rollups) and upgrade again';
          END IF;
        END $$"""
    )


def downgrade() -> None:
    pass  # the functions stay as they are (an older netstats refuses a database at 0010)
