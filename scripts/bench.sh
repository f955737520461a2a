#!/usr/bin/env bash
# Runs the benchmarks from a bare Debian/Ubuntu machine with Python 3.11+: installs PostgreSQL
# 15 and vnStat (the agent's baseline: its daemon is measured beside ours) with apt when
# missing (needs root or sudo), creates .venv with the project, then runs `python -m
# bench.run`. Extra arguments go to it: `bash scripts/bench.sh --write` updates
# BENCHMARKS.md, `--quick` takes a fast look on small data sets.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/lib/postgresql/15/bin/postgres ] || ! command -v vnstatd >/dev/null; then
  step "installing PostgreSQL 15 and vnStat with apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 vnstat >/dev/null
  # Only its binaries are used: the bench starts vnstatd itself, with a database of its own.
  as_root systemctl disable --now vnstat >/dev/null 2>&1 || true
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
step "installing netstats and its dev tools into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"

step "benchmarks (about 35 minutes; they need a quiet machine)"
exec .venv/bin/python -m bench.run "$@"
