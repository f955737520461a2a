# Sourced by test.sh and bench.sh: apt packages when missing, and .venv with the project.

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_install WHAT PACKAGE...: install them with apt, saying WHAT.
apt_install() {
  local what=$1
  shift
  step "installing $what with apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# .venv with the project and its dev tools (Python 3.11+, or $PYTHON).
make_venv() {
  local python=${PYTHON:-$(command -v python3.11 || command -v python3)}
  if [ ! -x .venv/bin/python ]; then
    step "creating .venv with $("$python" --version)"
    "$python" -m venv .venv
  fi
  step "installing netstats and its dev tools into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
}
