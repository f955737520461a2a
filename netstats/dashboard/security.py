"""Who may see the dashboard: a strong token, slowed guessing, and no DNS rebinding."""

from __future__ import annotations

import hmac
import ipaddress
import math
import time
from collections import deque

from netstats.errors import ConfigError

MIN_TOKEN_CHARS = 32
MIN_TOKEN_BITS = 128
MAKE_TOKEN = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


def check_token(token: str) -> None:
    """Refuse a token a guesser could find: at least 32 characters and, counting only the
    characters it uses, at least 128 bits (so 'aaaa…' or 'abcdabcd…' fail)."""
    distinct = len(set(token))
    bits = len(token) * math.log2(distinct) if distinct > 1 else 0.0
    if len(token) < MIN_TOKEN_CHARS or bits < MIN_TOKEN_BITS:
        raise ConfigError(
            f"NETSTATS_DASHBOARD_TOKEN is too easy to guess (needs at least {MIN_TOKEN_CHARS} "
            f"varied characters); make one with: {MAKE_TOKEN}"
        )


def same_token(given: bytes, token: str) -> bool:
    """Constant-time over bytes: hmac.compare_digest refuses str with non-ASCII characters.
    HTTP headers arrive as Latin-1 text (their raw bytes); a form field as decoded text."""
    return hmac.compare_digest(given, token.encode("utf-8"))


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(header: str | None, bind: str) -> bool:
    """On a loopback bind, only requests addressed to this machine by name or address: a web
    page that points its own domain at 127.0.0.1 (DNS rebinding) sends its domain here."""
    if not header:
        return False
    name = header[1 : header.find("]")] if header.startswith("[") else header.split(":")[0]
    return loopback(name) or name == bind.strip("[]")


class Limiter:
    """At most `allowed` failures per client in any `window_s` seconds; past that the client
    waits. Memory is bounded: the least recent clients are forgotten first."""

    def __init__(self, allowed: int = 5, window_s: float = 60.0, clients: int = 10_000) -> None:
        self.allowed, self.window_s, self.clients = allowed, window_s, clients
        self.failures: dict[str, deque[float]] = {}

    def wait_s(self, client: str) -> float:
        """Seconds until `client` may try again; 0 when it may now."""
        times = self.failures.get(client)
        if not times:
            return 0.0
        now = time.monotonic()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if len(times) < self.allowed:
            return 0.0
        return self.window_s - (now - times[0])

    def failed(self, client: str) -> None:
        times = self.failures.pop(client, None) or deque()
        times.append(time.monotonic())
        self.failures[client] = times  # re-inserted: most recent last
        while len(self.failures) > self.clients:
            del self.failures[next(iter(self.failures))]
