"""Every quota in one query, and one plan per total: functions only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

No table, row or setting changes: every total reads as before. The function files change:

- netstats.window_sums sums many windows in one query (arrays in, one row per window out):
  netstats_quotas reads all its quotas with one call instead of one netstats_totals each, so
  a claim pass that raises nothing no longer costs a total per quota.
- It keeps one generic plan (plan_cache_mode): PostgreSQL re-planned it on every call, and
  once it settled on a generic plan, that plan read every host's month rows to find one
  host's. A host's rows are now one index range, planned once.
- netstats.period_bounds is where periods are cut, for netstats_totals and netstats_quotas
  alike.
- netstats_quotas failed for every quota ("interval out of range") when one quota's limit
  was so far above its use that the date it would be reached did not fit in an interval.
- netstats.raise_alerts looks up a key before inserting it and builds an alert's facts only
  when it is new.

Functions are re-created from netstats/db/functions/ by checksum after the upgrade, as always.
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The function files this revision ships (netstats.db.functions_digest()).
FUNCTIONS_SHA256 = "dc1c0c3529ff97a40100841b7c38c4a1dc9abfcd39a95b665adcfdf793e26a81"


def upgrade() -> None:
    pass  # the function files are the change


def downgrade() -> None:
    # The functions stay as they are: 0003's schema is this one, and netstats never moves a
    # database's functions back (an older netstats refuses a database at 0004).
    pass
