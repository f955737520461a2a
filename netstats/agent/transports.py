"""The two ways a batch reaches netstats_ingest(): a Postgres DSN or Supabase's API.

Both raise the same two errors, so the uploader has one retry policy:
Refused when the database says the batch is invalid (SQLSTATE class 22, data exceptions: a
22023 message names the element), Unreachable for everything that may work if tried again
later.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Protocol

from netstats.agent import libpq
from netstats.config import Database
from netstats.errors import NetstatsError
from netstats.sample import Sample

log = logging.getLogger(__name__)

ELEMENT = re.compile(r"^samples\[(\d+)\]")


class Refused(NetstatsError):
    """The database refused the batch; `index` is the element at fault, when it says."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        match = ELEMENT.match(message)
        self.index = int(match.group(1)) if match else None


class Unreachable(NetstatsError):
    """The database could not be asked or did not answer: try again later."""


class Transport(Protocol):
    name: str

    def ingest(self, samples: list[Sample]) -> dict[str, int]: ...

    def close(self) -> None: ...


class PostgresTransport:
    """libpq through ctypes (netstats.agent.libpq), one unnamed statement per call: Supabase's
    transaction pooler (and PgBouncer in transaction mode) rejects named prepared ones."""

    name = "postgres"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._conn: libpq.Connection | None = None

    def ingest(self, samples: list[Sample]) -> dict[str, int]:
        body = json.dumps([s.to_json() for s in samples])
        try:
            if self._conn is None or self._conn.closed:
                self.close()
                self._conn = libpq.Connection(
                    self.url,
                    connect_timeout=str(max(2, int(self.timeout_s))),
                    options=f"-c statement_timeout={int(self.timeout_s * 1000)}",
                    # a peer that vanished mid-call fails the call instead of hanging it
                    tcp_user_timeout=str(int(self.timeout_s * 2000)),
                    fallback_application_name="netstats agent",
                )
            counts = self._conn.value("SELECT netstats_ingest($1::jsonb)", body)
        except libpq.QueryError as exc:
            if exc.sqlstate.startswith("22"):  # data exceptions: this batch, as it is, never
                raise Refused(exc.message) from exc
            self.close()
            raise Unreachable(str(exc)) from exc
        except libpq.ConnectionFailed as exc:
            self.close()
            raise Unreachable(str(exc) or "connection failed") from exc
        return {str(k): int(v) for k, v in counts.items()}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SupabaseTransport:
    """Supabase's API: `POST /rest/v1/rpc/netstats_ingest`, the request supabase-py's
    `.rpc()` makes, through httpx, the HTTP client supabase-py uses.

    Not through postgrest-py itself: it loads pydantic to build that one request, which put
    the agent at 46 MiB of resident memory instead of 36 (bench/agent.py). PostgREST's error
    body (code, message) is read the same way postgrest-py's APIError reads it. The uploader
    retries; a POST is never retried here."""

    name = "supabase"

    def __init__(self, url: str, key: str, timeout_s: float = 5.0) -> None:
        import httpx

        # one line per upload at INFO would drown the agent's own log
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.http = httpx.Client(
            base_url=f"{url.rstrip('/')}/rest/v1",
            timeout=timeout_s,
            headers={
                "apikey": key,
                "Authorization": f"Bearer {key}",
                "Accept": "application/json",
                "Content-Profile": "public",
            },
        )

    def ingest(self, samples: list[Sample]) -> dict[str, int]:
        import httpx

        try:
            response = self.http.post(
                "/rpc/netstats_ingest", json={"samples": [s.to_json() for s in samples]}
            )
        except httpx.HTTPError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_error:
            error = data if isinstance(data, dict) else {}
            code, message = str(error.get("code") or ""), error.get("message")
            if code.startswith("22"):  # data exceptions: this batch, as it is, never
                raise Refused(message or response.text)
            raise Unreachable(
                f"Supabase answered {code or response.status_code}: {message or response.reason_phrase}"
            )
        if not isinstance(data, dict):
            raise Unreachable(f"Supabase answered {data!r}, not the counts netstats_ingest returns")
        return {str(k): int(v) for k, v in data.items()}

    def close(self) -> None:
        self.http.close()


def connect(database: Database) -> Transport:
    """The Postgres transport when NETSTATS_DATABASE_URL is set, else Supabase's API."""
    if database.url:
        return PostgresTransport(database.url)
    assert database.supabase_url and database.supabase_key
    return SupabaseTransport(database.supabase_url, database.supabase_key)
