"""Settings from the environment, with the same names everywhere (DESIGN.md, Configuration).

Every refusal names the variable and what it accepts."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from netstats.errors import ConfigError

NO_DATABASE = (
    "no database configured: set NETSTATS_DATABASE_URL=postgresql://… "
    "or SUPABASE_URL and SUPABASE_KEY"
)


@dataclass(frozen=True, slots=True)
class Database:
    url: str | None = None  # NETSTATS_DATABASE_URL: the Postgres transport
    supabase_url: str | None = None
    supabase_key: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Database:
        url = env.get("NETSTATS_DATABASE_URL") or None
        supabase_url = env.get("SUPABASE_URL") or None
        supabase_key = env.get("SUPABASE_KEY") or None
        if url is None and (supabase_url is None) != (supabase_key is None):
            missing = "SUPABASE_KEY" if supabase_key is None else "SUPABASE_URL"
            raise ConfigError(f"{missing} is not set: the Supabase transport needs both")
        if url is None and supabase_url is None:
            raise ConfigError(NO_DATABASE)
        return cls(url, supabase_url, supabase_key)


@dataclass(frozen=True, slots=True)
class AgentSettings:
    host: str
    interval_s: float = 10.0
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    spool: Path = Path("netstats-spool.sqlite3")
    ceiling_bytes_per_s: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AgentSettings:
        return cls(
            host=env.get("NETSTATS_HOST") or socket.gethostname(),
            interval_s=_number(env, "NETSTATS_INTERVAL", 10, 1, 3600),
            include=_globs(env.get("NETSTATS_INTERFACES")),
            exclude=_globs(env.get("NETSTATS_EXCLUDE")),
            spool=Path(
                env.get("NETSTATS_SPOOL")
                or platformdirs.user_data_path("netstats") / "spool.sqlite3"
            ),
            ceiling_bytes_per_s=(
                _number(env, "NETSTATS_CEILING_MBITS", 0, 1, 10**7) * 125_000
                if env.get("NETSTATS_CEILING_MBITS")
                else None
            ),
        )


def _globs(value: str | None) -> tuple[str, ...]:
    return tuple(g.strip() for g in (value or "").split(",") if g.strip())


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number from {low:g} to {high:g}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r}: expected a number from {low:g} to {high:g}")
    return value
