#!/usr/bin/env bash
# run-3tier.sh — the tutorial's "실습: 3-Tier 애플리케이션", by hand: docker network create / docker run, in order.
#
# Usage: scripts/run-3tier.sh [--db postgres|mysql] [--port N] [--public] [--offline]
#        scripts/run-3tier.sh --down [--volumes]
#
#   browser -> web-server (nginx) -frontend-net-> app-server (Flask) -backend-net-> database
#
#   --db ENGINE   database tier: postgres (default, as in the tutorial) or mysql
#   --port N      host port for the web server (default 80); published on 127.0.0.1 only
#   --public      publish on 0.0.0.0 as the tutorial does (every interface: reachable from your network)
#   --offline     build and use the local stand-in images (no registry needed): tools/offline-images.sh
#   --down        remove this layout's containers and networks (and only them); --volumes: its data too
#   -h, --help    show this help
#
# Every docker command is printed, numbered, as you would type it from the repo root. Idempotent: a second run
# reuses what is up to date, and verifies again. Exit 0 only if every check holds. LAB_VERBOSE=1 shows the
# probe behind every CHECK line.
set -Eeuo pipefail

# shellcheck source=lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"

export LAYOUT=3tier            # the value of the lab's label on everything this layout creates
CONTAINERS=(web-server app-server database)
NETWORKS=(frontend-net backend-net)

volume_name() { echo "3tier-$ENGINE-data"; }

# Nothing is created until every name and the port are known to be ours or free.
preflight() {
  local c n
  for n in "${NETWORKS[@]}"; do refuse_foreign network "$n"; done
  for c in "${CONTAINERS[@]}"; do refuse_foreign container "$c"; done
  refuse_foreign volume "$(volume_name)"
  require_port web-server 80 "$HOST_PORT" "scripts/run-3tier.sh --port 8080"
  if ((OFFLINE)); then use_offline_images; else
    ensure_image "$(db_image "$ENGINE")"; ensure_image "$PYTHON_IMAGE"; ensure_image "$NGINX_IMAGE"
  fi
  ensure_image "$TOOLBOX_IMAGE"
}

networks() {
  step "1. 네트워크 구성 / networks"
  ensure_network frontend-net   # web-server <-> app-server
  ensure_network backend-net --internal   # app-server <-> database; internal: no route out of it
}

# The database's passwords are files (db/secrets/), mounted read-only and named by *_FILE, so that
# `docker inspect` shows none; db/ENGINE/initdb creates the app's least-privilege account on first start.
# The healthcheck goes over TCP: the image's temporary init server listens on its socket only.
start_database() {
  local hardening
  # shellcheck disable=SC2207  # one option per line
  hardening=($(db_hardening "$ENGINE"))
  ensure_secrets
  ensure_volume "$(volume_name)"
  if [[ $ENGINE == postgres ]]; then
    ensure_container --name database \
      --network backend-net \
      -e POSTGRES_PASSWORD_FILE=/run/secrets/db_root_password \
      -e POSTGRES_DB=myapp \
      -e APP_DB_PASSWORD_FILE=/run/secrets/db_app_password \
      -v 3tier-postgres-data:/var/lib/postgresql/data \
      -v ./db/secrets/root_password:/run/secrets/db_root_password:ro \
      -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
      -v ./db/postgres/initdb:/docker-entrypoint-initdb.d:ro \
      "${hardening[@]}" \
      --health-cmd 'pg_isready -h 127.0.0.1 -U postgres -d myapp' \
      --health-interval 5s --health-timeout 3s --health-retries 5 \
      --health-start-period 120s --health-start-interval 1s \
      "$POSTGRES_IMAGE"
  else
    ensure_container --name database \
      --network backend-net \
      -e MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root_password \
      -e MYSQL_DATABASE=myapp \
      -e APP_DB_PASSWORD_FILE=/run/secrets/db_app_password \
      -v 3tier-mysql-data:/var/lib/mysql \
      -v ./db/secrets/root_password:/run/secrets/db_root_password:ro \
      -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
      -v ./db/mysql/initdb:/docker-entrypoint-initdb.d:ro \
      "${hardening[@]}" \
      --health-cmd 'mysqladmin ping -h 127.0.0.1 --silent' \
      --health-interval 5s --health-timeout 3s --health-retries 5 \
      --health-start-period 120s --health-start-interval 1s \
      "$MYSQL_IMAGE"
  fi
}

database_tier() {
  step "2. 데이터베이스 계층 / database tier ($(engine_title "$ENGINE"), backend-net only)"
  start_database
  wait_healthy database 150
  require_same_passwords database "$ENGINE" "$(volume_name)" "scripts/run-3tier.sh --down --volumes"
}

# app-server as the tutorial runs it: created on backend-net with the app's settings (the tutorial's
# DATABASE_HOST), then connected to frontend-net. The password is a file, so `docker inspect` shows none.
start_app() {
  # shellcheck disable=SC2046  # build_arg is a list of words by design
  build_image docker build -t my-app:latest $(build_arg PYTHON_IMAGE) app_server
  ensure_container --name app-server \
    --network backend-net \
    -e DB_ENGINE="$ENGINE" \
    -e DATABASE_HOST=database \
    -e DB_USER=appuser \
    -e DB_NAME=myapp \
    -e DB_PASSWORD_FILE=/run/secrets/db_app_password \
    -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
    "${APP_HARDENING[@]}" \
    my-app:latest
  ensure_connected frontend-net app-server
}

app_tier() {
  step "3. 애플리케이션 계층 / application tier (created on backend-net, then connected to frontend-net)"
  start_app
  wait_healthy app-server 60
}

# web-server: our nginx image (nginx/ + web/) renders BACKEND_HOST/BACKEND_PORT into its config at start.
# nginx keeps up to 16 idle connections to app-server per worker (nginx/templates: upstream keepalive); past
# those, a burst opens more, and each one nginx closes holds its local port for 60 s (TIME_WAIT). Without
# keepalive, past ~470 requests a second the ~28,000 ports of the default range ran out ("Cannot assign
# requested address", a 502). tcp_tw_reuse=1, in web-server's own network namespace, lets a new connection
# reuse such a port safely (TCP timestamps tell the two apart).
start_web() {
  # shellcheck disable=SC2046
  build_image docker build -t lab/web-server:latest --file nginx/Dockerfile $(build_arg NGINX_IMAGE) .
  ensure_container --name web-server \
    --network frontend-net \
    -p "$BIND_IP:$HOST_PORT:80" \
    -e BACKEND_HOST=app-server \
    -e BACKEND_PORT=3000 \
    "${WEB_HARDENING[@]}" \
    --sysctl net.ipv4.tcp_tw_reuse=1 \
    lab/web-server:latest
}

web_tier() {
  step "4. 웹 서버 계층 / web server tier (frontend-net only, port $BIND_IP:$HOST_PORT)"
  if [[ $BIND_IP == 0.0.0.0 ]]; then
    warn "--public: port $HOST_PORT is published on every interface, so other machines on your network can reach it, and Docker's own iptables rules bypass a host firewall such as ufw. The lab's default is 127.0.0.1."
  fi
  start_web
  wait_healthy web-server 60
}

verify() {
  step "5. 확인 / verify: the page, the API through nginx, and the isolation between the tiers"
  verify_3tier "$HOST_PORT" "$ENGINE" "$BIND_IP"
  finish_checks || return 1
  log "Open http://127.0.0.1:$HOST_PORT/ in a browser. Draw it: python3 scripts/topology.py draw 3tier"
  log "Remove it all with: scripts/run-3tier.sh --down"
}

down() {
  step "down: removing the 3-tier layout"
  local c n v
  for c in "${CONTAINERS[@]}"; do remove_ours container "$c"; done
  for n in "${NETWORKS[@]}"; do remove_ours network "$n"; done
  if ((DROP_VOLUMES)); then
    for v in 3tier-postgres-data 3tier-mysql-data; do remove_ours volume "$v"; done
  fi
  log "3-tier layout removed."
}

main() {
  ENGINE=postgres HOST_PORT=80
  parse_run_args "$@"
  require_engine
  cd "$LAB_ROOT"
  if ((DOWN)); then down; return; fi
  preflight
  log "The commands below run from the repo root ($LAB_ROOT): cd there to type them yourself."
  networks
  database_tier
  app_tier
  web_tier
  verify
}

# Sourced (extras/drills/drill.sh reuses the tiers' functions), main does not run.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
