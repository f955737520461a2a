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


# `netstats quota set NAME 1TB`: decimal and binary units, case aside ("1tb" is 1 TB)
SIZES = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4, "pb": 1000**5,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "pib": 1024**5,
}  # fmt: skip


def parse_bytes(text: str) -> int:
    """'1TB' -> 10**12, '1.5TiB' -> 1649267441664, '123' -> 123: exactly, or ValueError."""
    number = text.strip().rstrip("BbIiKkMmGgTtPp ")
    unit = text.strip()[len(number) :].strip().lower()
    try:
        value = Decimal(number) * SIZES[unit]
    except (ArithmeticError, KeyError):
        raise ValueError(
            f"expected a size such as 1TB, 500GB, 750GiB, 1.5TiB or a number of bytes, got {text!r}"
        ) from None
    if not value.is_finite() or value != value.to_integral_value() or value < 0:
        raise ValueError(
            f"expected a whole, positive number of bytes, got {text!r} ({value} bytes)"
        )
    return int(value)
