#!/usr/bin/env bash
# test.sh — run the lab's tests: unit, integration (testcontainers) and end-to-end, on a real Docker engine.
#
# Usage: scripts/test.sh [PYTEST_ARGS...]
#   scripts/test.sh                 # everything
#   scripts/test.sh -m unit         # the unit tests only (seconds; these need no engine)
#   scripts/test.sh -k mysql -x     # any pytest arguments pass through
#
# Creates .venv (Python 3.11+) if missing and installs the pinned requirements-dev.txt into it (again only
# when that file changes). Images: the official ones by default; offline, first run
# `eval "$(scripts/offline-images.sh)"` so the image variables name the local stand-ins.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "$0"; }

ensure_venv() {
  local req=$ROOT/requirements-dev.txt stamp=$VENV/.requirements.sha256 sum
  if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV" || die "could not create a virtualenv: install Python 3.11+ with its venv module"
  fi
  sum=$(cat "$req" "$ROOT/app_server/requirements.txt" | sha256sum | cut -d' ' -f1)
  [[ -f $stamp && $(cat "$stamp") == "$sum" ]] && return 0
  log "installing requirements-dev.txt into .venv"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" || die "pip install failed (see above)"
  printf '%s\n' "$sum" >"$stamp"
}

# Unit tests alone need no engine; everything else does, and says so once, clearly.
needs_engine() { [[ " $* " != *" -m unit "* ]]; }

check_engine() {
  docker info >/dev/null 2>&1 && return 0
  die "Docker is required: no Docker engine answered 'docker info'. Start Docker (Docker Desktop, or 'sudo systemctl start docker'; on the lab's CI machines ../shared/docker-engine/start.sh) and run scripts/test.sh again."
}

main() {
  [[ ${1:-} == -h || ${1:-} == --help ]] && { usage; exit 0; }
  ensure_venv
  if needs_engine "$@"; then check_engine; fi
  cd "$ROOT"
  local rc=0
  "$VENV/bin/python" -m pytest "$@" || rc=$?
  # pytest's 5 means "no tests ran": a selection that matched nothing is a mistake, not a pass.
  ((rc == 5)) && die "pytest collected no tests (exit 5): check the -m/-k selection"
  exit "$rc"
}

main "$@"
