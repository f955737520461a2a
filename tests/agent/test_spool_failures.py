"""When the spool's disk fails the agent: one line that names NETSTATS_SPOOL and says what to
do, never a traceback; a corrupted spool moved aside, never deleted; a lost spool told apart
from a first run. Read-only and full disks are real: small tmpfs mounts this test makes."""

import logging
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netstats.agent import Agent
from netstats.agent.deltas import Counters, Reading
from netstats.config import AgentSettings
from netstats.sample import Sample
from tests.support.cli import netstats


@pytest.fixture
def mount(tmp_path) -> Iterator[Path]:
    where = tmp_path / "disk"
    where.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); run as root")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=True)


def remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True)


def fill(where: Path) -> None:
    with (where / "filler").open("ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def env_for(spool: Path, dsn: str) -> dict[str, str]:
    return {
        "NETSTATS_DATABASE_URL": dsn,
        "NETSTATS_SPOOL": str(spool),
        "NETSTATS_INTERFACES": "lo",
        "NETSTATS_HOST": "spool-host",
    }


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    for word in words:
        assert word in line, line


def test_a_read_only_disk_is_one_line_naming_the_spool(mount, dsn):
    remount(mount, "ro")
    spool = mount / "spool.sqlite3"
    done = netstats("agent", "--once", **env_for(spool, dsn))
    one_line_error(done, str(spool), "NETSTATS_SPOOL", "cannot be written", "writable path")


def test_a_spool_whose_disk_became_read_only_is_one_line_too(mount, dsn):
    spool = mount / "spool.sqlite3"
    assert netstats("agent", "--once", **env_for(spool, dsn)).returncode == 0
    remount(mount, "ro")
    done = netstats("agent", "--once", **env_for(spool, dsn))
    one_line_error(done, str(spool), "cannot be written")
    status = netstats("agent", "status", **env_for(spool, dsn))
    assert status.returncode == 0 and "queued" in status.stdout  # status only reads


def test_a_full_disk_is_one_line_and_the_daemon_survives_it_losing_nothing(mount, dsn, caplog):
    spool = mount / "spool.sqlite3"
    assert netstats("agent", "--once", **env_for(spool, dsn)).returncode == 0
    fill(mount)
    one_line_error(netstats("agent", "--once", **env_for(spool, dsn)), "disk is full")

    # The daemon's loop: ticks fail while the disk is full, then the next one counts all.
    (mount / "filler").unlink()
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    counters = [1_000 * (n + 1) for n in range(8)]

    def read() -> Reading:
        n = len(reads)
        reads.append(n)
        if n == 2:
            fill(mount)
        if n == 5:
            (mount / "filler").unlink()
        return Reading(
            "boot-1",
            t0 + timedelta(seconds=n),
            float(n),
            {"eth0": Counters(counters[n], 0)},
            frozenset({"eth0"}),
        )

    reads: list[int] = []
    kept = Kept()
    settings = AgentSettings("spool-host", 1, upload_every_s=1, spool=mount / "daemon.sqlite3")
    # the clock follows the readings: one second a tick, an upload due at each
    agent = Agent(settings, kept, read=read, clock=lambda: float(len(reads)))
    with caplog.at_level(logging.ERROR, "netstats.agent"):
        for _ in counters:
            agent.cycle()  # the body of Agent.run's loop
    agent.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3 and all("NETSTATS_SPOOL" in e and "disk is full" in e for e in errors)
    # every byte the counters moved after the baseline reached the database, once
    assert sum(s.bytes_sent for s in kept.got) == counters[-1] - counters[0]


class Kept:
    """Stands in for the database here: this test is about the disk under the spool."""

    name = "kept"

    def __init__(self) -> None:
        self.got: list[Sample] = []

    def ingest(self, samples: list[Sample]) -> dict[str, int]:
        self.got += samples
        return {"inserted": len(samples), "duplicates": 0}

    def close(self) -> None:
        pass


def test_a_corrupted_spool_is_moved_aside_and_a_new_one_started(tmp_path, dsn):
    spool = tmp_path / "spool.sqlite3"
    env = env_for(spool, dsn)
    assert netstats("agent", "--once", **env).returncode == 0
    garbage = b"this is not a database, it was overwritten by something" * 100
    spool.write_bytes(garbage)
    status = netstats("agent", "status", **env)
    one_line_error(status, str(spool), "is not a readable spool", "moves it aside")
    done = netstats("agent", "--once", **env)
    assert done.returncode == 0, done.stderr
    assert "is corrupted" in done.stderr and "counting starts again" in done.stderr
    (aside,) = tmp_path.glob("spool.sqlite3.corrupt-*")
    assert aside.read_bytes() == garbage  # kept, for whoever wants to look
    assert netstats("agent", "status", **env).returncode == 0


def test_a_lost_spool_is_told_apart_from_a_first_run(tmp_path, dsn):
    spool = tmp_path / "spool.sqlite3"
    env = env_for(spool, dsn)
    first = netstats("agent", "--once", **env)
    assert "first run on this machine" in first.stderr and "WARNING" not in first.stderr
    assert netstats("agent", "--once", **env).returncode == 0
    for part in tmp_path.glob("spool.sqlite3-*"):
        part.unlink()
    spool.write_bytes(b"")  # truncated, as a crash of the disk under it may leave it
    again = netstats("agent", "--once", **env)
    assert again.returncode == 0
    assert (
        "WARNING" in again.stderr and "is empty although this agent has written it" in again.stderr
    )
    assert "first run on this machine" not in again.stderr


def test_status_never_writes_the_spool(tmp_path, dsn):
    spool = tmp_path / "spool.sqlite3"
    env = env_for(spool, dsn)
    assert netstats("agent", "--once", **env).returncode == 0
    before = (spool.read_bytes(), spool.stat().st_mtime_ns)
    assert netstats("agent", "status", **env).returncode == 0
    # (a WAL reader may create the empty -shm index SQLite reads through; the spool is as it was)
    assert (spool.read_bytes(), spool.stat().st_mtime_ns) == before
