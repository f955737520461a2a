"""A stand-in for Supabase's API gateway and PostgREST, small enough to read in a minute.

It answers `POST /rest/v1/rpc/<function>` the way PostgREST does: the request's key picks the
role, the call runs in the real test database under `SET LOCAL ROLE`, named arguments come
from the JSON body, and errors come back as PostgREST-shaped JSON with its status codes.
supabase-py talks to it through its real HTTP stack.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from psycopg import sql

KEYS = {"service-role-key": "service_role", "agent-key": "netstats_agent", "anon-key": "anon"}
FUNCTION = re.compile(r"^/rest/v1/rpc/(netstats_[a-z_]+)$")
STATUS = {"22023": 400, "42883": 404, "42501": 403, "P0001": 400}


class Handler(BaseHTTPRequestHandler):
    dsn: str = ""
    up: threading.Event

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        match = FUNCTION.match(self.path.split("?")[0])
        role = KEYS.get(self.headers.get("apikey", ""))
        if match is None:
            return self._reply(404, {"code": "PGRST202", "message": f"no function at {self.path}"})
        if role is None:
            return self._reply(401, {"code": "PGRST301", "message": "invalid API key"})
        if not self.up.is_set():
            return self._reply(503, {"code": "PGRST001", "message": "database connection error"})
        params: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        # As PostgREST does: the JSON body becomes a record of the function's argument types
        # (a JSON array an int[], an ISO string a timestamptz, JSON itself a jsonb).
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
            for name, kind in _argument_types(self.dsn, match.group(1), list(params))
        )
        call = sql.SQL("LATERAL public.{}({}) AS r").format(
            sql.Identifier(match.group(1)),
            sql.SQL(", ").join(
                sql.SQL("{} => _.{}").format(sql.Identifier(name), sql.Identifier(name))
                for name in params
            ),
        )
        query = sql.SQL("SELECT r.* FROM json_to_record(%s::json) AS _({}), {}").format(
            columns, call
        )
        if not params:
            query = sql.SQL("SELECT r.* FROM (SELECT %s) AS _, {}").format(call)
        values = [json.dumps(params)]
        try:
            with psycopg.connect(self.dsn) as conn, conn.cursor() as cur:
                cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
                cur.execute(query, values)
                names = [c.name for c in cur.description or []]
                rows = cur.fetchall()
        except psycopg.Error as exc:
            diag = exc.diag
            code = diag.sqlstate or "08000"
            status = 401 if code == "42501" and role == "anon" else STATUS.get(code, 500)
            body = {
                "code": code,
                "message": diag.message_primary,
                "details": diag.message_detail,
                "hint": diag.message_hint,
            }
            return self._reply(status, body)
        if names == ["r"]:  # a scalar function: PostgREST returns the bare value
            return self._reply(200, rows[0][0])
        return self._reply(200, [dict(zip(names, row, strict=True)) for row in rows])

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body, default=_json_value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _argument_types(dsn: str, function: str, names: list[str]) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT p.proargnames[1:p.pronargs], oidvectortypes(p.proargtypes) FROM pg_proc p"
            " WHERE p.proname = %s AND p.pronamespace = 'public'::regnamespace",
            [function],
        ).fetchone()
    if row is None or not row[0]:
        return [(name, "text") for name in names]  # the call fails as PostgREST's would
    kinds = dict(zip(row[0], row[1].split(", "), strict=True))
    return [(name, kinds.get(name, "text")) for name in names]


def _json_value(value: Any) -> Any:
    """As PostgREST writes them: numeric as a JSON number, timestamps as ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


@contextmanager
def serve(dsn: str) -> Iterator[tuple[str, threading.Event]]:
    """Yields the base URL and an event that, cleared, makes the endpoint answer 503."""
    up = threading.Event()
    up.set()
    handler = type("BoundHandler", (Handler,), {"dsn": dsn, "up": up})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", up
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
