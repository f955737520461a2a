"""Per-service traffic (NETSTATS_SERVICES): the bytes every socket of a systemd unit or a
cgroup sent and received, counted by the kernel itself.

The agent owns one nftables table, `inet netstats` (it never touches another): a named
counter pair per service, and in its output and input chains one rule per matched cgroup,
`socket cgroupv2 level N "<path>" counter name <service's counter>`. A socket belongs to the
cgroup of the process that made it, so this counts every byte of every packet (headers
included) of the service's sockets, on every interface; nothing else does.

- Services are read as counters named 'service:<name>' beside the interfaces', through the
  same deltas, spool, reset and restart rules (agent/deltas.py); the database keeps them
  apart from the host's interface totals (README, The SQL API).
- A restarted unit is a new cgroup under the same path. The rules name cgroups by id, so
  they are made again, in one transaction, when a cgroup appears where the matched ones live
  (inotify on their parents: at once, before the restarted unit's process can have opened a
  socket), when a tick finds a matched path holding another cgroup, or when a look for units
  (every LOOK_AGAIN_S) finds others: the counters stay, and count on under the same name.
- The table outlives the agent, so a restart loses nothing. Its handle, which a network
  namespace never gives twice in a boot, stands for the counters' life: a table deleted
  behind the agent's back (`nft flush ruleset`) is made again, said in the log, and its
  counters count from zero under a new handle, which the deltas take as a new link: what
  passed while there was none is unknown, never a spike.

nftables is driven through libnftables (the library of the `nft` command, shipped with it)
over ctypes: in-process, a tick's read costs ~70 us, where running `nft -j` costs a fork and
an exec every tick; and commands are written in nft's own language, the one `nft list table
inet netstats` shows back. pyroute2's nftables support would need these rules encoded as
netlink expressions by hand.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fnmatch
import json
import logging
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from netstats.agent.deltas import Counters, Reading
from netstats.errors import NetstatsError
from netstats.sample import SERVICE

log = logging.getLogger("netstats.agent")

TABLE = "inet netstats"
NFT_CGROUP_BASE = Path("/sys/fs/cgroup")  # where nft resolves `socket cgroupv2` paths
MOUNTINFO = Path("/proc/self/mountinfo")
LOOK_AGAIN_S = 60.0
NFT_CTX_OUTPUT_JSON = 1 << 4
CAPABILITY_HELP = (
    "counting services needs CAP_NET_ADMIN (nftables): run the agent as root, or add "
    "AmbientCapabilities=CAP_NET_ADMIN to its unit (see deploy/netstats-agent.service)"
)


class ServicesUnavailable(NetstatsError):
    """Services cannot be counted here; interfaces still are."""


class NftError(Exception):
    pass


class Nft:
    """libnftables: commands in nft's language in, JSON out."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("nftables") or "libnftables.so.1"
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError:
            raise ServicesUnavailable(
                "counting services needs libnftables: install nftables (apt install nftables)"
            ) from None
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        for fn in ("nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_free"):
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        for fn in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, fn).restype = ctypes.c_char_p
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
        self.lib, self.ctx = lib, lib.nft_ctx_new(0)
        lib.nft_ctx_output_set_flags(self.ctx, NFT_CTX_OUTPUT_JSON)
        lib.nft_ctx_buffer_output(self.ctx)
        lib.nft_ctx_buffer_error(self.ctx)
        self.lock = threading.Lock()

    def run(self, commands: str) -> dict[str, Any] | None:
        """Runs the commands as one transaction; their JSON output, if any."""
        with self.lock:
            rc = self.lib.nft_run_cmd_from_buffer(self.ctx, commands.encode())
            out = self.lib.nft_ctx_get_output_buffer(self.ctx) or b""
            err = self.lib.nft_ctx_get_error_buffer(self.ctx) or b""
        if rc != 0:
            raise NftError(
                err.decode(errors="replace").strip().splitlines()[0] if err else "nft failed"
            )
        return json.loads(out) if out.strip() else None


def cgroup2_root(mountinfo: Path = MOUNTINFO) -> Path | None:
    """Where cgroup v2 is mounted: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid)."""
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(" - ", 1)
        if len(fields) == 2 and fields[1].split()[0] == "cgroup2":
            # the mount point: the 5th field, with spaces as \040
            return Path(fields[0].split()[4].replace("\\040", " "))
    return None


def counter_name(direction: str, service: str) -> str:
    """An nft identifier for a service's counter: letters, digits and _ . - only, so every
    other byte is written _xx (and _ itself), which keeps names apart."""
    return direction + "_" + re.sub(r"[^A-Za-z0-9.-]", lambda m: f"_{ord(m[0]):02x}", service)


@dataclass(frozen=True, slots=True)
class Cgroup:
    service: str
    path: str  # relative to the cgroup2 root
    inode: int  # its cgroup id, never given twice in a boot: a restarted unit's is another


def match(patterns: Iterable[str], root: Path) -> list[Cgroup]:
    """The cgroups the patterns name: a pattern with a '/' is a path (or a glob over paths)
    from the cgroup2 root; one without is a unit name (or a glob over names) anywhere. A
    service is named after its cgroup's last part: a unit's name."""
    paths = [p for p in patterns if "/" in p]
    names = [p for p in patterns if "/" not in p]
    found: dict[str, Path] = {}
    for p in paths:
        p = p.strip("/")
        # a plain path is one stat, not a glob (which walks its pattern's parts)
        for match_ in root.glob(p) if any(c in p for c in "*?[") else [root / p]:
            if match_.is_dir():
                found[str(match_.relative_to(root))] = match_
    if names:
        for top, dirs, _ in os.walk(root):
            for d in dirs:
                if any(fnmatch.fnmatchcase(d, n) for n in names):
                    full = Path(top) / d
                    found[str(full.relative_to(root))] = full
    out = []
    for rel, full in sorted(found.items()):
        try:
            out.append(Cgroup(Path(rel).name, rel, full.stat().st_ino))
        except OSError:  # gone while looking
            continue
    return out


IN_CLOEXEC = 0o2000000
IN_CREATE = 0x100
IN_ONLYDIR = 0x01000000
EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len, then the name


class Watcher:
    """Calls `changed` as soon as a directory appears in one of the watched ones (inotify,
    in a daemon thread that sleeps in read(2) between events)."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.watched: dict[str, int] = {}
        self.changed = changed
        threading.Thread(target=self._run, name="netstats-services", daemon=True).start()

    def watch(self, folders: Iterable[Path]) -> None:
        for folder in {str(f) for f in folders} - self.watched.keys():
            wd = self.libc.inotify_add_watch(self.fd, folder.encode(), IN_CREATE | IN_ONLYDIR)
            if wd >= 0:  # gone already: the next look finds what replaced it
                self.watched[folder] = wd

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            offset, made = 0, False
            while offset < len(data):
                _, mask, _, size = EVENT.unpack_from(data, offset)
                offset += EVENT.size + size
                made |= bool(mask & IN_CREATE)
            if made:
                try:
                    self.changed()
                except Exception:  # the next tick tries again
                    log.exception("services: could not follow a new cgroup")


class Services:
    """Reads every configured service's counters; makes and mends the agent's table."""

    def __init__(
        self,
        patterns: Iterable[str],
        root: Path | None = None,
        nft: Nft | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.patterns = tuple(patterns)
        found = root or cgroup2_root()
        if found is None:
            raise ServicesUnavailable("counting services needs cgroup v2, and none is mounted")
        self.root: Path = found
        try:
            self.base = self.root.relative_to(NFT_CGROUP_BASE)
        except ValueError:
            raise ServicesUnavailable(
                f"cgroup v2 is mounted at {self.root}; nft finds cgroups only under "
                f"{NFT_CGROUP_BASE}"
            ) from None
        self.nft = nft or Nft()
        self.clock = clock
        self.cgroups: list[Cgroup] | None = None  # None: no rules made yet
        # named ones count (nothing) while they do not run; a glob's, once seen
        self.services = {Path(p).name for p in self.patterns if not any(c in p for c in "*?[")}
        self.handle = 0
        self.looked_at = -LOOK_AGAIN_S
        self.lock = threading.RLock()  # the watcher's thread looks too
        self.watcher: Watcher | None = None
        try:
            self._make_table()
        except NftError as exc:
            if "Operation not permitted" in str(exc):
                raise ServicesUnavailable(CAPABILITY_HELP) from None
            raise ServicesUnavailable(f"nftables refused the agent's table: {exc}") from None
        try:
            self.watcher = Watcher(self._look)
        except OSError as exc:  # no inotify: restarts are followed at the next tick
            log.info("services: no inotify (%s); a restarted unit is found at the next tick", exc)
            self.watcher = None
        self._look()

    def _make_table(self) -> None:
        """The table and chains, kept with their counters when they exist already."""
        self.nft.run(
            f"add table {TABLE}\n"
            f"add chain {TABLE} output {{ type filter hook output priority 0; policy accept; }}\n"
            f"add chain {TABLE} input {{ type filter hook input priority 0; policy accept; }}"
        )
        self.handle = self._table_handle() or 0

    def _table_handle(self) -> int | None:
        """The handle of the table `inet netstats`, if there is one."""
        tables = self.nft.run("list tables") or {}
        return next(
            (
                t["table"]["handle"]
                for t in tables.get("nftables", [])
                if "table" in t
                and t["table"]["family"] == "inet"
                and t["table"]["name"] == "netstats"
            ),
            None,
        )

    def _look(self) -> None:
        """Matches the patterns again and makes the rules for what they match, in one
        transaction: counters of services no pattern names any more go with it."""
        with self.lock:
            self._look_locked()

    def _look_locked(self) -> None:
        cgroups = match(self.patterns, self.root)
        if self.watcher is not None:
            self.watcher.watch((self.root / c.path).parent for c in cgroups)
        services = {c.service for c in cgroups} | self.services
        self.looked_at = self.clock()
        if cgroups == self.cgroups and services == self.services:
            return
        have = {
            o["counter"]["name"]
            for o in (self.nft.run(f"list counters table {TABLE}") or {}).get("nftables", [])
            if "counter" in o
        }
        wanted = {counter_name(d, s) for s in services for d in ("out", "in")}
        commands = [f"flush chain {TABLE} output", f"flush chain {TABLE} input"]
        commands += [f"delete counter {TABLE} {name}" for name in sorted(have - wanted)]
        commands += [f"add counter {TABLE} {name}" for name in sorted(wanted - have)]
        for c in cgroups:
            level = len(Path(c.path).parts)
            path = json.dumps(str(self.base / c.path))
            commands.append(
                f"add rule {TABLE} output socket cgroupv2 level {level} {path} "
                f"counter name {counter_name('out', c.service)}"
            )
            commands.append(
                f"add rule {TABLE} input socket cgroupv2 level {level} {path} "
                f"counter name {counter_name('in', c.service)}"
            )
        try:
            self.nft.run("\n".join(commands))
        except NftError as exc:  # a cgroup gone while the rules were made: next tick
            log.info("services: could not make the rules yet (%s); trying again", exc)
            self.cgroups = None
        else:
            if (names := {c.service for c in cgroups}) != {c.service for c in self.cgroups or ()}:
                log.info("services: counting %s", ", ".join(sorted(names)) or "none running yet")
            self.cgroups = cgroups
        self.services = services

    def _moved(self) -> bool:
        """Some matched cgroup is gone or another under its path (a unit restarted)."""
        if self.cgroups is None:
            return True
        for c in self.cgroups:
            try:
                if (self.root / c.path).stat().st_ino != c.inode:
                    return True
            except OSError:
                return True
        return False

    def read(self) -> tuple[dict[str, Counters], int]:
        """Each service's counters ('service:<name>': sent, received) and the table's handle."""
        with self.lock:
            return self._read()

    def _read(self) -> tuple[dict[str, Counters], int]:
        try:
            if self._moved() or self.clock() - self.looked_at >= LOOK_AGAIN_S:
                self._look()
            listed = self.nft.run(f"list counters table {TABLE}") or {}
        except NftError:
            if self._table_handle() == self.handle:
                raise
            log.warning(
                "services: the nftables table %s was deleted behind the agent; made it again "
                "(the services' traffic since the last tick is unknown)",
                TABLE,
            )
            self._make_table()
            self.cgroups = None
            self._look()
            listed = self.nft.run(f"list counters table {TABLE}") or {}
        counters = {
            o["counter"]["name"]: o["counter"]["bytes"]
            for o in listed.get("nftables", [])
            if "counter" in o
        }
        return {
            SERVICE + s: Counters(
                counters.get(counter_name("out", s), 0), counters.get(counter_name("in", s), 0)
            )
            for s in sorted(self.services)
        }, self.handle


def with_services(read: Callable[[], Reading], services: Services) -> Callable[[], Reading]:
    """The machine's reading with every service's counters beside the interfaces'. The
    table's handle stands as their link index: a table made again is a new link."""

    def read_both() -> Reading:
        reading = read()
        counters, handle = services.read()
        return replace(
            reading,
            counters={**reading.counters, **counters},
            present=reading.present | counters.keys(),
            links={**reading.links, **dict.fromkeys(counters, handle)},
        )

    return read_both
