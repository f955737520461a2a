"""Plans (issue 30): a cycle of their own, pooled hosts and globs, a basis, corrections and
an exact cost, against a brute force in Python that sums the samples it sent itself."""

import fnmatch
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from tests.conftest import reset
from tests.db.support import ingest, sample
from tests.db.test_cycles import instant, nth_start
from tests.db.test_quotas import claim, quota_set, quotas

GB = 10**9
UNIT_BYTES = {"GB": 10**9, "GiB": 2**30, "TB": 10**12, "TiB": 2**40}
HOSTS = ["bot-1", "bot-2", "bot-10", "web-1"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


def plan_set(conn: psycopg.Connection, name: str, **kw: Any) -> dict[str, Any]:
    args = {
        "name": name,
        "basis": "total",
        "anchor": datetime(2026, 1, 1),
        "every": 1,
        "unit": "month",
        "tz": "UTC",
        **kw,
    }
    named = ", ".join(f"{k} => %({k})s" for k in args)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT * FROM netstats_plan_set({named})", args).fetchone()
    assert row is not None
    return row


def plans(conn: psycopg.Connection, at: datetime) -> dict[str, dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM netstats_plans(at => %s)", [at]).fetchall()
    return {r["name"]: r for r in rows}


def adjust(conn, name: str, n: int, note: str = "panel", at: datetime | None = None):
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM netstats_plan_adjust(%s, %s, %s, 'tester', coalesce(%s, now()))",
            [name, n, note, at],
        ).fetchone()


def the_cycle(anchor: datetime, every: int, unit: str, tz: str, at: datetime):
    k = 0
    while instant(nth_start(anchor, k, every, unit), tz) > at:
        k -= 1
    while instant(nth_start(anchor, k + 1, every, unit), tz) <= at:
        k += 1
    return (
        instant(nth_start(anchor, k, every, unit), tz),
        instant(nth_start(anchor, k + 1, every, unit), tz),
    )


def brute_force(plan: dict[str, Any], samples, corrections: int, at: datetime) -> dict[str, Any]:
    """What a plan's figures must be: the cycle counted on the wall clock from the anchor,
    the pool's samples summed one by one, the basis of the sums, money in exact decimals."""
    start, end = the_cycle(plan["anchor"], plan["every"], plan["unit"], plan["tz"], at)
    pool = [
        s
        for s in samples
        if start <= s.sampled_at <= at
        and (plan["hosts"] is None or any(fnmatch.fnmatchcase(s.host, h) for h in plan["hosts"]))
        and (
            s.iface == plan.get("iface")
            or (plan.get("iface") is None and not s.iface.startswith("service:"))
        )
    ]
    sent, recv = sum(s.bytes_sent for s in pool), sum(s.bytes_recv for s in pool)
    used = {"sent": sent, "recv": recv, "total": sent + recv, "max": max(sent, recv)}[plan["basis"]]
    counted = used + corrections
    included = plan["included_bytes"]
    elapsed = Decimal((at - start) // timedelta(microseconds=1))
    span = Decimal((end - start) // timedelta(microseconds=1))
    left = Decimal((end - at) // timedelta(microseconds=1)) / 10**6
    with localcontext() as ctx:
        ctx.prec = 200
        projected = (
            corrections + (used * span / elapsed).quantize(1, ROUND_HALF_UP) if elapsed else None
        )
        remaining = None if included is None else max(included - counted, 0)
        over = 0 if included is None else max(counted - included, 0)
        over_projected = (
            None if projected is None else 0 if included is None else max(projected - included, 0)
        )
        per_byte = None if plan["price"] is None else plan["price"] / UNIT_BYTES[plan["price_unit"]]
        return {
            "cycle_start": start,
            "cycle_end": end,
            "used_bytes": used,
            "adjust_bytes": corrections,
            "remaining_bytes": remaining,
            "projected_bytes": projected,
            "projected_over_bytes": over_projected,
            "daily_allowance_bytes": None
            if remaining is None or left <= 0
            else (remaining * 86400 / left).quantize(1, ROUND_FLOOR),
            "cost_so_far": None if per_byte is None else over * per_byte,
            "projected_cost": None
            if per_byte is None or over_projected is None
            else over_projected * per_byte,
            "thresholds_crossed": []
            if not included
            else [t for t in plan["thresholds"] if counted * 100 >= included * t],
        }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    anchor=st.builds(
        datetime.combine,
        st.sampled_from(
            [
                datetime(2024, 1, 29),
                datetime(2024, 1, 30),
                datetime(2024, 1, 31),
                datetime(2024, 2, 29),
                datetime(2025, 3, 30),
                datetime(2025, 10, 26),
                datetime(2025, 12, 15),
            ]
        ).map(lambda d: d.date()),
        st.sampled_from([time(0), time(14), time(23, 30)]),
    ),  # fmt: skip
    every=st.integers(1, 2),
    unit=st.sampled_from(["day", "week", "month", "year"]),
    tz=st.sampled_from(ZONES),
    basis=st.sampled_from(["sent", "recv", "total", "max"]),
    hosts=st.one_of(
        st.none(),
        st.lists(
            st.sampled_from(["bot-*", "bot-1", "web-1", "bot-?", "nobody-*"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    ),  # fmt: skip
    included=st.one_of(st.none(), st.integers(0, 40_000)),
    price=st.one_of(
        st.none(),
        st.tuples(
            st.decimals(0, 100, places=4),
            st.sampled_from(["EUR", "USD"]),
            st.sampled_from(list(UNIT_BYTES)),
        ),
    ),
    correction=st.integers(-3000, 5000),
    traffic=st.lists(
        st.tuples(
            st.sampled_from(HOSTS),
            st.integers(0, 90 * 86400),
            st.integers(0, 900),
            st.integers(0, 900),
        ),
        max_size=40,
        unique_by=lambda x: (x[0], x[1]),
    ),  # fmt: skip
    at_s=st.integers(0, 90 * 86400),
)
def test_every_figure_equals_the_brute_force(
    migrated, engine, anchor, every, unit, tz, basis, hosts, included, price, correction,
    traffic, at_s,
):  # fmt: skip
    start = datetime(2025, 12, 1, tzinfo=UTC)
    at = start + timedelta(seconds=at_s)
    samples = [
        sample(start + timedelta(seconds=t), sent=s, recv=r, host=h, interval_s=10.0)
        for h, t, s, r in traffic
    ]
    plan = {
        "anchor": anchor,
        "every": every,
        "unit": unit,
        "tz": tz,
        "basis": basis,
        "hosts": hosts,
        "included_bytes": included,
        "price": price and price[0],
        "price_unit": price and price[2],
        "thresholds": [50, 100],
    }
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        if samples:
            ingest(conn, samples)
        plan_set(
            conn, "p", **{k: v for k, v in plan.items() if k != "price_unit"},
            currency=price and price[1], price_unit=price and price[2],
        )  # fmt: skip
        expected = brute_force(plan, samples, 0, at)
        applied = 0
        if correction and expected["used_bytes"] + correction >= 0:
            adjust(conn, "p", correction, at=at)
            applied = correction
        elif correction:
            with pytest.raises(psycopg.errors.InvalidParameterValue, match="negative"):
                adjust(conn, "p", correction, at=at)
        got = plans(conn, at)["p"]
    expected = brute_force(plan, samples, applied, at)
    assert {k: got[k] for k in expected} == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    every=st.integers(1, 2),
    unit=st.sampled_from(["day", "week", "month"]),
    tz=st.sampled_from(ZONES),
    basis=st.sampled_from(["sent", "recv", "total", "max"]),
    hosts=st.lists(st.sampled_from(["bot-*", "bot-1", "web-1", "bot-?"]), min_size=1,
                   max_size=2, unique=True),
    iface=st.sampled_from([None, "eth0", "service:bot"]),
    traffic=st.lists(
        st.tuples(st.sampled_from(HOSTS), st.sampled_from(["eth0", "ens3", "service:bot"]),
                  st.integers(1, 40 * 86400), st.integers(0, 900), st.integers(0, 900),
                  st.booleans()),
        max_size=30, unique_by=lambda x: (x[0], x[1], x[2]),
    ),
    resend=st.booleans(),
)  # fmt: skip
def test_what_ingest_counts_for_a_pool_equals_the_brute_force_and_the_walk(
    migrated, engine, every, unit, tz, basis, hosts, iface, traffic, resend
):
    """A listed-hosts plan set before its samples come: ingest counts them per cycle (late
    ones into their own cycle, re-sent ones once), and the plan reads that count; the same
    plan walked, and the brute force, agree."""
    now = datetime.now(UTC).replace(microsecond=0)
    samples = [
        sample(now - timedelta(seconds=t), sent=s, recv=r, host=h, iface=i)
        for h, i, t, s, r, _ in traffic
    ]
    before = [x for x, (*_, early) in zip(samples, traffic, strict=True) if early]
    after = [x for x in samples if x not in before]
    anchor = (now - timedelta(days=45)).replace(tzinfo=None, microsecond=0)
    plan = {"anchor": anchor, "every": every, "unit": unit, "tz": tz, "basis": basis,
            "hosts": hosts, "iface": iface, "included_bytes": None, "price": None,
            "price_unit": None, "thresholds": [80]}  # fmt: skip
    with psycopg.connect(migrated[engine], autocommit=True) as conn:
        reset(conn)
        if before:
            ingest(conn, before)  # stored before the plan: counted when it is set
        plan_set(conn, "pool", anchor=anchor, every=every, unit=unit, tz=tz, basis=basis,
                 hosts=hosts, iface=iface)  # fmt: skip
        for batch in (after[::2], after[1::2], after if resend else []):
            if batch:
                ingest(conn, batch)
        at = now + timedelta(seconds=1)
        counted = plans(conn, at)["pool"]
        conn.execute("UPDATE netstats.quotas SET counted_from = NULL")  # walk it instead
        walked = plans(conn, at)["pool"]
    expected = brute_force(plan, samples, 0, at)
    assert {k: counted[k] for k in expected} == expected
    assert {k: walked[k] for k in expected} == expected


def test_ingest_counts_each_sample_in_its_own_cycle_when_a_cycle_starts_inside_a_bucket(conn):
    """A weekly cycle starting 2.5 minutes into a 5-minute bucket: batches wholly on one side
    of its start, and one across it, each count in their own cycle."""
    now = datetime.now(UTC).replace(microsecond=0)
    edge = (now - timedelta(days=2)).replace(second=30)
    edge = edge.replace(minute=edge.minute // 5 * 5 + 2)
    plan_set(conn, "pool", basis="sent", anchor=edge.replace(tzinfo=None), every=1, unit="week",
             hosts=["bot-*"])  # fmt: skip
    after = [sample(edge + timedelta(seconds=s), sent=1) for s in (10, 60, 100)]
    before = [sample(edge - timedelta(seconds=s), sent=10) for s in (10, 90)]
    across = [sample(edge + timedelta(seconds=s), sent=100, host="bot-2") for s in (-20, 20)]
    for batch in (after, before, across):
        ingest(conn, batch)
    rows = conn.execute("SELECT cycle_start, bytes_sent FROM netstats.plan_usage ORDER BY 1")
    assert rows.fetchall() == [
        (edge - timedelta(days=7), 10 + 10 + 100),
        (edge, 1 + 1 + 1 + 100),
        (edge + timedelta(days=7), 0),  # the next cycle, started when the plan was set
    ]
    at = now + timedelta(seconds=1)
    assert plans(conn, at)["pool"]["used_bytes"] == 103
    conn.execute("UPDATE netstats.quotas SET counted_from = NULL")  # walked: the same
    assert plans(conn, at)["pool"]["used_bytes"] == 103


def test_a_pooled_plan_takes_the_basis_of_the_pools_sums(conn):
    at = datetime(2026, 3, 10, tzinfo=UTC)
    ingest(
        conn,
        [
            sample(at - timedelta(days=1), sent=300 * GB, recv=100 * GB, host="bot-1"),
            sample(at - timedelta(days=1), sent=100 * GB, recv=400 * GB, host="bot-2"),
            sample(at - timedelta(days=1), sent=999 * GB, recv=999 * GB, host="web-1"),
        ],
    )
    plan_set(conn, "pool", basis="max", hosts=["bot-*"], included_bytes=1000 * GB)
    got = plans(conn, at)["pool"]
    # the larger of the pool's 400 GB sent and 500 GB received, not 300 + 400 per host
    assert (got["used_bytes"], got["hosts"]) == (500 * GB, ["bot-*"])
    plan_set(conn, "nobody", hosts=["db-*"])
    assert plans(conn, at)["nobody"]["used_bytes"] == 0


def test_a_correction_counts_in_its_cycle_only_and_is_listed_and_removable(conn):
    t = datetime(2026, 3, 10, tzinfo=UTC)
    ingest(conn, [sample(t - timedelta(hours=1), sent=10 * GB, recv=0)])
    plan_set(conn, "vps", basis="sent", included_bytes=500 * GB)
    adjust(conn, "vps", 340 * GB, "panel on 03-10", at=t)
    now = plans(conn, t)["vps"]
    assert (now["used_bytes"], now["adjust_bytes"], now["remaining_bytes"]) == (
        10 * GB,
        340 * GB,
        150 * GB,
    )
    assert plans(conn, datetime(2026, 4, 2, tzinfo=UTC))["vps"]["adjust_bytes"] == 0
    with conn.cursor(row_factory=dict_row) as cur:
        (row,) = cur.execute("SELECT * FROM netstats_plan_adjustments('vps')").fetchall()
    assert (row["bytes"], row["note"], row["made_by"], row["cycle_start"]) == (
        340 * GB,
        "panel on 03-10",
        "tester",
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="would make this cycle"):
        adjust(conn, "vps", -351 * GB, "too much", at=t)
    assert conn.execute("SELECT netstats_plan_adjust_delete(%s)", [row["id"]]).fetchone() == (True,)
    assert plans(conn, t)["vps"]["adjust_bytes"] == 0


def test_quotas_are_plans_with_the_figures_netstats_quotas_gives_them(conn):
    at = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
    ingest(conn, [sample(at - timedelta(days=d), sent=GB, recv=2 * GB) for d in range(30)])
    quota_set(conn, "month", 50 * GB, period="month", direction="recv", tz="Asia/Kathmandu")
    quota_set(conn, "day", 5 * GB, period="day", host="bot-1", iface="eth0")
    quota_set(conn, "cycle", 70 * GB, period="cycle", direction="max")
    plan_set(conn, "a plan", included_bytes=GB)
    old, new = quotas(conn, at), plans(conn, at)
    assert set(old) == {"month", "day", "cycle"} and set(new) == set(old) | {"a plan"}
    same = {
        "period_start": "cycle_start",
        "period_end": "cycle_end",
        "used_bytes": "used_bytes",
        "limit_bytes": "included_bytes",
        "used_ratio": "used_ratio",
        "remaining_bytes": "remaining_bytes",
        "projected_bytes": "projected_bytes",
        "projected_exceed_at": "runs_out_at",
        "daily_allowance_bytes": "daily_allowance_bytes",
        "thresholds_crossed": "thresholds_crossed",
        "direction": "basis",
    }
    for name, q in old.items():
        assert {a: q[a] for a in same} == {a: new[name][b] for a, b in same.items()}
    # a quota set over a plan's name makes it a quota again
    quota_set(conn, "a plan", GB, period="week")
    assert quotas(conn, at)["a plan"]["period"] == "week"


def test_plan_alerts_come_once_per_cycle_and_the_budget_is_watched(conn):
    t = datetime(2026, 3, 10, tzinfo=UTC)
    ingest(conn, [sample(t - timedelta(days=1), sent=90 * GB, recv=0)])
    plan_set(
        conn, "aws", basis="sent", included_bytes=100 * GB, price=Decimal("0.09"),
        currency="usd", price_unit="GB", budget=Decimal("5"), thresholds=[80],
    )  # fmt: skip
    got = plans(conn, t)["aws"]
    # 90 GB in 9 days: 310 GB by the end of March, 210 GB over at $0.09
    assert got["currency"] == "USD" and got["cost_so_far"] == 0
    assert got["projected_over_bytes"] == 210 * GB and got["projected_cost"] == Decimal("18.9")
    first = claim(conn, t)
    assert sorted((a["kind"], a["threshold"]) for a in first) == [
        ("plan_budget", None),
        ("quota_projection", None),
        ("quota_threshold", 80),
    ]
    budget = next(a for a in first if a["kind"] == "plan_budget")
    assert budget["facts"]["projected_cost"] == 18.9 and budget["facts"]["budget"] == 5
    conn.execute("SELECT netstats_alerts_done(%s)", [[a["id"] for a in first]])
    assert claim(conn, t + timedelta(hours=1)) == []
    ingest(conn, [sample(datetime(2026, 4, 5, tzinfo=UTC), sent=95 * GB, recv=0)])
    again = claim(conn, datetime(2026, 4, 6, tzinfo=UTC))
    assert ("quota_threshold", 80) in {(a["kind"], a["threshold"]) for a in again}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"basis": "both"}, "basis: expected one of sent, recv, total, max, got 'both'"),
        ({"tz": None}, "tz: a cycle start needs the zone"),
        ({"anchor": None}, "cycle_start: expected a wall-clock date and time"),
        ({"unit": "fortnight"}, "unit: expected day, week, month or year"),
        ({"every": 0}, "every: expected 1 to 1000"),
        ({"included_bytes": -1}, "included_bytes: expected a number of bytes"),
        ({"price": -1, "currency": "EUR", "price_unit": "TB"}, "price: expected an amount of 0"),
        ({"price": 1, "currency": "EURO", "price_unit": "TB"}, "currency: expected a three-letter"),
        ({"price": 1, "price_unit": "TB"}, "currency: a price needs its currency"),
        ({"price": 1, "currency": "EUR", "price_unit": "PB"}, "price_unit: expected GB, GiB"),
        ({"budget": 5}, "budget: a budget is in the price's currency"),
        ({"hosts": []}, "hosts: expected 1 to 1000 host names or globs"),
        ({"thresholds": [0]}, "thresholds: expected 1 to 20 percentages"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(conn, args, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        plan_set(conn, "bad", **args)


def test_a_correction_needs_a_plan_a_note_and_bytes(conn):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="name: no plan named 'x'"):
        adjust(conn, "x", GB)
    plan_set(conn, "x")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="note: expected 1 to 500"):
        adjust(conn, "x", GB, note="")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="bytes: expected a number"):
        adjust(conn, "x", 0)


def test_many_agents_uploading_at_once_count_every_sample_once_without_deadlocks(conn, dsn):
    """Eight hosts' agents upload at once, again and again, into two pooled plans (one of
    them every host's); a plan set while they upload starts from what is stored. Counted,
    walked and summed, every figure agrees."""
    import threading

    from tests.db.test_ingest import send_apart

    now = datetime.now(UTC).replace(microsecond=0)
    anchor = (now - timedelta(days=3)).replace(tzinfo=None)
    plan_set(conn, "bots", basis="sent", anchor=anchor, every=1, unit="week", hosts=["bot-*"])
    sent = []
    for round_ in range(6):
        batches = [
            [sample(now - timedelta(hours=2, seconds=10 * (50 * round_ + i)), sent=h + 1,
                    host=f"bot-{h}") for i in range(50)]
            for h in range(8)
        ]  # fmt: skip
        if round_ == 3:  # a second plan, set while uploads run
            setter = threading.Thread(target=set_everyone, args=(dsn, anchor))
            setter.start()
        results = send_apart(dsn, batches)
        if round_ == 3:
            setter.join()
        for batch, result in zip(batches, results, strict=True):
            if isinstance(result, psycopg.errors.SerializationFailure):
                result = ingest(conn, batch)
            assert not isinstance(result, Exception), result
            assert result["inserted"] == 50
        sent += [s for batch in batches for s in batch]
    at = now + timedelta(seconds=1)
    want = sum(s.bytes_sent for s in sent)
    counted = plans(conn, at)
    assert counted["bots"]["used_bytes"] == counted["all"]["used_bytes"] == want
    conn.execute("UPDATE netstats.quotas SET counted_from = NULL")
    walked = plans(conn, at)
    assert walked["bots"]["used_bytes"] == walked["all"]["used_bytes"] == want


def set_everyone(dsn: str, anchor: datetime) -> None:
    with psycopg.connect(dsn, autocommit=True) as other:
        plan_set(other, "all", basis="sent", anchor=anchor, every=1, unit="week", hosts=["*"])


def test_a_plan_removed_while_a_batch_counts_for_it_loses_no_sample(conn, dsn):
    """The batch waits for the removal to commit, finds its plan gone, and stores all."""
    import threading
    import time

    now = datetime.now(UTC).replace(microsecond=0)
    plan_set(conn, "gone", anchor=(now - timedelta(days=1)).replace(tzinfo=None), every=1,
             unit="week", hosts=["bot-*"])  # fmt: skip
    ingest(conn, [sample(now - timedelta(minutes=30))])
    result: list = []
    with psycopg.connect(dsn) as remover:
        remover.execute("SELECT netstats_quota_delete('gone')")  # not committed yet
        uploader = threading.Thread(
            target=lambda: result.append(
                send_one(dsn, [sample(now - timedelta(minutes=20 - i)) for i in range(5)])
            )
        )
        uploader.start()
        time.sleep(0.5)  # the upload waits on the removal's locks
        remover.commit()
    uploader.join(30)
    assert result == [{"inserted": 5, "duplicates": 0}]
    assert conn.execute("SELECT count(*) FROM netstats.plan_usage").fetchone() == (0,)


def send_one(dsn: str, rows: list) -> Any:
    try:
        with psycopg.connect(dsn, autocommit=True) as other:
            return ingest(other, rows)
    except psycopg.Error as exc:
        return exc
