"""netstats: exact network-traffic accounting for Discord-bot hosts, summed inside Postgres."""

__version__ = "0.1.0"
