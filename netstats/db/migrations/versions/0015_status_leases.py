"""A status message is claimed before it is posted, and its failures are kept; an alert is
claimed by the deliverer that posts where it goes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Several bots on one database (or two copies of one bot while it restarts) each looked for
status messages that were due and edited them: two could post the same channel's first
message twice. Now a keeper claims the due messages for a while (netstats_status_claim,
FOR UPDATE SKIP LOCKED, as alerts are claimed), so each edit is made by one. A failure is
kept (failures, last_error) for `netstats alerts status` and `/netstats-status list`, and
the message waits its own pace before the next try instead of hammering Discord.

A digest set for a channel of its own (`/netstats-digest add`) is the bot's to post there:
netstats_alerts_claim_routed claims by destination, so a webhook deliverer leaves such alerts
alone, and a bot without a default channel (NETSTATS_ALERT_CHANNEL) still posts them;
netstats_alerts_claim (DESIGN.md's, unchanged for its callers) claims every alert through it.
(No table change for this: the channel is in the alert's facts.)

- netstats.status_messages: claimed_until, failures, last_error (every row keeps its figures
  and its message).
- Function set 5 also brings netstats_series_totals (/metrics) and netstats_fleet (the
  fleet overview), issue 32: no table change.

Downgrade drops the columns and the two new functions and puts back the four function files
this revision's set changed (0015_set4/, byte for byte those of function set 4).
"""

import hashlib
from pathlib import Path

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SET4 = Path(__file__).with_name("0015_set4")
NEW_FUNCTIONS = (
    "public.netstats_alerts_claim_routed(boolean, integer, timestamptz)",
    "public.netstats_status_claim(integer)",
    "public.netstats_status_failed(bigint, text)",
    "public.netstats_series_totals(text, text, text)",
    "public.netstats_fleet(text)",
)
CHANGED = (  # each name is one function: dropped and owned by name
    "netstats_alerts_claim",
    "netstats_status_messages",
    "netstats_status_posted",
    "netstats_status_set",
)


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE netstats.status_messages
          ADD COLUMN claimed_until timestamptz,
          ADD COLUMN failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
          ADD COLUMN last_error text"""
    )


def downgrade() -> None:
    # psycopg's own connection: function files hold % and several statements each
    raw = op.get_bind().connection.driver_connection
    assert raw is not None
    for function in NEW_FUNCTIONS:
        raw.execute(f"DROP FUNCTION IF EXISTS {function}")
        name = function.removeprefix("public.").split("(")[0]
        raw.execute("DELETE FROM netstats.function_files WHERE name = %s", [name])
    raw.execute("GRANT CREATE ON SCHEMA public TO netstats_owner")  # as OWN_FUNCTIONS
    for name in CHANGED:
        sql = (SET4 / f"{name}.sql").read_text()
        raw.execute(f"DROP FUNCTION IF EXISTS public.{name}")
        raw.execute(sql)
        raw.execute(
            "UPDATE netstats.function_files SET sha256 = %s WHERE name = %s",
            [hashlib.sha256(sql.encode()).hexdigest(), name],
        )
        raw.execute(f"ALTER FUNCTION public.{name} OWNER TO netstats_owner")
    raw.execute("REVOKE CREATE ON SCHEMA public FROM netstats_owner")
    op.execute(
        "ALTER TABLE netstats.status_messages"
        " DROP COLUMN claimed_until, DROP COLUMN failures, DROP COLUMN last_error"
    )
