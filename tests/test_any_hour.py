"""The tests whose data is placed relative to the real clock pass at any hour: each runs again
with the clock of its whole process tree (pytest, PostgreSQL, the CLI) set by libfaketime to
the instants that broke or could break them: local midnights in far zones, a DST change, the
last second of a month and of a year."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBFAKETIME = next(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"), Path("libfaketime.so.1"))
# Instants to come (tests that use fixed dates place them in early 2026, in the past).
INSTANTS = {
    "just before midnight in Asia/Kolkata": "2027-01-11 18:29:50",
    "just after midnight in Asia/Kolkata": "2027-01-11 18:30:05",
    "just after midnight in Pacific/Kiritimati (UTC+14)": "2027-01-11 10:00:05",
    "just before midnight in America/St_Johns (UTC-3:30)": "2027-02-11 03:29:50",
    "the spring-forward change in America/New_York": "2027-03-14 06:59:50",
    "the last second of a month": "2027-04-30 23:59:59",
    "the last second of a year": "2026-12-31 23:59:59",
}
# Every test whose data depends on where now falls in a calendar period (the others use
# fixed dates, or only data relative to now); pg15 only, the engine changes nothing here.
# (libfaketime cannot fake timed waits on a condition variable: loops that wait on one, as the
# agent's tests do, would hang here.)
WALL_CLOCK_TESTS = [
    "tests/bot/test_netstats_command.py",
    "tests/test_up_and_report.py::test_report_json_equals_netstats_totals",
    "tests/test_up_and_report.py::test_report_table_for_people",
    "tests/db/test_retention.py",
    "tests/dashboard/test_live.py",
]


@pytest.mark.parametrize("instant", list(INSTANTS.values()), ids=list(INSTANTS))
def test_the_wall_clock_tests_pass_at(instant, tmp_path):
    if not LIBFAKETIME.exists():
        pytest.fail(f"{LIBFAKETIME} is missing: apt-get install faketime (scripts/test.sh does)")
    env = {
        **os.environ,
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": f"@{instant}",  # starts there, then runs at the real pace
        "TZ": "UTC",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "-k",
            "not pg18",
        ]
        + ["--basetemp", str(tmp_path / "t"), *WALL_CLOCK_TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]
