"""One sample: the bytes an interface sent and received in the interval ending at sampled_at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The iface of a service's series (NETSTATS_SERVICES; README, The SQL API): Linux allows no
# ':' in an interface's name, so no interface is taken for one.
SERVICE = "service:"


@dataclass(frozen=True, slots=True)
class Sample:
    host: str
    iface: str
    sampled_at: datetime  # timezone-aware; the bytes belong to this instant
    interval_s: float
    bytes_sent: int
    bytes_recv: int

    def to_json(self) -> dict[str, Any]:
        """The element netstats_ingest() takes."""
        return {
            "host": self.host,
            "iface": self.iface,
            "sampled_at": self.sampled_at.isoformat(),
            "interval_s": self.interval_s,
            "bytes_sent": self.bytes_sent,
            "bytes_recv": self.bytes_recv,
        }
