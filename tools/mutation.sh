#!/usr/bin/env bash
# mutation.sh — mutation testing of the app (app_server/) with mutmut: every mutant is judged by the unit
# tests and tests/integration/test_app_db.py, against real MySQL and PostgreSQL; then the score and the
# mutants that survived. docs/mutation.md records the last score and explains each survivor.
#
# Usage: tools/mutation.sh [--fresh] [MUTANT_NAMES...]
#   tools/mutation.sh                          # the mutants not judged yet (all of them on a first run)
#   tools/mutation.sh --fresh                  # forget mutants/ and judge every mutant again (for the score)
#   tools/mutation.sh 'app_server.db.x_borrow*'  # judge these again (after adding a test that should kill them)
#
# Prints "mutmut: K of N mutants killed (P %)" (a mutant that makes the tests time out counts as killed), then
# `mutmut results`: every mutant not killed, by name (`.venv/bin/mutmut show NAME` prints its diff).
# Needs Docker and the venv with requirements-dev.txt (tools/test.sh makes it; LAB_VENV=DIR for another one).
# mutmut runs pytest once per mutant, so the databases are started here, once: two MySQL and two PostgreSQL
# containers (one of each per mutmut worker, 2 workers), labelled io.docker-net-lab-test=mutmut, published on
# 127.0.0.1 only, handed to the tests through LAB_TEST_DATABASES (tests/integration/conftest.py), and removed
# on exit, Ctrl-C included. Images: MYSQL_IMAGE and POSTGRES_IMAGE, defaulting to the official ones.
# mutmut's work folder is mutants/ (git-ignored); it keeps each mutant's result between runs.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LAB_VENV:-$ROOT/.venv}
LABEL=io.docker-net-lab-test=mutmut
WORKERS=2           # mutmut's --max-children: one per core on the 2-core machines this lab is sized for
STARTED=''          # the containers this run started (names, space-separated), for cleanup
DATABASES=''        # LAB_TEST_DATABASES: "mysql=NAME postgres=NAME ..."

log() { printf 'mutation.sh: %s\n' "$*" >&2; }
die() { printf 'mutation.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p;}' "$0"; }

cleanup() {
  local name
  for name in $STARTED; do
    # only a container that still carries this script's label; -v: the images' anonymous data volumes too
    [[ $(docker inspect -f "{{ index .Config.Labels \"${LABEL%%=*}\" }}" "$name" 2>/dev/null) == "${LABEL#*=}" ]] \
      || continue
    docker rm -f -v "$name" >/dev/null 2>&1 || log "could not remove container $name: docker rm -f -v $name"
    rm -f "${TMPDIR:-/tmp}/$name.lock"
  done
}

on_signal() { exit 130; }

require_tools() {
  command -v docker >/dev/null || die "docker is missing: install Docker Desktop or Docker Engine"
  docker info >/dev/null 2>&1 || die "no Docker engine answers 'docker info': start Docker and run this again"
  [[ -x $VENV/bin/mutmut ]] || die "no mutmut in $VENV: run tools/test.sh -m unit once (it installs requirements-dev.txt)"
}

# free_port: a port free on 127.0.0.1 right now (docker binds it a moment later).
free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_database ENGINE SLOT: one database with the tests' account (tests/integration/conftest.py), its clock in
# Seoul, on a fixed loopback port (a restart keeps it).
start_database() {
  local engine=$1 slot=$2 name port
  name=lab-mutmut-$$-$engine-$slot
  port=$(free_port)
  STARTED="$STARTED $name"
  if [[ $engine == mysql ]]; then
    docker run -d --name "$name" --label "$LABEL" -p "127.0.0.1:$port:3306" -e TZ=Asia/Seoul \
      -e MYSQL_ROOT_PASSWORD=rootpass -e MYSQL_USER=appuser -e MYSQL_PASSWORD=apppass -e MYSQL_DATABASE=myapp \
      --health-cmd 'mysqladmin ping -h 127.0.0.1 --silent' --health-interval 1s \
      "${MYSQL_IMAGE:-mysql:8.4}" >/dev/null
  else
    docker run -d --name "$name" --label "$LABEL" -p "127.0.0.1:$port:5432" -e TZ=Asia/Seoul \
      -e POSTGRES_USER=appuser -e POSTGRES_PASSWORD=apppass -e POSTGRES_DB=myapp \
      --health-cmd 'pg_isready -h 127.0.0.1 -U appuser -d myapp' --health-interval 1s \
      "${POSTGRES_IMAGE:-postgres:17}" >/dev/null
  fi
  DATABASES="${DATABASES:+$DATABASES }$engine=$name"
  log "started $engine $name on 127.0.0.1:$port"
}

# wait_healthy NAME TIMEOUT: until the container's healthcheck passes; its last log lines when it gives up.
wait_healthy() {
  local name=$1 timeout=$2 waited=0 status
  while ((waited < timeout)); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
    [[ $status == healthy ]] && return 0
    sleep 1
    waited=$((waited + 1))
  done
  docker logs --tail 30 "$name" >&2 || true
  die "$name not healthy within $timeout s (its last log lines are above)"
}

start_databases() {
  local slot name
  for slot in $(seq 1 "$WORKERS"); do
    start_database mysql "$slot"
    start_database postgres "$slot"
  done
  for name in $STARTED; do
    wait_healthy "$name" 180
  done
}

print_score() {
  "$VENV/bin/mutmut" export-cicd-stats >/dev/null
  "$VENV/bin/python" - <<'EOF'
import json

s = json.load(open("mutants/mutmut-cicd-stats.json"))
killed = s["killed"] + s["timeout"]
total = s["total"]
print(f"mutmut: {killed} of {total} mutants killed ({100 * killed / total:.1f} %)")
kinds = ("timeout", "survived", "no_tests", "suspicious", "skipped", "segfault")
rest = {k: s[k] for k in kinds if s[k]}
rest["not judged yet"] = total - s["killed"] - sum(s[k] for k in kinds)
print("  " + ", ".join(f"{k}: {v}" for k, v in rest.items() if v) if any(rest.values()) else "  every mutant killed")
EOF
  printf '\nNot killed (.venv/bin/mutmut show NAME prints the change):\n'
  "$VENV/bin/mutmut" results
}

main() {
  local fresh=0 names=()
  while (($#)); do
    case $1 in
      -h | --help) usage; exit 0 ;;
      --fresh) fresh=1 ;;
      -*) printf 'mutation.sh: error: unknown option %s (tools/mutation.sh --help lists them)\n' "$1" >&2; exit 2 ;;
      *) names+=("$1") ;;
    esac
    shift
  done
  require_tools
  cd "$ROOT"
  ((fresh)) && rm -rf mutants
  trap cleanup EXIT
  trap on_signal INT TERM
  start_databases
  log "running mutmut with $WORKERS workers (LAB_TEST_DATABASES=\"$DATABASES\")"
  local started=$SECONDS
  LAB_TEST_DATABASES=$DATABASES "$VENV/bin/mutmut" run --max-children "$WORKERS" ${names[@]+"${names[@]}"}
  log "mutmut took $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
  print_score
}

main "$@"
