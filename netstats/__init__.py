"""netstats: exact network-traffic accounting for Discord-bot hosts, summed inside Postgres."""

__version__ = "0.2.0"  # CHANGELOG.md says what each version brought
