"""The dashboard in headless Chromium (Debian's), served by uvicorn over the real database."""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect
from psycopg.rows import dict_row

from netstats.dashboard import DashboardSettings
from netstats.errors import ConfigError
from netstats.units import human_bytes, human_rate, money, percent
from tests.dashboard.server import Server
from tests.db.support import every, ingest, sample, totals
from tests.support.cli import free_port
from tests.support.clock import TZ, noon_zone

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TOKEN = "kQ3v9Zp2Lr7Xw4Nt8Bj6Hd1Fs5Gm0Yc-Ue"


@pytest.fixture
def server(migrated, conn):
    with Server(DashboardSettings(migrated["pg15"], port=free_port(), tz=TZ)) as running:
        yield running


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def seed(conn) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    ingest(conn, every(start, 500, sent=1_234_567, recv=7_654_321, host="bot-1"))
    ingest(conn, every(start, 500, sent=1_000, recv=2_000, host="bot-2", iface="ens3"))


def cards(page: Page) -> dict[str, str]:
    expect(page.locator("#sent")).not_to_have_text("…")
    return {
        name: page.locator(f"#{name}").inner_text()
        for name in ("sent", "received", "total", "average", "peak", "coverage", "projection")
    }


def expected(row) -> dict[str, str]:
    return {
        "sent": human_bytes(row["bytes_sent"]),
        "received": human_bytes(row["bytes_recv"]),
        "total": human_bytes(row["bytes_total"]),
        "average": human_rate(row["avg_bytes_per_s"]),
        "peak": human_rate(row["peak_bytes_per_s"]),
        "coverage": percent(row["coverage"]),
        "projection": human_bytes(row["projected_bytes_total"])
        if row["projected_bytes_total"] is not None
        else "—",
    }


def test_cards_show_exactly_what_netstats_totals_returns(server, conn, page):
    seed(conn)
    page.goto(f"{server.url}/?period=today")
    shown = cards(page)
    assert shown == expected(totals(conn, "today", TZ))
    assert shown["sent"].endswith(" MB") and shown["average"].endswith("bit/s")
    assert page.locator("#window").inner_text().endswith(f"({TZ})")


def test_filters_and_period_change_the_numbers(server, conn, page):
    seed(conn)
    page.goto(server.url)
    cards(page)
    page.select_option("select[name=host]", "bot-2")
    expect(page.locator("#sent")).to_have_text(
        human_bytes(totals(conn, "today", TZ, host="bot-2")["bytes_sent"])
    )
    page.select_option("select[name=period]", "24h")
    row = totals(conn, "24h", TZ, host="bot-2")
    # today's projection may be "—" too: wait for what only the 24 hours show
    expect(page.locator("#coverage")).to_have_text(percent(row["coverage"]))
    assert cards(page) == {**expected(row), "projection": "—"}
    assert page.url.endswith("?period=24h&host=bot-2")
    assert [o for o in page.locator("select[name=iface] option").all_inner_texts()] == [
        "All interfaces",
        "ens3",
    ]
    page.fill("input[name=tz]", "America/New_York")
    page.press("input[name=tz]", "Enter")
    expect(page.locator("#window")).to_contain_text("(America/New_York)")


def test_the_live_chart_gains_a_point_within_2_seconds_of_an_ingest(server, conn, page):
    seed(conn)
    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ingest(conn, every(recent, 12, step_s=20, host="bot-1", iface="eth9"))
    page.goto(server.url)
    cards(page)
    live = page.locator("#live")
    expect(live).not_to_have_attribute("data-points", "0")
    before = int(live.get_attribute("data-points"))
    ingested = time.monotonic()
    ingest(
        conn, [sample(datetime.now(UTC) + timedelta(seconds=1), 5_000_000, 5_000_000, host="bot-1")]
    )
    page.wait_for_function(
        f"Number(document.querySelector('#live').dataset.points) > {before}", timeout=2000
    )
    assert time.monotonic() - ingested < 2
    # "last 15 minutes": the axis spans them, however few points there are
    span = page.evaluate("liveChart.scales.x.max - liveChart.scales.x.min")
    assert span == pytest.approx(900, abs=1)
    title = "Live: bits per second, last 15 minutes (agents upload every 60 s)"
    expect(page.locator("#live-title")).to_have_text(title)


def test_the_page_requests_nothing_that_is_missing(server, conn, page):
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto(server.url)
    cards(page)
    page.wait_for_timeout(300)
    assert missing == []


def test_screenshots_at_desktop_and_phone_width(server, conn, browser):
    seed(conn)
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport in {"desktop": (1280, 900), "phone": (390, 844)}.items():
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        page.goto(f"{server.url}/?period=today")
        cards(page)
        page.wait_for_timeout(300)
        # at phone width nothing overflows sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        path = ARTIFACTS / f"dashboard-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        context.close()


def test_bad_parameters_get_400_with_a_clear_message(server):
    assert httpx.get(f"{server.url}/api/totals?period=fortnight").json() == {
        "error": "period: unknown period 'fortnight'; expected one of today, week, month, year, cycle, 24h, 7d, 30d, all"
    }
    response = httpx.get(f"{server.url}/api/totals?tz=Mars/Olympus")
    assert response.status_code == 400 and response.json()["error"].startswith(
        "tz: unknown time zone"
    )
    assert httpx.get(f"{server.url}/api/totals", params={"host": "x" * 300}).status_code == 400


def test_with_a_token_every_request_needs_it(migrated, conn, browser):
    settings = DashboardSettings(migrated["pg15"], port=free_port(), token=TOKEN)
    with Server(settings) as running:
        for path in ("/api/totals", "/api/hosts", "/api/live", "/api/history", "/static/app.js"):
            assert httpx.get(running.url + path).status_code == 401, path
        assert (
            httpx.get(
                running.url + "/api/totals", headers={"Authorization": "Bearer wrong"}
            ).status_code
            == 401
        )
        assert (
            httpx.get(
                running.url + "/api/totals", headers={"Authorization": f"Bearer {TOKEN}"}
            ).status_code
            == 200
        )
        context = browser.new_context()
        page = context.new_page()
        page.goto(running.url)
        assert page.url.endswith("/login")
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        cards(page)  # signed in by cookie, the page and its stream work
        context.close()


def test_binding_beyond_loopback_requires_a_token(migrated):
    with pytest.raises(ConfigError, match="set NETSTATS_DASHBOARD_TOKEN"):
        DashboardSettings(migrated["pg15"], bind="0.0.0.0")
    DashboardSettings(migrated["pg15"], bind="0.0.0.0", token=TOKEN)


def test_quotas_show_as_bars_amber_past_their_first_threshold(server, conn, page):
    seed(conn)
    zone = noon_zone(datetime.now(UTC))  # a day quota holds the seeded two hours at any hour
    conn.execute("SELECT netstats_quota_set('plan', 5000000000, 'day', tz => %s)", [zone])
    conn.execute(
        "SELECT netstats_quota_set('bot-2 only', 1000000000000, 'month', 'max', host => 'bot-2')"
    )
    page.goto(server.url)
    plan = page.locator("#quota-list li[data-name='plan']")
    expect(plan).to_be_visible()
    row = conn.execute(
        "SELECT used_bytes, used_ratio, remaining_bytes, thresholds_crossed FROM netstats_quotas()"
        " WHERE name = 'plan'"
    ).fetchone()
    used, ratio, remaining, crossed = row
    assert crossed == [80]  # 4.44 GB of 5 GB
    expect(plan).to_have_class("warn")
    expect(plan.locator(".used")).to_have_text(
        f"{human_bytes(used)} of 5 GB ({percent(ratio)}) · {human_bytes(remaining)} left"
    )
    width = plan.locator(".bar span").evaluate("e => e.style.width")
    assert float(width.rstrip("%")) == pytest.approx(ratio * 100)
    other = page.locator("#quota-list li[data-name='bot-2 only']")
    expect(other).not_to_have_class("warn")
    expect(other.locator("strong")).to_have_text(
        "bot-2 only: the larger of sent and received this month · bot-2 / all interfaces"
    )
    page.select_option("select[name=host]", "bot-1")  # bot-2's quota does not cover bot-1
    expect(other).to_have_count(0)
    expect(plan).to_be_visible()


def test_a_plan_card_shows_its_correction_projection_and_cost_as_netstats_plans_did(
    server, conn, page
):
    seed(conn)
    conn.execute(
        "SELECT netstats_plan_set('aws', 'sent', (now() - interval '2 days')::timestamp, 1,"
        " 'month', 'UTC', included_bytes => 1000000000, hosts => '{bot-1}', price => 0.09,"
        " currency => 'USD', price_unit => 'GB', budget => 0.05)"
    )
    conn.execute("SELECT netstats_plan_adjust('aws', 340000000, 'panel', 'me')")
    page.goto(server.url)
    card = page.locator("#quota-list li[data-name='aws']")
    expect(card.locator(".cost")).to_be_visible()
    with conn.cursor(row_factory=dict_row) as cur:
        p = cur.execute("SELECT * FROM netstats_plans() WHERE name = 'aws'").fetchone()
    counted = p["used_bytes"] + p["adjust_bytes"]
    expect(card.locator("strong")).to_have_text("aws: sent this cycle · bot-1 / all interfaces")
    expect(card.locator(".used")).to_have_text(
        f"{human_bytes(counted)} of 1 GB ({percent(p['used_ratio'])}) · "
        f"{human_bytes(p['remaining_bytes'])} left · incl. +340 MB corrected"
    )
    end = p["cycle_end"].astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
    assert p["projected_cost"] > Decimal("0.05")
    expect(card.locator(".cost")).to_have_text(
        f"cost {money(p['cost_so_far'], 'USD')} so far · ≈ {money(p['projected_cost'], 'USD')}"
        f" by {end} · over the budget of $0.05"
    )
    expect(card).to_have_class("warn")
    # the page rounds money as netstats/units.py does, from the exact decimal string
    amounts = ["0", "0.001", "0.005", "1.005", "12.345", "1234567.895", "0.0000000931"]
    for currency in ("USD", "CHF", "JPY"):
        shown = page.evaluate(
            "([amounts, currency]) => amounts.map((a) => money(a, currency))", [amounts, currency]
        )
        assert shown == [money(Decimal(a), currency) for a in amounts]


def test_the_percentile_card_and_top_days_show_the_databases_figures(migrated, conn, page):
    seed(conn)
    settings = DashboardSettings(
        migrated["pg15"], port=free_port(), tz=TZ, commit_bytes_per_s=50e6 / 8
    )
    with Server(settings) as running:
        page.goto(f"{running.url}/?period=7d")
        expect(page.locator("#pct-total")).not_to_have_text("…")
        p = conn.execute(
            "SELECT sent_bytes_per_s, recv_bytes_per_s, total_bytes_per_s, buckets,"
            " measured_buckets, above_commit FROM netstats_percentile('7d', %s,"
            " commit_bytes_per_s => 6250000)",
            [TZ],
        ).fetchone()
        sent, recv, total, buckets, measured, above = p
        expect(page.locator("#pct-total")).to_have_text(human_rate(total))
        expect(page.locator("#pct-split")).to_have_text(
            f"↑ {human_rate(sent)} ↓ {human_rate(recv)}"
        )
        # bot-1 receives 7.65 MB every 10 s (bot-2 2 kB): 6.13 Mbit/s, under the 50 Mbit/s commit
        assert human_rate(recv) == "6.13 Mbit/s" and above == 0
        expect(page.locator("#pct-note")).to_have_text(
            f"{measured:,} of {buckets:,} five-minute buckets measured · commit 50 Mbit/s: "
            "0 buckets above (0 min)"
        )
        gauge = page.locator("#pct-gauge")
        expect(gauge).to_be_visible()
        expect(gauge).not_to_have_class("gauge warn")
        line = gauge.locator("i").evaluate("e => parseFloat(e.style.left)")
        assert line == pytest.approx(100 / 1.25)  # the commit is the scale's top, less headroom
        days = conn.execute(
            "SELECT key, bytes_sent, bytes_recv, bytes_total FROM netstats_top('7d', %s, 'day')",
            [TZ],
        ).fetchall()
        rows = page.locator("#top-days tbody tr")
        expect(rows).to_have_count(len(days))
        assert [rows.nth(i).locator("td").all_inner_texts() for i in range(len(days))] == [
            [key, human_bytes(s), human_bytes(r), human_bytes(t)] for key, s, r, t in days
        ]
        assert sum(t for *_, t in days) == totals(conn, "7d", TZ)["bytes_total"]


def test_services_show_in_a_table_of_their_own_and_as_a_filter(server, conn, page):
    seed(conn)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    ingest(
        conn,
        every(start, 500, sent=300_000, recv=100_000, host="bot-1", iface="service:mybot.service"),
    )
    page.goto(f"{server.url}/?period=today")
    mine = totals(conn, "today", TZ, host="bot-1", iface="service:mybot.service")
    rows = page.locator("#services tbody tr")
    expect(rows).to_have_count(1)
    assert rows.nth(0).locator("td").all_inner_texts() == [
        "mybot.service",
        human_bytes(mine["bytes_sent"]),
        human_bytes(mine["bytes_recv"]),
        human_bytes(mine["bytes_total"]),
    ]
    # the cards are the interfaces' traffic, which holds the service's
    assert cards(page) == expected(totals(conn, "today", TZ))
    assert page.locator("select[name=iface] optgroup[label=Services] option").all_inner_texts() == [
        "mybot.service"
    ]
    page.select_option("select[name=iface]", "service:mybot.service")
    expect(page.locator("#total")).to_have_text(human_bytes(mine["bytes_total"]))
    expect(page.locator("#services")).to_be_hidden()
    assert page.url.endswith("iface=service%3Amybot.service")
