#!/usr/bin/env bash
# run-webapp.sh — the tutorial's "실습: 웹 애플리케이션과 데이터베이스 연결", steps 1-5, by hand.
#
# Usage: scripts/run-webapp.sh [--db mysql|postgres] [--port N] [--public] [--offline]
#        scripts/run-webapp.sh --down [--volumes]
#
#   curl -> webapp (Flask, :3000) -webapp-network-> mysql-db   (postgres-db with --db postgres)
#
#   --db ENGINE   database: mysql (default, as in the tutorial) or postgres
#   --port N      host port for the app (default 3000); published on 127.0.0.1 only
#   --public      publish on 0.0.0.0 as the tutorial's `-p 3000:3000` does (reachable from your network)
#   --offline     build and use the local stand-in images (no registry needed): scripts/offline-images.sh
#   --down        remove this layout's containers and network (and only them); --volumes: its data too
#   -h, --help    show this help
#
# Idempotent: a second run reuses what is up to date, and verifies again. Exit 0 only if every check holds.
set -Eeuo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export LAYOUT=webapp            # the layout label (lib.sh labels())
NETWORK=webapp-network
APP_IMAGE=webapp               # the tutorial's `docker build -t webapp .`

usage() { usage_from_header "$0"; }

db_name() { echo "$ENGINE-db"; }            # mysql-db, as in the tutorial; postgres-db for PostgreSQL
volume_name() { echo "webapp-$ENGINE-data"; }

preflight() {
  local c
  refuse_foreign network "$NETWORK"
  for c in webapp mysql-db postgres-db; do refuse_foreign container "$c"; done
  refuse_foreign volume "$(volume_name)"
  if ! holds_port webapp 3000 "$HOST_PORT" && port_busy "$HOST_PORT"; then
    die "port $HOST_PORT is busy on this machine (something already listens there). Pick another: scripts/run-webapp.sh --port 3001"
  fi
  if ((OFFLINE)); then use_offline_images; else ensure_image "$(db_image "$ENGINE")"; ensure_image "$PYTHON_IMAGE"; fi
  ensure_image "$TOOLBOX_IMAGE"
}

main() {
  ENGINE=mysql HOST_PORT=3000
  parse_run_args "$@"
  require_engine
  if ((DOWN)); then down; return; fi
  preflight

  step "1. 네트워크 생성 / create the network"
  ensure_network "$NETWORK"

  step "2. $(engine_title "$ENGINE") 데이터베이스 실행 / run the database ($(db_name))"
  # The other engine's container would be a stale half of this layout: remove it if it is ours.
  local other=mysql-db; [[ $ENGINE == mysql ]] && other=postgres-db
  if exists container "$other"; then run docker rm -f -v "$other" >/dev/null; fi
  start_database "$(db_name)" "$NETWORK" "$ENGINE" "$(volume_name)"
  wait_healthy "$(db_name)" 150

  step "3-4. 웹 애플리케이션 이미지 / the app image (app_server/Dockerfile: the Python port of app.js)"
  build_image "$APP_IMAGE" "$LAB_ROOT/app_server" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE"

  step "5. 애플리케이션 실행 / run the app (published on $BIND_IP:$HOST_PORT)"
  [[ $BIND_IP == 0.0.0.0 ]] && warn "--public: port $HOST_PORT is published on every interface (reachable from your network)."
  local opts
  mapfile -t opts < <(app_options "$ENGINE" DB_HOST "$(db_name)")
  ensure_container webapp "$APP_IMAGE" --network "$NETWORK" -p "$BIND_IP:$HOST_PORT:3000" "${opts[@]}"
  wait_healthy webapp 60

  step "테스트 / test: curl http://localhost:$HOST_PORT"
  verify_webapp "$HOST_PORT" "$ENGINE" "$(db_name)"
  finish_checks
}

down() {
  step "down: removing the web-app layout"
  local c v
  for c in webapp mysql-db postgres-db; do
    if exists container "$c" && is_ours container "$c"; then run docker rm -f -v "$c" >/dev/null; fi
  done
  if exists network "$NETWORK" && is_ours network "$NETWORK"; then run docker network rm "$NETWORK" >/dev/null; fi
  if ((DROP_VOLUMES)); then
    for v in webapp-mysql-data webapp-postgres-data; do
      if exists volume "$v" && is_ours volume "$v"; then run docker volume rm "$v" >/dev/null; fi
    done
  fi
  log "web-app layout removed."
}

main "$@"
