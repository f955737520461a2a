"""`netstats plan` as a user runs it: presets, overrides, corrections, listing, the JSON a
script reads (bytes exact integers, money exact strings), and refusals naming the option."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from netstats import plans
from tests.db.support import ingest, sample
from tests.support.cli import netstats

GB = 10**9


def plan(dsn: str, *args: str):
    return netstats("plan", *args, NETSTATS_DATABASE_URL=dsn)


def test_a_preset_fills_the_plan_and_every_field_can_be_overridden(dsn, conn):
    done = plan(dsn, "set", "box", "--provider", "hetzner-eu", "--hosts", "bot-*,web-1",
                "--included", "10TB")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "list price, checked on " + plans.provider("hetzner-eu").checked in done.stdout
    assert "warning: --hosts bot-*,web-1 matches no host" in done.stderr
    (row,) = json.loads(plan(dsn, "list", "--json").stdout)
    assert (row["basis"], row["tz"], row["unit"], row["every"]) == (
        "sent",
        "Europe/Berlin",
        "month",
        1,
    )
    assert (row["included_bytes"], row["price"], row["currency"], row["price_unit"]) == (
        10 * 10**12, "1", "EUR", "TB"
    )  # fmt: skip
    assert (row["hosts"], row["provider"], row["cost_so_far"]) == (
        ["bot-*", "web-1"],
        "hetzner-eu",
        "0",
    )


def test_corrections_are_added_listed_shown_and_removed(dsn, conn):
    now = datetime.now(UTC)
    ingest(conn, [sample(now - timedelta(minutes=5), sent=2 * GB, recv=GB)])
    start = (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert plan(dsn, "set", "vps", "--basis", "sent", "--cycle-start", start, "--every",
                "30 days", "--tz", "UTC", "--included", "500GB", "--price", "0.01 USD/GiB",
                "--budget", "3 USD").returncode == 0  # fmt: skip
    added = plan(dsn, "adjust", "vps", "340GB", "--note", "panel on 12-04")
    assert added.returncode == 0, added.stderr
    assert "342 GB (+340 GB corrected)" in added.stdout
    taken = plan(dsn, "adjust", "vps", "40GB", "--subtract", "--note", "double counted")
    assert "302 GB (+300 GB corrected)" in taken.stdout  # the cycle's corrections together
    (row,) = json.loads(plan(dsn, "list", "--json").stdout)
    assert (row["used_bytes"], row["adjust_bytes"]) == (2 * GB, 300 * GB)
    listed = json.loads(plan(dsn, "adjustments", "vps", "--json").stdout)
    assert [(a["bytes"], a["note"]) for a in listed] == [
        (-40 * GB, "double counted"),
        (340 * GB, "panel on 12-04"),
    ]
    assert "@" in listed[0]["made_by"]  # user@host
    assert "panel on 12-04" in plan(dsn, "adjustments").stdout
    too_much = plan(dsn, "adjust", "vps", "303GB", "--subtract", "--note", "x")
    assert too_much.returncode == 2 and "would make this cycle's count negative" in too_much.stderr
    assert plan(dsn, "unadjust", str(listed[0]["id"])).returncode == 0
    (row,) = json.loads(plan(dsn, "list", "--json").stdout)
    assert row["adjust_bytes"] == 340 * GB
    assert plan(dsn, "rm", "vps").stdout.strip() == "removed plan 'vps'"
    assert plan(dsn, "adjustments", "vps").stdout.startswith("no corrections")


def test_the_preset_table_lists_every_provider_with_its_source_and_date():
    done = netstats("plan", "providers")
    assert done.returncode == 0
    for key in ("aws", "gcp", "azure", "oracle", "hetzner-eu", "hetzner-us", "digitalocean",
                "vultr", "linode", "fly", "render"):  # fmt: skip
        preset = plans.provider(key)
        assert preset.source.startswith("https://") and preset.checked in done.stdout
        assert f"  {key}: {preset.source}" in done.stdout
        # each row reads as netstats_plan_set will take it
        plans.price(preset.price), plans.every(preset.every), plans.cycle_start(preset.cycle_start)
        plans.included(preset.included)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "acme"], "--provider: no preset named 'acme'; expected one of aws,"),
        ([], "--basis, --cycle-start, --every, --tz: expected (or --provider NAME"),
        (["--basis", "sent", "--cycle-start", "2026-11-30T14:00", "--every", "1 month"],
         "--tz: expected"),
        (["--provider", "aws", "--cycle-start", "2026-11-30T14:00+01:00"],
         "--cycle-start: expected the wall-clock date and time a billing cycle started"),
        (["--provider", "aws", "--price", "-1 EUR/TB"], "--price: expected an amount of 0 or more"),
        (["--provider", "aws", "--price", "1 EURO/TB"], "--price: expected an amount of 0 or more"),
        (["--provider", "aws", "--price", "1 EUR/PB"], "--price: expected an amount, a currency"),
        (["--provider", "aws", "--budget", "5 EUR"], "--budget: expected an amount in the price's currency (USD)"),
        (["--provider", "aws", "--every", "fortnight"], "--every: expected a number of days"),
        (["--provider", "aws", "--included", "lots"], "--included: expected a size such as 1TB"),
        (["--provider", "aws", "--tz", "Mars/Olympus"], "tz: unknown time zone 'Mars/Olympus'"),
    ],
)  # fmt: skip
def test_a_bad_plan_is_refused_naming_the_option(dsn, conn, args, message):
    done = plan(dsn, "set", "bad", *args)
    assert done.returncode == 2
    assert message in done.stderr, done.stderr
