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
#   --offline     build and use the local stand-in images (no registry needed): tools/offline-images.sh
#   --down        remove this layout's containers and network (and only them); --volumes: its data too
#   -h, --help    show this help
#
# Every docker command is printed, numbered, as you would type it from the repo root. Idempotent: a second run
# reuses what is up to date, and verifies again. Exit 0 only if every check holds.
set -Eeuo pipefail

# shellcheck source=lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

export LAYOUT=webapp           # the value of the lab's label on everything this layout creates
NETWORK=webapp-network

db_name() { echo "$ENGINE-db"; }            # mysql-db, as in the tutorial; postgres-db for PostgreSQL
volume_name() { echo "webapp-$ENGINE-data"; }

preflight() {
  local c
  refuse_foreign network "$NETWORK"
  for c in webapp mysql-db postgres-db; do refuse_foreign container "$c"; done
  refuse_foreign volume "$(volume_name)"
  require_port webapp 3000 "$HOST_PORT" "scripts/run-webapp.sh --port 3001"
  if ((OFFLINE)); then use_offline_images; else ensure_image "$(db_image "$ENGINE")"; ensure_image "$PYTHON_IMAGE"; fi
  ensure_image "$TOOLBOX_IMAGE"
}

# The tutorial's `docker run -d --name mysql-db --network webapp-network -e MYSQL_ROOT_PASSWORD=... mysql`, with
# the passwords as files (db/secrets/, named by *_FILE: `docker inspect` shows none), the app's least-privilege
# account from db/ENGINE/initdb, its data on a named volume, and a healthcheck over TCP (the image's
# temporary init server listens on its socket only).
start_database() {
  local hardening
  # shellcheck disable=SC2207  # one option per line
  hardening=($(db_hardening "$ENGINE"))
  ensure_secrets
  ensure_volume "$(volume_name)"
  if [[ $ENGINE == mysql ]]; then
    ensure_container --name mysql-db \
      --network webapp-network \
      -e MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root_password \
      -e MYSQL_DATABASE=myapp \
      -e APP_DB_PASSWORD_FILE=/run/secrets/db_app_password \
      -v webapp-mysql-data:/var/lib/mysql \
      -v ./db/secrets/root_password:/run/secrets/db_root_password:ro \
      -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
      -v ./db/mysql/initdb:/docker-entrypoint-initdb.d:ro \
      "${hardening[@]}" \
      --health-cmd 'mysqladmin ping -h 127.0.0.1 --silent' \
      --health-interval 5s --health-timeout 3s --health-retries 5 \
      --health-start-period 120s --health-start-interval 1s \
      "$MYSQL_IMAGE"
  else
    ensure_container --name postgres-db \
      --network webapp-network \
      -e POSTGRES_PASSWORD_FILE=/run/secrets/db_root_password \
      -e POSTGRES_DB=myapp \
      -e APP_DB_PASSWORD_FILE=/run/secrets/db_app_password \
      -v webapp-postgres-data:/var/lib/postgresql/data \
      -v ./db/secrets/root_password:/run/secrets/db_root_password:ro \
      -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
      -v ./db/postgres/initdb:/docker-entrypoint-initdb.d:ro \
      "${hardening[@]}" \
      --health-cmd 'pg_isready -h 127.0.0.1 -U postgres -d myapp' \
      --health-interval 5s --health-timeout 3s --health-retries 5 \
      --health-start-period 120s --health-start-interval 1s \
      "$POSTGRES_IMAGE"
  fi
}

start_app() {
  ensure_container --name webapp \
    --network webapp-network \
    -p "$BIND_IP:$HOST_PORT:3000" \
    -e DB_ENGINE="$ENGINE" \
    -e DB_HOST="$(db_name)" \
    -e DB_USER=appuser \
    -e DB_NAME=myapp \
    -e DB_PASSWORD_FILE=/run/secrets/db_app_password \
    -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
    "${APP_HARDENING[@]}" \
    webapp
}

main() {
  ENGINE=mysql HOST_PORT=3000
  parse_run_args "$@"
  require_engine
  cd "$LAB_ROOT"
  if ((DOWN)); then down; return; fi
  preflight
  log "The commands below run from the repo root ($LAB_ROOT): cd there to type them yourself."

  step "1. 네트워크 생성 / create the network"
  ensure_network webapp-network

  step "2. $(engine_title "$ENGINE") 데이터베이스 실행 / run the database ($(db_name))"
  # The other engine's container would be a stale half of this layout: remove it if it is ours.
  if [[ $ENGINE == mysql ]]; then remove_ours container postgres-db; else remove_ours container mysql-db; fi
  start_database
  wait_healthy "$(db_name)" 150
  require_same_passwords "$(db_name)" "$ENGINE" "$(volume_name)" "scripts/run-webapp.sh --down --volumes"

  step "3-4. 웹 애플리케이션 이미지 / the app image (app_server/Dockerfile: the Python port of app.js)"
  # shellcheck disable=SC2046  # build_arg is a list of words by design
  build_image docker build -t webapp $(build_arg PYTHON_IMAGE) app_server

  step "5. 애플리케이션 실행 / run the app (published on $BIND_IP:$HOST_PORT)"
  [[ $BIND_IP == 0.0.0.0 ]] && warn "--public: port $HOST_PORT is published on every interface (reachable from your network)."
  start_app
  wait_healthy webapp 60

  step "테스트 / test: curl http://localhost:$HOST_PORT"
  verify_webapp "$HOST_PORT" "$ENGINE" "$(db_name)"
  finish_checks || return 1
  log "Draw it: python3 scripts/topology.py draw webapp. Remove it all with: scripts/run-webapp.sh --down"
}

down() {
  step "down: removing the web-app layout"
  local c v
  for c in webapp mysql-db postgres-db; do remove_ours container "$c"; done
  remove_ours network "$NETWORK"
  if ((DROP_VOLUMES)); then
    for v in webapp-mysql-data webapp-postgres-data; do remove_ours volume "$v"; done
  fi
  log "web-app layout removed."
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
