#!/usr/bin/env bash
# lab.sh — each section of the tutorial as a lab: it runs the section's commands, numbered as in the
# tutorial, then CHECKs what the tutorial says should be true (and where the tutorial is wrong, runs the
# fixed command and says why).
#
# Usage: scripts/lab.sh list                 # the sections, with the tutorial heading each one follows
#        scripts/lab.sh all                  # every section, in order
#        scripts/lab.sh SECTION [SECTION...] # e.g. scripts/lab.sh bridge custom
#        scripts/lab.sh --offline ...        # use the local stand-in images (tools/offline-images.sh)
#
# Each section removes what it made (everything labelled io.docker-net-lab=lab-SECTION) when it
# ends, even when it fails or is interrupted. A section this engine cannot show (Docker Desktop's host
# networking and IPv6, an engine too old for a flag) says why and is skipped. Exit 0 only if every CHECK of
# every section that ran passed; exit 77 when every section named was skipped (nothing was verified).
set -Eeuo pipefail

# shellcheck source=lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"
# shellcheck source=lib/swarm.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

LABS_DIR=$LAB_ROOT/scripts/labs
SKIPPED_RC=77  # a skipped section's exit status (and lab.sh's when all were skipped): automake's "skipped"

# --- for the sections' lab_unsupported (it prints why and returns 0 when the section cannot run here) -------

# on_docker_desktop: the engine is Docker Desktop's (its containers run in a VM, not on this machine).
on_docker_desktop() { [[ $(docker info -f '{{.OperatingSystem}}' 2>/dev/null) == *'Docker Desktop'* ]]; }
# engine_major: the engine's major version (28 for 28.5.2+dfsg4), 0 when it does not say.
engine_major() {
  local v
  v=$(docker version -f '{{.Server.Version}}' 2>/dev/null) || v=''
  v=${v%%.*}
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# --- the tutorial's `mysql:5.7` lines, for the sections that run them ------------------------------------

# wait_exited NAME: until NAME has stopped, at most 60 s (the check after it says whether it did).
wait_exited() {
  local i
  for ((i = 0; i < 60; i++)); do
    [[ $(docker inspect -f '{{.State.Status}}' "$1") == exited ]] && return 0
    sleep 1
  done
}
exit_code_of() { docker inspect -f '{{.State.ExitCode}}' "$1"; }
# exited_nonzero NAME: NAME has stopped, with a non-zero exit code.
exited_nonzero() { [[ $(docker inspect -f '{{.State.Status}}' "$1") == exited && $(exit_code_of "$1") != 0 ]]; }

# mysql_as_written NAME RUN_OPTIONS...: the tutorial's `docker run -d RUN_OPTIONS mysql:5.7` (RUN_OPTIONS
# hold --name NAME), as written, with the MySQL image: with no password variable the image's entrypoint
# refuses to initialise and the container exits. Checked, then removed.
mysql_as_written() {
  local name=$1; shift
  log "  as written (the MySQL image for mysql:5.7, no password variable):"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d "$@" $(labels) "$MYSQL_IMAGE" >/dev/null
  wait_exited "$name"
  check "as written, $name exits with a failure (exit code $(exit_code_of "$name")): no password variable" \
    exited_nonzero "$name"
  log "  its log says why:"
  docker logs --tail 4 "$name" 2>&1 | tr -d '\r' | sed 's/^/    | /' >&2 || true
  remove_ours container "$name"
}

# The sections in tutorial order: each is scripts/labs/NAME.sh defining LAB_TITLE and lab_main.
sections() {
  local f
  for f in bridge custom host none ipv6 overlay commands ports security troubleshoot; do
    [[ -f $LABS_DIR/$f.sh ]] && echo "$f"
  done
}

list_sections() {
  local name
  for name in $(sections); do
    # shellcheck source=/dev/null
    (. "$LABS_DIR/$name.sh"; printf '%-13s %s\n' "$name" "$LAB_TITLE")
  done
}

# remove_labelled FILTER: services, containers, networks and volumes matching FILTER, once. Each step goes on
# even if one fails (a swarm left by someone else mid-way must not leave containers behind).
remove_labelled() {
  local ids
  ids=$(docker service ls -q --filter "$1" 2>/dev/null) || ids=''
  [[ -z $ids ]] || docker service rm $ids >/dev/null 2>&1 || true
  ids=$(docker ps -aq --filter "$1" 2>/dev/null) || ids=''
  [[ -z $ids ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
  ids=$(docker network ls -q --filter "$1" 2>/dev/null) || ids=''
  [[ -z $ids ]] || docker network rm $ids >/dev/null 2>&1 || true
  ids=$(docker volume ls -q --filter "$1" 2>/dev/null) || ids=''
  [[ -z $ids ]] || docker volume rm -f $ids >/dev/null 2>&1 || true
}

# remove_lab_resources LAYOUT [INTERRUPTED]: everything carrying the section's label. A docker command stopped
# by Ctrl-C (or a timeout's SIGTERM) may still be carried out by the engine a moment later: a `docker run`
# whose container appears after the first pass, and then holds its network. So when INTERRUPTED is 1 the
# removal waits 2 s first, and a pass that leaves a container or network is repeated, up to 5 passes.
remove_lab_resources() {
  local filter="label=$LAB_LABEL=$1" pass
  [[ ${2:-0} != 1 ]] || sleep 2
  for pass in 1 2 3 4 5; do
    remove_labelled "$filter"
    [[ -n $(docker ps -aq --filter "$filter" 2>/dev/null)$(docker network ls -q --filter "$filter" 2>/dev/null) ]] \
      || return 0
    ((pass == 5)) || sleep 1
  done
}

# run_section NAME: in a subshell, so one section's variables, traps and `die` stay its own.
# Called outside any `||` list (see main), so the `set -e` below really applies inside the section.
run_section() (
  set -Eeuo pipefail
  local name=$1
  LAYOUT=lab-$name
  CHECK_FAILED=0   # lib.sh's check counts into it
  export LAYOUT CHECK_FAILED
  # shellcheck source=/dev/null
  . "$LABS_DIR/$name.sh"
  declare -F lab_main >/dev/null || die "scripts/labs/$name.sh defines no lab_main"
  # shellcheck disable=SC2317  # called by the trap
  section_cleanup() {
    local rc=$? interrupted=0
    ((rc != 130 && rc != 143)) || interrupted=1   # the INT and TERM traps below
    if declare -F lab_cleanup >/dev/null; then lab_cleanup || true; fi
    remove_lab_resources "$LAYOUT" "$interrupted"
  }
  printf '\n%s### lab: %s — %s%s\n' "$C_B" "$name" "$LAB_TITLE" "$C_0"
  local why
  if declare -F lab_unsupported >/dev/null && why=$(lab_unsupported); then
    printf '  %sSKIP%s %s\n' "$C_Y" "$C_0" "$why"
    exit "$SKIPPED_RC"
  fi
  trap section_cleanup EXIT
  # Ctrl-C and SIGTERM reach the whole process group: the section exits through its cleanup, with a status
  # that says it was interrupted (bash would otherwise die of the signal and hand the trap a status of 0)
  trap 'exit 130' INT
  trap 'exit 143' TERM
  remove_lab_resources "$LAYOUT"   # leftovers of an interrupted earlier run
  lab_main
  finish_checks
)

main() {
  local args=() offline=0 name passed=() failed=() skipped=()
  while (($#)); do
    case $1 in
      --offline) offline=1 ;;
      -h|--help) usage; exit 0 ;;
      list) list_sections; exit 0 ;;
      all) for name in $(sections); do args+=("$name"); done ;;
      *) [[ -f $LABS_DIR/$1.sh ]] || usage_error "no such section: $1 (see: scripts/lab.sh list)"; args+=("$1") ;;
    esac
    shift
  done
  ((${#args[@]})) || usage_error "name a section, 'all' or 'list'"
  require_engine
  if ((offline)); then use_offline_images; fi
  ensure_image "$TOOLBOX_IMAGE"
  # With these traps lab.sh waits for an interrupted section to finish its cleanup, then stops (no next
  # section); without them it would die at once and leave the cleanup running on its own.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local rc
  for name in "${args[@]}"; do
    # not `run_section || ...`: inside an || list bash ignores set -e, and a broken step would go unnoticed
    set +e
    run_section "$name"
    rc=$?
    set -e
    case $rc in
      0) passed+=("$name") ;;
      "$SKIPPED_RC") skipped+=("$name") ;;
      *) failed+=("$name") ;;
    esac
  done
  if ((${#skipped[@]})); then
    printf '\n%sSkipped on this engine (see each SKIP line): %s%s\n' "$C_Y" "${skipped[*]}" "$C_0"
  fi
  if ((${#failed[@]})); then
    printf '\n%sFailed sections: %s%s\n' "$C_R" "${failed[*]}" "$C_0"
    exit 1
  fi
  if ((${#passed[@]} == 0)); then
    printf '\n%sNo section could run on this engine: nothing was verified.%s\n' "$C_Y" "$C_0"
    exit "$SKIPPED_RC"
  fi
  printf '\n%sEvery section passed: %s%s\n' "$C_G" "${passed[*]}" "$C_0"
}

main "$@"
