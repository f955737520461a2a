"""`netstats report --percentile` and `--top`: burstable billing and where the traffic went,
the figures of netstats_percentile and netstats_top, checked against the samples."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from netstats.sample import Sample
from netstats.units import human_rate
from tests.db.support import ingest, sample
from tests.support.cli import AT, clean_env, report
from tests.support.cli import refusal as refused
from tests.support.oracle import expected_percentile, expected_top
from tests.support.postgrest import serve


@pytest.fixture
def data(conn) -> list[Sample]:
    """Twelve days before AT on two hosts, a sample every 5 minutes, every one a different
    size; bot-2 bursts for two hours a day."""
    start = AT - timedelta(days=12)
    made = [
        sample(
            start + timedelta(minutes=5 * i),
            sent=1000 * i + 7 + (9 * 10**8 if host == "bot-2" and i % 288 < 24 else 0),
            recv=3 * i + 1,
            host=host,
            interval_s=300,
        )
        for host in ("bot-1", "bot-2")
        for i in range(12 * 288)
    ]
    for i in range(0, len(made), 5000):
        ingest(conn, made[i : i + 5000])
    return made


def test_percentile_json_is_the_databases_and_the_samples(dsn, data):
    got = json.loads(
        report(dsn, "--percentile", "--json", "--period", "month", "--tz", "Asia/Kolkata",
               "--commit-mbits", "20")
    )  # fmt: skip
    want = expected_percentile(data, "month", "Asia/Kolkata", AT, 1, 95.0, 20e6 / 8)
    assert {k: got[k] for k in want} == want
    assert got["above_commit"] == 11 * 24  # bot-2's bursts at 24 Mbit/s, 24 buckets a day
    assert (got["pct"], got["commit_bytes_per_s"], got["bucket_s"]) == (95.0, 2.5e6, 300)


def test_percentile_for_people(dsn, data):
    text = report(dsn, "--percentile", "--pct", "99", "--host", "bot-2", "--commit-mbits", "20")
    mine = [s for s in data if s.host == "bot-2"]
    want = expected_percentile(mine, "cycle", "UTC", AT, 1, 99.0, 20e6 / 8)
    assert text.splitlines() == [
        "netstats · host bot-2, interface all · UTC",
        "",
        "99th percentile of 5-minute rates, billing cycle (2026-03-01 00:00 to 2026-04-01 00:00)",
        f"  sent      {human_rate(want['sent_bytes_per_s']):>14}",
        f"  received  {human_rate(want['recv_bytes_per_s']):>14}",
        f"  total     {human_rate(want['total_bytes_per_s']):>14}",
        f"  measured  {want['measured_buckets']:,} of {want['buckets']:,} five-minute buckets",
        "  above the commit of 20 Mbit/s: 240 buckets (1,200 minutes)",
    ]
    assert human_rate(want["sent_bytes_per_s"]) == "24.1 Mbit/s"  # a burst: 9e8 bytes in 300 s


def test_top_days_hosts_and_hours(dsn, data):
    for by in ("day", "host", "iface", "hour"):
        got = json.loads(report(dsn, "--top", by, "--json", "--tz", "America/New_York", "-n", "5"))
        want = expected_top(data, "month", "America/New_York", AT, by, 5)
        assert [r["bytes_total"] for r in got] == [r[4] for r in want], by
        assert {r["key"] for r in got} <= {
            r[0] for r in expected_top(data, "month", "America/New_York", AT, by, 10**6)
        }
    text = report(dsn, "--top", "host", "--period", "7d")
    assert text.splitlines()[2] == "top 2 by host, last 7 days"
    assert text.splitlines()[4].split()[:2] == ["1", "bot-2"]


def test_billing_views_refuse_what_does_not_fit(dsn, conn):
    def refusal(*args: str) -> str:
        return refused(dsn, *args)

    assert refusal("--top", "day", "--begin", "2026-03-01") == (
        "netstats: --begin: not with --top; it reports one --period"
    )
    assert refusal("--percentile", "--oneline").startswith("netstats: --oneline: not with")
    assert refusal("--percentile", "--commit-mbits", "-1") == (
        "netstats: --commit-mbits: expected 0 to 10000000 Mbit/s, got -1"
    )
    assert refusal("--percentile", "--pct", "0") == (
        "netstats: --pct: expected a percentile above 0 and at most 100, got 0"
    )


def test_the_supabase_path_gives_the_same_figures(dsn, data):
    args = ["--json", "--tz", "Asia/Kathmandu", "--at", AT.isoformat()]
    with serve(dsn) as (url, _):
        through_api = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-m", "netstats.cli", "report", *view, *args],
                    env=clean_env(SUPABASE_URL=url, SUPABASE_KEY="service-role-key"),
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for view in (["--percentile"], ["--top", "day"])
        ]
    assert through_api == [
        json.loads(report(dsn, "--percentile", "--json", "--tz", "Asia/Kathmandu")),
        json.loads(report(dsn, "--top", "day", "--json", "--tz", "Asia/Kathmandu")),
    ]


def test_services_list_what_each_service_moved_apart_from_the_totals(dsn, conn):
    made = [
        sample(AT - timedelta(hours=h), sent=s, recv=r, host=host, iface=iface)
        for h in range(1, 30)
        for host, iface, s, r in (
            ("bot-1", "eth0", 5000, 7000),
            ("bot-1", "service:mybot.service", 3000, 1000),
            ("bot-2", "service:mybot.service", 100, 0),
            ("bot-1", "service:db.service", 10, 20),
        )
    ]
    ingest(conn, made)
    month = [s for s in made if s.sampled_at >= AT.replace(day=1, hour=0)]
    got = json.loads(report(dsn, "--services", "--json"))
    assert [(r["key"], r["bytes_sent"], r["bytes_recv"]) for r in got] == [
        ("mybot.service", sum(s.bytes_sent for s in month if s.iface.endswith("mybot.service")),
         sum(s.bytes_recv for s in month if s.iface.endswith("mybot.service"))),
        ("db.service", sum(s.bytes_sent for s in month if s.iface.endswith("db.service")),
         sum(s.bytes_recv for s in month if s.iface.endswith("db.service"))),
    ]  # fmt: skip
    text = report(dsn, "--services", "--host", "bot-2", "--period", "all")
    assert text.splitlines()[2:5] == [
        "top 1 by service, all time",
        f"{'#':>3}  {'service':<15}{'sent':>11}{'received':>11}{'total':>11}",
        f"{1:>3}  {'mybot.service':<15}{'2.9 kB':>11}{'0 B':>11}{'2.9 kB':>11}",
    ]
    # the host's totals are its interfaces'
    totals = json.loads(report(dsn, "--json", "--period", "all", "--host", "bot-1"))
    assert [t["bytes_sent"] for t in totals] == [29 * 5000]
