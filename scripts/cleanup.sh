#!/usr/bin/env bash
# cleanup.sh — remove every container, network (and with --volumes, volume) that carries the lab's label.
#
# Usage: scripts/cleanup.sh [--volumes]
#
#   --volumes   also remove the lab's volumes (database data: the next run initialises afresh)
#   -h, --help  show this help
#
# Nothing without the label io.docker-net-lab=1 is touched. Prints what it removed; exit 0 when there was
# nothing to remove. Swarm services and the lab's images are left to their own scripts.
set -Eeuo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { usage_from_header "$0"; }

# remove_labelled KIND: list KIND objects with our label, remove them, say which.
remove_labelled() {
  local kind=$1 ids name
  local -a rm_cmd
  case $kind in
    container) mapfile -t ids < <(docker ps -aq --filter "label=$LAB_LABEL=1"); rm_cmd=(docker rm -f -v) ;;
    network) mapfile -t ids < <(docker network ls -q --filter "label=$LAB_LABEL=1"); rm_cmd=(docker network rm) ;;
    volume) mapfile -t ids < <(docker volume ls -q --filter "label=$LAB_LABEL=1"); rm_cmd=(docker volume rm -f) ;;
  esac
  if ((${#ids[@]} == 0)); then log "  no $kind of the lab's"; return 0; fi
  for name in "${ids[@]}"; do
    [[ $kind == volume ]] || name=$(docker "$kind" inspect -f '{{.Name}}' "$name" | sed 's#^/##')
    run "${rm_cmd[@]}" "$name" >/dev/null
  done
}

main() {
  local volumes=0
  while (($#)); do
    case $1 in
      --volumes) volumes=1 ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
    shift
  done
  require_engine
  step "cleanup: everything labelled $LAB_LABEL=1"
  remove_labelled container
  remove_labelled network
  if ((volumes)); then remove_labelled volume; else log "  volumes kept (add --volumes to remove the lab's data)"; fi
}

main "$@"
