"""Reading figures for people: the SQL API's readers over asyncio, for the bot and the page.

Either transport gives the same typed rows: a psycopg async pool (prepare_threshold=None, so
Supabase's poolers work too) or Supabase's API through supabase-py's async client."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from netstats.config import Database
from netstats.sample import SERVICE

PERIODS = ("today", "week", "month", "year", "cycle", "24h", "7d", "30d", "all")
CALENDAR_PERIODS = ("today", "week", "month", "year", "cycle")


def history_step(span: timedelta) -> timedelta:
    """Bars for a period's history: hourly for a day, daily for a week or a month, weekly
    beyond (at most a few hundred bars, well inside netstats_series' 1,000)."""
    if span <= timedelta(days=2):
        return timedelta(hours=1)
    if span <= timedelta(days=62):
        return timedelta(days=1)
    return timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a figure is of: a period in a zone, one host or every host, one interface (or
    service: 'service:<name>') or every one, as of an instant (None: now). Every reader
    method and every renderer takes one."""

    period: str = "today"
    tz: str = "UTC"
    host: str | None = None
    iface: str | None = None
    at: datetime | None = None

    def to(self, **changes: Any) -> Scope:
        """This scope with some fields changed: `scope.to(period="all")`."""
        return dataclasses.replace(self, **changes)

    @property
    def everything(self) -> bool:
        """Every host and every interface."""
        return self.host is None and self.iface is None


@dataclass(frozen=True, slots=True)
class Totals:
    period_start: datetime | None
    period_end: datetime
    bytes_sent: int
    bytes_recv: int
    bytes_total: int
    samples: int
    first_sample_at: datetime | None
    last_sample_at: datetime | None
    avg_bytes_per_s: float | None
    peak_bytes_per_s: float | None
    coverage: float | None
    projected_bytes_total: int | None


@dataclass(frozen=True, slots=True)
class Bucket:
    bucket_start: datetime
    bytes_sent: int
    bytes_recv: int
    samples: int
    seconds: float  # monitored seconds: the samples' intervals ÷ the interfaces that reported


@dataclass(frozen=True, slots=True)
class Quota:
    """A quota's progress in its current period, as netstats_quotas computes it."""

    name: str
    host: str | None
    iface: str | None
    period: str
    direction: str
    tz: str
    limit_bytes: int
    thresholds: list[int]
    period_start: datetime
    period_end: datetime
    used_bytes: int
    used_ratio: float
    remaining_bytes: int
    projected_bytes: int | None
    projected_exceed_at: datetime | None
    daily_allowance_bytes: int | None
    thresholds_crossed: list[int]

    @property
    def alarming(self) -> bool:
        """What `netstats check` exits 1 for, and the page and /netstats flag: a threshold
        crossed, the limit passed, or the current rate reaching it before the period ends."""
        return (
            bool(self.thresholds_crossed)
            or self.used_ratio >= 1
            or self.projected_exceed_at is not None
        )


def matching(quotas: list[Quota], scope: Scope) -> list[Quota]:
    """The quotas that cover what a report shows: every one when it shows everything."""
    if scope.everything:
        return quotas
    return [q for q in quotas if q.host in (None, scope.host) and q.iface in (None, scope.iface)]


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan's state in its current cycle, as netstats_plans computes it (a quota is a plan
    on a calendar period, without a price). Bytes are exact integers, money exact decimals."""

    name: str
    period: str | None  # a quota's calendar period; None for a plan's own cycle
    anchor: datetime | None  # a plan's cycle start, wall clock in its zone
    every: int | None
    unit: str | None
    hosts: list[str] | None  # names and globs, pooled; None: every host
    iface: str | None
    basis: str
    tz: str
    cycle_start: datetime
    cycle_end: datetime
    used_bytes: int  # measured, on the basis
    adjust_bytes: int  # this cycle's corrections
    included_bytes: int | None  # None: unlimited
    used_ratio: float | None
    remaining_bytes: int | None
    projected_bytes: int | None
    projected_over_bytes: int | None
    runs_out_at: datetime | None
    daily_allowance_bytes: int | None
    thresholds: list[int]
    thresholds_crossed: list[int]
    price: Decimal | None
    price_unit: str | None
    currency: str | None
    budget: Decimal | None
    cost_so_far: Decimal | None
    projected_cost: Decimal | None
    provider: str | None

    @property
    def counted_bytes(self) -> int:
        return self.used_bytes + self.adjust_bytes

    @property
    def over_budget(self) -> bool:
        return (
            self.budget is not None
            and self.projected_cost is not None
            and self.projected_cost > self.budget
        )

    @property
    def alarming(self) -> bool:
        """What `netstats check` exits 1 for: a threshold crossed, the allowance passed or
        reached at the current rate before the cycle ends, or the cost projected over budget."""
        return (
            bool(self.thresholds_crossed)
            or (self.used_ratio or 0) >= 1
            or self.runs_out_at is not None
            or self.over_budget
        )

    def covers(self, scope: Scope) -> bool:
        """Whether this plan counts what a report of `scope` shows (globs as the database
        matches them)."""
        if scope.everything:
            return True
        hosts_ok = self.hosts is None or any(fnmatchcase(scope.host or "", h) for h in self.hosts)
        return hosts_ok and self.iface in (None, scope.iface)


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str  # quota_threshold, quota_projection, host_silent, host_back
    quota: str | None
    host: str | None
    iface: str | None
    threshold: int | None
    facts: dict[str, Any]  # the figures a message needs, as the database computed them
    raised_at: datetime
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class AlertStatus:
    id: int
    kind: str
    quota: str | None
    host: str | None
    threshold: int | None
    raised_at: datetime
    state: str  # delivered, leased, failed, pending
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Percentile:
    """Burstable billing of a period: the nearest-rank percentile of its 5-minute rates."""

    period_start: datetime | None
    period_end: datetime
    bucket_s: int
    buckets: int  # 5-minute buckets of the period up to `at`
    measured_buckets: int  # those with samples: the ones ranked
    sent_bytes_per_s: float | None
    recv_bytes_per_s: float | None
    total_bytes_per_s: float | None
    above_commit: int | None  # measured buckets whose larger direction passed the commit


@dataclass(frozen=True, slots=True)
class Top:
    key: str  # '2026-03-08', '2026-03-08T01:00-05:00', a host, or 'host/iface'
    bucket_start: datetime | None  # the day's or hour's start; none for hosts and interfaces
    bytes_sent: int
    bytes_recv: int
    bytes_total: int


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    host: str
    iface: str
    first_seen: datetime
    last_seen: datetime

    @property
    def service(self) -> str | None:
        """The service this series counts (NETSTATS_SERVICES), or None for an interface."""
        return self.iface.removeprefix(SERVICE) if self.iface.startswith(SERVICE) else None


class Reader:
    """The SQL API's readers; subclasses only say how to call one function with named
    arguments (their names and the function's are constants here, never user input)."""

    async def _call(self, function: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def totals(self, scope: Scope) -> Totals:
        """`scope.at` (default now) is the instant the period contains and the figures end at."""
        args = {**_where(scope), "period": scope.period, "at": scope.at}
        return _typed(Totals, (await self._call("netstats_totals", args))[0])  # type: ignore[no-any-return]

    async def series(
        self,
        scope: Scope,
        start_at: datetime,
        end_at: datetime,
        step: timedelta | str | None,  # str: an interval such as '1 month' (tz's calendar)
    ) -> list[Bucket]:
        """Buckets from `start_at` to `end_at` of the scope's zone, host and interface (its
        period and instant do not apply)."""
        args = {"start_at": start_at, "end_at": end_at, "step": step, **_where(scope)}
        return [_typed(Bucket, row) for row in await self._call("netstats_series", args)]

    async def percentile(
        self, scope: Scope, pct: float = 95.0, commit_bytes_per_s: float | None = None
    ) -> Percentile:
        args = {
            **_where(scope),
            "period": scope.period,
            "at": scope.at,
            "pct": pct,
            "commit_bytes_per_s": commit_bytes_per_s,
        }
        return _typed(Percentile, (await self._call("netstats_percentile", args))[0])  # type: ignore[no-any-return]

    async def top(self, scope: Scope, by: str, n: int = 10) -> list[Top]:
        args = {**_where(scope), "period": scope.period, "by": by, "n": n, "at": scope.at}
        return [_typed(Top, row) for row in await self._call("netstats_top", args)]

    async def hosts(self) -> list[SeriesInfo]:
        return [_typed(SeriesInfo, row) for row in await self._call("netstats_hosts", {})]

    async def services(self, scope: Scope) -> list[tuple[str, Totals]]:
        """Each service's totals on the scope's host (or over every host), largest first."""
        names = sorted(
            {n for s in await self.hosts() if (n := s.service) and scope.host in (None, s.host)}
        )
        listed = [(n, await self.totals(scope.to(iface=SERVICE + n))) for n in names]
        return sorted(listed, key=lambda x: (-x[1].bytes_total, x[0]))

    async def quotas(self, scope: Scope) -> list[Quota]:
        """Every quota as of the scope's instant, times shown in its zone (each quota's
        periods follow its own)."""
        rows = await self._call("netstats_quotas", {"tz": scope.tz, "at": scope.at})
        return [_typed(Quota, row) for row in rows]

    async def quota_set(
        self,
        name: str,
        limit_bytes: int,
        period: str,
        direction: str,
        host: str | None,
        iface: str | None,
        thresholds: list[int],
        tz: str,
    ) -> Quota:
        args = {
            "name": name,
            "limit_bytes": limit_bytes,
            "period": period,
            "direction": direction,
            "host": host,
            "iface": iface,
            "thresholds": thresholds,
            "tz": tz,
        }
        return _typed(Quota, (await self._call("netstats_quota_set", args))[0])  # type: ignore[no-any-return]

    async def quota_delete(self, name: str) -> bool:
        (row,) = await self._call("netstats_quota_delete", {"name": name})
        return bool(row["netstats_quota_delete"])

    async def plans(self, scope: Scope) -> list[Plan]:
        """Every plan and quota as of the scope's instant; each cycle follows its own zone."""
        rows = await self._call("netstats_plans", {"tz": scope.tz, "at": scope.at})
        return [_typed(Plan, row) for row in rows]

    async def plan_set(self, **args: Any) -> Plan:
        """netstats_plan_set's arguments by name (name, basis, anchor, every, unit, tz, ...)."""
        return _typed(Plan, (await self._call("netstats_plan_set", args))[0])  # type: ignore[no-any-return]

    async def plan_adjust(
        self, name: str, bytes: int, note: str, made_by: str, at: datetime | None = None
    ) -> Plan:
        args = {"name": name, "bytes": bytes, "note": note, "made_by": made_by, "at": at}
        return _typed(Plan, (await self._call("netstats_plan_adjust", args))[0])  # type: ignore[no-any-return]

    async def plan_adjustments(self, name: str | None = None) -> list[dict[str, Any]]:
        return await self._call("netstats_plan_adjustments", {"name": name})

    async def plan_adjust_delete(self, id: int) -> bool:
        (row,) = await self._call("netstats_plan_adjust_delete", {"id": id})
        return bool(row["netstats_plan_adjust_delete"])

    async def digest_set(
        self, name: str, period: str, tz: str, channel_id: int | None = None
    ) -> dict[str, Any]:
        args = {"name": name, "period": period, "tz": tz, "channel_id": channel_id}
        return (await self._call("netstats_digest_set", args))[0]

    async def digests(self) -> list[dict[str, Any]]:
        return await self._call("netstats_digests", {})

    async def digest_delete(self, name: str) -> bool:
        (row,) = await self._call("netstats_digest_delete", {"name": name})
        return bool(row["netstats_digest_delete"])

    async def fleet(self, tz: str) -> list[dict[str, Any]]:
        """Each host: last sample, silent since, today's and the month's bytes, its share of
        the fleet's month and its busiest interface (netstats_fleet)."""
        return await self._call("netstats_fleet", {"tz": tz})

    async def series_totals(self, period: str, tz: str, by: str = "series") -> list[dict[str, Any]]:
        """Sent and received of a period by series or host ('all': with the last sample),
        in one call whatever the number of hosts."""
        args = {"period": period, "tz": tz, "by": by}
        return await self._call("netstats_series_totals", args)

    async def status(self, tz: str) -> list[dict[str, Any]]:
        """Each host for a status message: last sample, silent since, today's and the cycle's."""
        return await self._call("netstats_status", {"tz": tz})

    async def status_messages(self) -> list[dict[str, Any]]:
        return await self._call("netstats_status_messages", {})

    async def status_set(self, channel_id: int, tz: str, every_s: int) -> dict[str, Any]:
        args = {"channel_id": channel_id, "tz": tz, "every_s": every_s}
        return (await self._call("netstats_status_set", args))[0]

    async def status_claim(self, lease_s: int = 120) -> list[dict[str, Any]]:
        """The status messages that are due, held for this keeper for `lease_s` seconds."""
        return await self._call("netstats_status_claim", {"lease_s": lease_s})

    async def status_posted(self, channel_id: int, message_id: int) -> bool:
        args = {"channel_id": channel_id, "message_id": message_id}
        (row,) = await self._call("netstats_status_posted", args)
        return bool(row["netstats_status_posted"])

    async def status_failed(self, channel_id: int, error: str) -> bool:
        args = {"channel_id": channel_id, "error": error}
        (row,) = await self._call("netstats_status_failed", args)
        return bool(row["netstats_status_failed"])

    async def status_delete(self, channel_id: int) -> bool:
        (row,) = await self._call("netstats_status_delete", {"channel_id": channel_id})
        return bool(row["netstats_status_delete"])

    async def alerts_claim(
        self, max: int = 20, at: datetime | None = None, routed: bool | None = None
    ) -> list[Alert]:
        """Leases due alerts; `routed` False: only the default channel's, True: only those
        that name their own channel (a digest's), None: all."""
        args = {"routed": routed, "max": max, "at": at}
        rows = await self._call("netstats_alerts_claim_routed", args)
        return [_typed(Alert, row) for row in rows]

    async def alerts_done(self, ids: list[int], error: str | None = None) -> int:
        (row,) = await self._call("netstats_alerts_done", {"ids": ids, "error": error})
        return int(row["netstats_alerts_done"])

    async def alerts(self, max: int = 50) -> list[AlertStatus]:
        return [_typed(AlertStatus, r) for r in await self._call("netstats_alerts", {"max": max})]


def _typed(cls: Any, row: Mapping[str, Any]) -> Any:
    """Rows from either transport: Supabase's API sends timestamps as ISO strings; byte sums
    are numeric (they may pass a bigint), exact integers in Python."""
    values = {}
    for name, kind in cls.__annotations__.items():
        value = row[name]
        if isinstance(value, str) and "datetime" in kind:
            value = datetime.fromisoformat(value)
        elif isinstance(value, Decimal | float) and kind.startswith("int"):
            value = int(value)
        elif isinstance(value, float | int) and kind.startswith("Decimal"):
            value = Decimal(repr(value))  # Supabase's API sends numeric as a JSON number
        values[name] = value
    return cls(**values)


class PostgresReader(Reader):
    def __init__(self, url: str, max_size: int = 4, timeout_s: float = 5.0) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        self.pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=timeout_s,
            open=False,
            kwargs={"prepare_threshold": None, "autocommit": True, "row_factory": dict_row},
            # A connection idle in the pool may have been closed by the server (a restart, an
            # administrator): checked before it is handed out, so a caller never gets a dead
            # one (an empty query: one round trip).
            check=AsyncConnectionPool.check_connection,
        )

    async def open(self) -> None:
        await self.pool.open(wait=False)

    async def _call(self, function: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        from psycopg import sql

        query = sql.SQL("SELECT * FROM {}({})").format(
            sql.Identifier(function),
            sql.SQL(", ").join(sql.SQL("{} => %s").format(sql.Identifier(a)) for a in args),
        )
        async with self.pool.connection() as conn:
            cursor = await conn.execute(query, list(args.values()))
            return await cursor.fetchall()  # type: ignore[return-value]

    async def close(self) -> None:
        await self.pool.close()


class SupabaseReader(Reader):
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.client: Any = None

    async def open(self) -> None:
        import httpx
        from supabase import AsyncClientOptions, acreate_client

        self.http = httpx.AsyncClient(timeout=10.0)
        options = AsyncClientOptions(httpx_client=self.http)
        self.client = await acreate_client(self.url, self.key, options=options)

    async def _call(self, function: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        def plain(value: Any) -> Any:  # JSON for PostgREST
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, Decimal):  # money: exact, as PostgreSQL reads numeric text
                return format(value, "f")
            if isinstance(value, timedelta):
                # Days stay days, as psycopg sends them: a day across a DST change has 23 or
                # 25 hours, and "86400 seconds" would cut the buckets elsewhere.
                return (
                    f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
                )
            return value

        body = {k: plain(v) for k, v in args.items()}
        data = (await self.client.rpc(function, body).execute()).data
        # PostgREST answers a set with a list, a row with an object, a scalar as itself
        if isinstance(data, list):
            return data
        return [data if isinstance(data, dict) else {function: data}]

    async def close(self) -> None:
        await self.http.aclose()


async def open_reader(database: Database) -> Reader:
    reader: Reader
    if database.url:
        reader = PostgresReader(database.url)
    else:
        assert database.supabase_url and database.supabase_key
        reader = SupabaseReader(database.supabase_url, database.supabase_key)
    await reader.open()
    return reader


def _where(scope: Scope) -> dict[str, Any]:
    return {"tz": scope.tz, "host": scope.host, "iface": scope.iface}
