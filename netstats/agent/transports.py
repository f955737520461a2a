"""The two ways a batch reaches netstats_ingest(): a Postgres DSN or Supabase's API.

Both raise the same two errors, so the uploader has one retry policy:
Refused when the database says the batch is invalid (SQLSTATE class 22, data exceptions: a
22023 message names the element), Unreachable for everything that may work if tried again
later.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol, cast

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
    """psycopg 3; prepare_threshold=None because Supabase's transaction pooler (and
    PgBouncer in transaction mode) rejects prepared statements."""

    name = "postgres"

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._conn: Any = None

    def ingest(self, samples: list[Sample]) -> dict[str, int]:
        import psycopg
        from psycopg.types.json import Jsonb

        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    self.url,
                    autocommit=True,
                    prepare_threshold=None,
                    connect_timeout=max(1, int(self.timeout_s)),
                    options=f"-c statement_timeout={int(self.timeout_s * 1000)}",
                )
            row = self._conn.execute(
                "SELECT netstats_ingest(%s)", [Jsonb([s.to_json() for s in samples])]
            ).fetchone()
        except psycopg.DataError as exc:  # SQLSTATE class 22: this batch, as it is, never
            raise Refused(exc.diag.message_primary or str(exc)) from exc
        except psycopg.Error as exc:
            self.close()
            raise Unreachable(f"{type(exc).__name__}: {exc}".strip()) from exc
        return dict(row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SupabaseTransport:
    """Supabase's API through postgrest-py, the client that supabase-py's `.rpc()` calls.

    Building the whole supabase-py client would also load its auth, storage, realtime and
    functions clients, which the agent never uses: 16 MB more resident memory, measured in
    bench/agent.py. supabase-py never retries a POST; the uploader does."""

    name = "supabase"

    def __init__(self, url: str, key: str, timeout_s: float = 5.0) -> None:
        import httpx
        from postgrest import SyncPostgrestClient

        self.http = httpx.Client(timeout=timeout_s)
        self.client = SyncPostgrestClient(
            f"{url.rstrip('/')}/rest/v1",
            headers={"apikey": key, "Authorization": f"Bearer {key}"},
            http_client=self.http,
        )

    def ingest(self, samples: list[Sample]) -> dict[str, int]:
        import httpx
        from postgrest.exceptions import APIError

        try:
            response = self.client.rpc(
                # postgrest-py types params as str -> str; any JSON is sent as it is
                "netstats_ingest",
                cast(Any, {"samples": [s.to_json() for s in samples]}),
            ).execute()
        except APIError as exc:
            if (exc.code or "").startswith("22"):
                raise Refused(exc.message or str(exc)) from exc
            raise Unreachable(f"Supabase answered {exc.code}: {exc.message}") from exc
        except httpx.HTTPError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        data = response.data
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
