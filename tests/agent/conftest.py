"""Fixtures of the agent's tests against the real kernel (network namespaces, cgroups)."""

import subprocess
from collections.abc import Iterator

import pytest

from netstats import db
from tests.conftest import create_database, start


@pytest.fixture
def namespaces() -> Iterator[list[str]]:
    """The network namespaces a test made, deleted after it."""
    made: list[str] = []
    yield made
    for name in made:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def database(tmp_path):
    """A PostgreSQL 15 of the test's own, migrated: (cluster, dsn)."""
    cluster = start("pg15", tmp_path / "pg")
    dsn = create_database(cluster, "counted")
    db.upgrade(dsn)
    yield cluster, dsn
    cluster.stop()
