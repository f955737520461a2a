"""Settings from the environment, with the same names everywhere (DESIGN.md, Configuration).

Every refusal names the variable and what it accepts."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
    upload_every_s: float = 60.0  # uploads happen at ticks: at most one per interval
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    spool: Path = Path("netstats-spool.sqlite3")
    ceiling_bytes_per_s: float | None = None
    services: tuple[str, ...] = ()  # NETSTATS_SERVICES: units or cgroup paths (agent/services.py)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AgentSettings:
        return cls(
            host=env.get("NETSTATS_HOST") or socket.gethostname(),
            interval_s=_number(env, "NETSTATS_INTERVAL", 10, 1, 3600),
            upload_every_s=upload_every_s(env),
            include=_globs(env.get("NETSTATS_INTERFACES")),
            exclude=_globs(env.get("NETSTATS_EXCLUDE")),
            spool=Path(env.get("NETSTATS_SPOOL") or data_dir(env) / "spool.sqlite3"),
            ceiling_bytes_per_s=(
                _number(env, "NETSTATS_CEILING_MBITS", 0, 1, 10**7) * 125_000
                if env.get("NETSTATS_CEILING_MBITS")
                else None
            ),
            services=services(env),
        )


def services(env: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """NETSTATS_SERVICES: systemd unit names, cgroup v2 paths, or globs over either."""
    chosen = _globs(env.get("NETSTATS_SERVICES"))
    for entry in chosen:
        if ".." in entry.split("/"):
            raise ConfigError(
                "NETSTATS_SERVICES: expected unit names (mybot.service) or cgroup paths under "
                f"the cgroup v2 root (system.slice/mybot.service), got {entry!r}"
            )
    return chosen


def upload_every_s(env: Mapping[str, str] = os.environ) -> float:
    """NETSTATS_UPLOAD_EVERY: how often agents upload; the dashboard's live chart follows it."""
    return _number(env, "NETSTATS_UPLOAD_EVERY", 60, 1, 3600)


def alerts_every_s(env: Mapping[str, str] = os.environ) -> float:
    """NETSTATS_ALERTS_EVERY: seconds between a deliverer's passes (webhook or bot)."""
    return _number(env, "NETSTATS_ALERTS_EVERY", 30, 1, 3600)


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where netstats keeps its files: the spool, the embedded database, command stamps.
    On Linux that is $XDG_DATA_HOME/netstats or ~/.local/share/netstats, as platformdirs says,
    without loading platformdirs into the agent (1 MiB of its 25 MiB, measured)."""
    if sys.platform.startswith("linux"):
        return (
            Path(env.get("XDG_DATA_HOME", "").strip() or Path.home() / ".local/share") / "netstats"
        )
    import platformdirs

    return platformdirs.user_data_path("netstats")


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


def commit_bytes_per_s(env: Mapping[str, str] = os.environ) -> float | None:
    """NETSTATS_COMMIT_MBITS, the committed rate of a burstable plan (drawn on the percentile
    card; counted against in reports), in bytes per second; None when unset."""
    if not env.get("NETSTATS_COMMIT_MBITS"):
        return None
    return _number(env, "NETSTATS_COMMIT_MBITS", 0, 0, 10**7) * 1e6 / 8


LANGUAGES = ("en", "ja")


@dataclass(frozen=True, slots=True)
class AlertSettings:
    webhook: str | None  # NETSTATS_DISCORD_WEBHOOK: a secret; never shown back
    lang: str  # NETSTATS_LANG: the webhook's language
    tz: str  # NETSTATS_TZ: the zone of hosts' silence times (quotas keep their own)
    every_s: float = 30.0  # NETSTATS_ALERTS_EVERY: seconds between a deliverer's passes

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AlertSettings:
        webhook = env.get("NETSTATS_DISCORD_WEBHOOK") or None
        if webhook is not None and (
            not webhook.startswith(("https://", "http://")) or "/webhooks/" not in webhook
        ):
            raise ConfigError(
                "NETSTATS_DISCORD_WEBHOOK: expected a Discord webhook URL such as "
                "https://discord.com/api/webhooks/ID/TOKEN (channel settings → Integrations)"
            )
        lang = env.get("NETSTATS_LANG") or "en"
        if lang not in LANGUAGES:
            raise ConfigError(
                f"NETSTATS_LANG: expected one of {', '.join(LANGUAGES)}, got {lang!r}"
            )
        return cls(webhook, lang, env.get("NETSTATS_TZ") or "UTC", alerts_every_s(env))
