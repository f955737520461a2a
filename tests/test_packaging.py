"""The wheel carries what `netstats db upgrade`, `netstats db sql`, the page and the bot need
without a checkout; the version says which schema it brings, and the changelog names it."""

import subprocess
import sys
import zipfile
from pathlib import Path

from netstats import __version__, db

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_migrations_and_sql(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("netstats-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    # every file of the package: code, migrations and the SQL they restore, function files,
    # the page and its vendored chart library, the provider presets
    expected = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "netstats").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "netstats/dashboard/static/vendor/uplot/uPlot.iife.min.js" in expected
    assert expected <= names, sorted(expected - names)
    assert not any(name.startswith(("tests/", "bench/", "deploy/")) for name in names)
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Version: {__version__}" in text
    assert "Classifier: Topic :: System :: Networking :: Monitoring" in text


def test_the_version_names_its_schema_and_the_changelog_names_the_version():
    said = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "--version"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    carried = f"schema revision {db.head()}, function set {db.FUNCTIONS_SERIAL}"
    assert said == f"netstats {__version__} ({carried})\n"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    newest = next(line for line in changelog.splitlines() if line.startswith("## "))
    assert newest.startswith(f"## {__version__} (")
    assert newest.endswith(f"schema revision {db.head()}, function set {db.FUNCTIONS_SERIAL}")
