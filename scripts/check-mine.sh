#!/usr/bin/env bash
# check-mine.sh — check the layout you typed by hand from the tutorial (with the fixes of docs/errata.md):
# every expectation graded on one line, PASS or FAIL, and each FAIL with the command that fixes it.
#
# Usage: scripts/check-mine.sh webapp|3tier [--db mysql|postgres]
#
#   webapp   network webapp-network; containers mysql-db (postgres-db with --db postgres) and webapp,
#            the app's port 3000 published on the host
#   3tier    networks frontend-net and backend-net; containers database (backend-net only), app-server
#            (backend-net and frontend-net), web-server (frontend-net only, nginx's port 80 published on the
#            host, /api/ passed to app-server:3000)
#   --db ENGINE   the database you ran: mysql (webapp's default) or postgres (3tier's default)
#   -h, --help    show this help
#
# Read-only: it runs docker inspect, docker port, HTTP requests to the published port, and throwaway probes
# (docker run --rm --network container:NAME $TOOLBOX_IMAGE: getent hosts, nc -z), and changes, restarts and
# removes nothing of yours. Exit 0 when every check passes, 1 when one fails, 2 on bad usage.
# The grading is scripts/topology.py check, which shares the probes with topology.py draw.
set -Eeuo pipefail

# shellcheck source=lib/run.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/run.sh"

parse_args() {
  LAYOUT='' ENGINE=''
  while (($#)); do
    case $1 in
      webapp|3tier) [[ -z $LAYOUT ]] || usage_error "one layout only (got '$LAYOUT' and '$1')"; LAYOUT=$1 ;;
      --port|--offline) usage_error "unknown option: $1" ;;
      *) shared_flag "$@" || usage_error "unknown option: $1"; shift $((FLAG_ARGS - 1)) ;;
    esac
    shift
  done
  [[ -n $LAYOUT ]] || usage_error "which layout: webapp or 3tier"
  if [[ -z $ENGINE ]]; then
    if [[ $LAYOUT == webapp ]]; then ENGINE=mysql; else ENGINE=postgres; fi
  fi
}

main() {
  parse_args "$@"
  require_engine
  command -v python3 >/dev/null 2>&1 || die "python3 is needed (scripts/topology.py grades the layout)"
  : "${TOOLBOX_IMAGE:=alpine:3.22}"
  export TOOLBOX_IMAGE
  docker image inspect "$TOOLBOX_IMAGE" >/dev/null 2>&1 \
    || die "the probes need the image $TOOLBOX_IMAGE: run docker pull $TOOLBOX_IMAGE, then run again"
  exec python3 "$LIB/../topology.py" check "$LAYOUT" --db "$ENGINE"
}

main "$@"
