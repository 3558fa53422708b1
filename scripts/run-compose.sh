#!/usr/bin/env bash
# run-compose.sh — the same layouts through docker compose, verified with the same checks as by hand.
#
# Usage: scripts/run-compose.sh 3tier|webapp [--db ENGINE] [--port N] [--public] [--offline] [--file F]
#        scripts/run-compose.sh 3tier|webapp --down [--volumes]
#
#   3tier    compose/3tier.yaml   (database postgres by default; web-server on port 80)
#   webapp   compose/webapp.yaml  (database mysql by default; webapp on port 3000)
#
#   --db ENGINE   mysql or postgres
#   --port N      host port of the published service; published on 127.0.0.1 only
#   --public      publish on 0.0.0.0 (every interface: reachable from your network)
#   --offline     build and use the local stand-in images (no registry needed)
#   --file F      another compose file for the layout (scripts/compare.sh uses this)
#   --down        `docker compose down` for the layout; --volumes: its data too
#   -h, --help    show this help
set -Eeuo pipefail

# shellcheck source=lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

# The compose command for this layout, printed like every other command the lab runs (from the repo root).
compose() {
  run env DB_ENGINE="$ENGINE" WEB_PORT="$HOST_PORT" BIND_IP="$BIND_IP" \
    docker compose --project-directory compose --file "$COMPOSE_FILE" "$@"
}

# refuse_foreign_project: `docker compose up` and `down` act on every object labelled with the project's
# name (lab-3tier, lab-webapp) and on the file's names; each of them that exists must be the lab's.
refuse_foreign_project() {
  local c n
  refuse_foreign_members "the compose project lab-$LAYOUT" "com.docker.compose.project=lab-$LAYOUT" \
    container network volume
  for n in "${NETWORKS[@]}"; do refuse_foreign network "$n"; done
  for c in "${CONTAINERS[@]}"; do refuse_foreign container "$c"; done
}

preflight() {
  refuse_foreign_project
  require_port "${CONTAINERS[0]}" "$PUBLISHED" "$HOST_PORT" "scripts/run-compose.sh $LAYOUT --port 8080"
  if ((OFFLINE)); then use_offline_images; else ensure_image "$(db_image "$ENGINE")"; ensure_image "$PYTHON_IMAGE"; fi
  ((OFFLINE)) || [[ $LAYOUT != 3tier ]] || ensure_image "$NGINX_IMAGE"
  ensure_image "$TOOLBOX_IMAGE"
  ensure_secrets
}

set_layout() {
  case $1 in
    3tier) ENGINE=postgres HOST_PORT=80 PUBLISHED=80 CONTAINERS=(web-server app-server database)
           NETWORKS=(frontend-net backend-net) ;;
    webapp) ENGINE=mysql HOST_PORT=3000 PUBLISHED=3000 CONTAINERS=(webapp mysql-db postgres-db)
            NETWORKS=(webapp-network) ;;
    '') usage_error "name the layout: 3tier or webapp" ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "the first argument is the layout: 3tier or webapp (got '${1:-}')" ;;
  esac
  LAYOUT=$1
  COMPOSE_FILE=compose/$1.yaml
}

# db_service: the layout's database service (= container name)
db_service() { if [[ $LAYOUT == 3tier ]]; then echo database; else echo "$ENGINE-db"; fi; }

main() {
  set_layout "${1:-}"
  shift
  local args=()
  while (($#)); do
    case $1 in
      --file) [[ -f ${2:-} ]] || usage_error "--file takes an existing compose file (got '${2:-}')"
              COMPOSE_FILE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
      --file=*) usage_error "write --file FILE (a space, not =)" ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  parse_run_args ${args[@]+"${args[@]}"}
  require_engine
  cd "$LAB_ROOT"
  if ((DOWN)); then
    refuse_foreign_project
    step "down: docker compose down ($LAYOUT)"
    local down_args=(down --remove-orphans)
    ((DROP_VOLUMES)) && down_args+=(--volumes)
    compose "${down_args[@]}"
    return
  fi
  preflight
  step "compose up: the database first, then the passwords checked against its volume"
  compose up -d --pull never --wait --wait-timeout 180 "$(db_service)" \
    || die "the database did not come up healthy; see 'docker compose -f $COMPOSE_FILE logs $(db_service)'"
  require_same_passwords "$(db_service)" "$ENGINE" "$LAYOUT-$ENGINE-data" "scripts/run-compose.sh $LAYOUT --down --volumes"
  step "compose up: builds the images, creates the rest, waits until healthy"
  compose up -d --build --pull never --wait --wait-timeout 240 \
    || die "docker compose up did not come up healthy; see 'docker compose -f $COMPOSE_FILE logs'"
  step "확인 / verify: the same checks as by hand"
  if [[ $LAYOUT == 3tier ]]; then verify_3tier "$HOST_PORT" "$ENGINE" "$BIND_IP"
  else verify_webapp "$HOST_PORT" "$ENGINE" "$ENGINE-db"; fi
  finish_checks
}

main "$@"
