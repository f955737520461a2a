"""Units and fields of the answer, at the boundaries people notice."""

from datetime import UTC, datetime, timedelta

import pytest

from netstats.bot.embed import build, mbits
from netstats.reader import Scope, Totals
from netstats.units import human_bytes, human_rate

START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1_000, "1 kB"),
        (999_000_000, "999 MB"),
        (999_499_999, "999 MB"),
        (999_500_000, "1 GB"),
        (1_000_000_000, "1 GB"),
        (1_500_000_000_000, "1.5 TB"),
        (12_345_678_901, "12.3 GB"),
    ],
)
def test_bytes_use_decimal_units_with_the_unit_shown(count, shown):
    assert human_bytes(count) == shown


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (1_023, "0.999 KiB"),
        (1_024, "1 KiB"),
        (1_048_576, "1 MiB"),
        (1_200_000_000, "1.12 GiB"),
        (2**50, "1 PiB"),
    ],
)
def test_binary_units_for_report_binary(count, shown):
    assert human_bytes(count, binary=True) == shown


def test_received_bytes_are_divided_once_not_twice():
    """The original prompt divided received bytes by 1024 a second time below 1 GB."""
    assert human_bytes(512_000_000) == "512 MB"


@pytest.mark.parametrize(
    ("bytes_per_s", "shown"),
    [
        (None, "—"),
        (0, "0.00 Mbit/s"),
        (1, "< 0.01 Mbit/s"),
        (125_000, "1.00 Mbit/s"),
        (1_250_000, "10.0 Mbit/s"),
        (125_000_000, "1,000 Mbit/s"),
    ],
)
def test_rates_are_in_mbit_per_second(bytes_per_s, shown):
    assert mbits(bytes_per_s) == shown


def test_human_rate_scales_bits():
    assert human_rate(125_000) == "1 Mbit/s"


def totals(coverage=1.0, projected=3_000_000_000, samples=10):
    return Totals(
        START,
        START + timedelta(days=30),
        1_000_000_000,
        2_000_000_000,
        3_000_000_000,
        samples,
        START,
        START,
        1000.0,
        2000.0,
        coverage,
        projected,
    )


def values(embed):
    return {f.name: f.value for f in embed.fields}


def test_coverage_below_95_percent_warns_and_above_does_not():
    assert values(build(totals(coverage=0.949), Scope("month"), "en"))["Coverage"] == (
        "94.9%\n⚠️ the agent was not running the whole time"
    )
    assert values(build(totals(coverage=0.95), Scope("month"), "en"))["Coverage"] == "95.0%"


def test_projection_only_for_calendar_periods():
    assert (
        values(build(totals(), Scope("month"), "en"))["Projection"] == "≈ 3 GB by 2026-12-01 00:00"
    )
    assert (
        values(build(totals(), Scope("7d"), "en"))["Projection"] == "— (only for calendar periods)"
    )
    assert values(build(totals(projected=None), Scope("today"), "en"))["Projection"] == "—"


def test_an_empty_period_says_so():
    embed = build(totals(samples=0), Scope("today", "Asia/Tokyo", "bot-1", "eth0"), "en")
    assert embed.description.endswith("Host bot-1 · interface eth0\nNo traffic recorded yet")
    assert "2026-11-01 09:00 → 2026-12-01 09:00 (Asia/Tokyo)" in embed.description
