"""Migrations: up, up again (a no-op), down to base (nothing left), up again; on both
engines, on a Supabase-shaped database, and as offline SQL for Supabase's SQL editor."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest
from alembic.script import ScriptDirectory
from psycopg.rows import dict_row

from netstats import db
from netstats.errors import ConfigError
from tests.conftest import CRON_DB, create_database, start
from tests.db.support import T0, every, ingest, sample, totals

OBJECTS = """
SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = 'netstats'
UNION ALL SELECT 'function ' || p.oid::regprocedure FROM pg_proc p
 WHERE p.proname LIKE 'netstats\\_%' OR p.pronamespace::regnamespace::text = 'netstats'
UNION ALL SELECT 'table ' || c.oid::regclass FROM pg_class c WHERE c.relnamespace::regnamespace::text = 'netstats'
UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role', 'netstats_agent', 'netstats_reader')
ORDER BY 1
"""


@pytest.fixture
def fresh(engine, tmp_path):
    cluster = start(engine, tmp_path / "data")
    yield cluster
    cluster.stop()


def head() -> str:
    return str(ScriptDirectory.from_config(db.alembic_config()).get_current_head())


def snapshot(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute(OBJECTS)]


def applied(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT name, sha256, applied_at FROM netstats.function_files ORDER BY 1"
        ).fetchall()


def cron_jobs(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute("SELECT jobname FROM cron.job ORDER BY 1")]


def test_up_up_down_up(fresh):
    dsn = create_database(fresh, CRON_DB)
    before = snapshot(dsn)
    assert before == []
    db.upgrade(dsn)
    migrated = snapshot(dsn)
    assert "table netstats.samples" in migrated and "role netstats_agent" in migrated
    functions = applied(dsn)
    assert [name for name, *_ in functions] == sorted(db.function_files())

    db.upgrade(dsn)  # again: nothing changes, not even the functions' applied_at
    assert snapshot(dsn) == migrated
    assert applied(dsn) == functions

    db.downgrade(dsn)
    assert snapshot(dsn) == []  # roles included: this cluster had none before
    if fresh.version == 15:
        assert cron_jobs(dsn) == []

    db.upgrade(dsn)
    assert snapshot(dsn) == migrated


@pytest.fixture
def pg15_fresh(tmp_path):
    cluster = start("pg15", tmp_path / "data")
    yield cluster
    cluster.stop()


@pytest.mark.pg_cron
def test_pg_cron_schedules_alerts_and_retention_idempotently_and_runs_them(pg15_fresh):
    dsn = create_database(pg15_fresh, CRON_DB)
    db.upgrade(dsn)
    db.upgrade(dsn)
    assert cron_jobs(dsn) == ["netstats-alerts", "netstats-purge-cron-log", "netstats-retention"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Run each job's own command through pg_cron itself at the next minute (the finest
        # schedule pg_cron 1.4 has), and wait for it.
        commands = conn.execute("SELECT jobname, command FROM cron.job").fetchall()
        for name, command in commands:
            conn.execute("SELECT cron.schedule(%s, '* * * * *', %s)", [f"now-{name}", command])
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline:
            done = conn.execute(
                """SELECT j.jobname, d.status, d.return_message FROM cron.job_run_details d
                    JOIN cron.job j USING (jobid) WHERE j.jobname LIKE 'now-%' AND d.status IN ('succeeded', 'failed')"""
            ).fetchall()
            if {row[0] for row in done} == {f"now-{name}" for name, _ in commands}:
                break
            time.sleep(0.2)
        assert sorted({(name, status) for name, status, _ in done}) == [
            ("now-netstats-alerts", "succeeded"),
            ("now-netstats-purge-cron-log", "succeeded"),
            ("now-netstats-retention", "succeeded"),
        ], done
    db.downgrade(dsn)
    assert cron_jobs(dsn) == [f"now-{name}" for name, _ in sorted(commands)]


def test_without_pg_cron_migrations_succeed_and_say_what_to_run(fresh):
    dsn = create_database(fresh, "plain")
    db.upgrade(dsn)
    with psycopg.connect(dsn) as conn:
        message = conn.execute("SELECT netstats.schedule_jobs()").fetchone()[0]
    assert "netstats maintain" in message


def test_supabase_shaped_database_keeps_its_roles_and_gets_no_default_grants(fresh):
    """Supabase has the API roles already and grants EXECUTE on every new function in
    public to them by default; netstats must revoke that and must not drop its roles."""
    dsn = create_database(fresh, "supabase")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE ROLE anon NOLOGIN; CREATE ROLE authenticated NOLOGIN; CREATE ROLE service_role NOLOGIN BYPASSRLS"
        )
        conn.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role"
        )
    db.upgrade(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in (
            "SELECT * FROM netstats_totals()",
            "SELECT * FROM netstats_hosts()",
            "SELECT netstats_ingest('[]')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("SET LOCAL ROLE anon")
                conn.execute(sql)
    db.downgrade(dsn)
    assert snapshot(dsn) == ["role anon", "role authenticated", "role service_role"]


def test_offline_sql_builds_a_working_database(fresh):
    """`netstats db sql` is what Supabase users paste into the SQL editor."""
    sql = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "db", "sql"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert (
        "CREATE TABLE netstats.samples" in sql and "CREATE FUNCTION public.netstats_totals" in sql
    )
    dsn = create_database(fresh, "pasted")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)
        assert conn.execute("SELECT version_num FROM netstats.alembic_version").fetchone() == (
            head(),
        )
        assert conn.execute("SELECT bytes_total FROM netstats_totals('all')").fetchone() == (0,)
        # the functions are the files as written: a new day gets its partition, and a
        # refusal names the element (offline SQL once doubled every % in them)
        assert ingest(conn, [sample(T0)]) == {"inserted": 1, "duplicates": 0}
        with pytest.raises(
            psycopg.errors.InvalidParameterValue, match=r"^samples\[0\]\.interval_s"
        ):
            ingest(conn, [sample(T0, interval_s=0)])
    db.upgrade(dsn)  # a later `netstats db upgrade` takes over from the pasted state
    assert [name for name, *_ in applied(dsn)] == sorted(db.function_files())


# A value revision 0002 would refuse: stored under 0001, it must survive the upgrade as is.
IMPLAUSIBLE = """
INSERT INTO netstats.samples VALUES ('old-host', 'eth0', '2026-03-01 00:00:00+00', 10, 4611686018427387904, 0);
INSERT INTO netstats.rollups
SELECT t, 'old-host', 'eth0', netstats.bucket_start(t::smallint, '2026-03-01 00:00:00+00'), 1,
       4611686018427387904, 0, 10, '2026-03-01 00:00:00+00', '2026-03-01 00:00:00+00',
       '2026-02-28 23:59:50+00', 4611686018427387904 / 10.0
  FROM generate_series(1, 4) t;
"""


def figures(dsn: str) -> dict:
    """Each host's totals (read from its own rollups and samples, whatever the revision),
    and the rows of every host's tiers 1 to 4 (0005 adds tier 0 and the fleet series)."""
    at = T0 + timedelta(days=3)
    with psycopg.connect(dsn) as conn:
        hosts = [h for (h,) in conn.execute("SELECT DISTINCT host FROM netstats.samples")]
        out: dict = {
            (period, tz, host): totals(conn, period, tz, host=host, at=at)
            for period in ("today", "month", "all", "7d")
            for tz in ("UTC", "Asia/Kathmandu", "America/St_Johns")
            for host in hosts
        }
        out["rows"] = conn.execute(
            "SELECT (SELECT count(*) FROM netstats.samples), (SELECT sum(hashtext(r::text))"
            " FROM netstats.rollups r WHERE tier > 0 AND host <> '')"
        ).fetchone()
    return out


def all_hosts_add_up(dsn: str, figures: dict) -> None:
    """At the newest revision, totals over all hosts (the fleet series) are each host's."""
    at = T0 + timedelta(days=3)
    with psycopg.connect(dsn) as conn:
        for period in ("today", "month", "all", "7d"):
            for tz in ("UTC", "Asia/Kathmandu", "America/St_Johns"):
                each = [v for k, v in figures.items() if k[:2] == (period, tz)]
                every = totals(conn, period, tz, at=at)
                for key in ("bytes_sent", "bytes_recv", "samples"):
                    assert every[key] == sum(t[key] for t in each), (period, tz, key)


def populated_at(cluster, revision: str) -> str:
    """A database at `revision` holding two hosts' samples (4,000 each, a minute apart, from
    two days before T0), stored at head and moved down: the rows every upgrade test starts
    from."""
    dsn = create_database(cluster, "populated")
    db.upgrade(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for host in ("bot-1", "bot-2"):
            ingest(conn, every(T0 - timedelta(days=2), 4000, step_s=60, host=host))
    db.downgrade(dsn, revision)
    return dsn


def test_a_database_populated_under_0001_upgrades_in_place_with_identical_totals(fresh):
    dsn = populated_at(fresh, "0001")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(IMPLAUSIBLE)
    before = figures(dsn)
    assert sum(v["bytes_sent"] for k, v in before.items() if k[:2] == ("all", "UTC")) == (
        2 * 4000 * 100 + 2**62
    )

    db.upgrade(dsn)

    assert figures(dsn) == before
    all_hosts_add_up(dsn, before)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT version_num FROM netstats.alembic_version").fetchone() == (
            head(),
        )
        # 0005 built the 5-minute tier from the raw samples: it holds every quarter-hour's.
        assert conn.execute(FIVES_HOLD_EVERY_QUARTER).fetchone() == (0,)
        (rate,) = conn.execute(
            "SELECT sent_bytes_per_s FROM netstats_percentile('month', host => 'bot-1', at => %s)",
            [T0 + timedelta(days=1)],
        ).fetchone()
        assert rate == 5 * 100 / 300  # a sample of 100 bytes a minute


FIVES_HOLD_EVERY_QUARTER = """
SELECT count(*) FROM netstats.rollups q
 CROSS JOIN LATERAL (
       SELECT sum(f.samples) AS samples, sum(f.bytes_sent) AS sent, sum(f.bytes_recv) AS recv
         FROM netstats.rollups f
        WHERE f.tier = 0 AND f.host = q.host AND f.iface = q.iface
          AND f.bucket_start >= q.bucket_start
          AND f.bucket_start < q.bucket_start + interval '15 minutes') f
 WHERE q.tier = 1 AND (q.samples, q.bytes_sent, q.bytes_recv) IS DISTINCT FROM (f.samples, f.sent, f.recv)
"""


def test_a_database_populated_under_0002_upgrades_in_place_with_identical_totals(fresh):
    """0003 adds quotas and alerts beside the samples: every total reads as before."""
    dsn = populated_at(fresh, "0002")
    before = figures(dsn)
    assert before[("all", "UTC", "bot-1")]["bytes_sent"] == 4000 * 100

    db.upgrade(dsn)

    assert figures(dsn) == before
    all_hosts_add_up(dsn, before)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT netstats_quota_set('plan', 10000000, 'day', tz => 'Asia/Tokyo')")
        (used,) = conn.execute(
            "SELECT used_bytes FROM netstats_quotas(at => %s)", [T0 + timedelta(days=1)]
        ).fetchone()
        assert used == totals(conn, "today", "Asia/Tokyo", at=T0 + timedelta(days=1))["bytes_total"]


def test_a_database_populated_under_0003_upgrades_in_place_with_identical_figures(fresh):
    """0004 changes functions only: no row changes, every total and every quota's progress
    reads as before, and a quota's bytes are still its period's total."""
    dsn = create_database(fresh, "populated")
    db.upgrade(dsn)
    at = T0 + timedelta(days=1)
    plans = (("day", "Asia/Kathmandu", "today"), ("month", "America/St_Johns", "month"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        for host in ("bot-1", "bot-2"):
            ingest(conn, every(T0 - timedelta(days=2), 4000, step_s=60, host=host))
        for period, tz, _ in plans:
            conn.execute(
                "SELECT netstats_quota_set(%s, 300000, %s, 'sent', 'bot-1', tz => %s)",
                [period, period, tz],
            )
    db.downgrade(dsn, "0003")
    query = "SELECT * FROM netstats_quotas(at => %s) ORDER BY name"
    with psycopg.connect(dsn) as conn:
        before, progress = figures(dsn), conn.execute(query, [at]).fetchall()

    db.upgrade(dsn)

    assert figures(dsn) == before
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        assert [tuple(row.values()) for row in conn.execute(query, [at])] == progress
        for period, tz, name in plans:
            (row,) = conn.execute(
                "SELECT * FROM netstats_quotas(at => %s) WHERE name = %s", [at, period]
            )
            assert (
                0 < row["used_bytes"] == totals(conn, name, tz, host="bot-1", at=at)["bytes_sent"]
            )


@pytest.mark.parametrize(
    "previous", ["0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012", "0013", "0014"]
)
def test_a_database_populated_under_0005_or_later_upgrades_in_place_with_identical_figures(
    fresh, previous
):
    """0006 (an index; percentile and ingest), 0007 (window_sums in two queries), 0008
    (daily partitions of the raw samples, the old table attached as the first) and 0009 (the
    rollups copied into a partition per tier group), 0010 (services' series apart), 0011
    (top hosts from whole buckets), 0012 (function files' serial), 0013 (a quota's 'max'
    direction), 0014 (plans) and 0015 (status messages' claims) change no row: totals,
    percentiles and top lists read as before, and ingest after the upgrade keeps every tier
    adding up."""
    dsn = populated_at(fresh, previous)
    at = T0 + timedelta(days=1)
    billing = (
        ("SELECT * FROM netstats_percentile('month', 'Asia/Kathmandu', at => %s)", [at]),
        ("SELECT * FROM netstats_percentile('24h', host => 'bot-1', at => %s)", [at]),
        ("SELECT * FROM netstats_top('month', 'America/St_Johns', 'hour', 50, at => %s)", [at]),
        ("SELECT * FROM netstats_top('month', 'UTC', 'iface', at => %s)", [at]),
        ("SELECT * FROM netstats_top('week', 'Asia/Tokyo', 'host', at => %s)", [at]),
        ("SELECT * FROM netstats_top('24h', 'UTC', 'host', at => %s)", [at]),
    )
    with psycopg.connect(dsn) as conn:
        before = figures(dsn), [conn.execute(q, args).fetchall() for q, args in billing]

    db.upgrade(dsn)

    with psycopg.connect(dsn, autocommit=True) as conn:
        assert (figures(dsn), [conn.execute(q, args).fetchall() for q, args in billing]) == before
        all_hosts_add_up(dsn, before[0])
        ingest(conn, every(T0 + timedelta(days=1), 500, step_s=7, host="bot-3"))
        assert conn.execute(FIVES_HOLD_EVERY_QUARTER).fetchone() == (0,)
        assert conn.execute(TIERS_ADD_UP).fetchone() == (0,)


def test_sums_over_every_host_equal_each_hosts_own_on_history_without_five_minute_rows(fresh):
    """Top hosts and interface totals sum every host at once (no walk per host); on 15-minute
    buckets whose raw samples were gone before 0005 (no 5-minute rows under them), cut by
    `at`, they must still equal each host's own walk, leaf rule included."""
    dsn = create_database(fresh, "populated")
    db.upgrade(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for host in ("bot-1", "bot-2"):
            for iface in ("eth0", "ens3"):
                ingest(conn, every(T0 - timedelta(days=2), 2880, step_s=60, host=host, iface=iface))
    db.downgrade(dsn, "0004")
    with psycopg.connect(dsn, autocommit=True) as conn:
        # retention as it ran at 0004 (today's netstats.apply_retention needs today's schema)
        conn.execute("DELETE FROM netstats.samples WHERE sampled_at < %s", [T0])
        conn.execute("UPDATE netstats.settings SET raw_purged_before = %s", [T0])
    db.upgrade(dsn)
    with psycopg.connect(dsn) as conn:
        for at in (
            T0 - timedelta(hours=30, minutes=-7),
            T0 - timedelta(minutes=52),
            T0 + timedelta(hours=20, minutes=3),
        ):
            for period in ("today", "24h", "all"):
                for tz in ("UTC", "Asia/Kathmandu"):
                    each = {
                        (h, i): totals(conn, period, tz, host=h, iface=i, at=at)
                        for h in ("bot-1", "bot-2")
                        for i in ("eth0", "ens3")
                    }
                    top = conn.execute(
                        "SELECT key, bytes_sent, bytes_recv FROM netstats_top(%s, %s, 'iface', 10, at => %s)",
                        [period, tz, at],
                    ).fetchall()
                    assert sorted(top) == sorted(
                        (f"{h}/{i}", t["bytes_sent"], t["bytes_recv"])
                        for (h, i), t in each.items()
                        if t["samples"]
                    ), (at, period, tz)
                    eth0 = totals(conn, period, tz, iface="eth0", at=at)
                    assert eth0["bytes_sent"] == sum(
                        t["bytes_sent"] for (_, i), t in each.items() if i == "eth0"
                    ), (at, period, tz)
        # the case this is about: a 15-minute leaf cut by `at`, from rollups alone
        assert (
            conn.execute(
                "SELECT count(*) FROM netstats.rollups WHERE tier = 1 AND host <> '' AND bucket_start < %s"
                " AND bucket_start NOT IN (SELECT bucket_start FROM netstats.rollups WHERE tier = 0)",
                [T0 - timedelta(days=1)],
            ).fetchone()[0]
            > 0
        )


# Every tier holds the same samples and bytes per series and month as the one below it.
TIERS_ADD_UP = """
SELECT count(*) FROM (SELECT FROM (
  SELECT tier, host, iface, netstats.bucket_start(4::smallint, bucket_start) AS month,
         sum(samples) AS samples, sum(bytes_sent) AS sent, sum(bytes_recv) AS recv
    FROM netstats.rollups GROUP BY 1, 2, 3, 4
) t
GROUP BY host, iface, month
HAVING count(DISTINCT (samples, sent, recv)) <> 1 OR count(*) <> 5) wrong
"""


@pytest.mark.pg_cron
def test_the_cron_log_purge_keeps_other_applications_history(pg15_fresh):
    dsn = create_database(pg15_fresh, CRON_DB)
    db.upgrade(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        other = conn.execute(
            "SELECT cron.schedule('other-app', '0 0 * * *', 'SELECT 1')"
        ).fetchone()
        ours = conn.execute(
            "SELECT jobid FROM cron.job WHERE jobname = 'netstats-retention'"
        ).fetchone()
        for jobid in (other[0], ours[0]):
            conn.execute(
                "INSERT INTO cron.job_run_details (jobid, runid, command, status, end_time)"
                " VALUES (%s, nextval('cron.runid_seq'), 'x', 'succeeded', now() - interval '30 days')",
                [jobid],
            )
        (purge,) = conn.execute(
            "SELECT command FROM cron.job WHERE jobname = 'netstats-purge-cron-log'"
        ).fetchone()
        conn.execute(purge)
        left = conn.execute("SELECT jobid FROM cron.job_run_details").fetchall()
    assert left == [other]


def test_the_function_files_are_the_newest_set_named():
    """Function files are re-applied by checksum. A change to one without a new serial would
    let an older netstats with the same serial put the old SQL back; with one, migrating
    refuses the older set (below)."""
    serials = list(db.FUNCTION_SETS)
    assert serials == list(range(1, len(serials) + 1))
    assert len(set(db.FUNCTION_SETS.values())) == len(serials)  # no set twice
    assert db.FUNCTION_SETS[db.FUNCTIONS_SERIAL] == db.functions_digest(), (
        "the function files changed: append to netstats.db.FUNCTION_SETS "
        f"{db.FUNCTIONS_SERIAL + 1}: {db.functions_digest()!r}"
    )


def test_a_database_with_newer_functions_refuses_this_netstats_set(fresh):
    dsn = create_database(fresh, "newer")
    db.upgrade(dsn)
    with psycopg.connect(dsn) as conn:
        serials = conn.execute("SELECT DISTINCT serial FROM netstats.function_files").fetchall()
    assert serials == [(db.FUNCTIONS_SERIAL,)]
    with psycopg.connect(dsn, autocommit=True) as conn:  # as a newer netstats leaves it
        conn.execute("UPDATE netstats.function_files SET serial = serial + 1")
        conn.execute("UPDATE netstats.function_files SET sha256 = 'newer'")
    before = applied(dsn)
    newer = rf"functions are set {db.FUNCTIONS_SERIAL + 1}, newer than this netstats' .{db.FUNCTIONS_SERIAL}."
    with pytest.raises(ConfigError, match=newer):
        db.upgrade(dsn)
    assert applied(dsn) == before  # nothing was re-applied


def cron_database(cluster, owner: str = "postgres") -> str:
    """The database pg_cron is preloaded for (cron.database_name), without the extension."""
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{CRON_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{CRON_DB}" OWNER "{owner}"')
    return cluster.dsn(CRON_DB)


@pytest.mark.pg_cron
def test_upgrade_creates_pg_cron_where_the_server_preloads_it(pg15_fresh):
    dsn = cron_database(pg15_fresh)
    db.upgrade(dsn)
    assert cron_jobs(dsn) == ["netstats-alerts", "netstats-purge-cron-log", "netstats-retention"]


def supabase_like(cluster) -> tuple[str, str]:
    """A database whose migrating role is like Supabase's postgres: no superuser, but it may
    create roles and bypasses RLS, and the API roles exist already. (superuser's DSN, the
    migrator's)"""
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute("CREATE ROLE migrator LOGIN CREATEROLE BYPASSRLS")
        conn.execute(
            "CREATE ROLE anon NOLOGIN; CREATE ROLE authenticated NOLOGIN;"
            " CREATE ROLE service_role NOLOGIN BYPASSRLS"
        )
    dsn = cron_database(cluster, owner="migrator")
    return dsn, dsn.replace("postgres@", "migrator@")


@pytest.mark.pg_cron
def test_a_role_that_may_not_create_pg_cron_migrates_and_is_told_how(pg15_fresh, caplog):
    dsn, as_migrator = supabase_like(pg15_fresh)
    with caplog.at_level("WARNING", "netstats.db"):
        db.upgrade(as_migrator)
    (warning,) = [r.getMessage() for r in caplog.records if "pg_cron" in r.getMessage()]
    assert "run CREATE EXTENSION pg_cron as a superuser" in warning
    migrated = snapshot(dsn)
    with psycopg.connect(dsn) as conn:
        ingest(conn, every(T0, 3))
        assert totals(conn, "all")["samples"] == 3

    # and removed again by the same role, with its data, down to Supabase's own roles
    db.downgrade(as_migrator)
    assert snapshot(dsn) == ["role anon", "role authenticated", "role service_role"]
    with psycopg.connect(dsn) as conn:
        memberships = conn.execute(
            "SELECT roleid::regrole::text FROM pg_auth_members WHERE member = 'migrator'::regrole"
        ).fetchall()
    assert memberships == []  # what the downgrade lent itself, it gave back

    db.upgrade(as_migrator)
    assert snapshot(dsn) == migrated
    with psycopg.connect(dsn) as conn:
        # lent for the migration only: no role but netstats_owner may create in the schema
        creators = conn.execute(
            "SELECT r.rolname FROM pg_roles r"
            " WHERE has_schema_privilege(r.oid, 'netstats', 'CREATE') AND NOT r.rolsuper"
            " ORDER BY 1"
        ).fetchall()
    assert creators == [("migrator",), ("netstats_owner",)]


def test_rows_stored_before_0008_stay_in_one_partition_until_all_of_it_is_old(fresh):
    """0008 attaches the old table as the first partition instead of copying its rows: none
    is lost or doubled, and retention keeps it whole while any of it is young enough."""
    dsn = populated_at(fresh, "0007")
    before = figures(dsn)

    db.upgrade(dsn)

    assert figures(dsn) == before
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET timezone = 'UTC'")
        ((name, bound, rows),) = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), (SELECT count(*) FROM netstats.samples)"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'netstats.samples'::regclass"
        ).fetchall()
        (tomorrow,) = conn.execute(
            "SELECT date_bin('1 day', now(), '2000-01-01 00:00:00+00') + interval '1 day'"
        ).fetchone()
        assert (name, bound, rows) == (
            f"samples_until_{tomorrow:%Y%m%d}",
            f"FOR VALUES FROM (MINVALUE) TO ('{tomorrow:%Y-%m-%d %H:%M:%S}+00')",
            8000,
        )
        # its samples are months old, but the partition ends tomorrow: it stays whole
        conn.execute("UPDATE netstats.settings SET raw_retention = '1 day'")
        kept = conn.execute("SELECT netstats.apply_retention()").fetchone()[0]
        assert (kept["deleted_samples"], kept["raw_kept_from"]) == (0, "-infinity")
        assert figures(dsn) == before


def test_a_series_named_like_a_service_before_0010_is_refused_with_its_name(fresh):
    """Its bytes are in its host's and the fleet's rows already: read as a service's from 0010
    on, they would count twice."""
    dsn = populated_at(fresh, "0009")
    with psycopg.connect(dsn, autocommit=True) as conn:
        ingest(conn, [sample(T0, iface="service:x")])
    with pytest.raises(Exception, match=r"these hold interface traffic: bot-1/service:x; rename"):
        db.upgrade(dsn)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT version_num FROM netstats.alembic_version").fetchone() == (
            "0009",
        )


def uninstall(url: str, *flags: str, typed: str | None = None) -> subprocess.CompletedProcess:
    """`netstats db uninstall`, answering its question in a terminal when `typed` is given."""
    command = [sys.executable, "-m", "netstats.cli", "db", "uninstall", "--url", url, *flags]
    if typed is None:
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
        )
    terminal, answering = os.openpty()
    try:
        os.write(terminal, f"{typed}\n".encode())
        return subprocess.run(command, stdin=answering, capture_output=True, text=True, timeout=120)
    finally:
        os.close(terminal)
        os.close(answering)


@pytest.mark.pg_cron
def test_uninstall_on_a_supabase_like_database_says_what_goes_and_asks_first(pg15_fresh):
    dsn, as_migrator = supabase_like(pg15_fresh)
    db.upgrade(as_migrator)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ingest(conn, every(T0, 3, host="bot-1") + every(T0, 2, host="bot-2"))
    installed = snapshot(dsn)

    refused = uninstall(as_migrator)  # no terminal to ask in, and no --yes
    assert refused.returncode == 2
    assert refused.stderr == "netstats: not removed: confirm in a terminal, or pass --yes\n"
    said = refused.stdout
    assert "5 samples from 2 hosts since 2026-03-02 00:00 UTC" in said
    assert "samples" in said and "rollups_5m" not in said  # tables, not their partitions
    assert "roles                 netstats_agent, netstats_owner, netstats_reader" in said
    assert "anon, authenticated, service_role (they were there before netstats)" in said
    assert uninstall(as_migrator, typed="postgres").returncode == 2  # not this database's name
    assert snapshot(dsn) == installed

    removed = uninstall(as_migrator, typed="netstats")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.endswith("removed netstats from database 'netstats'\n")
    assert snapshot(dsn) == ["role anon", "role authenticated", "role service_role"]
    again = uninstall(as_migrator, "--yes")
    assert (again.returncode, again.stdout) == (
        0,
        "netstats is not installed in database 'netstats': nothing to remove\n",
    )


def test_a_new_database_hears_no_upgrade_notices_and_a_populated_one_does(fresh, caplog):
    """ "moving the rollups …" and the like are for upgrades that have rows to move."""
    with caplog.at_level("WARNING", "netstats.db"):
        db.upgrade(create_database(fresh, "new"))
    assert [r.getMessage() for r in caplog.records if "pg_cron" not in r.getMessage()] == []

    dsn = populated_at(fresh, "0008")
    caplog.clear()
    with caplog.at_level("WARNING", "netstats.db"):
        db.upgrade(dsn)
    assert [r.getMessage() for r in caplog.records] == [
        "moving the rollups into a partition per tier group …"
    ]


def test_a_max_quota_survives_a_downgrade_and_reads_again_after_the_upgrade(fresh):
    """0013's downgrade keeps a quota set to 'max' (the older check, not validated), so going
    down never stops on one, and back up it counts as before."""
    dsn = create_database(fresh, "max_quota")
    db.upgrade(dsn)
    at = T0 + timedelta(hours=2)
    query = "SELECT name, direction, used_bytes FROM netstats_quotas(at => %s)"
    with psycopg.connect(dsn, autocommit=True) as conn:
        ingest(conn, every(T0, 100, sent=5, recv=7))
        conn.execute("SELECT netstats_quota_set('larger', 10000, 'month', 'max')")
        before = conn.execute(query, [at]).fetchall()
    assert before == [("larger", "max", 700)]

    db.downgrade(dsn, "0012")
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT direction FROM netstats.quotas").fetchall() == [("max",)]
    db.upgrade(dsn)

    with psycopg.connect(dsn) as conn:
        assert conn.execute(query, [at]).fetchall() == before
        validated = (
            "SELECT convalidated FROM pg_constraint WHERE conname = 'quotas_direction_check'"
        )
        assert conn.execute(validated).fetchone() == (True,)


def test_quotas_read_the_same_through_0014_and_its_downgrade_gives_back_function_set_3(fresh):
    """0014 (plans) keeps every quota and its figures. Its downgrade puts back the function
    files set 3 had, byte for byte, so the figures before the upgrade are set 3's own."""
    dsn = create_database(fresh, "plans")
    db.upgrade(dsn)
    at = T0 + timedelta(days=1, hours=6)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for host in ("bot-1", "bot-2"):
            ingest(conn, every(T0 - timedelta(days=3), 3000, step_s=120, host=host, sent=7))
        for name, period, direction, host, tz in [
            ("daily", "day", "sent", "bot-1", "Asia/Kathmandu"),
            ("weekly", "week", "max", None, "America/St_Johns"),
            ("monthly", "month", "total", None, "UTC"),
            ("cycle", "cycle", "recv", "bot-2", "Europe/Berlin"),
        ]:
            conn.execute(
                "SELECT netstats_quota_set(%s, 1000000, %s, %s, %s, tz => %s, thresholds => '{1,50}')",
                [name, period, direction, host, tz],
            )
        conn.execute(
            "SELECT netstats_plan_set('gone', 'sent', '2026-01-31 14:00', 1, 'month', 'UTC')"
        )
    db.downgrade(dsn, "0013")
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT name, sha256 FROM netstats.function_files").fetchall()
        assert db.checksum("".join(f"{n}\0{h}\n" for n, h in sorted(rows))) == db.FUNCTION_SETS[3]
        assert [r[0] for r in conn.execute("SELECT name FROM netstats.quotas ORDER BY 1")] == [
            "cycle", "daily", "monthly", "weekly"
        ]  # fmt: skip
        query = "SELECT * FROM netstats_quotas(at => %s) ORDER BY name"
        before = conn.execute(query, [at]).fetchall()
        conn.execute("SELECT netstats.raise_alerts(%s)", [at])
        raised = conn.execute("SELECT key, facts FROM netstats.alerts ORDER BY key").fetchall()
        conn.commit()
    assert len(before) == 4 and all(row[10] > 0 for row in before)  # used_bytes

    db.upgrade(dsn)

    with psycopg.connect(dsn) as conn:
        assert conn.execute(query, [at]).fetchall() == before
        # no alert raised again: the keys of a quota are what they were
        assert conn.execute("SELECT netstats.raise_alerts(%s)", [at]).fetchone() == (0,)
        assert conn.execute("SELECT key FROM netstats.alerts ORDER BY key").fetchall() == [
            (key,) for key, _ in raised
        ]


def test_status_messages_keep_their_rows_through_0015_and_its_downgrade_gives_back_set_4(fresh):
    """0015 (a status message is claimed; its failures kept) keeps every status message, its
    message and its pace; its downgrade puts back function set 4 byte for byte."""
    dsn = create_database(fresh, "status_claims")
    db.upgrade(dsn)
    db.downgrade(dsn, "0014")  # set 4's own functions, put back by the downgrade
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT name, sha256 FROM netstats.function_files").fetchall()
        assert db.checksum("".join(f"{n}\0{h}\n" for n, h in sorted(rows))) == db.FUNCTION_SETS[4]
    query = "SELECT channel, zone, every, message, edited FROM netstats_status_messages()"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for channel, tz, every_s in [(11, "Asia/Tokyo", 60), (12, "UTC", 600)]:
            conn.execute("SELECT netstats_status_set(%s, %s, %s)", [channel, tz, every_s])
        conn.execute("SELECT netstats_status_posted(11, 900)")
        before = conn.execute(query).fetchall()

    db.upgrade(dsn)

    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute(query).fetchall() == before
        # the one never posted is due; the one edited a moment ago is not
        assert conn.execute("SELECT channel FROM netstats_status_claim()").fetchall() == [(12,)]
        conn.execute("SELECT netstats_status_failed(12, 'Missing Access')")
    db.downgrade(dsn, "0014")
    with psycopg.connect(dsn) as conn:
        assert conn.execute(query).fetchall() == before
    db.upgrade(dsn)
