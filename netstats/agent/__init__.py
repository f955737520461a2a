"""The agent: samples interface counters, keeps exact deltas in a durable spool, uploads them.

    2026-11-28 10:00:00 INFO netstats.agent bot-1: monitoring eth0, ens3 every 10 s, uploading every 60 s (spool /var/lib/netstats/spool.sqlite3)
    2026-11-28 10:00:00 INFO netstats.agent first run on this machine: counters recorded as the baseline
    2026-11-28 10:01:00 INFO netstats.agent uploaded 12 samples (0 queued)  (later ones: DEBUG)
    2026-11-28 10:03:20 WARNING netstats.agent database unreachable (connection to server at "db.example.com" (10.0.0.5), port 5432 failed: Connection refused); 38 samples queued, next try in 7.3 s
    2026-11-28 10:04:00 INFO netstats.agent uploaded 42 samples (0 queued)
    2026-11-28 10:04:10 WARNING netstats.agent quarantined ens3 sample of 2026-11-28 10:04:10+00:00: samples[1].sampled_at: … more than 5 minutes after the database clock …

Thin on purpose: it never aggregates, keeps the counter state in memory (the spool only
writes it, with each tick's samples), and uploads every NETSTATS_UPLOAD_EVERY seconds, not
every tick. Use `Agent.run()` in a process of its own
(`netstats agent`), or `await Agent.run_async(stop)` inside a bot's event loop.

    daemon.py    the Agent: ticks, spool, uploads, backoff, quarantine
    counters.py  reads the kernel's counters (psutil, netlink); deltas.py: the rules
    spool.py     the durable SQLite queue; transports.py, libpq.py: the two uploads
    services.py  per-service counters through nftables
"""

from netstats.agent.daemon import Agent

__all__ = ["Agent"]
