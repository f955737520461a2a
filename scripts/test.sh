#!/usr/bin/env bash
# Runs every check netstats has, from a bare Debian/Ubuntu machine with Python 3.11+:
# installs PostgreSQL 15 with pg_cron and pgTAP, iproute2 and nftables for the agent's
# network-namespace tests, Chromium for the dashboard's browser tests, libfaketime for the
# any-hour tests and Prometheus (Debian's) to scrape /metrics
# (apt, needs root or sudo) when missing,
# creates .venv with the project and its dev tools, then lints, type-checks and tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k periods`.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/setup.sh

PG=/usr/lib/postgresql/15
if [ ! -x "$PG/bin/postgres" ] || [ ! -f "$PG/lib/pg_cron.so" ] \
   || [ ! -f /usr/share/postgresql/15/extension/pgtap.control ] || ! command -v ip >/dev/null \
   || [ ! -x /usr/bin/chromium ] || ! command -v faketime >/dev/null \
   || ! command -v nft >/dev/null || ! command -v prometheus >/dev/null; then
  apt_install "PostgreSQL 15, pg_cron, pgTAP, iproute2, nftables, Chromium, faketime and Prometheus" \
    postgresql-15 postgresql-15-cron postgresql-15-pgtap iproute2 nftables chromium faketime \
    prometheus
fi
make_venv

step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
step "mypy"
.venv/bin/mypy
step "pytest (starts its own PostgreSQL 15 with pg_cron and embedded PostgreSQL 18)"
exec .venv/bin/python -m pytest "$@"
