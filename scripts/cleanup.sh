#!/usr/bin/env bash
# cleanup.sh — remove every container, network (and with --volumes, volume) that carries the lab's label.
#
# Usage: scripts/cleanup.sh [--volumes]
#
#   --volumes   also remove the lab's volumes (database data: the next run initialises afresh)
#   -h, --help  show this help
#
# Nothing without the label io.docker-net-lab (its value is the layout's name) is touched. Prints what it
# removed; exit 0 when there was nothing to remove. Swarm services and the lab's images are left to their own
# scripts.
set -Eeuo pipefail

# shellcheck source=lib/objects.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/objects.sh"

# remove_labelled KIND: list KIND objects with our label, remove them, say which.
remove_labelled() {
  local kind=$1 ids id name
  case $kind in
    container) ids=$(docker ps -aq --filter "label=$LAB_LABEL") ;;
    *) ids=$(docker "$kind" ls -q --filter "label=$LAB_LABEL") ;;
  esac
  if [[ -z $ids ]]; then log "  no $kind of the lab's"; return 0; fi
  for id in $ids; do
    name=$id
    [[ $kind == volume ]] || name=$(docker "$kind" inspect -f '{{.Name}}' "$id" | sed 's#^/##')
    is_ours "$kind" "$name" || continue   # the filter said so; asked again right before the removal
    case $kind in
      container) run docker rm -f -v "$name" >/dev/null ;;
      *) run docker "$kind" rm "$name" >/dev/null ;;
    esac
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
  step "cleanup: everything labelled $LAB_LABEL"
  remove_labelled container
  remove_labelled network
  if ((volumes)); then remove_labelled volume; else log "  volumes kept (add --volumes to remove the lab's data)"; fi
}

main "$@"
