"""The fleet overview in headless Chromium with 200 hosts: the first view when there is more
than one host, a row per host exactly as netstats_fleet summed it, sortable, a click narrows
the page to that host; drawn at desktop and phone widths (docs/fleet-*.png)."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from psycopg.rows import dict_row

from netstats.dashboard import DashboardSettings
from netstats.units import human_bytes, percent
from tests.dashboard.server import Server
from tests.dashboard.test_page import ARTIFACTS, cards, expected
from tests.db.support import every, ingest, totals
from tests.support.cli import free_port

HOSTS = 200
TZ = "Asia/Tokyo"


@pytest.fixture
def fleet(migrated, conn):
    """200 hosts: traffic growing with the host's number, every 7th silent for two hours,
    the busiest 50 pooled in a plan past its 80% threshold."""
    now = datetime.now(UTC).replace(microsecond=0)
    conn.execute("UPDATE netstats.settings SET silent_after = '30 minutes'")
    samples = []
    for n in range(HOSTS):
        end = now - (timedelta(hours=2) if n % 7 == 3 else timedelta(seconds=30))
        samples += every(end - timedelta(hours=3), 18, step_s=600, host=f"bot-{n:03}",
                         iface="eth0" if n % 2 else "ens3", sent=10**6 * (n + 1),
                         recv=3 * 10**5 * (n % 11 + 1))  # fmt: skip
    for i in range(0, len(samples), 1000):
        ingest(conn, samples[i : i + 1000])
    conn.execute(
        "SELECT netstats_plan_set('pool', 'total', %s, 1, 'month', 'UTC', 200000000000,"
        " '{bot-15?,bot-16?,bot-17?,bot-18?,bot-19?}', thresholds => '{50,80}')",
        [(now - timedelta(days=3)).replace(tzinfo=None)],
    )
    with Server(DashboardSettings(migrated["pg15"], port=free_port(), tz=TZ)) as running:
        yield running


def test_the_fleet_is_the_first_view_sortable_and_a_click_narrows_to_a_host(
    fleet,
    conn,
    browser,
):
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute("SELECT * FROM netstats_fleet(%s)", [TZ])
        .fetchall()
    )
    assert len(rows) == HOSTS
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(fleet.url)
    table = page.locator("#fleet-table tbody tr")
    expect(table).to_have_count(HOSTS)
    # sorted by this month's bytes, largest first; each row as the database summed it
    by_month = sorted(rows, key=lambda r: (-(r["month_sent"] + r["month_recv"]), r["host"]))
    shown = page.eval_on_selector_all("#fleet-table tbody tr", "rs => rs.map(r => r.dataset.host)")
    assert shown == [r["host"] for r in by_month]
    for r in (by_month[0], by_month[57], by_month[-1]):
        cells = page.locator(f'#fleet-table tr[data-host="{r["host"]}"] td').all_inner_texts()
        state = "silent" if r["silent_since"] else "online"
        assert cells[1].splitlines()[0] == state
        assert cells[2].splitlines() == [
            human_bytes(r["today_sent"] + r["today_recv"]),
            f"↑ {human_bytes(r['today_sent'])} ↓ {human_bytes(r['today_recv'])}",
        ]
        assert cells[3].splitlines()[0] == human_bytes(r["month_sent"] + r["month_recv"])
        assert cells[4] == percent(r["month_share"])
        assert cells[5].splitlines() == [r["busiest_iface"], human_bytes(r["busiest_bytes"])]
        assert ("pool" in cells[6]) == (r["host"] >= "bot-150")
    (plan,) = conn.execute("SELECT used_ratio FROM netstats_plans()").fetchone()
    pool = page.locator('#fleet-table tr[data-host="bot-197"] .plan')
    expect(pool).to_have_text(f"pool {percent(plan)}")
    expect(pool).to_have_class("plan warn")  # past 80%
    silent = sum(1 for r in rows if r["silent_since"])
    expect(page.locator("#fleet-note")).to_contain_text(f"{HOSTS} hosts, {silent} silent")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fleet-desktop.png"))

    page.click('#fleet-table button[data-key="host"]')  # by name, A to Z
    shown = page.eval_on_selector_all("#fleet-table tbody tr", "rs => rs.map(r => r.dataset.host)")
    assert shown == sorted(r["host"] for r in rows)
    page.click('#fleet-table button[data-key="state"]')  # silent first, longest silent first
    first = page.locator("#fleet-table tbody tr").first.get_attribute("data-host")
    assert first in {r["host"] for r in rows if r["silent_since"]}

    page.click('#fleet-table tr[data-host="bot-042"]')  # narrows the page to that host
    expect(page.locator("#fleet")).to_be_hidden()
    expect(page.locator('select[name="host"]')).to_have_value("bot-042")
    expect(page).to_have_url(f"{fleet.url}/?period=today&host=bot-042")
    assert cards(page) == expected(totals(conn, "today", TZ, host="bot-042"))
    page.context.close()


def test_the_fleet_reads_on_a_phone(fleet, browser):
    page = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    ).new_page()
    page.goto(fleet.url)
    expect(page.locator("#fleet-table tbody tr")).to_have_count(HOSTS)
    first = page.locator("#fleet-table tbody tr").first
    assert first.bounding_box()["width"] <= 390  # a card per host, no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    labels = first.locator("td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)"
    )
    assert labels[1:6] == ['"State"', '"Today"', '"This month"', '"Share"', '"Busiest interface"']
    page.screenshot(path=str(ARTIFACTS / "fleet-phone.png"))
    page.context.close()
