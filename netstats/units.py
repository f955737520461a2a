"""Numbers for people: decimal units (1 GB = 1,000,000,000 bytes), as network providers
bill and as link speeds are quoted. One convention wherever netstats shows a number: this
module, and its twin in dashboard/static/app.js, which rounds the same way (half up, like
JavaScript's toPrecision and toFixed)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

BYTE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
# `netstats report --binary`, as vnStat prints sizes: 1 GiB = 1024^3 bytes
BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
RATE_UNITS = ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s")


def human_bytes(n: float, binary: bool = False) -> str:
    return _scaled(n, BINARY_UNITS, 1024) if binary else _scaled(n, BYTE_UNITS)


def human_rate(bytes_per_s: float) -> str:
    return _scaled(bytes_per_s * 8, RATE_UNITS)


def percent(share: float) -> str:
    """0.9512 -> '95.1%'"""
    return f"{Decimal(share * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _scaled(value: float, units: tuple[str, ...], base: int = 1000) -> str:
    for unit in units[:-1]:
        if abs(value) < 999.5:
            return f"{round(value)} {unit}" if unit == units[0] else f"{_significant(value)} {unit}"
        value /= base
    return f"{_significant(value)} {units[-1]}"


def _significant(value: float, digits: int = 3) -> str:
    exact = Decimal(value)
    if exact == 0:
        return "0"
    step = Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return format(exact.quantize(step, rounding=ROUND_HALF_UP).normalize(), "f")
