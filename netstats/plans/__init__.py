"""Plans as a user writes them: the provider presets (providers.toml, data that is easy to
update, never code) and the text forms of a cycle, an allowance and a price, each read into
what netstats_plan_set takes, or refused naming the option and what it expected. The figures
themselves are the database's (netstats_plans)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from netstats.errors import ConfigError
from netstats.units import parse_bytes, parse_money, parse_price

PROVIDERS = Path(__file__).with_name("providers.toml")
UNITS = ("day", "week", "month", "year")


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    title: str
    basis: str
    included: str
    every: str
    cycle_start: str
    tz: str
    price: str
    pooled: str
    source: str
    checked: str


def providers() -> dict[str, Provider]:
    table = tomllib.loads(PROVIDERS.read_text())
    return {key: Provider(key=key, **row) for key, row in table.items() if isinstance(row, dict)}


def provider(key: str) -> Provider:
    known = providers()
    if key not in known:
        raise ConfigError(
            f"--provider: no preset named {key!r}; expected one of {', '.join(sorted(known))} "
            "(netstats plan providers lists them with their sources)"
        )
    return known[key]


def every(text: str) -> tuple[int, str]:
    """'1 month', 'month', '2 weeks', '30 days' -> (n, unit)."""
    match = re.fullmatch(r"\s*(\d+)?\s*(day|week|month|year)s?\s*", text.lower())
    if not match or int(match[1] or 1) < 1:
        raise ConfigError(
            f"--every: expected a number of days, weeks, months or years such as '1 month' "
            f"or '30 days', got {text!r}"
        )
    return int(match[1] or 1), match[2]


def cycle_start(text: str) -> datetime:
    """A wall-clock date and time, without an offset: its zone is --tz."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None:
        raise ConfigError(
            "--cycle-start: expected the wall-clock date and time a billing cycle started, "
            f"such as 2026-11-30T14:00, with its zone in --tz (no offset), got {text!r}"
        )
    return value


def included(text: str) -> int | None:
    """'20TB' -> bytes; 'unlimited' -> None."""
    if text.strip().lower() == "unlimited":
        return None
    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise ConfigError(f"--included: {exc}, or unlimited") from None


def price(text: str) -> tuple[Decimal, str, str]:
    try:
        return parse_price(text)
    except ValueError as exc:
        raise ConfigError(f"--{exc}") from None


def budget(text: str, currency: str | None) -> Decimal:
    try:
        amount, code = parse_money(text, "budget")
    except ValueError as exc:
        raise ConfigError(f"--{exc}") from None
    if code != currency:
        raise ConfigError(
            f"--budget: expected an amount in the price's currency "
            f"({currency or 'set --price first'}), got {text!r}"
        )
    return amount
