"""`netstats alerts`: what the database raised reaches a Discord webhook once each, through
429s, rate-limit headers and 5xx answers; a deleted webhook is said once and its alerts
stay visible as failed. Real Postgres, real HTTP (a local stand-in for Discord's endpoint)."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from psycopg.rows import dict_row

from netstats.units import human_bytes, money, percent
from tests.db.support import every, ingest, totals
from tests.support.cli import clean_env
from tests.support.clock import noon_zone
from tests.support.discord_webhook import TOKEN, Answer, serve
from tests.support.embed_picture import draw
from tests.support.postgrest import serve as postgrest

MB = 10**6


@pytest.fixture
def crossed(conn) -> str:
    """A day quota past 50, 80 and 100 % and projected past its limit: four alerts due."""
    now = datetime.now(UTC).replace(microsecond=0)
    ingest(conn, every(now - timedelta(minutes=10), 60, sent=2 * MB, recv=MB, host="bot-1"))
    tz = noon_zone(now)
    conn.execute(
        "SELECT netstats_quota_set('plan', %s, 'day', thresholds => '{50,80,100}', tz => %s)",
        [150 * MB, tz],
    )
    return tz


def alerts(dsn: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netstats.cli", "alerts", *args],
        env=clean_env(NETSTATS_DATABASE_URL=dsn, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def status(conn) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM netstats_alerts() ORDER BY id").fetchall()


def test_each_alert_reaches_the_webhook_once_through_429s_and_5xx(dsn, conn, crossed):
    with serve() as (url, hook):
        hook.script = [
            Answer(
                429,
                {"Retry-After": "1"},
                {"message": "You are being rate limited.", "retry_after": 0.3, "global": False},
            ),
            Answer(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.4"}),
            Answer(502),
        ]
        done = alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url)
        assert done.returncode == 0, done.stderr
        again = alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url)  # nothing is sent twice
        assert again.returncode == 0, again.stderr
    statuses = [s.status for s in hook.seen]
    assert statuses == [429, 200, 502, 200, 200, 200]
    gaps = [b.at - a.at for a, b in zip(hook.seen, hook.seen[1:], strict=False)]
    assert gaps[0] >= 0.3  # retry_after of the 429
    assert gaps[1] >= 0.4  # the bucket was empty until X-RateLimit-Reset-After
    rows = status(conn)
    assert [r["state"] for r in rows] == ["delivered"] * 4
    titles = sorted(e["title"] for e in hook.delivered)
    assert titles == [
        "Quota “plan”: 100% used",
        "Quota “plan”: 50% used",
        "Quota “plan”: 80% used",
        "Quota “plan”: on course to exceed its limit",
    ]
    for output in (done.stdout, done.stderr, again.stdout, again.stderr):
        assert TOKEN not in output


def test_the_embed_shows_the_figures_netstats_quotas_computed(dsn, conn, crossed):
    with serve() as (url, hook):
        assert alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url).returncode == 0
    (row,) = [r for r in status(conn) if r["threshold"] == 100]
    with conn.cursor(row_factory=dict_row) as cur:
        computed = cur.execute(
            "SELECT * FROM netstats_quotas(at => %s)", [row["raised_at"]]
        ).fetchone()
    facts = row["facts"]
    assert facts["used_bytes"] == computed["used_bytes"] == 60 * 3 * MB
    assert facts["remaining_bytes"] == computed["remaining_bytes"] == 0
    assert facts["projected_bytes"] == computed["projected_bytes"]
    (embed,) = [e for e in hook.delivered if e["title"] == "Quota “plan”: 100% used"]
    assert embed["description"] == (
        f"{human_bytes(computed['used_bytes'])} of {human_bytes(150 * MB)} "
        f"({percent(computed['used_ratio'])}) sent and received today"
    )
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Remaining"] == "0 B"
    assert fields["Projected by the end"] == human_bytes(computed["projected_bytes"])
    assert fields["Period ends"] == (
        f"{computed['period_end'].astimezone(ZoneInfo(crossed)):%Y-%m-%d %H:%M} {crossed}"
    )
    assert embed["color"] == 0xE5484D  # past the limit: red


def test_a_deleted_webhook_is_said_once_and_its_alerts_wait_as_failed(dsn, conn, crossed):
    with serve() as (url, hook):
        hook.script = [Answer(404, body={"message": "Unknown Webhook", "code": 10015})]
        done = alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url)
        assert len(hook.seen) == 1  # no retrying a webhook that is gone
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()[-1:]
    assert line.startswith("netstats: the Discord webhook answered 404 Not Found")
    assert "NETSTATS_DISCORD_WEBHOOK" in line and TOKEN not in done.stderr + done.stdout
    rows = status(conn)
    assert [r["state"] for r in rows] == ["failed"] * 4
    assert all("404 Not Found" in r["last_error"] for r in rows)
    shown = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "alerts", "status"],
        env=clean_env(NETSTATS_DATABASE_URL=dsn),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.count("failed after 1 attempt: the Discord webhook answered 404") == 4
    # The webhook fixed: everything that waited goes out once, in Japanese this time.
    with serve() as (url, hook):
        assert (
            alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url, NETSTATS_LANG="ja").returncode == 0
        )
    assert len(hook.delivered) == 4
    assert all(e["title"].startswith("クォータ「plan」") for e in hook.delivered)
    assert [r["state"] for r in status(conn)] == ["delivered"] * 4


def test_a_silent_host_and_its_return_reach_the_webhook(dsn, conn):
    conn.execute("UPDATE netstats.settings SET silent_after = '1 minute'")
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    ingest(conn, every(last - timedelta(minutes=5), 31, host="bot-7"))
    with serve() as (url, hook):
        assert (
            alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url, NETSTATS_TZ="Asia/Tokyo").returncode
            == 0
        )
        ingest(conn, every(datetime.now(UTC) - timedelta(seconds=20), 2, host="bot-7"))
        assert (
            alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url, NETSTATS_TZ="Asia/Tokyo").returncode
            == 0
        )
    silent, back = hook.delivered
    since = last.astimezone(ZoneInfo("Asia/Tokyo"))
    assert silent["title"] == "bot-7 has gone silent"
    assert silent["description"] == f"No samples since {since:%Y-%m-%d %H:%M} Asia/Tokyo (1 min)."
    assert back["title"] == "bot-7 reports again"


def test_without_a_webhook_alerts_says_how_to_get_one(dsn):
    done = alerts(dsn, "--once")
    assert done.returncode == 2
    assert done.stderr.startswith("netstats: NETSTATS_DISCORD_WEBHOOK is not set")
    bad = alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK="discord.com/whatever")
    assert bad.stderr.strip() == (
        "netstats: NETSTATS_DISCORD_WEBHOOK: expected a Discord webhook URL such as "
        "https://discord.com/api/webhooks/ID/TOKEN (channel settings → Integrations)"
    )


def test_netstats_check_exits_1_for_a_quota_that_needs_attention(dsn, conn, crossed):
    check = [sys.executable, "-m", "netstats.cli", "check"]
    env = clean_env(NETSTATS_DATABASE_URL=dsn)
    bad = subprocess.run(check, env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stdout.startswith("plan")
    assert "\nplan " in bad.stdout  # the quota named plan
    rows = json.loads(
        subprocess.run([*check, "--json"], env=env, capture_output=True, text=True).stdout
    )
    assert [(r["name"], r["alarm"], r["thresholds_crossed"]) for r in rows] == [
        ("plan", True, [50, 80, 100])
    ]
    conn.execute("SELECT netstats_quota_set('plan', 10000000000000, 'day')")  # 10 TB a day
    ok = subprocess.run(check, env=env, capture_output=True, text=True)
    assert (ok.returncode, ok.stdout.strip()) == (
        0,
        "ok: 1 plan or quota, none crossed, running out or over budget",
    )
    gone = subprocess.run(
        check,
        env=clean_env(NETSTATS_DATABASE_URL="postgresql://127.0.0.1:9/x"),
        capture_output=True,
        text=True,
    )
    assert gone.returncode == 2 and gone.stderr.startswith("netstats: cannot reach the database")


@pytest.mark.parametrize(
    ("limit", "exact", "direction"),
    [
        ("1TB", 10**12, "sent"),
        ("500GB", 5 * 10**11, "max"),
        ("750GiB", 750 * 2**30, "recv"),
        ("1.5TiB", 3 * 2**39, "total"),
        ("123456", 123456, "sent"),
    ],
)
def test_quota_set_takes_decimal_and_binary_units_exactly(dsn, conn, limit, exact, direction):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "netstats.cli",
            "quota",
            "set",
            "plan",
            limit,
            "--direction",
            direction,
            "--period",
            "month",
            "--tz",
            "Asia/Kathmandu",
            "--thresholds",
            "75,100",
        ],
        env=clean_env(NETSTATS_DATABASE_URL=dsn),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    row = conn.execute(
        "SELECT limit_bytes, direction, period, tz, thresholds FROM netstats.quotas"
    ).fetchone()
    assert row == (exact, direction, "month", "Asia/Kathmandu", [75, 100])


def test_quota_refusals_are_one_clear_line(dsn):
    def quota(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "netstats.cli", "quota", *args],
            env=clean_env(NETSTATS_DATABASE_URL=dsn),
            capture_output=True,
            text=True,
        )

    unit = quota("set", "plan", "5XB")
    assert unit.returncode == 2 and unit.stderr.strip().splitlines()[-1].endswith(
        "argument limit: expected a size such as 1TB, 500GB, 750GiB, 1.5TiB or a number of "
        "bytes, got '5XB'"
    )
    zero = quota("set", "plan", "1TB", "--thresholds", "80,2000")
    assert zero.stderr.strip() == (
        "netstats: the database refused: thresholds: expected 1 to 20 percentages of the "
        "limit, each 1 to 1000, got {80,2000}"
    )
    missing = quota("rm", "nope")
    assert (
        missing.stderr.strip() == "netstats: no quota named 'nope' (netstats quota list shows them)"
    )


def test_the_supabase_path_delivers_and_lists_quotas_the_same(dsn, conn, crossed):
    """Claims, marks and quotas through supabase-py's real HTTP code: a scalar answer (done,
    delete) and a row (quota set) come back from PostgREST as themselves, not as lists."""
    with postgrest(dsn) as (api, _), serve() as (url, hook):
        env = clean_env(SUPABASE_URL=api, SUPABASE_KEY="service-role-key")
        done = subprocess.run(
            [sys.executable, "-m", "netstats.cli", "alerts", "--once"],
            env={**env, "NETSTATS_DISCORD_WEBHOOK": url},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        listed = subprocess.run(
            [sys.executable, "-m", "netstats.cli", "quota", "list", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        removed = subprocess.run(
            [sys.executable, "-m", "netstats.cli", "quota", "rm", "plan"],
            env=env,
            capture_output=True,
            text=True,
        )
    assert len(hook.delivered) == 4
    assert [r["state"] for r in status(conn)] == ["delivered"] * 4
    (row,) = json.loads(listed)
    assert (row["name"], row["used_bytes"], row["limit_bytes"]) == ("plan", 180 * MB, 150 * MB)
    assert removed.stdout.strip() == "removed quota 'plan'"


def test_a_picture_of_the_alert_message(dsn, conn):
    """For people (README: docs/alert.png): an alert exactly as the webhook received it."""
    now = datetime.now(UTC).replace(microsecond=0)
    ingest(conn, every(now - timedelta(minutes=10), 60, sent=2 * MB, recv=MB, host="bot-1"))
    # a day where it is about noon: the last ten minutes are inside it at any hour CI runs
    conn.execute(
        "SELECT netstats_quota_set('plan', 150000000, 'day', 'sent', tz => %s)", [noon_zone(now)]
    )
    with serve() as (url, hook):
        assert alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url).returncode == 0
    message = max(hook.delivered, key=lambda e: e["title"])  # the highest threshold reached
    assert message["title"].startswith("Quota “plan”: ")
    assert draw(message, "alert.png").stat().st_size > 5_000


def test_a_plans_budget_and_threshold_alerts_reach_the_webhook_with_its_cost(dsn, conn):
    """A plan's alerts say plan, its correction and its cost, in the plan's currency."""
    now = datetime.now(UTC).replace(microsecond=0)
    ingest(conn, every(now - timedelta(minutes=10), 60, sent=40 * MB, recv=MB, host="bot-1"))
    conn.execute(
        "SELECT netstats_plan_set('aws', 'sent', (now() - interval '3 hours')::timestamp, 1, 'day',"
        " 'UTC', included_bytes => 1000000000, price => 0.09, currency => 'USD',"
        " price_unit => 'GB', budget => 1, thresholds => '{100}')"
    )
    conn.execute("SELECT netstats_plan_adjust('aws', 500000000, 'panel', 'me')")
    with conn.cursor(row_factory=dict_row) as cur:
        p = cur.execute("SELECT * FROM netstats_plans() WHERE name = 'aws'").fetchone()
    with serve() as (url, hook):
        assert alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url).returncode == 0
    by_title = {e["title"]: e for e in hook.delivered}
    assert set(by_title) == {
        "Plan “aws”: 100% used",
        "Plan “aws”: on course to exceed its allowance",
        f"Plan “aws”: projected cost {money(p['projected_cost'], 'USD')} above the budget of $1.00",
    }
    crossed = by_title["Plan “aws”: 100% used"]
    counted = p["used_bytes"] + p["adjust_bytes"]
    assert crossed["description"] == (
        f"{human_bytes(counted)} of 1 GB ({percent(p['used_ratio'])}) sent this cycle"
        " (incl. a correction of +500 MB)"
    )
    fields = {f["name"]: f["value"] for f in crossed["fields"]}
    assert fields["Cost so far"] == money(p["cost_so_far"], "USD")
    assert fields["Projected cost"] == money(p["projected_cost"], "USD")


def test_a_digest_reaches_the_webhook_once_with_the_periods_figures(dsn, conn):
    """Yesterday's digest in Asia/Kolkata, set up from the command line, posted by
    `netstats alerts` once (twice run), late as it says, and listed with its delivery."""
    zone = ZoneInfo("Asia/Kolkata")
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = (midnight - timedelta(days=1)).astimezone(UTC)
    ingest(conn, every(yesterday + timedelta(hours=1), 60, step_s=60, sent=2 * MB, recv=MB))
    ingest(conn, every(yesterday - timedelta(hours=5), 60, step_s=60, sent=MB, recv=MB))
    netstats = [sys.executable, "-m", "netstats.cli", "digest"]
    env = clean_env(NETSTATS_DATABASE_URL=dsn)
    added = subprocess.run(
        [*netstats, "add", "daily", "--period", "day", "--tz", "Asia/Kolkata"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[1].split()[:3] == ["daily", "day", "Asia/Kolkata"]
    # one for a channel of its own (/netstats-digest add): the bot's to post, not the webhook's
    subprocess.run([*netstats, "add", "elsewhere", "--period", "day", "--channel", "3334"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    conn.execute("UPDATE netstats.digests SET created_at = %s", [yesterday])  # set a day ago
    with serve() as (url, hook):
        for _ in range(2):
            assert alerts(dsn, "--once", NETSTATS_DISCORD_WEBHOOK=url).returncode == 0
    (posted,) = hook.delivered
    (sent,) = [x for x in hook.seen if x.status < 300]
    # the chart /netstats sends, attached and shown as the embed's image
    assert posted["image"] == {"url": "attachment://netstats.png"}
    assert sent.files["netstats.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert sent.payload["attachments"] == [{"id": 0, "filename": "netstats.png"}]
    states = set(conn.execute("SELECT quota, state FROM netstats_alerts()").fetchall())
    assert states == {("daily", "delivered"), ("elsewhere", "pending")}  # (1 or 2 UTC days)
    start, end = int(yesterday.timestamp()), int(midnight.timestamp())
    assert posted["title"] == "Traffic yesterday · daily"
    assert posted["description"].startswith(f"<t:{start}:f> → <t:{end}:f>")
    assert ("Posted late" in posted["description"]) == (time.time() - end > 15 * 60)
    fields = {f["name"]: f["value"] for f in posted["fields"]}
    day = totals(conn, "today", "Asia/Kolkata", at=midnight - timedelta(microseconds=1))
    assert fields["Sent"].splitlines()[0] == human_bytes(day["bytes_sent"]) == "120 MB"
    assert fields["Sent"].splitlines()[1] == "+100.0% against the period before"
    assert fields["Top hosts"] == f"bot-1 · {human_bytes(day['bytes_total'])}"
    assert draw(posted, "digest.png", sent.files["netstats.png"]).stat().st_size > 5_000
    listed = subprocess.run([*netstats, "list"], env=env, capture_output=True, text=True)
    assert f"{yesterday:%Y-%m-%d %H:%M} UTC" in listed.stdout  # its latest period, delivered
    shown = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "alerts", "status"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "\ndigests\n" in shown and "daily" in shown
    assert subprocess.run([*netstats, "rm", "daily"], env=env, capture_output=True,
                          text=True).stdout.strip() == "removed digest 'daily'"  # fmt: skip


def test_status_messages_are_set_listed_and_removed_from_the_command_line(dsn, conn):
    run = [sys.executable, "-m", "netstats.cli", "status-message"]
    env = clean_env(NETSTATS_DATABASE_URL=dsn)
    added = subprocess.run([*run, "add", "3333", "--tz", "Asia/Tokyo", "--every", "10"],
                           env=env, capture_output=True, text=True)  # fmt: skip
    assert added.stdout.strip() == (
        "the bot keeps a status message in channel 3333, edited every 10 min"
    )
    listed = subprocess.run([*run, "list"], env=env, capture_output=True, text=True).stdout
    assert listed.splitlines()[1].split() == [
        "3333", "Asia/Tokyo", "10", "min", "—", "—", "not", "posted", "yet"
    ]  # fmt: skip
    conn.execute("SELECT netstats_status_failed(3333, 'Discord answered 403: Missing Access')")
    shown = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "alerts", "status"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    (line,) = [x for x in shown.split("status messages (kept by the bot)\n")[1].splitlines()
               if x.startswith("3333")]  # fmt: skip
    assert line.endswith("failed 1 time: Discord answered 403: Missing Access")
    bad = subprocess.run([*run, "add", "3333", "--every", "0"], env=env, capture_output=True,
                         text=True)  # fmt: skip
    assert bad.returncode == 2 and "every_s: expected 60 to 86400 seconds" in bad.stderr
    gone = subprocess.run([*run, "rm", "3333"], env=env, capture_output=True, text=True)
    assert gone.stdout.strip() == "no longer keeping the status message in channel 3333"
