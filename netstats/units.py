"""Numbers for people: decimal units (1 GB = 1,000,000,000 bytes), as network providers
bill and as link speeds are quoted. One convention everywhere netstats shows a number."""

from __future__ import annotations

BYTE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
RATE_UNITS = ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s")


def human_bytes(n: float) -> str:
    return _scaled(n, BYTE_UNITS)


def human_rate(bytes_per_s: float) -> str:
    return _scaled(bytes_per_s * 8, RATE_UNITS)


def _scaled(value: float, units: tuple[str, ...]) -> str:
    for unit in units[:-1]:
        if abs(value) < 999.5:
            return f"{value:.0f} {unit}" if unit == units[0] else f"{value:.3g} {unit}"
        value /= 1000
    return f"{value:.3g} {units[-1]}"
