"""/netstats through discord.py's real CommandTree, against the real test database."""

import asyncio
import struct
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from psycopg.rows import dict_row

from netstats.units import human_bytes, money, percent
from tests.bot.discord_edge import GUILD_ID, bot_with_extension, fields, interaction, invoke, seed
from tests.db.support import every, ingest, totals
from tests.support.clock import TZ, noon_zone

EXPECTED_PAYLOAD = {
    "name": "netstats",
    "description": "Show how much this bot's host sent and received",
    "description_localizations": {"ja": "このボットのホストの送受信量を表示します"},
    "name_localizations": {},
    "type": 1,
    "nsfw": False,
    "dm_permission": False,
    "contexts": [0],  # servers only
    "integration_types": None,
    "default_member_permissions": 32,  # Manage Server, as a hint; the command checks for real
    "options": [
        {
            "type": 3,
            "name": "period",
            "name_localizations": {"ja": "期間"},
            "description": "Which period; calendar periods follow the bot's time zone",
            "description_localizations": {"ja": "期間（暦の期間はボットのタイムゾーンに従います）"},
            "required": False,
            "choices": [
                {"name": "Today", "value": "today", "name_localizations": {"ja": "今日"}},
                {"name": "This week", "value": "week", "name_localizations": {"ja": "今週"}},
                {"name": "This month", "value": "month", "name_localizations": {"ja": "今月"}},
                {
                    "name": "Billing cycle",
                    "value": "cycle",
                    "name_localizations": {"ja": "請求サイクル"},
                },
                {"name": "All time", "value": "all", "name_localizations": {"ja": "全期間"}},
                {
                    "name": "Last 24 hours",
                    "value": "24h",
                    "name_localizations": {"ja": "過去24時間"},
                },
                {"name": "Last 7 days", "value": "7d", "name_localizations": {"ja": "過去7日間"}},
                {
                    "name": "Last 30 days",
                    "value": "30d",
                    "name_localizations": {"ja": "過去30日間"},
                },
            ],
        },
        {
            "type": 3,
            "name": "host",
            "name_localizations": {"ja": "ホスト"},
            "description": "Only this host",
            "description_localizations": {"ja": "このホストのみ"},
            "required": False,
            "autocomplete": True,
        },
        {
            "type": 3,
            "name": "interface",
            "name_localizations": {"ja": "インターフェース"},
            "description": "Only this network interface",
            "description_localizations": {"ja": "このネットワークインターフェースのみ"},
            "required": False,
            "autocomplete": True,
        },
        {
            "type": 3,
            "name": "view",
            "name_localizations": {"ja": "表示"},
            "description": (
                "What to show: totals, burstable billing, where the traffic went, "
                "or plans and their cost"
            ),
            "description_localizations": {
                "ja": "表示する内容：通信量、バースト課金、通信の多い日やホスト、プランと費用"
            },
            "required": False,
            "choices": [
                {"name": "Totals", "value": "totals", "name_localizations": {"ja": "通信量"}},
                {
                    "name": "95th percentile",
                    "value": "percentile",
                    "name_localizations": {"ja": "95パーセンタイル"},
                },
                {
                    "name": "Top days",
                    "value": "top_days",
                    "name_localizations": {"ja": "通信の多い日"},
                },
                {
                    "name": "Top hosts",
                    "value": "top_hosts",
                    "name_localizations": {"ja": "通信の多いホスト"},
                },
                {"name": "Plans", "value": "plans", "name_localizations": {"ja": "プラン"}},
            ],
        },
        {
            "type": 3,
            "name": "service",
            "name_localizations": {"ja": "サービス"},
            "description": "Only this service (a systemd unit the agent counts)",
            "description_localizations": {
                "ja": "このサービスのみ（エージェントが計測する systemd ユニット）"
            },
            "required": False,
            "autocomplete": True,
        },
    ],
}


def run(coro):
    return asyncio.run(coro)


def test_the_command_tree_sends_discord_exactly_this(env):
    async def main():
        async with bot_with_extension(env) as (bot, _):
            command = bot.tree.get_command("netstats")
            return await command.get_translated_payload(bot.tree, bot.tree.translator)

    assert run(main()) == EXPECTED_PAYLOAD


def ask(env, options=None, **kwargs):
    async def main():
        async with bot_with_extension(env) as (bot, sent):
            await invoke(bot, interaction(bot, options=options, **kwargs))
            return sent

    return run(main())


def test_the_answer_is_deferred_then_shows_exactly_what_netstats_totals_returns(env, conn):
    seed(conn)
    sent = ask(
        env,
        [
            {"name": "period", "type": 3, "value": "today"},
            {"name": "host", "type": 3, "value": "bot-1"},
        ],
    )
    assert sent[0].path.endswith("/callback") and sent[0].payload == {"type": 5}  # deferred first
    embed, values, answer = fields(sent)
    row = totals(conn, "today", TZ, host="bot-1")
    assert values["Sent"] == human_bytes(row["bytes_sent"]) == "900 MB"
    assert values["Received"] == human_bytes(row["bytes_recv"]) == "1.5 GB"
    assert values["Total"] == human_bytes(row["bytes_total"]) == "2.4 GB"
    assert values["Samples"] == "600"
    assert values["Average rate"] == "3.20 Mbit/s"  # 4 MB per 10 s
    assert values["Peak rate"] == "3.20 Mbit/s"
    assert values["Coverage"].startswith(percent(row["coverage"]))
    assert "⚠️" in values["Coverage"]  # 100 minutes of a day so far
    local_start = row["period_start"].astimezone(__import__("zoneinfo").ZoneInfo(TZ))
    assert embed["description"].startswith(f"{local_start:%Y-%m-%d %H:%M} → ")
    assert (
        f"({TZ})" in embed["description"] and "Host bot-1 · interface all" in embed["description"]
    )
    assert (
        values["Projection"]
        == f"≈ {human_bytes(row['projected_bytes_total'])} by {(local_start + timedelta(days=1)):%Y-%m-%d %H:%M}"
    )
    assert embed["title"] == "Network traffic · Today"
    (png,) = answer.files
    data = png.fp.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (800, 300)


def test_a_japanese_client_gets_a_japanese_answer(env, conn):
    seed(conn)
    sent = ask(env, [{"name": "period", "type": 3, "value": "30d"}], locale="ja")
    embed, values, _ = fields(sent)
    assert embed["title"] == "ネットワーク通信量 · 過去30日間"
    row = totals(conn, "30d", TZ)
    assert values["送信"] == human_bytes(row["bytes_sent"])
    assert values["受信"] == human_bytes(row["bytes_recv"])
    assert values["予測"] == "—（暦の期間のみ）"
    assert "すべてのホストとインターフェース" in embed["description"]


def test_without_manage_server_the_answer_is_a_private_refusal(env, conn):
    sent = ask(env, permissions=0)
    assert [s.payload for s in sent] == [
        {
            "type": 4,
            "data": {
                "content": "You need the Manage Server permission to see traffic figures.",
                "tts": False,
                "flags": 64,
            },
        }
    ]


def test_a_server_outside_the_allow_list_is_refused(env, conn):
    env.setenv("NETSTATS_DISCORD_GUILDS", f"{GUILD_ID + 1},{GUILD_ID + 2}")
    sent = ask(env)
    assert sent[0].payload["data"]["content"] == "netstats is not enabled on this server."
    assert sent[0].payload["data"]["flags"] == 64


def test_direct_messages_are_refused(env, conn):
    sent = ask(env, guild_id=None)
    assert (
        sent[0].payload["data"]["content"]
        == "You need the Manage Server permission to see traffic figures."
    )


def test_an_unknown_host_gets_a_polite_private_sentence(env, conn):
    seed(conn)
    sent = ask(env, [{"name": "host", "type": 3, "value": "bot-9"}], locale="ja")
    methods = [(s.method, s.path.rsplit("/", 1)[-1]) for s in sent]
    assert methods == [("POST", "callback"), ("DELETE", "@original"), ("POST", "interaction-token")]
    assert sent[-1].payload == {
        "content": "ホスト「bot-9」の通信量は記録されていません。",
        "tts": False,
        "flags": 64,
    }


def test_an_unreachable_database_still_gets_an_answer_and_no_details(env, caplog):
    env.setenv(
        "NETSTATS_DATABASE_URL",
        "postgresql://postgres:secret@/netstats?host=/nonexistent&connect_timeout=1",
    )
    sent = ask(env)
    assert sent[0].payload == {"type": 5}  # deferred before touching the database
    reply = sent[-1].payload
    assert (
        reply["content"]
        == "Sorry, I could not read the traffic figures just now. Please try again in a minute."
    )
    assert reply["flags"] == 64
    assert "secret" not in str([s.payload for s in sent])
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)


def test_host_and_interface_autocomplete_from_netstats_hosts(env, conn):
    seed(conn)
    focused = [
        {"name": "host", "type": 3, "value": "bot-1"},
        {"name": "interface", "type": 3, "value": "", "focused": True},
    ]
    sent = ask(env, focused, kind=4)
    assert sent[0].payload == {"type": 8, "data": {"choices": [{"name": "eth0", "value": "eth0"}]}}
    sent = ask(env, [{"name": "host", "type": 3, "value": "BOT", "focused": True}], kind=4)
    assert sent[0].payload["data"]["choices"] == [
        {"name": "bot-1", "value": "bot-1"},
        {"name": "bot-2", "value": "bot-2"},
    ]


def seed_services(conn):
    seed(conn)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    ingest(
        conn,
        every(
            start, 600, sent=1_000_000, recv=500_000, host="bot-1", iface="service:mybot.service"
        ),
    )
    ingest(conn, every(start, 600, sent=1_000, recv=0, host="bot-1", iface="service:db.service"))


def test_services_are_listed_apart_and_their_traffic_stays_out_of_the_totals(env, conn):
    seed_services(conn)
    embed, shown, _ = fields(ask(env, [{"name": "host", "type": 3, "value": "bot-1"}]))
    host = totals(conn, "today", TZ, host="bot-1")
    assert shown["Total"] == human_bytes(host["bytes_total"])  # interfaces only
    mybot = totals(conn, "today", TZ, host="bot-1", iface="service:mybot.service")
    db_ = totals(conn, "today", TZ, host="bot-1", iface="service:db.service")
    assert shown["Services (part of the traffic above)"] == "\n".join(
        f"`{name}` {human_bytes(t['bytes_total'])} "
        f"(↑ {human_bytes(t['bytes_sent'])} ↓ {human_bytes(t['bytes_recv'])})"
        for name, t in (("mybot.service", mybot), ("db.service", db_))
    )
    embed, shown, _ = fields(
        ask(env, [{"name": "host", "type": 3, "value": "bot-1"},
                  {"name": "service", "type": 3, "value": "mybot.service"}])
    )  # fmt: skip
    assert shown["Total"] == human_bytes(mybot["bytes_total"])
    assert "Services (part of the traffic above)" not in shown


def test_service_autocomplete_lists_services_and_interfaces_do_not(env, conn):
    seed_services(conn)
    focused = [{"name": "service", "type": 3, "value": "", "focused": True}]
    assert ask(env, focused, kind=4)[0].payload["data"]["choices"] == [
        {"name": "db.service", "value": "db.service"},
        {"name": "mybot.service", "value": "mybot.service"},
    ]
    focused = [{"name": "interface", "type": 3, "value": "", "focused": True}]
    assert ask(env, focused, kind=4)[0].payload["data"]["choices"] == [
        {"name": "ens3", "value": "ens3"},
        {"name": "eth0", "value": "eth0"},
    ]


def test_an_interface_and_a_service_together_get_a_private_sentence(env, conn):
    seed_services(conn)
    sent = ask(env, [{"name": "interface", "type": 3, "value": "eth0"},
                     {"name": "service", "type": 3, "value": "mybot.service"}])  # fmt: skip
    assert sent[-1].payload["content"].startswith("Choose an interface or a service, not both")
    assert sent[-1].payload["flags"] == 64


def test_the_supabase_transport_reads_the_same_figures_through_supabase_py(dsn, conn):
    from netstats.config import Database
    from netstats.reader import Scope, open_reader
    from tests.support.postgrest import serve

    seed(conn)

    async def main(url):
        reader = await open_reader(Database(supabase_url=url, supabase_key="service-role-key"))
        try:
            got = await reader.totals(Scope("today", TZ, "bot-1"))
            start = got.period_start
            buckets = await reader.series(
                Scope(tz=TZ), start, start + timedelta(days=1), timedelta(hours=1)
            )
            return got, buckets, await reader.hosts()
        finally:
            await reader.close()

    with serve(dsn) as (url, _):
        got, buckets, hosts = asyncio.run(main(url))
    want = totals(conn, "today", TZ, host="bot-1")
    assert (got.bytes_sent, got.bytes_recv, got.samples, got.period_start) == (
        want["bytes_sent"],
        want["bytes_recv"],
        want["samples"],
        want["period_start"],
    )
    assert (
        len(buckets) == 24
        and sum(b.bytes_sent for b in buckets)
        == totals(conn, "today", TZ, at=want["period_end"] - timedelta(microseconds=1))[
            "bytes_sent"
        ]
    )
    assert sorted({h.host for h in hosts}) == ["bot-1", "bot-2"]


@pytest.mark.parametrize(
    ("who", "extra_env"),
    [
        ({"permissions": 0}, {}),  # a member without Manage Server
        ({}, {"NETSTATS_DISCORD_GUILDS": "1"}),  # a server outside the allow-list
        ({"guild_id": None}, {}),  # a direct message
    ],
)
def test_autocomplete_tells_nobody_the_check_refuses_any_name(env, conn, who, extra_env):
    seed(conn)
    for name, value in extra_env.items():
        env.setenv(name, value)
    for focused in (
        [{"name": "host", "type": 3, "value": "", "focused": True}],
        [{"name": "interface", "type": 3, "value": "", "focused": True}],
    ):
        sent = ask(env, focused, kind=4, **who)
        assert sent[0].payload == {"type": 8, "data": {"choices": []}}


def test_daily_buckets_across_dst_are_the_same_through_supabase_py(dsn, conn):
    from netstats.config import Database
    from netstats.reader import Scope, open_reader
    from tests.support.postgrest import serve

    start = datetime(2026, 3, 6, 5, tzinfo=UTC)  # midnight in New York, before the DST change
    ingest(conn, every(start, 600, step_s=1200))

    async def read(database):
        reader = await open_reader(database)
        try:
            return await reader.series(
                Scope(tz="America/New_York"), start, start + timedelta(days=8), timedelta(days=1)
            )
        finally:
            await reader.close()

    with serve(dsn) as (url, _):
        through_api = asyncio.run(read(Database(supabase_url=url, supabase_key="service-role-key")))
    direct = asyncio.run(read(Database(url=dsn)))
    assert through_api == direct
    # 8 March has 23 hours in New York: the 9th starts at 04:00 UTC, not 05:00
    assert [b.bucket_start.hour for b in direct] == [5, 5, 5] + [4] * 6


def test_the_answer_shows_the_quotas_that_cover_it_as_netstats_quotas_computed(env, conn):
    seed(conn)
    # a day quota where it is about noon: the seeded 3 hours are inside it at any hour
    zone = noon_zone(datetime.now(UTC))
    conn.execute("SELECT netstats_quota_set('plan', 1000000000, 'day', 'sent', tz => %s)", [zone])
    conn.execute("SELECT netstats_quota_set('bot-2 plan', 10, 'day', 'max', host => 'bot-2')")
    sent = ask(env, [{"name": "host", "type": 3, "value": "bot-1"}])
    embed, values, _ = fields(sent)
    (name,) = [n for n in values if n.startswith("Quota")]  # bot-2's quota is not about bot-1
    assert name == "Quota “plan” · sent today"
    with conn.cursor(row_factory=dict_row) as cur:
        q = cur.execute("SELECT * FROM netstats_quotas() WHERE name = 'plan'").fetchone()
    filled = round(q["used_ratio"] * 10)
    assert values[name].startswith(
        f"{'█' * filled}{'░' * (10 - filled)} ⚠️ {percent(q['used_ratio'])}\n"
        f"{human_bytes(q['used_bytes'])} of 1 GB"
    )
    assert q["thresholds_crossed"] == [80, 90]  # 900 MB sent of 1 GB
    assert embed["color"] == 0xF5A524
    _, values, _ = fields(ask(env, [{"name": "host", "type": 3, "value": "bot-2"}]))
    assert "Quota “bot-2 plan” · larger of sent and received today" in values


def test_the_percentile_view_shows_what_netstats_percentile_returns(env, conn):
    seed(conn)
    env.setenv("NETSTATS_COMMIT_MBITS", "1")
    sent = ask(
        env,
        [
            {"name": "view", "type": 3, "value": "percentile"},
            {"name": "period", "type": 3, "value": "24h"},
        ],
    )
    embed, values, answer = fields(sent)
    assert embed["title"] == "95th percentile · Last 24 hours"
    with conn.cursor(row_factory=dict_row) as cur:
        p = cur.execute(
            "SELECT * FROM netstats_percentile('24h', %s, commit_bytes_per_s => 125000)", [TZ]
        ).fetchone()
    # bot-1 sends 1.5 MB and receives 2.5 MB every 10 s: 1.2 and 2.0 Mbit/s, and bot-2 little
    assert values["Sent"] == "1.20 Mbit/s" and p["sent_bytes_per_s"] == 150_001
    assert values["Received"] == "2.00 Mbit/s" and p["recv_bytes_per_s"] == 250_002
    assert values["Total"] == "3.20 Mbit/s"
    assert (
        values["Above 1 Mbit/s"] == f"{p['above_commit']:,} buckets ({5 * p['above_commit']:,} min)"
    )
    # every bucket of the 100 minutes but partial ones at the edges, counted from the samples
    rates = conn.execute(
        "SELECT sum(bytes_sent) / 300.0, sum(bytes_recv) / 300.0 FROM netstats.samples"
        " GROUP BY date_bin('5 minutes', sampled_at, '2000-01-01')"
    ).fetchall()
    assert p["measured_buckets"] == len(rates)
    assert p["above_commit"] == sum(max(r) > 125_000 for r in rates) >= len(rates) - 2
    assert (
        f"{p['measured_buckets']:,} of {p['buckets']:,} five-minute buckets measured"
        in (embed["description"])
    )
    assert embed["color"] == 0xF5A524 and not answer.files


def test_the_top_views_list_days_and_hosts_as_netstats_top_does(env, conn):
    seed(conn)
    # The bot's zone where it is about noon: the seeded hours are in this month at any hour.
    zone = noon_zone(datetime.now(UTC))
    env.setenv("NETSTATS_TZ", zone)
    sent = ask(env, [{"name": "view", "type": 3, "value": "top_hosts"}], locale="ja")
    embed, values, _ = fields(sent)
    assert embed["title"] == "通信の多いホスト · 今月"
    rows = conn.execute(
        "SELECT key, bytes_total, bytes_sent, bytes_recv FROM netstats_top('month', %s, 'host')",
        [zone],
    ).fetchall()
    assert (
        list(values)
        == [f"{i}. {key}" for i, (key, *_) in enumerate(rows, 1)]
        == ["1. bot-1", "2. bot-2"]
    )
    assert (
        values["1. bot-1"]
        == f"{human_bytes(rows[0][1])} · ↑ {human_bytes(rows[0][2])} ↓ {human_bytes(rows[0][3])}"
    )
    sent = ask(
        env,
        [
            {"name": "view", "type": 3, "value": "top_days"},
            {"name": "host", "type": 3, "value": "bot-2"},
        ],
    )
    embed, values, _ = fields(sent)
    assert embed["title"] == "Top days · This month"
    days = conn.execute(
        "SELECT key, bytes_total FROM netstats_top('month', %s, 'day', host => 'bot-2')", [zone]
    ).fetchall()
    assert [name.split(". ")[1] for name in values] == [key for key, _ in days]
    assert sum(total for _, total in days) == 600 * 30  # the seeded 3 hours, whatever the day


def test_the_plans_view_shows_each_plan_as_netstats_plans_computed_it(env, conn, dsn):
    from netstats.config import Database
    from netstats.reader import Scope, open_reader
    from tests.support.postgrest import serve

    seed(conn)
    conn.execute(
        "SELECT netstats_plan_set('hetzner', 'sent', (now() - interval '3 days')::timestamp, 1,"
        " 'month', 'UTC', included_bytes => 1000000, hosts => '{bot-*}', price => 1,"
        " currency => 'EUR', price_unit => 'GB', budget => 0.5)"
    )
    conn.execute("SELECT netstats_plan_adjust('hetzner', 2000000, 'panel', 'me')")
    conn.execute("SELECT netstats_quota_set('daily', 10000000000, 'day', host => 'bot-2')")
    with conn.cursor(row_factory=dict_row) as cur:
        p = cur.execute("SELECT * FROM netstats_plans() WHERE name = 'hetzner'").fetchone()
    embed, values, _ = fields(ask(env, [{"name": "view", "type": 3, "value": "plans"}]))
    assert embed["title"] == "Plans · each in its own billing cycle"
    assert list(values) == ["Plan “hetzner” · sent · bot-*", "Plan “daily” · total · bot-2"]
    counted = p["used_bytes"] + p["adjust_bytes"]
    lines = values["Plan “hetzner” · sent · bot-*"].split("\n")
    assert lines[1] == f"{human_bytes(counted)} of 1 MB (incl. a correction of +2 MB)"
    assert lines[3] == (
        f"cost {money(p['cost_so_far'], 'EUR')} so far · ≈ {money(p['projected_cost'], 'EUR')}"
        " by the end · ⚠️ over the budget of €0.50"
    )
    assert lines[4] == f"cycle ends <t:{int(p['cycle_end'].timestamp())}:f>"
    assert p["cost_so_far"] == (counted - 10**6) * Decimal("0.000000001")  # exact
    assert embed["color"] == 0xF5A524
    _, values, _ = fields(
        ask(env, [{"name": "view", "type": 3, "value": "plans"},
                  {"name": "host", "type": 3, "value": "bot-2"}], locale="ja")
    )  # fmt: skip
    assert list(values) == [
        "プラン「hetzner」· 送信量 · bot-*",
        "プラン「daily」· 送受信量 · bot-2",
    ]
    assert "現在までの費用 €" in values["プラン「hetzner」· 送信量 · bot-*"]

    async def through_supabase(url):
        reader = await open_reader(Database(supabase_url=url, supabase_key="service-role-key"))
        try:
            await reader.plan_set(
                name="set over the API", basis="max", anchor=datetime(2026, 1, 31, 14),
                every=1, unit="month", tz="Europe/Berlin", hosts=["bot-1"],
                price=Decimal("0.0085"), currency="USD", price_unit="GiB", budget=Decimal("2.5"),
            )  # fmt: skip
            return await reader.plans(Scope())
        finally:
            await reader.close()

    with serve(dsn) as (url, _):
        read = {x.name: x for x in asyncio.run(through_supabase(url))}
    assert (read["hetzner"].cost_so_far, read["hetzner"].adjust_bytes) == (
        p["cost_so_far"],
        2_000_000,
    )
    api = read["set over the API"]
    assert (api.price, api.budget, api.anchor, api.included_bytes) == (
        Decimal("0.0085"), Decimal("2.5"), datetime(2026, 1, 31, 14), None
    )  # fmt: skip
