import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.db.support import T0, count_rows, every, ingest, sample, totals

GOOD = sample(T0 + timedelta(seconds=10)).to_json()


def test_ingest_stores_samples_and_counts_them(conn):
    assert ingest(conn, every(T0, 5)) == {"inserted": 5, "duplicates": 0}
    assert totals(conn, "all")["bytes_sent"] == 500
    assert totals(conn, "all")["bytes_recv"] == 1000


def test_resending_a_batch_is_a_no_op_counted_as_duplicates(conn):
    batch = every(T0, 20)
    ingest(conn, batch)
    before = totals(conn, "all")
    assert ingest(conn, batch[5:15] + every(T0 + timedelta(seconds=200), 3)) == {
        "inserted": 3,
        "duplicates": 10,
    }
    after = totals(conn, "all")
    assert after["samples"] == before["samples"] + 3
    assert after["bytes_total"] == before["bytes_total"] + 3 * 300


def test_a_sample_repeated_inside_one_batch_counts_once(conn):
    s = sample(T0)
    assert ingest(conn, [s, s]) == {"inserted": 1, "duplicates": 1}
    assert totals(conn, "all")["bytes_total"] == 300


def test_out_of_order_and_late_batches_give_the_same_rollups(conn):
    samples = every(T0 - timedelta(hours=30), 2000, step_s=60, sent=7, recv=11)
    shuffled = samples[:]
    random.Random(4).shuffle(shuffled)
    for i in range(0, len(shuffled), 137):
        ingest(conn, shuffled[i : i + 137])
    rollups_shuffled = conn.execute("SELECT * FROM netstats.rollups ORDER BY 1, 2, 3, 4").fetchall()
    conn.execute("TRUNCATE netstats.samples, netstats.rollups")
    ingest(conn, samples)
    assert (
        conn.execute("SELECT * FROM netstats.rollups ORDER BY 1, 2, 3, 4").fetchall()
        == rollups_shuffled
    )


def test_same_key_with_other_bytes_is_refused_not_swallowed(conn):
    ingest(conn, [sample(T0, 1, 1)])
    with pytest.raises(
        psycopg.errors.InvalidParameterValue, match=r"samples\[1\]\.sampled_at: .* repeats the key"
    ):
        ingest(conn, [sample(T0 + timedelta(seconds=10)), sample(T0, 2, 1)])
    assert count_rows(conn) == (1, 10)  # one rollup row per tier, and the fleet's


def test_a_resent_batch_with_an_invalid_element_is_explained_and_writes_nothing(conn):
    batch = every(T0, 3)
    ingest(conn, batch)
    with pytest.raises(
        psycopg.errors.InvalidParameterValue, match=r"samples\[3\]\.bytes_sent: expected an integer"
    ):
        ingest(conn, [*batch, with_field(bytes_sent=-1)])
    assert count_rows(conn) == (3, 10)


def test_overlapping_batches_sent_at_once_store_every_sample_once(conn, dsn):
    """The second batch waits for the first, meets its keys, and stores only the rest."""
    first, second = every(T0, 300), every(T0 + timedelta(seconds=3000), 300)
    with psycopg.connect(dsn) as holder:
        ingest(holder, first)  # not committed yet
        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(lambda: ingest(conn, first[150:] + second))
            time.sleep(0.3)
            assert not racing.done()
            holder.commit()
            assert racing.result(timeout=30) == {"inserted": 300, "duplicates": 150}
    assert totals(conn, "all")["samples"] == 600
    assert totals(conn, "all")["bytes_total"] == 600 * 300


@pytest.mark.parametrize(
    "stamp",
    ["2026-03-02T00:00:10Z", "2026-03-01T19:00:10-05:00", "2026-03-02T05:30:10.000000+05:30"],
)
def test_any_offset_names_the_same_instant(conn, stamp):
    ingest(conn, [with_field(sampled_at=stamp)])
    row = conn.execute("SELECT sampled_at FROM netstats.samples").fetchone()
    assert row == (T0 + timedelta(seconds=10),)


def test_an_empty_batch_inserts_nothing(conn):
    assert ingest(conn, []) == {"inserted": 0, "duplicates": 0}


def with_field(**changes):
    element = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            element.pop(key)
        else:
            element[key] = value
    return element


INVALID = [
    # (element, the error's field and words)
    (with_field(host=...), r"samples\[1\]\.host: missing"),
    (with_field(iface=...), r"samples\[1\]\.iface: missing"),
    (with_field(sampled_at=...), r"samples\[1\]\.sampled_at: missing"),
    (with_field(interval_s=...), r"samples\[1\]\.interval_s: missing"),
    (with_field(bytes_sent=...), r"samples\[1\]\.bytes_sent: missing"),
    (with_field(bytes_recv=...), r"samples\[1\]\.bytes_recv: missing"),
    (with_field(host=42), r"samples\[1\]\.host: expected a string"),
    (with_field(host=""), r"samples\[1\]\.host: expected a string of 1 to 255"),
    (with_field(iface=None), r"samples\[1\]\.iface: expected a string"),
    (
        with_field(bytes_sent="100"),
        r"samples\[1\]\.bytes_sent: expected an integer >= 0, got \"100\"",
    ),
    (with_field(bytes_recv=1.5), r"samples\[1\]\.bytes_recv: expected an integer >= 0, got 1.5"),
    (with_field(bytes_sent=-1), r"samples\[1\]\.bytes_sent: expected an integer >= 0, got -1"),
    (with_field(bytes_recv=2**63), r"samples\[1\]\.bytes_recv: .* more than a 1 Tbit/s link"),
    (with_field(bytes_sent=2**62), r"samples\[1\]\.bytes_sent: .* more than a 1 Tbit/s link"),
    # a minute at 1 Tbit/s is the least any sample may carry: counters may move in steps
    (
        with_field(bytes_sent=7_500_000_000_001),
        r"samples\[1\]\.bytes_sent: 7500000000001 bytes in 10.0 s .* at most 7500000000000",
    ),
    (
        with_field(bytes_recv=10_800_000_000_000_001, interval_s=86400),
        r"samples\[1\]\.bytes_recv: .* at most 10800000000000000",
    ),
    (with_field(interval_s=0), r"samples\[1\]\.interval_s: expected a number of seconds from"),
    (with_field(interval_s=-10), r"samples\[1\]\.interval_s: expected a number of seconds from"),
    (with_field(interval_s=1e-7), r"samples\[1\]\.interval_s: .* from 0.000001 to 86400"),
    (with_field(interval_s=86401), r"samples\[1\]\.interval_s: .* to 86400"),
    (with_field(interval_s="10"), r"samples\[1\]\.interval_s: expected a number"),
    (
        with_field(sampled_at="yesterday"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339 timestamp",
    ),
    (
        with_field(sampled_at="2026-03-02T00:00:10"),
        r"samples\[1\]\.sampled_at: expected .* and an offset",
    ),
    (with_field(sampled_at=1772409610), r"samples\[1\]\.sampled_at: expected an RFC 3339"),
    (with_field(sampled_at="2026-03-02"), r"samples\[1\]\.sampled_at: expected .* and an offset"),
    (
        with_field(sampled_at="2026-03-02 00:00:10+00:00"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339 timestamp",
    ),
    (
        with_field(sampled_at="2026-03-02T00:00:10+0000"),
        r"samples\[1\]\.sampled_at: expected .* and an offset",
    ),
    (
        with_field(sampled_at="2026-02-30T00:00:10+00:00"),
        r"samples\[1\]\.sampled_at: .* not a valid date",
    ),
    # RFC 3339 with seconds, exactly: PostgreSQL alone would take every one of these
    (
        with_field(sampled_at="2026-11-28T09:30:00 BC+00:00"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (
        with_field(sampled_at="2026-03-02T24:00:00Z"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (
        with_field(sampled_at="2026-03-01T23:59:60Z"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (with_field(sampled_at="2026-03-02T09:30Z"), r"samples\[1\]\.sampled_at: expected an RFC 3339"),
    (
        with_field(sampled_at="2026-03-02T093000Z"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (with_field(sampled_at="2026-03-02T9:3:0Z"), r"samples\[1\]\.sampled_at: expected an RFC 3339"),
    (
        with_field(sampled_at="2026-03-02Tallballs+00:00"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (
        with_field(sampled_at="2026-03-02T09:30:00 Europe/Paris+00:00"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (
        with_field(sampled_at="2026-03-02T09:30:00+99:00"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (
        with_field(sampled_at="2026-03-02T09:30:00.Z"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (
        with_field(sampled_at="2026-03-02t09:30:00z"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    # two valid timestamps in one value must not pass the batch-wide check as two lines
    (
        with_field(sampled_at="2026-03-02T09:30:00.5Z\n2026-03-02T09:30:01Z"),
        r"samples\[1\]\.sampled_at: expected an RFC 3339",
    ),
    (
        with_field(sampled_at="2026-03-02T09:30:00+20:00"),
        r"samples\[1\]\.sampled_at: .* not a valid date",
    ),
    (with_field(sampled_at="0001-01-01T00:00:05Z"), r"samples\[1\]\.sampled_at: .* before 1970"),
    (with_field(sampled_at="1969-12-31T23:59:59Z"), r"samples\[1\]\.sampled_at: .* before 1970"),
    (with_field(bytes_snt=5), r"samples\[1\]\.bytes_snt: unknown field"),
    ("not an object", r"samples\[1\]: expected an object"),
]


@pytest.mark.parametrize(
    ("element", "message"),
    INVALID,
    ids=[m.split(": ")[0][12:] + ":" + str(i) for i, (_, m) in enumerate(INVALID)],
)
def test_ingest_refuses_invalid_element_and_writes_nothing(conn, element, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        ingest(conn, [sample(T0), element, sample(T0 + timedelta(seconds=20))])
    assert count_rows(conn) == (0, 0)


@pytest.mark.parametrize("number", ["1e-400", "1e-320", "0.0000001"])
def test_intervals_too_small_for_a_double_are_refused_by_name(conn, number):
    text = json.dumps([sample(T0).to_json()]).replace(
        '"interval_s": 10.0', f'"interval_s": {number}'
    )
    assert number in text
    with pytest.raises(
        psycopg.errors.InvalidParameterValue, match=r"samples\[0\]\.interval_s: expected a number"
    ):
        conn.execute("SELECT netstats_ingest(%s::jsonb)", [text])


def test_a_fraction_of_a_second_and_the_first_second_of_1970_are_stored(conn):
    stamps = ["1970-01-01T00:00:00Z", "2026-03-02T00:00:10.123456789+09:00"]
    assert ingest(conn, [with_field(sampled_at=s) for s in stamps])["inserted"] == 2


def test_ingest_refuses_a_future_sample(conn):
    future = datetime.now(UTC) + timedelta(minutes=6)
    with pytest.raises(
        psycopg.errors.InvalidParameterValue,
        match=r"samples\[0\]\.sampled_at: .* more than 5 minutes after",
    ):
        ingest(conn, [sample(future)])
    ingest(
        conn, [sample(datetime.now(UTC) + timedelta(minutes=4))]
    )  # clock skew within bounds is fine


def test_ingest_refuses_an_oversized_batch(conn):
    with pytest.raises(
        psycopg.errors.InvalidParameterValue,
        match=r"samples: expected at most 5000 samples per batch, got 5001",
    ):
        ingest(conn, every(T0, 5001))
    assert count_rows(conn) == (0, 0)


@pytest.mark.parametrize("payload", [{"host": "x"}, "[]", None, 3])
def test_ingest_refuses_anything_but_an_array(conn, payload):
    with pytest.raises(
        psycopg.errors.InvalidParameterValue, match=r"samples: expected a JSON array"
    ):
        conn.execute(
            "SELECT netstats_ingest(%s::jsonb)", [None if payload is None else json.dumps(payload)]
        )


def test_ingest_notifies_listeners_once_with_what_it_touched(conn, dsn):
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("LISTEN netstats_samples")
        ingest(conn, every(T0, 3) + every(T0, 2, iface="wlan0"))
        ingest(conn, every(T0, 3))  # duplicates only: no notification
        notes = list(listener.notifies(timeout=1.0))
    assert len(notes) == 1
    payload = json.loads(notes[0].payload)
    assert sorted(payload["series"], key=lambda s: s["iface"]) == [
        {"host": "bot-1", "iface": "eth0"},
        {"host": "bot-1", "iface": "wlan0"},
    ]
    assert datetime.fromisoformat(payload["last_sampled_at"]) == T0 + timedelta(seconds=20)


def send_apart(dsn: str, batches: list[list]) -> list:
    """Each batch on a connection of its own, all at once: their counts, or what was raised."""

    def send(rows: list) -> dict:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return ingest(conn, rows)

    with ThreadPoolExecutor(len(batches)) as pool:
        futures = [pool.submit(send, rows) for rows in batches]
        return [future.exception(timeout=60) or future.result() for future in futures]


def test_overlapping_uploads_in_the_agents_order_never_deadlock(conn, dsn):
    """Two agents re-sending the same samples at once, each batch sorted by host, interface
    and time as the agent sends it: the second waits for the first, then finds them stored.
    Each round is a day with no partition yet, made by whichever batch comes first; the other
    may then be handed back as a serialization failure, having stored nothing (see
    netstats_ingest), and stores nothing twice when the agent sends it again."""
    for round_ in range(15):
        keys = every(T0 + timedelta(days=round_), 400, iface=f"eth{round_}")
        results = send_apart(dsn, [keys, keys])  # a deadlock would be an exception here
        counts = [r for r in results if not isinstance(r, psycopg.errors.SerializationFailure)]
        assert [r for r in counts if isinstance(r, Exception)] == []
        counts += [ingest(conn, keys) for _ in range(len(results) - len(counts))]
        assert sorted(c["inserted"] for c in counts) == [0, 400]
    assert totals(conn, "all")["samples"] == 15 * 400


def test_a_batch_refused_for_a_deadlock_stored_nothing_and_goes_again(conn, dsn):
    """The same samples sent at once in opposite orders (never by the agent) may deadlock:
    the batch PostgreSQL refuses stored nothing, and sent again, stores nothing twice. (Each
    deadlock costs deadlock_timeout, a second: four rounds.)"""
    for round_ in range(4):
        keys = every(T0 + timedelta(days=round_), 400, iface=f"eth{round_}")
        results = send_apart(dsn, [keys, keys[::-1]])
        for rows, result in zip([keys, keys[::-1]], results, strict=True):
            if isinstance(result, Exception):  # (or handed back for its new day's partition)
                assert isinstance(
                    result, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure
                )
                assert ingest(conn, rows) == {"inserted": 0, "duplicates": 400}
        assert totals(conn, "all")["samples"] == (round_ + 1) * 400


@pytest.fixture
def bound_login(conn):
    conn.execute("DROP ROLE IF EXISTS agent_bot1")
    conn.execute("CREATE ROLE agent_bot1 LOGIN IN ROLE netstats_agent")
    conn.execute("INSERT INTO netstats.agent_hosts VALUES ('agent_bot1', 'bot-1')")
    yield "agent_bot1"
    conn.execute("DELETE FROM netstats.agent_hosts")
    conn.execute("DROP ROLE agent_bot1")


def test_an_agent_login_bound_to_a_host_writes_only_that_host(conn, dsn, bound_login):
    with psycopg.connect(dsn, user=bound_login, autocommit=True) as agent:
        assert ingest(agent, [sample(T0, host="bot-1")])["inserted"] == 1
        with pytest.raises(
            psycopg.errors.InvalidParameterValue,
            match=r"^samples\[1\]\.host: the login agent_bot1 may write samples only for bot-1, "
            r'got "bot-2"',
        ):
            ingest(agent, [sample(T0 + timedelta(seconds=10)), sample(T0, host="bot-2")])
    # an unbound login (here the owner) writes for any host, as before
    assert ingest(conn, [sample(T0, host="bot-2")])["inserted"] == 1
    assert count_rows(conn)[0] == 2
