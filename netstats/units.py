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


# Money: exact decimals from the database, rounded (half up) only to be shown, to the
# currency's minor unit. The symbols readers know; any other code is written after the amount.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
NO_MINOR_UNIT = {"JPY", "KRW", "VND", "CLP", "ISK"}


def money(amount: Decimal | float | str, currency: str, lang: str = "en") -> str:
    """Decimal('12.345'), 'EUR' -> '€12.35'; 'CHF' -> '12.35 CHF'; ja and JPY -> '1,235円'.
    A cost above zero that rounds to nothing says so: '< $0.01'. (Twin: money() in app.js.)"""
    exact = Decimal(str(amount))
    step = Decimal(1) if currency in NO_MINOR_UNIT else Decimal("0.01")
    shown = exact.quantize(step, rounding=ROUND_HALF_UP)
    less = "< " if shown == 0 < exact else ""
    shown = step if less else shown
    number = f"{shown:,}"
    if lang == "ja" and currency == "JPY":
        return f"{less}{number}円"
    if currency in SYMBOLS:
        return f"{less}{'-' if shown < 0 else ''}{SYMBOLS[currency]}{number.lstrip('-')}"
    return f"{less}{number} {currency}"


def parse_money(text: str, field: str) -> tuple[Decimal, str]:
    """'5 EUR' -> (Decimal('5'), 'EUR'); '€5' and '$0.09' too. ValueError naming `field`."""
    value = text.strip()
    by_symbol = {s: c for c, s in SYMBOLS.items()}
    currency = by_symbol.get(value[:1], "")
    number, _, code = value[1:].strip().partition(" ") if currency else value.partition(" ")
    currency = code.strip().upper() or currency
    try:
        amount = Decimal(number.replace(",", ""))
    except ArithmeticError:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or len(currency) != 3 or not currency.isalpha():
        raise ValueError(
            f"{field}: expected an amount of 0 or more and a three-letter currency, such as "
            f"'5 EUR' or '0.09 USD', got {text!r}"
        )
    return amount, currency


PRICE_UNITS = {"gb": "GB", "gib": "GiB", "tb": "TB", "tib": "TiB"}


def parse_price(text: str) -> tuple[Decimal, str, str]:
    """'1 EUR/TB' -> (Decimal('1'), 'EUR', 'TB'), '$0.09/GB' too: a price per unit of bytes
    over an allowance, as providers write it. ValueError naming --price."""
    money_part, _, unit = text.partition("/")
    if unit.strip().lower() not in PRICE_UNITS:
        raise ValueError(
            f"price: expected an amount, a currency and GB, GiB, TB or TiB, such as "
            f"'1 EUR/TB' or '0.09 USD/GB', got {text!r}"
        )
    amount, currency = parse_money(money_part, "price")
    return amount, currency, PRICE_UNITS[unit.strip().lower()]
