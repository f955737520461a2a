"""Runs tests/db/pgtap/*.sql with pgTAP on the PostgreSQL 15 cluster; every line must be ok."""

from pathlib import Path

import psycopg
import pytest

HERE = Path(__file__).parent / "pgtap"


@pytest.mark.parametrize("script", sorted(HERE.glob("*.sql")), ids=lambda p: p.stem)
def test_pgtap(migrated, script):
    with psycopg.connect(migrated["pg15"]) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
        lines = []
        code = "\n".join(
            line for line in script.read_text().splitlines() if not line.startswith("--")
        )
        statements = [s for s in code.split(";\n") if s.strip()]
        for statement in statements:
            lines += [row[0] for row in conn.execute(statement).fetchall() if row[0] is not None]
        conn.rollback()  # leaves no pgtap extension behind
    tap = "\n".join(lines)
    assert "not ok" not in tap, tap
    planned = int(tap.split("\n", 1)[0].removeprefix("1.."))
    assert tap.count("\nok ") + tap.startswith("ok ") == planned, tap
