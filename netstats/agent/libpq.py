"""The few libpq calls the agent makes, through ctypes: connect, one parameterised query.

psycopg costs the agent 24 MiB of resident memory and about 1.7 ms of CPU per upload
(it loads asyncio, its type adapters and importlib.metadata; bench/agent.py measured it),
to make one call. libpq itself is what psycopg drives underneath: the same connection
strings, environment variables (PGPASSWORD, PGSSLMODE, ...), TLS and authentication. The
libpq that psycopg-binary ships is used when it is installed (it is a dependency of
netstats), else the system's.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

from netstats.errors import ConfigError

OK = 0  # CONNECTION_OK
TUPLES_OK = 2  # PGRES_TUPLES_OK
SQLSTATE = ord("C")  # PG_DIAG_SQLSTATE
MESSAGE = ord("M")  # PG_DIAG_MESSAGE_PRIMARY
SYSTEM_NAMES = ("libpq.so.5", "libpq.5.dylib", "libpq.dll")


class QueryError(Exception):
    """The server answered with an error; `sqlstate` is its five-character code."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(f"{sqlstate}: {message}")
        self.sqlstate, self.message = sqlstate, message


class ConnectionFailed(Exception):
    """No connection, or it broke: libpq's own message."""


def _candidates() -> list[str]:
    found: list[str] = []
    spec = importlib.util.find_spec("psycopg_binary")  # finds it without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        package = Path(folder)
        found += [
            str(p)
            for pattern in ("../psycopg_binary.libs/libpq*.so*", ".dylibs/libpq*.dylib")
            for p in sorted(package.glob(pattern))
        ]
    return found + list(SYSTEM_NAMES)


@functools.cache
def load() -> ctypes.CDLL:
    for candidate in _candidates():
        try:
            lib = ctypes.CDLL(candidate)
        except OSError:
            continue
        break
    else:
        raise ConfigError(
            "the Postgres transport needs libpq: `pip install 'psycopg[binary]'`, or install "
            "your system's libpq (Debian/Ubuntu: apt install libpq5)"
        )
    p, text, num = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    for name, restype, argtypes in (
        ("PQconnectdbParams", p, [ctypes.POINTER(text), ctypes.POINTER(text), num]),
        ("PQstatus", num, [p]),
        ("PQerrorMessage", text, [p]),
        ("PQfinish", None, [p]),
        ("PQexecParams", p, [p, text, num, p, ctypes.POINTER(text), p, p, num]),
        ("PQresultStatus", num, [p]),
        ("PQresultErrorField", text, [p, num]),
        ("PQgetvalue", text, [p, num, num]),
        ("PQntuples", num, [p]),
        ("PQclear", None, [p]),
    ):
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


class Connection:
    """One blocking connection. `options` override what the URL says (as psycopg's keyword
    arguments do); ctypes releases the GIL around every call, so a bot's event loop runs on
    while this waits in a thread."""

    def __init__(self, url: str, **options: str) -> None:
        self.lib = load()
        keys = ["dbname", *options]
        values = [url, *options.values()]
        array = ctypes.c_char_p * (len(keys) + 1)
        self.conn = self.lib.PQconnectdbParams(
            array(*[k.encode() for k in keys], None),
            array(*[v.encode() for v in values], None),
            1,  # expand_dbname: the URL is a full connection string
        )
        if self.lib.PQstatus(self.conn) != OK:
            message = self._error()
            self.close()
            raise ConnectionFailed(message)

    def _error(self) -> str:
        raw = self.lib.PQerrorMessage(self.conn) if self.conn else None
        # libpq's messages run over several lines; a log line is one
        return " ".join((raw or b"out of memory").decode(errors="replace").split())

    @property
    def closed(self) -> bool:
        return not self.conn or self.lib.PQstatus(self.conn) != OK

    def value(self, sql: str, parameter: str) -> Any:
        """`sql` with $1 = `parameter` (text); its one row's first column, parsed as JSON."""
        if not self.conn:
            raise ConnectionFailed("connection closed")
        values = (ctypes.c_char_p * 1)(parameter.encode())
        result = self.lib.PQexecParams(self.conn, sql.encode(), 1, None, values, None, None, 0)
        if not result:
            raise ConnectionFailed(self._error())
        try:
            if self.lib.PQresultStatus(result) != TUPLES_OK or self.lib.PQntuples(result) != 1:
                sqlstate = self.lib.PQresultErrorField(result, SQLSTATE)
                if sqlstate is None:  # no answer from the server: the connection broke
                    raise ConnectionFailed(self._error())
                message = self.lib.PQresultErrorField(result, MESSAGE) or b""
                raise QueryError(sqlstate.decode(), message.decode(errors="replace"))
            return json.loads(self.lib.PQgetvalue(result, 0, 0))
        finally:
            self.lib.PQclear(result)

    def close(self) -> None:
        if self.conn:
            self.lib.PQfinish(self.conn)
            self.conn = None
