"""Tests that read "today" at the real now (the bot, the live page) pick a zone where today
already holds their data, so that they pass at any hour CI runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Nine hours apart: when one is in its first hours or last minutes of a day, the other is not.
CANDIDATES = ("Asia/Tokyo", "UTC")


def roomy_zone(
    since_midnight: timedelta = timedelta(hours=3, minutes=30),
    before_midnight: timedelta = timedelta(minutes=45),
    now: datetime | None = None,
) -> str:
    """The first candidate zone whose current day began at least `since_midnight` ago and
    ends no sooner than `before_midnight` from now."""
    now = now or datetime.now(UTC)
    for name in CANDIDATES:
        local = now.astimezone(ZoneInfo(name))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = local.replace(tzinfo=None) - midnight.replace(tzinfo=None)
        if since_midnight <= elapsed <= timedelta(days=1) - before_midnight:
            return name
    raise AssertionError(f"no zone among {CANDIDATES} has room at {now}")


# One choice per test run: a run lasts minutes, well inside the margins.
TZ = roomy_zone()


def noon_zone(now: datetime) -> str:
    """A zone where it is about noon now: a day quota then is half over whatever the hour
    CI runs at, and the last ten minutes' samples all fall into it."""
    east = 12 - now.hour  # hours east of UTC; Etc/GMT's signs are POSIX's, reversed
    return f"Etc/GMT{'-' if east >= 0 else '+'}{abs(east)}"
