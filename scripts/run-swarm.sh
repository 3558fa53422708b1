#!/usr/bin/env bash
# run-swarm.sh — the 3-tier layout as a Swarm stack on overlay networks: three app-server replicas, checked.
#
# Usage: scripts/run-swarm.sh [--db postgres|mysql] [--port N] [--mode auto|mesh|dnsrr] [--offline]
#        scripts/run-swarm.sh --update      # rolling update of app-server under load; counts failed requests
#        scripts/run-swarm.sh --down [--volumes]
#
#   --db ENGINE   database tier: postgres (default) or mysql
#   --port N      published port of web-server (default 8080)
#   --mode M      mesh: app-server behind a VIP, web-server through the ingress routing mesh (needs IPVS in
#                 the kernel); dnsrr: DNS round-robin over the tasks, web-server published on its node.
#                 auto (default) picks mesh when the kernel has IPVS, dnsrr otherwise.
#   --offline     build and use the local stand-in images (no registry needed)
#   --down        remove the stack (and with --volumes its data); leaves the swarm only if this script made it
#   -h, --help    show this help
#
# `docker swarm init` runs only when this engine is not in a swarm yet. Published ports of a swarm bind every
# interface (Swarm has no host-IP option): the checks use 127.0.0.1.
set -Eeuo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export LAYOUT=swarm
STACK=lab-swarm
APP_IMAGE=my-app:latest
WEB_IMAGE=lab/web-server:latest
OWNER=run-swarm

usage() { usage_from_header "$0"; }

# IPVS is in the kernel when its /proc file exists (module loaded) or modinfo finds the module. Only
# knowable for a local engine; for a remote one (Docker Desktop's VM) assume the ordinary case, mesh.
kernel_has_ipvs() {
  [[ -e /proc/net/ip_vs ]] && return 0
  modinfo ip_vs >/dev/null 2>&1 && return 0
  [[ -n ${DOCKER_HOST:-} || ! -d /proc/net ]]
}

pick_mode() {
  if [[ $MODE == auto ]]; then
    if kernel_has_ipvs; then MODE=mesh; else
      MODE=dnsrr
      log "  no IPVS in this kernel (/proc/net/ip_vs is absent): a service VIP would resolve but not carry"
      log "  connections, and the ingress routing mesh would refuse them. Using DNS round-robin instead."
    fi
  fi
  if [[ $MODE == dnsrr ]]; then
    export APP_ENDPOINT_MODE=dnsrr DB_ENDPOINT_MODE=dnsrr WEB_PUBLISH_MODE=host WEB_UPDATE_ORDER=stop-first
  else
    export APP_ENDPOINT_MODE=vip DB_ENDPOINT_MODE=vip WEB_PUBLISH_MODE=ingress WEB_UPDATE_ORDER=start-first
  fi
  export WEB_PORT=$HOST_PORT
  log "  mode: $MODE (app-server endpoint_mode=$APP_ENDPOINT_MODE, web-server published mode=$WEB_PUBLISH_MODE)"
}

service_replicas() { docker service ls --filter "name=${STACK}_$1" --format '{{.Replicas}}' | head -n1; }

# wait_service NAME WANT TIMEOUT: until WANT/WANT tasks run and every task container is healthy.
wait_service() {
  local name=$1 want=$2 deadline=$((SECONDS + $3)) healthy
  log "  waiting for ${STACK}_$name: $want/$want running and healthy (at most ${3}s)"
  while :; do
    healthy=$(docker ps --filter "label=com.docker.swarm.service.name=${STACK}_$name" --filter health=healthy -q | wc -l)
    if [[ $(service_replicas "$name") == "$want/$want"* && $healthy -ge $want ]]; then
      log "  ${STACK}_$name: $want/$want healthy (${SECONDS}s)"; return 0
    fi
    if ((SECONDS > deadline)); then
      docker service ps --no-trunc "${STACK}_$name" >&2 || true
      die "${STACK}_$name did not reach $want healthy replicas; see 'docker service logs ${STACK}_$name'"
    fi
    sleep 2
  done
}

deploy() {
  step "1. swarm: one node is enough for a stack (docker swarm init only if needed)"
  ensure_swarm "$OWNER"
  pick_mode
  step "2. images, built on this node (a single-node swarm uses local images; no registry)"
  build_image "$APP_IMAGE" "$LAB_ROOT/app_server" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE"
  build_image "$WEB_IMAGE" "$LAB_ROOT" -f "$LAB_ROOT/nginx/Dockerfile" --build-arg "NGINX_IMAGE=$NGINX_IMAGE"
  secret_file root_password >/dev/null
  secret_file app_password >/dev/null
  step "3. docker stack deploy: overlay networks frontend-net + backend-net, database, app-server x3, web-server"
  run docker stack deploy --detach=true --resolve-image never \
    -c "$LAB_ROOT/compose/stack.yaml" -c "$LAB_ROOT/compose/stack-$ENGINE.yaml" "$STACK" >/dev/null
  wait_service database 1 180
  wait_service app-server 3 120
  wait_service web-server 1 90
}

# A task container of SERVICE on this node, for probes from inside its namespace.
task_container() {
  docker ps -q --filter "label=com.docker.swarm.service.name=${STACK}_$1" --filter health=healthy | head -n1
}

# served_by N: the X-Served-By values of N requests through nginx, one a line.
served_by() {
  local i
  for ((i = 0; i < $1; i++)); do
    curl -s -o /dev/null -D - --max-time 5 "http://127.0.0.1:$HOST_PORT/api/" | tr -d '\r' \
      | awk -F': ' 'tolower($1) == "x-served-by" {print $2}'
  done
}

# from_attached CMD...: run the toolbox on the stack's attachable frontend-net (a standalone container).
from_attached() { docker run --rm --network "${STACK}_frontend-net" --label "$LAB_LABEL=1" "$TOOLBOX_IMAGE" "$@"; }

task_addresses() { from_attached getent ahostsv4 "tasks.$1" | awk '{print $1}' | sort -u; }

each_task_answers() {
  local ip
  for ip in $(task_addresses app-server); do
    from_attached curl -fsS --max-time 3 "http://$ip:3000/healthz" >/dev/null || return 1
  done
}

verify() {
  step "4. 확인 / verify: through nginx, across the replicas, over the overlay networks"
  local base="http://127.0.0.1:$HOST_PORT" web app distinct tasks vip
  log "  $ curl -s $base/api/"
  curl -sS --max-time 10 "$base/api/" >&2 && echo >&2 || true
  check "GET $base/api/ answers the app's JSON through nginx ('Connected to $(engine_title "$ENGINE")!')" \
    http_has "$base/api/" "\"Connected to $(engine_title "$ENGINE")!\""
  distinct=$(served_by 30 | sort -u | wc -l)
  check "30 requests were served by more than one app-server task ($distinct distinct X-Served-By)" test "$distinct" -gt 1
  tasks=$(task_addresses app-server | wc -l)
  check "tasks.app-server resolves to 3 task addresses ($tasks), seen from a container on the attachable frontend-net" \
    test "$tasks" -eq 3
  if [[ $MODE == mesh ]]; then
    vip=$(from_attached getent ahostsv4 app-server | awk '{print $1}' | sort -u | wc -l)
    check "app-server resolves to one virtual IP (mesh mode)" test "$vip" -eq 1
  else
    vip=$(from_attached getent ahostsv4 app-server | awk '{print $1}' | sort -u | wc -l)
    check "app-server resolves to every task's address (dnsrr mode: $vip)" test "$vip" -eq 3
  fi
  check "each app-server task answers on its own address (:3000/healthz)" each_task_answers
  web=$(task_container web-server); app=$(task_container app-server)
  check "web-server cannot resolve 'database' (not on backend-net)" not resolves "$web" database
  check "app-server resolves 'database' and opens its port (backend-net)" \
    port_open "$app" database "$(db_port "$ENGINE")"
  finish_checks
}

# --update: a new app image tag, rolled out one task at a time (start-first) while requests keep coming.
rolling_update() {
  local tag total=300 failed=0 code i
  tag=my-app:update-$(date +%s)
  step "rolling update: docker service update --image $tag ${STACK}_app-server, under load"
  run docker tag "$APP_IMAGE" "$tag"
  run docker service update --detach=true --image "$tag" "${STACK}_app-server" >/dev/null
  log "  sending $total requests to http://127.0.0.1:$HOST_PORT/api/ (about 15 a second) during the update"
  for ((i = 0; i < total; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HOST_PORT/api/" || true)
    [[ $code == 200 ]] || failed=$((failed + 1))
    sleep 0.06
  done
  wait_service app-server 3 120
  log "  update state: $(docker service inspect -f '{{.UpdateStatus.State}}' "${STACK}_app-server")"
  check "the rolling update finished with every task on $tag" \
    test "$(docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "${STACK}_app-server")" = "$tag"
  check "no request failed during the update ($failed of $total failed)" test "$failed" -eq 0
  finish_checks
}

down() {
  step "down: docker stack rm $STACK"
  if swarm_active && docker stack ls --format '{{.Name}}' | grep -qx "$STACK"; then
    run docker stack rm "$STACK" >/dev/null
    local deadline=$((SECONDS + 60))
    # the stack's networks go away only after its task containers have stopped
    while docker network ls -q --filter "label=com.docker.stack.namespace=$STACK" | grep -q . && ((SECONDS < deadline)); do
      sleep 1
    done
  fi
  if ((DROP_VOLUMES)); then
    local deadline=$((SECONDS + 30))
    while docker ps -aq --filter "label=com.docker.stack.namespace=$STACK" | grep -q . && ((SECONDS < deadline)); do
      sleep 1
    done
    docker volume ls -q --filter "label=com.docker.stack.namespace=$STACK" | while read -r v; do
      run docker volume rm "$v" >/dev/null
    done
  fi
  leave_swarm_if_ours "$OWNER"
  log "swarm layout removed."
}

main() {
  ENGINE=postgres HOST_PORT=8080 MODE=auto
  local args=() update=0
  while (($#)); do
    case $1 in
      --mode) [[ ${2:-} =~ ^(auto|mesh|dnsrr)$ ]] || usage_error "--mode takes auto, mesh or dnsrr (got '${2:-}')"
              MODE=$2; shift ;;
      --update) update=1 ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  parse_run_args "${args[@]}"
  [[ $BIND_IP == 127.0.0.1 ]] || usage_error "--public does not apply: Swarm publishes on every interface"
  docker info >/dev/null 2>&1 || die "no Docker engine answers 'docker info'. Start Docker, then run again."
  if ((DOWN)); then down; return; fi
  if ((OFFLINE)); then use_offline_images; fi
  if ((update)); then
    swarm_active && docker service inspect "${STACK}_app-server" >/dev/null 2>&1 \
      || die "no stack to update: run scripts/run-swarm.sh first"
    MODE=auto; pick_mode >/dev/null 2>&1
    rolling_update
    return
  fi
  if ! swarm_active || ! docker stack ls --format '{{.Name}}' | grep -qx "$STACK"; then
    port_busy "$HOST_PORT" && die "port $HOST_PORT is busy on this machine. Pick another: scripts/run-swarm.sh --port 8081"
  fi
  deploy
  verify
}

main "$@"
