"""The live dashboard: one page over the SQL functions, pushed by LISTEN netstats_samples.

JSON endpoints (all GET, all read through the SQL API with bind parameters):

    /api/totals?period=month&tz=Asia/Tokyo&host=&iface=   netstats_totals, one object
    /api/history?period=…&tz=…&host=&iface=               bars for the period: hourly for a
                                                          day, daily for a week or a month
    /api/live?host=&iface=                                bits/s per 10 s, last 15 minutes
    /api/hosts                                            netstats_hosts
    /api/stream?host=&iface=                              Server-Sent Events: /api/live's
                                                          answer again after each ingest
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import psycopg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from netstats.errors import ConfigError
from netstats.reader import PERIODS, PostgresReader, history_step

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
LIVE_WINDOW = timedelta(minutes=15)
LIVE_STEP = timedelta(seconds=10)
CLOCK_SKEW = timedelta(minutes=5)
KEEPALIVE_S = 15.0
COOKIE = "netstats_token"


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    url: str
    bind: str = "127.0.0.1"
    port: int = 8787
    token: str | None = None
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not _loopback(self.bind) and not self.token:
            raise ConfigError(
                f"--host {self.bind} would show your traffic to the network: set "
                "NETSTATS_DASHBOARD_TOKEN to a long random secret, or bind 127.0.0.1"
            )

    @classmethod
    def from_env(
        cls, bind: str = "127.0.0.1", port: int = 8787, env: Mapping[str, str] = os.environ
    ) -> DashboardSettings:
        url = env.get("NETSTATS_DATABASE_URL")
        if not url:
            raise ConfigError(
                "the dashboard needs NETSTATS_DATABASE_URL (for Supabase: its session pooler "
                "connection string, which keeps LISTEN working)"
            )
        return cls(
            url,
            bind,
            port,
            env.get("NETSTATS_DASHBOARD_TOKEN") or None,
            env.get("NETSTATS_TZ") or "UTC",
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BadRequest(Exception):
    pass


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name) or None
    if value is not None and len(value) > 255:
        raise BadRequest(f"{name}: expected at most 255 characters")
    return value


def _period(params: Mapping[str, str]) -> str:
    period = params.get("period") or "today"
    if period not in PERIODS:
        raise BadRequest(f"period: unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    return period


class Hub:
    """One LISTEN connection for the whole server, fanned out to every open page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queues: set[asyncio.Queue[str]] = set()

    async def run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute("LISTEN netstats_samples")
                    async for note in conn.notifies():
                        for queue in list(self.queues):
                            queue.put_nowait(note.payload)
            except psycopg.Error as exc:
                log.warning("LISTEN netstats_samples lost (%s); reconnecting in 2 s", exc)
                await asyncio.sleep(2)

    @contextlib.contextmanager
    def subscribe(self) -> Any:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.queues.add(queue)
        try:
            yield queue
        finally:
            self.queues.discard(queue)


def _touches(payload: str, host: str | None, iface: str | None) -> bool:
    series = json.loads(payload).get("series")
    if series is None or (host is None and iface is None):
        return True
    return any(host in (None, s["host"]) and iface in (None, s["iface"]) for s in series)


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def create_app(settings: DashboardSettings) -> Starlette:
    reader = PostgresReader(settings.url)
    hub = Hub(settings.url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await reader.open()
        listener = asyncio.create_task(hub.run())
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await reader.close()

    async def totals(request: Request) -> Response:
        q = request.query_params
        tz = q.get("tz") or settings.tz
        row = await reader.totals(_period(q), tz, _text(q, "host"), _text(q, "iface"))
        return JSONResponse({"tz": tz, **{k: _json(v) for k, v in asdict(row).items()}})

    async def history(request: Request) -> Response:
        q = request.query_params
        tz, host, iface = q.get("tz") or settings.tz, _text(q, "host"), _text(q, "iface")
        period = _period(q)
        row = await reader.totals(period, tz, host, iface)
        if row.period_start is None:
            return JSONResponse({"step_s": None, "buckets": []})
        end = row.period_end if period not in ("all",) else datetime.now(UTC)
        step = history_step(end - row.period_start)
        buckets = await reader.series(row.period_start, end, step, tz, host, iface)
        return JSONResponse(
            {
                "step_s": step.total_seconds(),
                "buckets": [{k: _json(v) for k, v in asdict(b).items()} for b in buckets],
            }
        )

    async def live_points(host: str | None, iface: str | None) -> dict[str, Any]:
        now = datetime.now(UTC)
        current = now - timedelta(seconds=now.timestamp() % LIVE_STEP.total_seconds())
        # An agent's clock may run a little ahead of this one (the database accepts up to
        # 5 minutes): its newest samples must still show, not fall past the window's end.
        buckets = await reader.series(
            current + LIVE_STEP - LIVE_WINDOW,
            current + LIVE_STEP + CLOCK_SKEW,
            LIVE_STEP,
            "UTC",
            host,
            iface,
        )
        seconds = LIVE_STEP.total_seconds()
        return {
            "step_s": seconds,
            "points": [
                [b.bucket_start.timestamp(), (b.bytes_sent + b.bytes_recv) * 8 / seconds]
                for b in buckets
                if b.samples
            ],
        }

    async def live(request: Request) -> Response:
        q = request.query_params
        return JSONResponse(await live_points(_text(q, "host"), _text(q, "iface")))

    async def stream(request: Request) -> Response:
        q = request.query_params
        host, iface = _text(q, "host"), _text(q, "iface")

        async def events() -> AsyncIterator[str]:
            with hub.subscribe() as queue:
                yield f"data: {json.dumps(await live_points(host, iface))}\n\n"
                while True:
                    try:
                        payload = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": still here\n\n"
                        continue
                    if _touches(payload, host, iface):
                        yield f"data: {json.dumps(await live_points(host, iface))}\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def hosts(request: Request) -> Response:
        return JSONResponse(
            [{k: _json(v) for k, v in asdict(s).items()} for s in await reader.hosts()]
        )

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def login_form(request: Request) -> Response:
        return HTMLResponse((STATIC / "login.html").read_text())

    async def login(request: Request) -> Response:
        # a plain urlencoded form: no need for a multipart parser
        given = parse_qs((await request.body()).decode()).get("token", [""])[0]
        if not settings.token or not hmac.compare_digest(given, settings.token):
            return RedirectResponse("/login?failed=1", status_code=303)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, given, httponly=True, samesite="strict")
        return response

    class TokenGate(BaseHTTPMiddleware):
        """With NETSTATS_DASHBOARD_TOKEN set, every request needs it: a bearer header, or the
        cookie the login form sets."""

        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if settings.token and request.url.path != "/login":
                given = request.cookies.get(COOKIE, "")
                header = request.headers.get("authorization", "")
                if header.lower().startswith("bearer "):
                    given = header[7:]
                if not hmac.compare_digest(given, settings.token):
                    if request.url.path == "/":
                        return RedirectResponse("/login", status_code=303)
                    return JSONResponse(
                        {"error": "a token is required: Authorization: Bearer …"}, 401
                    )
            try:
                return await call_next(request)
            except BadRequest as exc:
                return JSONResponse({"error": str(exc)}, 400)
            except psycopg.errors.InvalidParameterValue as exc:
                return JSONResponse({"error": exc.diag.message_primary}, 400)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/api/totals", totals),
            Route("/api/history", history),
            Route("/api/live", live),
            Route("/api/stream", stream),
            Route("/api/hosts", hosts),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(TokenGate)],
        lifespan=lifespan,
    )


def serve(settings: DashboardSettings) -> None:
    import uvicorn

    log.info("dashboard on http://%s:%d/", settings.bind, settings.port)
    uvicorn.run(
        create_app(settings),
        host=settings.bind,
        port=settings.port,
        timeout_graceful_shutdown=2,
        log_level="info",
    )
