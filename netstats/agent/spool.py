"""The agent's durable queue: SQLite in WAL mode.

Each tick's samples and the counter state they were computed from commit in one
transaction, so a crash or power loss at any instant either keeps both or neither: the next
tick then computes its delta from whatever state survived, and no byte is lost or counted
twice. (WAL with synchronous=NORMAL may lose the last commits on power loss, never half of
one; losing a whole tick is safe for the same reason.)
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from netstats.agent.deltas import MAX_INTERVAL_S, Counters, State
from netstats.errors import SpoolError
from netstats.sample import Sample

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_CAP = 1_000_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    id          INTEGER PRIMARY KEY,
    host        TEXT    NOT NULL,
    iface       TEXT    NOT NULL,
    sampled_us  INTEGER NOT NULL,  -- microseconds since the epoch, UTC
    interval_s  REAL    NOT NULL,
    bytes_sent  INTEGER NOT NULL,
    bytes_recv  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    host        TEXT    NOT NULL,
    iface       TEXT    NOT NULL,
    sampled_us  INTEGER NOT NULL,
    interval_s  REAL    NOT NULL,
    bytes_sent  INTEGER NOT NULL,
    bytes_recv  INTEGER NOT NULL,
    error       TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    boot_id     TEXT    NOT NULL,  -- '' when unknown
    sampled_us  INTEGER NOT NULL,
    monotonic   REAL    NOT NULL,
    counters    TEXT    NOT NULL,  -- {"eth0": [sent, recv], ...}
    present     TEXT    NOT NULL,  -- ["eth0", "lo", ...]
    links       TEXT    NOT NULL DEFAULT '{}'  -- {"eth0": kernel link index, ...}
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Spools written before boot ids were kept hold a boot time instead; it may have moved with
# the clock, so it is forgotten ('' = unknown: monotonic time then tells a reboot).
BOOT_ID_UPGRADE = """
CREATE TABLE state_new (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    boot_id     TEXT    NOT NULL,
    sampled_us  INTEGER NOT NULL,
    monotonic   REAL    NOT NULL,
    counters    TEXT    NOT NULL,
    present     TEXT    NOT NULL
);
INSERT INTO state_new SELECT 1, '', sampled_us, monotonic, counters, present FROM state;
DROP TABLE state;
ALTER TABLE state_new RENAME TO state;
"""


def to_us(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True)
class Queued:
    id: int
    sample: Sample


@dataclass(frozen=True, slots=True)
class Quarantined:
    sample: Sample
    error: str
    at: str


@dataclass(frozen=True, slots=True)
class Status:
    depth: int
    oldest: datetime | None
    quarantined: list[Quarantined]
    last_upload: str | None
    state: State | None


class Spool:
    """Opens (or creates) the spool at `path`. A corrupted spool is moved aside, never
    deleted, and a new one started; `lost` then says so, and likewise when a spool this
    agent had written is missing or empty (the marker file beside it remembers)."""

    _unlock: Callable[[], None] = staticmethod(lambda: None)

    def __init__(self, path: Path, cap: int = DEFAULT_CAP) -> None:
        self.path = path
        self.cap = cap
        self.lost: str | None = None
        marker = _marker(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _refuse_unwritable(path)
            # released by close(), or when this object is collected
            self._unlock = weakref.finalize(self, os.close, _lock(path))
            if marker.exists() and (not path.exists() or path.stat().st_size == 0):
                self.lost = (
                    f"the spool {path} is {'empty' if path.exists() else 'missing'} although "
                    f"this agent has written it since {marker.read_text().strip()}: its queued "
                    "samples and the traffic since its last tick are lost"
                )
            try:
                self.db = self._open()
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):
                    raise
                aside = _move_aside(path)
                self.lost = (
                    f"the spool {path} is corrupted ({exc}); it was moved to {aside} and a new "
                    "one started: the samples queued in it were not uploaded"
                )
                self.db = self._open()
            if not marker.exists():
                marker.write_text(datetime.now(UTC).isoformat(timespec="seconds") + "\n")
        except (sqlite3.Error, OSError) as exc:
            raise spool_error(path, exc) from exc

    def _open(self) -> sqlite3.Connection:
        # One agent uses the spool at a time, though not always from the same thread
        # (run_async works in a thread pool).
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(state)")}
            if "boot_time" in columns:
                db.executescript(f"BEGIN IMMEDIATE; {BOOT_ID_UPGRADE} COMMIT;")
            if "links" not in columns:  # a spool from before link indexes were kept
                db.execute("ALTER TABLE state ADD COLUMN links TEXT NOT NULL DEFAULT '{}'")
            if (check := db.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise sqlite3.DatabaseError(check)
        except BaseException:
            db.close()
            raise
        return db

    @classmethod
    def read_only(cls, path: Path) -> Spool:
        """For `netstats agent status`: reads, never writes or creates anything."""
        spool = cls.__new__(cls)
        spool.path, spool.cap, spool.lost = path, DEFAULT_CAP, None
        uri = path.resolve().as_uri()
        try:
            try:
                spool.db = sqlite3.connect(f"{uri}?mode=ro", uri=True)
                spool.db.execute("SELECT count(*) FROM queue").fetchone()
            except sqlite3.OperationalError:
                # WAL needs its -shm file, which a read-only disk cannot hold; nothing writes
                # there either, so the file may be read as it lies.
                spool.db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
                spool.db.execute("SELECT count(*) FROM queue").fetchone()
        except (sqlite3.Error, OSError) as exc:
            raise spool_error(path, exc) from exc
        return spool

    def close(self) -> None:
        self.db.close()
        self._unlock()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def state(self) -> State | None:
        row = self.db.execute(
            "SELECT boot_id, sampled_us, monotonic, counters, present, links FROM state"
        ).fetchone()
        if row is None:
            return None
        boot_id, sampled_us, monotonic, counters, present, links = row
        return State(
            boot_id=boot_id,
            sampled_at=from_us(sampled_us),
            monotonic=monotonic,
            counters={k: Counters(*v) for k, v in json.loads(counters).items()},
            present=frozenset(json.loads(present)),
            links=json.loads(links),
        )

    def commit_tick(
        self, samples: list[Sample], state: State, *, after: State | None | Literal[True] = True
    ) -> None:
        """The samples of one tick and the state after it, atomically. `after` is the state
        the tick was computed from (True: not checked); if the spool holds another one by the
        time it writes, another agent ticked in between and nothing is written."""
        row = (
            state.boot_id,
            to_us(state.sampled_at),
            state.monotonic,
            json.dumps({k: [c.bytes_sent, c.bytes_recv] for k, c in state.counters.items()}),
            json.dumps(sorted(state.present)),
            json.dumps(state.links),
        )
        with self._transaction() as db:
            # The state row is written only if it still holds the state this tick started
            # from, told apart from any other tick's by its key columns: one statement.
            if after is True:
                db.execute("INSERT OR REPLACE INTO state VALUES (1, ?, ?, ?, ?, ?, ?)", row)
            elif after is None:
                changed = db.execute(
                    "INSERT OR IGNORE INTO state VALUES (1, ?, ?, ?, ?, ?, ?)", row
                )
            else:
                changed = db.execute(
                    "UPDATE state SET boot_id = ?, sampled_us = ?, monotonic = ?, counters = ?,"
                    " present = ?, links = ? WHERE (boot_id, sampled_us, monotonic) = (?, ?, ?)",
                    row + _stamp(after),
                )
            if after is not True and changed.rowcount != 1:
                raise SpoolError(
                    f"spool {self.path} (NETSTATS_SPOOL) changed under this tick: another "
                    "agent writes it; run one agent per spool"
                )
            db.executemany(
                "INSERT INTO queue (host, iface, sampled_us, interval_s, bytes_sent, bytes_recv)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (s.host, s.iface, to_us(s.sampled_at), s.interval_s, s.bytes_sent, s.bytes_recv)
                    for s in samples
                ],
            )

    def oldest(self, limit: int) -> list[Queued]:
        rows = self.db.execute(
            "SELECT id, host, iface, sampled_us, interval_s, bytes_sent, bytes_recv"
            " FROM queue ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
        return [Queued(row[0], _sample(row[1:])) for row in rows]

    def confirmed(self, ids: list[int]) -> None:
        """The database has these: forget them."""
        with self._transaction() as db:
            db.executemany("DELETE FROM queue WHERE id = ?", [(i,) for i in ids])
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('last_upload', ?)",
                (datetime.now(UTC).isoformat(timespec="seconds"),),
            )

    def quarantine(self, item: Queued, error: str) -> None:
        """Set a refused sample aside, with the database's reason, out of the queue's way."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO quarantine (host, iface, sampled_us, interval_s, bytes_sent,"
                " bytes_recv, error, at) SELECT host, iface, sampled_us, interval_s, bytes_sent,"
                " bytes_recv, ?, ? FROM queue WHERE id = ?",
                (error, datetime.now(UTC).isoformat(timespec="seconds"), item.id),
            )
            db.execute("DELETE FROM queue WHERE id = ?", (item.id,))

    def requeue(self) -> int:
        """Quarantined samples back into the queue, for another try (after the clock or the
        database was fixed); returns how many."""
        with self._transaction() as db:
            moved = db.execute(
                "INSERT INTO queue (host, iface, sampled_us, interval_s, bytes_sent, bytes_recv)"
                " SELECT host, iface, sampled_us, interval_s, bytes_sent, bytes_recv"
                " FROM quarantine ORDER BY id"
            ).rowcount
            db.execute("DELETE FROM quarantine")
        return int(moved)

    def depth(self) -> int:
        row = self.db.execute("SELECT count(*) FROM queue").fetchone()
        return int(row[0])

    def status(self) -> Status:
        depth, oldest = self.db.execute("SELECT count(*), min(sampled_us) FROM queue").fetchone()
        quarantined = [
            Quarantined(_sample(row[:6]), row[6], row[7])
            for row in self.db.execute(
                "SELECT host, iface, sampled_us, interval_s, bytes_sent, bytes_recv, error, at"
                " FROM quarantine ORDER BY id"
            )
        ]
        last = self.db.execute("SELECT value FROM meta WHERE key = 'last_upload'").fetchone()
        return Status(
            depth=depth,
            oldest=from_us(oldest) if oldest is not None else None,
            quarantined=quarantined,
            last_upload=last[0] if last else None,
            state=self.state(),
        )

    def enforce_cap(self) -> int:
        """Past the cap, merge the oldest adjacent samples of each interface (same bytes, a
        longer interval) instead of dropping any. Returns how many rows the merge removed."""
        # ids only grow, so their span bounds the depth, from two lookups (count(*) would
        # read the whole queue at every tick)
        span = self.db.execute("SELECT max(id) - min(id) + 1 FROM queue").fetchone()[0]
        if (span or 0) <= self.cap:
            return 0
        removed = 0
        while (excess := self.depth() - self.cap) > 0:
            merged = self._merge_oldest(excess)
            if merged == 0:
                break  # every old sample already spans a day: nothing left to merge
            removed += merged
        return removed

    def _merge_oldest(self, wanted: int) -> int:
        rows = self.db.execute(
            "SELECT id, host, iface, sampled_us, interval_s, bytes_sent, bytes_recv"
            " FROM queue ORDER BY id LIMIT ?",
            (max(2 * wanted, 1000),),
        ).fetchall()
        pending: dict[tuple[str, str], tuple[Any, ...]] = {}
        deletes: list[tuple[int]] = []
        updates: list[tuple[float, int, int, int]] = []
        for row in rows:
            if len(deletes) >= wanted:
                break
            key = (row[1], row[2])
            earlier = pending.pop(key, None)
            if earlier is not None and earlier[4] + row[4] <= MAX_INTERVAL_S:
                # the later sample absorbs the earlier one: its key and order stay
                deletes.append((earlier[0],))
                updates.append(
                    (earlier[4] + row[4], earlier[5] + row[5], earlier[6] + row[6], row[0])
                )
            else:
                pending[key] = row
        with self._transaction() as db:
            db.executemany("DELETE FROM queue WHERE id = ?", deletes)
            db.executemany(
                "UPDATE queue SET interval_s = ?, bytes_sent = ?, bytes_recv = ? WHERE id = ?",
                updates,
            )
        return len(deletes)


def spool_error(path: Path, exc: BaseException) -> SpoolError:
    """One line for a person: which spool, what is wrong, what to do."""
    text = str(exc)
    if (
        isinstance(exc, OSError)
        and exc.errno == errno.ENOSPC
        or "disk is full" in text
        or ("disk I/O error" in text and _nearly_full(path.parent))
    ):
        what = (
            "cannot grow: its disk is full; free space there or set NETSTATS_SPOOL to another disk"
        )
    elif isinstance(exc, PermissionError) or any(
        words in text for words in ("readonly", "read-only", "unable to open", "Read-only")
    ):
        what = (
            f"cannot be written by this user ({text}): make it and its folder writable, "
            "or set NETSTATS_SPOOL to a writable path"
        )
    elif text.startswith("no such table"):  # made, its tables not yet: the agent's first instant
        what = "has no queue yet: the agent is just starting it; ask again in a moment"
    elif isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        what = f"is not a readable spool ({text}); `netstats agent` moves it aside and starts anew"
    else:
        what = f"cannot be used: {text}"
    return SpoolError(f"spool {path} (NETSTATS_SPOOL) {what}")


def _nearly_full(folder: Path) -> bool:
    """SQLite says only "disk I/O error" when it cannot grow its -shm or -wal file."""
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def _lock(path: Path) -> int:
    """One agent per spool, for the life of the process: a second one would compute deltas
    from the same state and count every byte twice. Returns the locked file descriptor."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise SpoolError(
            f"spool {path} (NETSTATS_SPOOL) is in use by another netstats agent (PID {holder}): "
            "run one agent per machine, or give each its own NETSTATS_SPOOL and NETSTATS_HOST"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".started")


def _refuse_unwritable(path: Path) -> None:
    """SQLite maps the -shm file into memory: one it cannot write kills the process with
    SIGBUS, before any error could be logged."""
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists() and not os.access(part, os.W_OK):
            raise PermissionError(errno.EACCES, "not writable", str(part))


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(aside.with_name(aside.name + suffix))
    return aside


def _stamp(state: State) -> tuple[str, int, float]:
    return (state.boot_id, to_us(state.sampled_at), state.monotonic)


def _sample(row: tuple[Any, ...]) -> Sample:
    host, iface, sampled_us, interval_s, sent, recv = row
    return Sample(host, iface, from_us(sampled_us), interval_s, sent, recv)
