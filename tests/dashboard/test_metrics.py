"""/metrics scraped by a real Prometheus (Debian's package, started here): PromQL through its
HTTP API returns the bytes netstats_totals returns for the same series, before and after
more traffic; the endpoint sits behind the dashboard's token like /api/*."""

import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg.rows import dict_row

from netstats import db
from netstats.dashboard import DashboardSettings
from tests.conftest import create_database
from tests.dashboard.server import Server
from tests.db.support import every, ingest, totals
from tests.support.cli import free_port

TOKEN = "kQ3v9Zp2Lr7Xw4Nt8Bj6Hd1Fs5Gm0Yc-Ue"
TZ = "Asia/Kolkata"
SERIES = [("bot-1", "eth0"), ("bot-1", "wg0"), ("bot-2", "ens3")]


@pytest.fixture
def traffic(clusters):
    """Two hosts, three interfaces and a service over three days, and a pooled plan."""
    dsn = create_database(clusters["pg15"], "metrics")
    db.upgrade(dsn)
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for n, (host, iface) in enumerate(SERIES):
            ingest(conn, every(now - timedelta(days=3), 700, step_s=370, host=host, iface=iface,
                               sent=10**6 + n, recv=3 * 10**6 + 7 * n))  # fmt: skip
        ingest(conn, every(now - timedelta(hours=5), 50, step_s=300, host="bot-1",
                           iface="service:bot", sent=999, recv=111))  # fmt: skip
        conn.execute(
            "SELECT netstats_plan_set('pool', 'total', %s, 1, 'month', 'UTC', 10000000000,"
            " '{bot-*}')", [(now - timedelta(days=2)).replace(tzinfo=None)]
        )  # fmt: skip
    return dsn


def scrape(url: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})


def test_metrics_sit_behind_the_token_and_name_every_series(traffic):
    with Server(DashboardSettings(traffic, port=free_port(), token=TOKEN, tz=TZ)) as running:
        refused = httpx.get(f"{running.url}/metrics")
        text = scrape(running.url)
    assert refused.status_code == 401
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(text.text)}
    assert families["netstats_bytes"].type == "counter"
    moved = {
        (s.labels["host"], s.labels["iface"], s.labels["direction"]): s.value
        for s in families["netstats_bytes"].samples
    }
    with psycopg.connect(traffic) as conn:
        for host, iface in SERIES:
            ever = totals(conn, "all", TZ, host=host, iface=iface)
            assert moved[host, iface, "sent"] == ever["bytes_sent"]
            assert moved[host, iface, "recv"] == ever["bytes_recv"]
        gauges = {
            (g.labels["host"], g.labels["period"], g.labels["direction"]): g.value
            for g in families["netstats_period_bytes"].samples
        }
        for host in ("bot-1", "bot-2"):
            for period in ("today", "month"):
                t = totals(conn, period, TZ, host=host)  # interfaces, not the service
                assert gauges[host, period, "sent"] == t["bytes_sent"]
                assert gauges[host, period, "recv"] == t["bytes_recv"]
        (service,) = [
            s for s in families["netstats_service_bytes"].samples if s.labels["direction"] == "sent"
        ]
        assert (service.labels["service"], service.value) == ("bot", 50 * 999)
        plan = (
            conn.cursor(row_factory=dict_row).execute("SELECT * FROM netstats_plans()").fetchone()
        )
    (used,) = families["netstats_plan_used_bytes"].samples
    assert used.labels == {"plan": "pool", "basis": "total"}
    assert used.value == plan["used_bytes"] + plan["adjust_bytes"]
    (included,) = families["netstats_plan_included_bytes"].samples
    assert included.value == 10**10
    ages = {s.labels["host"]: s.value for s in families["netstats_last_sample_age_seconds"].samples}
    assert set(ages) == {"bot-1", "bot-2"} and all(0 <= a < 600 for a in ages.values())
    p95 = {s.labels["direction"] for s in families["netstats_month_p95_bytes_per_second"].samples}
    assert p95 == {"sent", "recv", "total"}


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="apt-get install prometheus")
def test_prometheus_scrapes_netstats_and_promql_returns_netstats_totals(traffic, tmp_path):
    with Server(DashboardSettings(traffic, port=free_port(), token=TOKEN, tz=TZ)) as running:
        web = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: netstats\n"
            f"    authorization: {{credentials: {TOKEN}}}\n"
            f"    static_configs: [{{targets: ['{running.url.removeprefix('http://')}']}}]\n"
        )
        with (tmp_path / "prometheus.log").open("w") as log:
            prometheus = subprocess.Popen(
                ["prometheus", f"--config.file={config}",
                 f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{web}"],
                stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        try:
            api = f"http://127.0.0.1:{web}/api/v1"

            def query(promql: str) -> dict[tuple[str, ...], Decimal]:
                answer = httpx.get(f"{api}/query", params={"query": promql}).json()
                return {
                    tuple(r["metric"].get(k, "") for k in ("host", "iface")): Decimal(r["value"][1])
                    for r in answer["data"]["result"]
                }

            def wait_for(promql: str, expected: dict) -> dict:
                deadline = time.monotonic() + 30
                while (got := _try(query, promql)) != expected:
                    assert time.monotonic() < deadline, (
                        f"{promql}: {got} != {expected}\n{(tmp_path / 'prometheus.log').read_text()[-2000:]}"
                    )
                    time.sleep(0.3)
                return got

            with psycopg.connect(traffic, autocommit=True) as conn:
                expected = {
                    (h, i): totals(conn, "all", TZ, host=h, iface=i)["bytes_sent"]
                    for h, i in SERIES
                }
                wait_for('netstats_bytes_total{direction="sent"}', expected)
                # more traffic: the next scrapes carry it, to the byte
                ingest(conn, every(datetime.now(UTC) - timedelta(seconds=30), 3, step_s=10,
                                   host="bot-2", iface="ens3", sent=123_457, recv=1))  # fmt: skip
                expected["bot-2", "ens3"] = totals(conn, "all", TZ, host="bot-2", iface="ens3")[
                    "bytes_sent"
                ]
                wait_for('netstats_bytes_total{direction="sent"}', expected)
                today = {
                    (h, ""): totals(conn, "today", TZ, host=h)["bytes_recv"]
                    for h in ("bot-1", "bot-2")
                }
                wait_for(
                    'sum by (host) (netstats_period_bytes{period="today",direction="recv"})', today
                )
            targets = httpx.get(f"{api}/targets").json()["data"]["activeTargets"]
            assert [t["health"] for t in targets] == ["up"]
        finally:
            prometheus.terminate()
            prometheus.wait(10)


def _try(query, promql):
    try:
        return query(promql)
    except (httpx.HTTPError, KeyError, ValueError):
        return None  # Prometheus still starting


def test_label_values_are_escaped_as_the_format_requires():
    """A plan's name is free text: quotes, backslashes and newlines survive the round trip
    through prometheus-client's own parser."""
    from netstats.dashboard.metrics import render
    from netstats.reader import Percentile, Plan

    name = 'say "hi" \\ twice\nplease'
    plan = Plan(**{f: None for f in Plan.__dataclass_fields__} | {
        "name": name, "basis": "total", "tz": "UTC", "used_bytes": 7, "adjust_bytes": 0,
        "cycle_start": datetime(2026, 12, 1, tzinfo=UTC), "cycle_end": datetime(2027, 1, 1, tzinfo=UTC),
        "thresholds": [], "thresholds_crossed": [],
    })  # fmt: skip
    none = Percentile(None, datetime(2026, 12, 6, tzinfo=UTC), 300, 0, 0, None, None, None, None)
    text = render([], {"today": [], "month": []}, [plan], none, datetime.now(UTC))
    (used,) = [
        f for f in text_string_to_metric_families(text) if f.name == "netstats_plan_used_bytes"
    ]
    assert [(s.labels["plan"], s.value) for s in used.samples] == [(name, 7)]
