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
#   --offline     build and use the local stand-in images (no registry needed): scripts/offline-images.sh
#   --down        remove this layout's containers and networks (and only them); --volumes: its data too
#   -h, --help    show this help
#
# Idempotent: a second run reuses what is up to date, and verifies again. Exit 0 only if every check holds.
set -Eeuo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export LAYOUT=3tier             # the layout label (lib.sh labels())
CONTAINERS=(web-server app-server database)
NETWORKS=(frontend-net backend-net)
APP_IMAGE=my-app:latest        # the tutorial's name for the app image
WEB_IMAGE=lab/web-server:latest

usage() { usage_from_header "$0"; }

volume_name() { three_tier_volume "$ENGINE"; }

# Nothing is created until every name and the port are known to be ours or free.
preflight() {
  local c n
  for n in "${NETWORKS[@]}"; do refuse_foreign network "$n"; done
  for c in "${CONTAINERS[@]}"; do refuse_foreign container "$c"; done
  refuse_foreign volume "$(volume_name)"
  if ! holds_port web-server 80 "$HOST_PORT" && port_busy "$HOST_PORT"; then
    die "port $HOST_PORT is busy on this machine (something already listens there). Pick another: scripts/run-3tier.sh --port 8080"
  fi
  if ((OFFLINE)); then use_offline_images; else
    ensure_image "$(db_image "$ENGINE")"; ensure_image "$PYTHON_IMAGE"; ensure_image "$NGINX_IMAGE"
  fi
  ensure_image "$TOOLBOX_IMAGE"
}

networks() {
  step "1. 네트워크 구성 / networks"
  ensure_network frontend-net   # web-server <-> app-server
  ensure_network backend-net    # app-server <-> database
}

database_tier() {
  step "2. 데이터베이스 계층 / database tier ($(engine_title "$ENGINE"), backend-net only)"
  start_3tier_database "$ENGINE"
  wait_healthy database 150
}

app_tier() {
  step "3. 애플리케이션 계층 / application tier (created on backend-net, then connected to frontend-net)"
  build_image "$APP_IMAGE" "$LAB_ROOT/app_server" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE"
  start_3tier_app "$ENGINE" "$APP_IMAGE"
  wait_healthy app-server 60
}

web_tier() {
  step "4. 웹 서버 계층 / web server tier (frontend-net only, port $BIND_IP:$HOST_PORT)"
  if [[ $BIND_IP == 0.0.0.0 ]]; then
    warn "--public: port $HOST_PORT is published on every interface, so other machines on your network can reach it, and Docker's own iptables rules bypass a host firewall such as ufw. The lab's default is 127.0.0.1."
  fi
  build_image "$WEB_IMAGE" "$LAB_ROOT" -f "$LAB_ROOT/nginx/Dockerfile" --build-arg "NGINX_IMAGE=$NGINX_IMAGE"
  ensure_container web-server "$WEB_IMAGE" --network frontend-net -p "$BIND_IP:$HOST_PORT:80" \
    -e BACKEND_HOST=app-server -e BACKEND_PORT=3000
  wait_healthy web-server 60
}

verify() {
  step "5. 확인 / verify: the page, the API through nginx, and the isolation between the tiers"
  verify_3tier "$HOST_PORT" "$ENGINE" "$BIND_IP"
  finish_checks || return 1
  log "Open http://127.0.0.1:$HOST_PORT/ in a browser. Remove it all with: scripts/run-3tier.sh --down"
}

down() {
  step "down: removing the 3-tier layout"
  local c n v
  for c in "${CONTAINERS[@]}"; do
    if exists container "$c"; then
      if is_ours container "$c"; then run docker rm -f -v "$c" >/dev/null; else warn "$c is not the lab's; left alone"; fi
    fi
  done
  for n in "${NETWORKS[@]}"; do
    if exists network "$n"; then
      if is_ours network "$n"; then run docker network rm "$n" >/dev/null; else warn "network $n is not the lab's; left alone"; fi
    fi
  done
  if ((DROP_VOLUMES)); then
    for v in 3tier-postgres-data 3tier-mysql-data; do
      if exists volume "$v" && is_ours volume "$v"; then run docker volume rm "$v" >/dev/null; fi
    done
  fi
  log "3-tier layout removed."
}

main() {
  ENGINE=postgres HOST_PORT=80
  parse_run_args "$@"
  require_engine
  if ((DOWN)); then down; return; fi
  preflight
  networks
  database_tier
  app_tier
  web_tier
  verify
}

main "$@"
