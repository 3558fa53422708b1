#!/usr/bin/env bash
# test.sh — the lab's checks: lint (ruff, shellcheck), then the tests: unit, integration (testcontainers) and
# end-to-end, on a real Docker engine.
#
# Usage: tools/test.sh [--all] [PYTEST_ARGS...]
#   tools/test.sh                 # lint, then every test not marked slow (about 8 minutes on 2 cores)
#   tools/test.sh --all           # lint, then every test, slow ones included (about 46 minutes)
#   tools/test.sh -m unit         # lint, then the unit tests only (seconds; no engine needed)
#   tools/test.sh -k mysql -x     # any pytest arguments pass through (then the default selection is off)
#
# Needs Docker, Python 3.11+ (with venv), bash and curl on this machine; it says in one line what is missing.
# Creates .venv if missing and installs the pinned requirements-dev.txt into it (again only when that file
# changes). Images: the official ones by default; offline, first run `eval "$(tools/offline-images.sh)"` so
# the image variables name the local stand-ins. LAB_VENV=DIR: that virtualenv instead of .venv (another
# checkout's, so that a fresh clone need not install its own).
# Order (tests/conftest.py): unit first, then integration and e2e, which of them first decided by the seed's
# parity; unit and integration shuffled by pytest-randomly, e2e in file order. pytest's header names the
# seed: tools/test.sh --all --randomly-seed=N runs that order again.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LAB_VENV:-$ROOT/.venv}

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p;}' "$0"; }

# require_tools UNIT_ONLY: the host tools, each named when missing (docker only when an engine is needed).
require_tools() {
  local missing=() py
  command -v curl >/dev/null || missing+=("curl")
  ((UNIT_ONLY)) || command -v docker >/dev/null || missing+=("docker (Docker Desktop or Docker Engine)")
  py=$(command -v python3 || true)
  if [[ -z $py ]] || ! "$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    missing+=("Python 3.11+ with its venv module (python3)")
  fi
  ((${#missing[@]} == 0)) || die "missing on this machine: $(IFS=,; echo "${missing[*]}" | sed 's/,/, /g')"
}

ensure_venv() {
  local req=$ROOT/requirements-dev.txt stamp=$VENV/.requirements.cksum sum
  if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV" || die "could not create a virtualenv: install Python 3.11+ with its venv module"
  fi
  sum=$(cat "$req" "$ROOT/app_server/requirements.txt" | cksum)
  [[ -f $stamp && $(cat "$stamp") == "$sum" ]] && return 0
  log "installing requirements-dev.txt into .venv"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" || die "pip install failed (see above)"
  printf '%s\n' "$sum" >"$stamp"
}

# lint: ruff (lint + format) over the Python, shellcheck (warnings and worse) over every shell script.
lint() {
  local scripts=()
  log "lint: ruff check, ruff format --check, shellcheck -S warning"
  "$VENV/bin/ruff" check --quiet "$ROOT" || die "ruff found problems (above): fix them, or run .venv/bin/ruff check --fix"
  "$VENV/bin/ruff" format --check --quiet "$ROOT" || die "ruff format would change the files above: run .venv/bin/ruff format"
  while IFS= read -r f; do scripts+=("$f"); done < <(cd "$ROOT" && git ls-files '*.sh' .ci/run 2>/dev/null || true)
  ((${#scripts[@]})) || die "found no shell scripts to check (is $ROOT a git checkout?)"
  (cd "$ROOT" && "$VENV/bin/shellcheck" -S warning -x -P SCRIPTDIR "${scripts[@]}") \
    || die "shellcheck found problems (above)"
}

check_engine() {
  docker info >/dev/null 2>&1 && return 0
  die "Docker is required: no Docker engine answered 'docker info'. Start Docker (Docker Desktop, or 'sudo systemctl start docker') and run tools/test.sh again."
}

main() {
  local args=() all=0
  while (($#)); do
    case $1 in
      -h|--help) usage; exit 0 ;;
      --all) all=1 ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  UNIT_ONLY=0
  [[ " ${args[*]-} " == *" -m unit "* ]] && UNIT_ONLY=1
  require_tools
  ensure_venv
  lint
  ((UNIT_ONLY)) || check_engine
  cd "$ROOT"
  if ((${#args[@]} == 0 && !all)); then
    args=(-m "not slow")
    log "running every test not marked slow; the slow ones (compose and the comparison, Swarm, the simulated"
    log "cluster, the drills, the benchmark, hardening, every lab section together) are skipped: run them"
    log "with tools/test.sh --all, or -m slow"
  fi
  local rc=0
  "$VENV/bin/python" -m pytest ${args[@]+"${args[@]}"} || rc=$?
  # pytest's 5 means "no tests ran": a selection that matched nothing is a mistake, not a pass.
  ((rc == 5)) && die "pytest collected no tests (exit 5): check the -m/-k selection"
  exit "$rc"
}

main "$@"
