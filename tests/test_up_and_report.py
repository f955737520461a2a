"""`netstats up` as a newcomer runs it, and `netstats report` against netstats_totals."""

import json
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import httpx
import psycopg
import pytest

from tests.db.support import every, ingest, totals
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.cli import AT, clean_env, free_port, report
from tests.support.discord_webhook import serve as serve_webhook


def start_up(tmp_path, port, **extra: str):
    env = clean_env(
        NETSTATS_INTERFACES="lo",
        NETSTATS_INTERVAL="1",
        NETSTATS_UPLOAD_EVERY="1",
        NETSTATS_SPOOL=str(tmp_path / "spool.sqlite3"),
        **extra,
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netstats.cli",
            "up",
            "--data-dir",
            str(tmp_path / "pg"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(proc, text, seconds=90) -> list[str]:
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if text in line:
            return seen
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no {text!r} in:\n{''.join(seen)}")


def samples(port) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/api/totals?period=all").json()["samples"]


def stop(proc) -> float:
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    proc.stdout.close()
    return time.monotonic() - began


def test_netstats_up_runs_everything_and_resumes_with_its_data(tmp_path):
    port = free_port()
    first = start_up(tmp_path, port)
    lines = wait_for_line(first, "running; Ctrl-C stops")
    said = "".join(lines)
    assert "creating the embedded PostgreSQL" in said and "counting lo as" in said
    assert f"dashboard on http://127.0.0.1:{port}/" in said
    assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    deadline = time.monotonic() + 20
    while samples(port) < 3:
        assert time.monotonic() < deadline, "no samples recorded"
        time.sleep(0.5)
    again = start_up(tmp_path, free_port())  # a second one on the same data says where it is
    said_again, _ = again.communicate(timeout=30)
    assert again.returncode == 1
    assert said_again.strip() == (
        f"netstats: netstats is already running (PID {first.pid}); its dashboard is at "
        f"http://127.0.0.1:{port}/. Stop it with Ctrl-C there, or kill {first.pid}"
    )
    assert stop(first) < 10

    second = start_up(tmp_path, port)
    said = "".join(wait_for_line(second, "running; Ctrl-C stops"))
    assert "starting the embedded PostgreSQL" in said
    before = samples(port)
    assert before >= 4  # the first run's samples, its final one included
    time.sleep(2.5)
    assert samples(port) > before
    assert stop(second) < 10


def test_the_first_run_says_no_upgrade_warnings_and_ctrl_c_with_the_page_open_is_clean(tmp_path):
    """A brand-new database has nothing to move: no WARNING lines. Ctrl-C while a browser
    tab holds the live stream open ends it at once and prints only netstats' own lines."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_up(tmp_path, port)
    said = "".join(wait_for_line(proc, "running; Ctrl-C stops"))
    assert "WARNING" not in said, said
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            with page.expect_response(lambda r: "/api/stream" in r.url, timeout=20_000):
                page.goto(f"http://127.0.0.1:{port}/")
            time.sleep(0.5)  # the stream is open and idle, as a tab left open is
            began = time.monotonic()
            proc.send_signal(signal.SIGINT)
            rest, _ = proc.communicate(timeout=30)
        finally:
            browser.close()
    assert proc.returncode == 0, rest
    assert time.monotonic() - began < 5  # not the 2 s graceful wait and then some
    own = re.compile(r"netstats: |\S+ \S+ INFO +netstats\.")  # said, or logged by netstats
    assert [line for line in rest.splitlines() if not own.match(line)] == [], rest
    assert "netstats: stopping …" in rest
    assert rest.splitlines()[-1].startswith("netstats: stopped; your data stays in")


def test_report_json_equals_netstats_totals(dsn, conn):
    # Across local midnight (18:30 UTC), and on past `at`, which the report must cut off.
    ingest(conn, every(AT - timedelta(hours=2), 1000, sent=123_456, recv=654_321))
    rows = json.loads(report(dsn, "--json", "--tz", "Asia/Kolkata"))
    assert [r["period"] for r in rows] == ["today", "week", "month", "cycle", "all"]
    for row in rows:
        want = totals(conn, row["period"], "Asia/Kolkata", at=AT)
        for key in ("bytes_sent", "bytes_recv", "bytes_total", "samples", "peak_bytes_per_s"):
            assert row[key] == want[key], (row["period"], key)
        for key in ("first_sample_at", "last_sample_at"):
            assert want[key] is not None and datetime.fromisoformat(row[key]) == want[key]
        if row["period"] != "all":
            assert datetime.fromisoformat(row["period_start"]) == want["period_start"]
            assert row["projected_bytes_total"] == pytest.approx(
                float(want["projected_bytes_total"]), rel=1e-3
            )
        assert row["coverage"] == pytest.approx(want["coverage"], rel=1e-3)


def test_report_table_for_people(dsn, conn):
    ingest(conn, every(AT - timedelta(hours=3), 600, sent=2_000_000, recv=1_000_000))
    out = report(dsn, "--tz", "UTC")
    lines = out.splitlines()
    assert lines[0] == (
        "netstats · all hosts and interfaces · UTC · decimal units: 1 GB = 1000³ bytes"
    )
    assert lines[2] == (
        "billing cycle: 2026-03-01 00:00 to 2026-04-01 00:00 (the database's cycle day; plans"
        " keep their own: netstats plan list)"
    )
    today = next(line for line in lines if line.startswith("today"))
    assert today.split()[1:7] == ["1.2", "GB", "600", "MB", "1.8", "GB"]
    assert "last 24 hours" in out and "█" in out
    binary = report(dsn, "--binary", "--tz", "UTC").splitlines()
    assert binary[0].endswith("· binary units: 1 GiB = 1024³ bytes")
    today = next(line for line in binary if line.startswith("today"))
    # 1.2e9 B = 1.12 GiB, 6e8 B = 572 MiB, 1.8e9 B = 1.68 GiB
    assert today.split()[1:7] == ["1.12", "GiB", "572", "MiB", "1.68", "GiB"]


def test_a_report_soon_after_the_first_sample_leaves_out_what_came_before(dsn, conn):
    """Not measured is not zero: no 0 B rows before monitoring began, and the header says
    since when netstats counts."""
    lines = report(dsn, "--tz", "UTC").splitlines()
    assert lines[1] == "nothing counted yet: the agent's first upload starts the count"
    assert "last 14 days" not in lines and "last 24 hours" not in lines

    ingest(conn, every(AT - timedelta(minutes=100), 10, step_s=60))  # from 18:20 UTC
    lines = report(dsn, "--tz", "Asia/Kolkata").splitlines()
    assert lines[1] == "counting since 2026-03-11 23:50"  # 18:20 UTC in Kolkata
    days = lines[lines.index("last 14 days") + 1 : lines.index("last 24 hours") - 1]
    hours = lines[lines.index("last 24 hours") + 1 :]
    assert [d.split()[:2] for d in days] == [["Wed", "03-11"], ["Thu", "03-12"]]
    assert [h.split()[:2] for h in hours] == [["Wed", "23:00"], ["Thu", "00:00"], ["Thu", "01:00"]]
    # what came after the first sample stays, measured or not (the agent stopped at 18:29)
    assert not days[0].endswith(" 0 B") and days[1].endswith(" 0 B")
    assert not hours[0].endswith(" 0 B") and hours[2].endswith(" 0 B")


def test_report_oneline_has_vnstats_fields_in_exact_bytes(dsn, conn):
    # Across local midnight in Asia/Kolkata: "today" there is 12 March, from 18:30 UTC.
    ingest(conn, every(AT - timedelta(hours=2), 1000, sent=123_456, recv=654_321))
    (line,) = report(dsn, "--oneline", "--tz", "Asia/Kolkata", "--host", "bot-1").splitlines()
    fields = line.split(";")
    today, month, every_ = (
        totals(conn, p, "Asia/Kolkata", host="bot-1", at=AT) for p in ("today", "month", "all")
    )

    def exact(t):
        return [str(t["bytes_recv"]), str(t["bytes_sent"]), str(t["bytes_total"])]

    assert fields[:3] == ["1", "bot-1/all", "2026-03-12"]
    assert fields[3:6] == exact(today) and int(fields[3]) > 0
    assert int(fields[6]) == round(float(today["avg_bytes_per_s"]) * 8)
    assert fields[7:11] == ["2026-03", *exact(month)]
    assert int(fields[11]) == round(float(month["avg_bytes_per_s"]) * 8)
    assert fields[12:] == exact(every_)


def test_report_shows_the_quotas_that_cover_it(dsn, conn):
    ingest(conn, every(AT - timedelta(hours=3), 600, sent=2_000_000, recv=1_000_000))
    conn.execute("SELECT netstats_quota_set('plan', 2000000000, 'day', 'sent', tz => 'Asia/Tokyo')")
    conn.execute("SELECT netstats_quota_set('other', 10, 'day', host => 'bot-9')")
    rows = json.loads(report(dsn, "--json", "--host", "bot-1"))
    today = next(r for r in rows if r["period"] == "today")
    (quota,) = today["quotas"]  # bot-9's quota covers another host
    want = conn.execute(
        "SELECT used_bytes, remaining_bytes FROM netstats_quotas(at => %s) WHERE name = 'plan'",
        [AT],
    ).fetchone()
    assert (quota["used_bytes"], quota["remaining_bytes"]) == want
    assert all(r["quotas"] == [] for r in rows if r["period"] != "today")
    lines = report(dsn, "--tz", "UTC").splitlines()
    section = lines.index("plans and quotas (each in its own cycle)")
    assert lines[section + 2].split()[:2] == ["other", "bot-9/all"]
    assert lines[section + 3].split()[:2] == ["plan", "all/all"]


def test_netstats_up_delivers_alerts_to_the_webhook(tmp_path):
    """netstats up runs the deliverer when NETSTATS_DISCORD_WEBHOOK is set: a quota crossed
    by the agent's own loopback traffic reaches the (local) webhook."""
    port = free_port()
    with serve_webhook() as (url, hook):
        proc = start_up(tmp_path, port, NETSTATS_DISCORD_WEBHOOK=url, NETSTATS_ALERTS_EVERY="1")
        said = "".join(wait_for_line(proc, "running; Ctrl-C stops"))
        assert "alerts go to the Discord webhook (NETSTATS_DISCORD_WEBHOOK)" in said
        dsn = next(line.rsplit(" ", 1)[1] for line in said.splitlines() if "database URL" in line)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT netstats_quota_set('lo', 1, 'day', thresholds => '{100}')")
        deadline = time.monotonic() + 60
        while "Quota “lo”: 100% used" not in [e["title"] for e in hook.delivered]:
            assert time.monotonic() < deadline, "no alert reached the webhook"
            httpx.get(f"http://127.0.0.1:{port}/")  # loopback traffic for the agent to count
            time.sleep(0.5)
        assert stop(proc) < 10
    assert url.rsplit("/", 1)[1] not in said
