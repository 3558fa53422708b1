#!/usr/bin/env bash
# compare.sh — prove that the by-hand script and the compose file build the same layout.
#
# Usage: scripts/compare.sh [--layout 3tier|webapp|swarm] [--db ENGINE] [--compose-file FILE] [--offline]
#                           [--replace]
#
# Builds the layout by hand (scripts/run-LAYOUT.sh), snapshots it (scripts/topology.py), tears it down;
# builds it with compose (scripts/run-compose.sh), snapshots it, tears it down; then prints a side-by-side
# table (by hand | compose | same?) and both reachability matrices. For swarm: `docker service create` one
# by one (extras/swarm/run-swarm.sh --by-hand) against `docker stack deploy` (extras/swarm/run-swarm.sh).
# Exit 0 when identical, 1 with the differing rows named when not, 2 on bad usage.
# A layout that is already up (yours) stops it before it builds anything, unless --replace; a data volume that
# existed before is kept (both builds reuse it). It removes what it built when it ends, even on Ctrl-C or failure.
# Each build's own checks must pass: two equally broken builds are not "identical".
#
#   --layout L          3tier (default), webapp or swarm
#   --db ENGINE         mysql or postgres (default: the layout's own)
#   --compose-file F    compare against another compose file (default compose/L.yaml)
#   --offline           build and use the local stand-in images
#   --replace           take down the running layout first (its containers; its data volume is kept)
#   -h, --help          show this help
set -Eeuo pipefail

# shellcheck source=lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

WORK=$(mktemp -d)
PORT=18088   # a port of its own, so a layout the learner runs on 80/3000 is not in the way

KEEP_VOLUMES=0   # 1 when the layout's data volume existed before: then it is not ours to remove

teardown() {
  local vols=(--volumes)
  ((KEEP_VOLUMES)) && vols=()
  if [[ $LAYOUT == swarm ]]; then
    "$LAB_ROOT/extras/swarm/run-swarm.sh" --down ${vols[@]+"${vols[@]}"} >/dev/null 2>&1 || true
    return
  fi
  "$LAB_ROOT/scripts/run-$LAYOUT.sh" --down ${vols[@]+"${vols[@]}"} >/dev/null 2>&1 || true
  "$LAB_ROOT/scripts/run-compose.sh" "$LAYOUT" --file "$COMPOSE_FILE" --down ${vols[@]+"${vols[@]}"} \
    >/dev/null 2>&1 || true
}

# layout_objects: the layout's containers (or swarm services) and data volumes that exist now.
layout_objects() {
  if [[ $LAYOUT == swarm ]]; then
    docker service ls -q --filter "label=$LAB_LABEL=swarm"
    docker volume ls -q --filter "label=$LAB_LABEL=swarm"
  else
    docker ps -aq --filter "label=$LAB_LABEL=$LAYOUT"
  fi
}
layout_volumes() {
  if [[ $LAYOUT == swarm ]]; then docker volume ls -q --filter "label=$LAB_LABEL=swarm"
  else docker volume ls -q --filter "label=$LAB_LABEL=$LAYOUT"; fi
}

# refuse_running REPLACE: the learner's running layout is not compare.sh's to remove, unless REPLACE.
refuse_running() {
  if [[ -n $(layout_objects) ]] && (($1 == 0)); then
    die "the $LAYOUT layout is up (docker ps shows its containers). compare.sh builds and removes it twice: take it down first (scripts/run-$LAYOUT.sh --down, or scripts/run-compose.sh $LAYOUT --down), or run again with --replace."
  fi
  [[ -z $(layout_volumes) ]] || KEEP_VOLUMES=1
  ((KEEP_VOLUMES == 0)) || log "  the $LAYOUT layout's data volume exists: both builds reuse it, and it is kept"
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
  local rc=0
  "$@" >"$WORK/$who.log" 2>&1 || rc=$?
  grep -q 'CHECK ' "$WORK/$who.log" || { tail -n 20 "$WORK/$who.log" >&2; die "$who: the layout did not come up"; }
  python3 "$LAB_ROOT/scripts/topology.py" snapshot "$LAYOUT" >"$WORK/$who.json"
  if ((rc != 0)); then
    BROKEN+=("$who")
    warn "$who: the layout's own checks did not all pass:"
    grep -A3 -E 'CHECK FAIL' "$WORK/$who.log" >&2 || tail -n 15 "$WORK/$who.log" >&2
  fi
  log "  snapshot taken; tearing down"
  teardown
}

main() {
  LAYOUT=3tier
  local replace=0
  ENGINE='' OFFLINE=0
  BROKEN=()
  COMPOSE_FILE=''
  while (($#)); do
    case $1 in
      --layout) [[ ${2:-} =~ ^(3tier|webapp|swarm)$ ]] || usage_error "--layout takes 3tier, webapp or swarm"
                LAYOUT=$2; shift ;;
      --compose-file) [[ -f ${2:-} ]] || usage_error "--compose-file takes an existing file (got '${2:-}')"
                      COMPOSE_FILE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
      --replace) replace=1 ;;
      --port) usage_error "compare.sh publishes on a port of its own ($PORT); --port does not apply" ;;
      *) shared_flag "$@" || usage_error "unknown option: $1"; shift $((FLAG_ARGS - 1)) ;;
    esac
    shift
  done
  [[ $LAYOUT != swarm || -z $COMPOSE_FILE ]] || usage_error "--compose-file does not apply to --layout swarm"
  : "${COMPOSE_FILE:=$LAB_ROOT/compose/$LAYOUT.yaml}"
  command -v python3 >/dev/null || die "compare.sh needs python3 for the snapshots (scripts/topology.py)"
  require_engine
  if ((OFFLINE)); then use_offline_images; fi
  local common=(--port "$PORT" ${ENGINE:+--db "$ENGINE"})
  refuse_running "$replace"
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  teardown
  if [[ $LAYOUT == swarm ]]; then
    build_and_snapshot "by-hand" "$LAB_ROOT/extras/swarm/run-swarm.sh" --by-hand "${common[@]}"
    build_and_snapshot "compose" "$LAB_ROOT/extras/swarm/run-swarm.sh" "${common[@]}"
  else
    build_and_snapshot "by-hand" "$LAB_ROOT/scripts/run-$LAYOUT.sh" "${common[@]}"
    build_and_snapshot "compose" "$LAB_ROOT/scripts/run-compose.sh" "$LAYOUT" --file "$COMPOSE_FILE" "${common[@]}"
  fi
  step "compare: by hand vs compose ($LAYOUT${ENGINE:+, $ENGINE})"
  local rc=0
  python3 "$LAB_ROOT/scripts/topology.py" diff "$WORK/by-hand.json" "$WORK/compose.json" || rc=$?
  if ((${#BROKEN[@]})); then
    printf '\n%sNOT VERIFIED:%s the checks of %s failed, so the layouts are broken whatever they compare as.\n' \
      "$C_R" "$C_0" "${BROKEN[*]}"
    return 1
  fi
  return "$rc"
}

main "$@"
