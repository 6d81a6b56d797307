#!/usr/bin/env bash
# The two quick-start commands. Installs everything into .venv on first use (PyPI only).
#   ./dev.sh up     dev server (SQLite var/temporal.db, Web UI :8233) + worker + a sample incident,
#                   payloads and outbox encrypted (keys var/codec-keys.json, created on first start;
#                   --insecure-plaintext for local experiments without personal data only)
#   ./dev.sh test   the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

install() {
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  # Re-install only when pyproject.toml changed since the last install.
  local stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
}

case "${1:-}" in
  up)
    install
    exec .venv/bin/python devstack.py "${@:2}"
    ;;
  test)
    install
    exec .venv/bin/python -m pytest "${@:2}"
    ;;
  *)
    echo "usage: ./dev.sh up | test [pytest args]" >&2
    exit 2
    ;;
esac
