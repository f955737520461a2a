"""The wheel carries what `netstats db upgrade` and `netstats db sql` need without a checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_migrations_and_sql(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("netstats-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "netstats/py.typed",
        "netstats/db/migrations/env.py",
        "netstats/db/migrations/script.py.mako",
        "netstats/db/migrations/versions/0001_core.py",
    } | {f"netstats/db/functions/{p.name}" for p in (ROOT / "netstats/db/functions").glob("*.sql")}
    assert expected <= names, sorted(expected - names)
    assert not any(name.startswith(("tests/", "bench/")) for name in names)
