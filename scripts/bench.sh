#!/usr/bin/env bash
# Runs the benchmarks from a bare Debian/Ubuntu machine with Python 3.11+: installs PostgreSQL
# 15 and vnStat (the agent's baseline: its daemon is measured beside ours) with apt when
# missing (needs root or sudo), creates .venv with the project, then runs `python -m
# bench.run`. Extra arguments go to it: `bash scripts/bench.sh --write` updates
# BENCHMARKS.md, `--quick` takes a fast look on small data sets.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/setup.sh

if [ ! -x /usr/lib/postgresql/15/bin/postgres ] || ! command -v vnstatd >/dev/null; then
  apt_install "PostgreSQL 15 and vnStat" postgresql-15 vnstat
  # Only its binaries are used: the bench starts vnstatd itself, with a database of its own.
  as_root systemctl disable --now vnstat >/dev/null 2>&1 || true
fi
make_venv

step "benchmarks (about 35 minutes; they need a quiet machine)"
exec .venv/bin/python -m bench.run "$@"
