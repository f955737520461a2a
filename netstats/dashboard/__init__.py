"""The live dashboard: one page over the SQL functions, pushed by LISTEN netstats_samples.

JSON endpoints (all GET, all read through the SQL API with bind parameters):

    /api/totals?period=month&tz=Asia/Tokyo&host=&iface=   netstats_totals, one object
    /api/history?period=…&tz=…&host=&iface=               bars for the period: hourly for a
                                                          day, daily for a week or a month
    /api/live?host=&iface=                                bits/s per 10 s, last 15 minutes
                                                          (15 uploads when agents upload
                                                          less often: NETSTATS_UPLOAD_EVERY)
    /api/percentile?period=…&tz=…&host=&iface=            netstats_percentile (95th), with
                                                          NETSTATS_COMMIT_MBITS as the commit
    /api/top?period=…&tz=…&host=&iface=&by=day            netstats_top, 10 rows
    /api/hosts                                            netstats_hosts
    /api/fleet?tz=                                        netstats_fleet: each host today and
                                                          this month, with the plans counting it
    /metrics                                              for Prometheus (dashboard/metrics.py)
    /api/stream?host=&iface=                              Server-Sent Events: /api/live's
                                                          answer again after each ingest
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import psycopg
from itsdangerous import BadSignature, URLSafeTimedSerializer
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

from netstats.config import commit_bytes_per_s, upload_every_s
from netstats.dashboard.feed import LiveFeed, TooManyStreams
from netstats.dashboard.security import Limiter, check_token, host_allowed, loopback, same_token
from netstats.errors import ConfigError
from netstats.reader import PERIODS, PostgresReader, Scope, history_step, matching

if TYPE_CHECKING:
    from uvicorn import Server

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
LIVE_WINDOW = timedelta(minutes=15)
LIVE_STEP = timedelta(seconds=10)
CLOCK_SKEW = timedelta(minutes=5)
KEEPALIVE_S = 15.0
COOKIE = "netstats_session"
SESSION_S = 7 * 86400
# What a browser may fetch before signing in: the form and its looks.
OPEN_PATHS = frozenset({"/login", "/static/style.css", "/static/favicon.svg"})


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    url: str
    bind: str = "127.0.0.1"
    port: int = 8787
    token: str | None = None
    tz: str = "UTC"
    upload_every_s: float = 60.0  # NETSTATS_UPLOAD_EVERY: the live chart spans 15 uploads
    commit_bytes_per_s: float | None = None  # NETSTATS_COMMIT_MBITS: the percentile's commit

    max_streams: int = 1000

    def __post_init__(self) -> None:
        if not loopback(self.bind) and not self.token:
            raise ConfigError(
                f"--host {self.bind} would show your traffic to the network: set "
                "NETSTATS_DASHBOARD_TOKEN to a long random secret, or bind 127.0.0.1"
            )
        if self.token is not None:
            check_token(self.token)

    @classmethod
    def from_env(
        cls, bind: str = "127.0.0.1", port: int = 8787, env: Mapping[str, str] = os.environ
    ) -> DashboardSettings:
        url = env.get("NETSTATS_DATABASE_URL")
        if not url:
            from netstats.db.cluster import running_url

            url = running_url()
        if not url:
            raise ConfigError(
                "the dashboard needs NETSTATS_DATABASE_URL (for Supabase: its session pooler "
                "connection string, which keeps LISTEN working), or a running `netstats up`"
            )
        return cls(
            url,
            bind,
            port,
            env.get("NETSTATS_DASHBOARD_TOKEN") or None,
            env.get("NETSTATS_TZ") or "UTC",
            upload_every_s(env),
            commit_bytes_per_s(env),
        )


def live_window(upload_every_s: float) -> tuple[timedelta, timedelta]:
    """The live chart's window and step: 15 minutes of 10 s points, or 15 uploads when agents
    upload less often than once a minute (a 15-minute window would then sit empty between
    them), in at most 900 points."""
    window = max(LIVE_WINDOW, timedelta(seconds=15 * upload_every_s))
    return window, LIVE_STEP * math.ceil(window / LIVE_STEP / 900)


class BadRequest(Exception):
    pass


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name) or None
    if value is not None and len(value) > 255:
        raise BadRequest(f"{name}: expected at most 255 characters")
    if value is not None and "\x00" in value:
        raise BadRequest(f"{name}: expected text without NUL characters")
    return value


def _scope(params: Mapping[str, str], tz: str) -> Scope:
    """The page's filters: ?period=&tz=&host=&iface= (the server's zone by default), now."""
    period = params.get("period") or "today"
    if period not in PERIODS:
        raise BadRequest(f"period: unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    return Scope(period, _text(params, "tz") or tz, _text(params, "host"), _text(params, "iface"))


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):  # money: exact, as a string
        return format(value, "f")
    return value


def create_app(settings: DashboardSettings) -> Starlette:
    reader = PostgresReader(settings.url)
    failures = Limiter()
    sessions = _sessions(settings.token) if settings.token else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await reader.open()
        listener = asyncio.create_task(feed.run())
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await reader.close()

    async def totals(request: Request) -> Response:
        scope = _scope(request.query_params, settings.tz)
        row = await reader.totals(scope)
        return JSONResponse({"tz": scope.tz, **{k: _json(v) for k, v in asdict(row).items()}})

    async def quotas(request: Request) -> Response:
        """The quotas that cover the page's filters, as netstats_quotas computed them."""
        scope = _scope(request.query_params, settings.tz)
        rows = matching(await reader.quotas(scope), scope)
        return JSONResponse(
            [{**{k: _json(v) for k, v in asdict(r).items()}, "alarm": r.alarming} for r in rows]
        )

    async def plans(request: Request) -> Response:
        """The plans and quotas that cover the page's filters, as netstats_plans computed
        them (money as exact decimal strings)."""
        scope = _scope(request.query_params, settings.tz)
        rows = [p for p in await reader.plans(scope) if p.covers(scope)]
        return JSONResponse(
            [{**{k: _json(v) for k, v in asdict(r).items()}, "alarm": r.alarming} for r in rows]
        )

    async def percentile(request: Request) -> Response:
        scope = _scope(request.query_params, settings.tz)
        commit = settings.commit_bytes_per_s
        row = await reader.percentile(scope, 95.0, commit)
        return JSONResponse(
            {"tz": scope.tz, "pct": 95.0, "commit_bytes_per_s": commit}
            | {k: _json(v) for k, v in asdict(row).items()}
        )

    async def top(request: Request) -> Response:
        q = request.query_params
        rows = await reader.top(_scope(q, settings.tz), q.get("by") or "day", 10)
        return JSONResponse([{k: _json(v) for k, v in asdict(r).items()} for r in rows])

    async def services(request: Request) -> Response:
        """What each service moved in the period, on the host or every host (part of the
        totals, never added to them)."""
        rows = await reader.services(_scope(request.query_params, settings.tz).to(iface=None))
        return JSONResponse(
            [{"service": name, **{k: _json(v) for k, v in asdict(t).items()}} for name, t in rows]
        )

    async def history(request: Request) -> Response:
        scope = _scope(request.query_params, settings.tz)
        row = await reader.totals(scope)
        if row.period_start is None:
            return JSONResponse({"step_s": None, "buckets": []})
        end = row.period_end if scope.period != "all" else datetime.now(UTC)
        step = history_step(end - row.period_start)
        buckets = await reader.series(scope, row.period_start, end, step)
        return JSONResponse(
            {
                "step_s": step.total_seconds(),
                "buckets": [{k: _json(v) for k, v in asdict(b).items()} for b in buckets],
            }
        )

    window, step = live_window(settings.upload_every_s)

    async def live_points(host: str | None, iface: str | None) -> dict[str, Any]:
        now = datetime.now(UTC)
        current = now - timedelta(seconds=now.timestamp() % step.total_seconds())
        # An agent's clock may run a little ahead of this one (the database accepts up to
        # 5 minutes): its newest samples must still show, not fall past the window's end.
        buckets = await reader.series(
            Scope(tz="UTC", host=host, iface=iface),
            current + step - window,
            current + step + CLOCK_SKEW,
            step,
        )
        # A bucket's rate is its bytes over the seconds its samples cover: a 60 s sample in
        # a 10 s bucket is 60 s of traffic, not a spike six times too high.
        return {
            "step_s": step.total_seconds(),
            "window_s": window.total_seconds(),
            "upload_every_s": settings.upload_every_s,
            "points": [
                [b.bucket_start.timestamp(), (b.bytes_sent + b.bytes_recv) * 8 / b.seconds]
                for b in buckets
                if b.samples and b.seconds > 0
            ],
        }

    feed = LiveFeed(settings.url, live_points, settings.max_streams)

    async def live(request: Request) -> Response:
        q = request.query_params
        data = await feed.current((_text(q, "host"), _text(q, "iface")))
        return Response(data, media_type="application/json")

    async def stream(request: Request) -> Response:
        q = request.query_params
        try:
            live_stream = feed.open((_text(q, "host"), _text(q, "iface")))
        except TooManyStreams as exc:
            return JSONResponse({"error": str(exc)}, 503, headers={"Retry-After": "30"})

        async def events() -> AsyncIterator[str]:
            try:
                yield f"data: {await feed.current(live_stream.filters)}\n\n"
                while not live_stream.ended:
                    data = await live_stream.next(KEEPALIVE_S)
                    if not live_stream.ended:
                        yield ": still here\n\n" if data is None else f"data: {data}\n\n"
            finally:
                feed.close(live_stream)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def hosts(request: Request) -> Response:
        return JSONResponse(
            [{k: _json(v) for k, v in asdict(s).items()} for s in await reader.hosts()]
        )

    async def fleet(request: Request) -> Response:
        """The fleet overview: a row per host as netstats_fleet summed it, with each plan
        that counts the host (its name, used ratio and whether it alarms)."""
        tz = _text(request.query_params, "tz") or settings.tz
        rows, plans = await asyncio.gather(reader.fleet(tz), reader.plans(Scope(tz=tz)))

        def counting(host: str) -> list[dict[str, Any]]:
            return [
                {"name": p.name, "used_ratio": p.used_ratio, "alarm": p.alarming}
                for p in plans
                if p.covers(Scope(host=host, iface=p.iface))
            ]

        return JSONResponse(
            [
                {
                    **{k: int(v) if isinstance(v, Decimal) else _json(v) for k, v in r.items()},
                    "plans": counting(r["host"]),
                }
                for r in rows
            ]
        )

    async def metrics(request: Request) -> Response:
        """For Prometheus (netstats/dashboard/metrics.py): behind the same gate as /api/*."""
        from netstats.dashboard.metrics import CONTENT_TYPE, exposition

        return Response(
            await exposition(reader, settings.tz), headers={"Content-Type": CONTENT_TYPE}
        )

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def login_form(request: Request) -> Response:
        return HTMLResponse((STATIC / "login.html").read_text())

    async def login(request: Request) -> Response:
        client = _client(request)
        if wait := failures.wait_s(client):
            return _slow_down(wait)
        try:
            # a plain urlencoded form: no need for a multipart parser
            given = parse_qs((await request.body()).decode()).get("token", [""])[0]
        except UnicodeDecodeError:
            return JSONResponse({"error": "token: expected a UTF-8 form"}, 400)
        if settings.token is None or not same_token(given.encode(), settings.token):
            failures.failed(client)
            return RedirectResponse("/login?failed=1", status_code=303)
        response = RedirectResponse("/", status_code=303)
        assert sessions is not None
        response.set_cookie(
            COOKIE,
            sessions.dumps("signed-in"),
            max_age=SESSION_S,
            httponly=True,
            samesite="strict",
            secure=_https(request),
        )
        return response

    def signed_in(request: Request) -> bool:
        assert sessions is not None and settings.token is not None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return same_token(header[7:].encode("latin-1"), settings.token)
        try:
            sessions.loads(request.cookies.get(COOKIE, ""), max_age=SESSION_S)
        except BadSignature:
            return False
        return True

    class Gate(BaseHTTPMiddleware):
        """With NETSTATS_DASHBOARD_TOKEN set, every request needs it: a bearer header, or the
        signed session cookie the login form sets; wrong guesses are slowed. Without one
        (loopback only), requests must be addressed to this machine."""

        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            path = request.url.path
            if sessions is None:
                if not host_allowed(request.headers.get("host"), settings.bind):
                    return JSONResponse(
                        {"error": "Host: expected this machine's address, such as 127.0.0.1"},
                        421,
                    )
            elif path not in OPEN_PATHS:
                client = _client(request)
                if wait := failures.wait_s(client):
                    return _slow_down(wait)
                if not signed_in(request):
                    if "authorization" in request.headers or COOKIE in request.cookies:
                        failures.failed(client)
                    if path == "/":
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

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/api/totals", totals),
            Route("/api/quotas", quotas),
            Route("/api/plans", plans),
            Route("/api/history", history),
            Route("/api/percentile", percentile),
            Route("/api/top", top),
            Route("/api/services", services),
            Route("/api/live", live),
            Route("/api/stream", stream),
            Route("/api/hosts", hosts),
            Route("/api/fleet", fleet),
            Route("/metrics", metrics),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(Gate)],
        lifespan=lifespan,
    )
    app.state.feed = feed
    return app


def _sessions(token: str) -> URLSafeTimedSerializer:
    """Signed, expiring session cookies; the key derives from the token, so changing the
    token signs everyone out."""
    key = hashlib.sha256(b"netstats dashboard sessions\0" + token.encode()).digest()
    return URLSafeTimedSerializer(key, salt="netstats-session")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def _slow_down(wait_s: float) -> Response:
    return JSONResponse(
        {"error": f"too many wrong tokens from this address; try again in {wait_s:.0f} s"},
        429,
        headers={"Retry-After": str(max(1, round(wait_s)))},
    )


def server(settings: DashboardSettings, log_level: str = "info", signals: bool = True) -> Server:
    """The page's uvicorn server; with signals=False, whoever runs it owns Ctrl-C."""
    import uvicorn

    app = create_app(settings)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # uvicorn waits for open responses, then cancels them with a traceback: the
            # live streams never end by themselves, so they end first.
            app.state.feed.end()
            await super().shutdown(sockets)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if signals:
                with super().capture_signals():
                    yield
            else:
                yield

    config = uvicorn.Config(
        app,
        host=settings.bind,
        port=settings.port,
        log_level=log_level,
        timeout_graceful_shutdown=2,
    )
    return Server(config)


def serve(settings: DashboardSettings) -> None:
    log.info("dashboard on http://%s:%d/", settings.bind, settings.port)
    server(settings).run()
