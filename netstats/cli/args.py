"""What several commands share: argument types that refuse with what they expected, the
reader a command runs against, and a wait that Ctrl-C ends."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeAlias

# What `add(commands)` in each command module is given
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def zone(args: argparse.Namespace) -> str:
    """--tz, else NETSTATS_TZ, else UTC."""
    return str(getattr(args, "tz", None) or os.environ.get("NETSTATS_TZ") or "UTC")


def reading(work: Callable[[Any], Awaitable[Any]], verbose: bool = False) -> Any:
    """Runs `work(reader)` on the configured database (or the one `netstats up` runs)."""
    import asyncio

    from netstats.db.cluster import find_database
    from netstats.reader import open_reader

    if not verbose:  # one answer or one line of why not, not the pool's retries
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)

    async def main() -> Any:
        reader = await open_reader(find_database())
        try:
            return await work(reader)
        finally:
            await reader.close()

    return asyncio.run(main())


def until_stopped() -> Callable[[float], bool]:
    """A wait that ends early, returning True, at SIGINT or SIGTERM.

    Where it can (Linux), the signals are blocked and awaited with sigtimedwait: one system
    call a tick, where threading.Event().wait costs the agent 85 us more per wake-up (measured),
    and a signal that comes during a tick is taken after it, never inside a spool commit."""
    signals = {signal.SIGINT, signal.SIGTERM}
    if hasattr(signal, "sigtimedwait"):
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        return lambda seconds: signal.sigtimedwait(signals, seconds) is not None
    stop = threading.Event()
    for signum in signals:
        signal.signal(signum, lambda *_: stop.set())
    return stop.wait


def size(text: str) -> int:
    from netstats.units import parse_bytes

    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def percentages(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole percentages separated by commas such as 80,90,100, got {text!r}"
        ) from None


def period(text: str) -> str:
    from netstats.reader import PERIODS  # not at the top: the agent never loads the reader

    if text not in PERIODS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(PERIODS)}, got {text!r}")
    return text


def when(text: str) -> datetime:
    """A date, a date and time (in --tz), or either with an offset; 2026-11 is its first day."""
    try:
        return datetime.fromisoformat(f"{text}-01" if len(text) == 7 else text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date such as 2026-11-01, '2026-11-01 14:00' or 2026-11, got {text!r}"
        ) from None


def instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"expected a date and time with an offset such as 2026-10-31T23:59:59+09:00, got {text!r}"
        )
    return value
