#!/usr/bin/env bash
# compare.sh — prove that the by-hand script and the compose file build the same layout.
#
# Usage: scripts/compare.sh [--layout 3tier|webapp|swarm] [--db ENGINE] [--compose-file FILE] [--offline]
#
# Builds the layout by hand (scripts/run-LAYOUT.sh), snapshots it (scripts/topology.py), tears it down;
# builds it with compose (scripts/run-compose.sh), snapshots it, tears it down; then prints a side-by-side
# table (by hand | compose | same?) and both reachability matrices. For swarm: `docker service create` one
# by one (scripts/run-swarm.sh --by-hand) against `docker stack deploy` (scripts/run-swarm.sh).
# Exit 0 when identical, 1 with the differing rows named when not, 2 on bad usage.
# It removes the layout before it starts and whatever it built when it ends, even on Ctrl-C or failure.
#
#   --layout L          3tier (default), webapp or swarm
#   --db ENGINE         mysql or postgres (default: the layout's own)
#   --compose-file F    compare against another compose file (default compose/L.yaml)
#   --offline           build and use the local stand-in images
#   -h, --help          show this help
set -Eeuo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { usage_from_header "$0"; }

WORK=$(mktemp -d)
PORT=18088   # a port of its own, so a layout the learner runs on 80/3000 is not in the way

teardown() {
  if [[ $LAYOUT == swarm ]]; then
    "$LAB_ROOT/scripts/run-swarm.sh" --down --volumes >/dev/null 2>&1 || true
    return
  fi
  "$LAB_ROOT/scripts/run-$LAYOUT.sh" --down --volumes >/dev/null 2>&1 || true
  "$LAB_ROOT/scripts/run-compose.sh" "$LAYOUT" --file "$COMPOSE_FILE" --down --volumes >/dev/null 2>&1 || true
}

on_exit() {
  local rc=$?
  log "  cleaning up: removing both builds of the $LAYOUT layout"
  teardown
  rm -rf "$WORK"
  exit "$rc"
}

# build_and_snapshot WHO CMD...: bring the layout up with CMD (its checks may fail: the snapshot shows
# why), snapshot it into $WORK/WHO.json, tear it down.
build_and_snapshot() {
  local who=$1; shift
  step "$who: $(show_cmd "${@#"$LAB_ROOT/"}")"
  if ! "$@" >"$WORK/$who.log" 2>&1; then
    warn "$who: the layout's own checks did not all pass (the comparison below shows what differs):"
    grep -E 'CHECK FAIL|error' "$WORK/$who.log" >&2 || tail -n 15 "$WORK/$who.log" >&2
  fi
  grep -q 'CHECK ' "$WORK/$who.log" || { tail -n 20 "$WORK/$who.log" >&2; die "$who: the layout did not come up"; }
  python3 "$LAB_ROOT/scripts/topology.py" snapshot "$LAYOUT" >"$WORK/$who.json"
  log "  snapshot taken; tearing down"
  teardown
}

main() {
  LAYOUT=3tier
  local db='' offline=0
  COMPOSE_FILE=''
  while (($#)); do
    case $1 in
      --layout) [[ ${2:-} =~ ^(3tier|webapp|swarm)$ ]] || usage_error "--layout takes 3tier, webapp or swarm"
                LAYOUT=$2; shift ;;
      --db) [[ ${2:-} == mysql || ${2:-} == postgres ]] || usage_error "--db takes mysql or postgres"
            db=$2; shift ;;
      --compose-file) [[ -f ${2:-} ]] || usage_error "--compose-file takes an existing file (got '${2:-}')"
                      COMPOSE_FILE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
      --offline) offline=1 ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
    shift
  done
  [[ $LAYOUT != swarm || -z $COMPOSE_FILE ]] || usage_error "--compose-file does not apply to --layout swarm"
  : "${COMPOSE_FILE:=$LAB_ROOT/compose/$LAYOUT.yaml}"
  command -v python3 >/dev/null || die "compare.sh needs python3 for the snapshots (scripts/topology.py)"
  require_engine
  if ((offline)); then use_offline_images; fi
  local common=(--port "$PORT" ${db:+--db "$db"})
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  teardown
  if [[ $LAYOUT == swarm ]]; then
    build_and_snapshot "by-hand" "$LAB_ROOT/scripts/run-swarm.sh" --by-hand "${common[@]}"
    build_and_snapshot "compose" "$LAB_ROOT/scripts/run-swarm.sh" "${common[@]}"
  else
    build_and_snapshot "by-hand" "$LAB_ROOT/scripts/run-$LAYOUT.sh" "${common[@]}"
    build_and_snapshot "compose" "$LAB_ROOT/scripts/run-compose.sh" "$LAYOUT" --file "$COMPOSE_FILE" "${common[@]}"
  fi
  step "compare: by hand vs compose ($LAYOUT${db:+, $db})"
  python3 "$LAB_ROOT/scripts/topology.py" diff "$WORK/by-hand.json" "$WORK/compose.json"
}

main "$@"
