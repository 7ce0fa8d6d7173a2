#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: the real binaries, Docker's engine, a venv, the
# package.
# A second run checks and skips in about a second. Without root, a missing Debian package
# ends with the exact command to install it.
set -euo pipefail
cd "$(dirname "$0")/.."

# binary -> Debian package providing it
declare -A PACKAGES=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [prometheus-node-exporter]=prometheus-node-exporter
  [mtail]=mtail
  [prometheus-postgres-exporter]=prometheus-postgres-exporter
  [prometheus-blackbox-exporter]=prometheus-blackbox-exporter
  # The Docker backend's engine (make images, tests marked docker). Started on demand by
  # alertdrill/backends/dockerd.py, never here.
  [dockerd]=docker.io
)
# Optional: only some tests need them (chromium: the drill report's browser test, skipped
# without it). Installed as root like the others; without root a note, not a failure.
# ALERTDRILL_SKIP_OPTIONAL=1 leaves them out.
declare -A OPTIONAL=(
  [chromium]=chromium
)
missing=()
for bin in "${!PACKAGES[@]}"; do
  # dockerd lives in /usr/sbin, which a non-root PATH often lacks.
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${PACKAGES[$bin]}")
done
optional=()
if [ -z "${ALERTDRILL_SKIP_OPTIONAL:-}" ]; then
  for bin in "${!OPTIONAL[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || optional+=("${OPTIONAL[$bin]}")
  done
fi
if [ ${#optional[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    missing+=("${optional[@]}")
  else
    echo "bootstrap: optional Debian packages missing (their tests are skipped): ${optional[*]}" >&2
    echo "bootstrap: install them with:  sudo apt-get install -y ${optional[*]}" >&2
  fi
fi
# PostgreSQL's server binaries are not on PATH in Debian.
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
# The python image (make images) is made of Debian's own python3.11, whatever python3 is on PATH.
[ -x /usr/bin/python3.11 ] || missing+=(python3.11)
python_ok=1
python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || python_ok=0
if [ "$python_ok" = 0 ]; then missing+=(python3 python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: install them with:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.alertdrill-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c 'import alertdrill' 2>/dev/null; then
  echo "bootstrap: installing alertdrill and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
