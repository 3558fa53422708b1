#!/usr/bin/env bash
# run-swarm.sh — the 3-tier layout as a Swarm stack on overlay networks: three app-server replicas, checked.
#
# Usage: extras/swarm/run-swarm.sh [--db postgres|mysql] [--port N] [--mode auto|mesh|dnsrr] [--offline]
#        extras/swarm/run-swarm.sh --by-hand     # the same services with docker service create, one by one
#        extras/swarm/run-swarm.sh --update      # rolling update of app-server under wrk's load; counts failed requests
#        extras/swarm/run-swarm.sh --down [--volumes]
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

# shellcheck source=../../scripts/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/checks.sh"
# shellcheck source=../../scripts/lib/swarm.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/swarm.sh"
# shellcheck source=../lib/wrk.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/wrk.sh"

export LAYOUT=swarm
STACK=lab-swarm
APP_IMAGE=my-app:latest
WEB_IMAGE=lab/web-server:latest
OWNER=run-swarm


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

# Steps 1-2 of both ways: a swarm (init only if needed), the mode, and the images on this node.
# refuse_foreign_stack: `docker stack deploy` and `docker stack rm` act on everything labelled with the
# stack's namespace; the by-hand twin reuses services and secrets by name. Each that exists must be the lab's.
refuse_foreign_stack() {
  local n
  refuse_foreign_members "the stack $STACK" "com.docker.stack.namespace=$STACK" service network secret
  for n in database app-server web-server; do refuse_foreign service "${STACK}_$n"; done
  for n in db_root_password db_app_password; do refuse_foreign secret "${STACK}_$n"; done
}

swarm_and_images() {
  step "1. swarm: one node is enough (docker swarm init only if needed)"
  ensure_swarm "$OWNER"
  refuse_foreign_stack
  pick_mode
  step "2. images, built on this node (a single-node swarm uses local images; no registry)"
  # shellcheck disable=SC2046  # build_arg is a list of words by design
  build_image docker build -t "$APP_IMAGE" $(build_arg PYTHON_IMAGE) app_server
  # shellcheck disable=SC2046
  build_image docker build -t "$WEB_IMAGE" --file nginx/Dockerfile $(build_arg NGINX_IMAGE) .
}

deploy() {
  swarm_and_images
  ensure_secrets
  step "3. docker stack deploy: overlay networks frontend-net + backend-net, database, app-server x3, web-server"
  run docker stack deploy --detach=true --resolve-image never \
    -c compose/stack.yaml -c "compose/stack-$ENGINE.yaml" "$STACK" >/dev/null
  wait_service database 1 180
  wait_service app-server 3 120
  wait_service web-server 1 90
}

# --- the by-hand twin: what `docker stack deploy` does for us, as the tutorial's docker service create ---

# svc NAME IMAGE OPTIONS...: docker service create, labelled, on the stack's names (so the two are
# interchangeable: same service, network, secret and volume names, and the same DNS aliases).
svc() {
  local name=$1 image=$2; shift 2
  if docker service inspect "${STACK}_$name" >/dev/null 2>&1; then log "  service ${STACK}_$name exists, reusing"; return; fi
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker service create --detach --no-resolve-image --name "${STACK}_$name" \
    $(labels) $(labels | sed 's/--label/--container-label/g') "$@" "$image" >/dev/null
}

ensure_secret() {  # ensure_secret NAME FILE
  if docker secret inspect "${STACK}_$1" >/dev/null 2>&1; then log "  secret ${STACK}_$1 exists, reusing"; return; fi
  # shellcheck disable=SC2046
  run docker secret create $(labels) "${STACK}_$1" "$2" >/dev/null
}

ensure_overlay() {  # ensure_overlay NAME: attachable, like the stack's networks
  refuse_foreign network "${STACK}_$1"
  if exists network "${STACK}_$1"; then log "  network ${STACK}_$1 exists, reusing"; return; fi
  # shellcheck disable=SC2046
  run docker network create -d overlay --attachable $(labels) "${STACK}_$1" >/dev/null
}

db_service_opts() {  # the database tier's options, as compose/stack-ENGINE.yaml sets them
  local data=/var/lib/postgresql/data
  [[ $ENGINE == mysql ]] && data=/var/lib/mysql
  printf '%s\n' --replicas 1 --endpoint-mode "$DB_ENDPOINT_MODE" \
    --network "name=${STACK}_backend-net,alias=database" \
    --secret "source=${STACK}_db_root_password,target=db_root_password" \
    --secret "source=${STACK}_db_app_password,target=db_app_password" \
    --env APP_DB_PASSWORD_FILE=/run/secrets/db_app_password \
    --mount "type=volume,source=${STACK}_$ENGINE-data,target=$data" \
    --mount "type=bind,source=$LAB_ROOT/db/$ENGINE/initdb,target=/docker-entrypoint-initdb.d,readonly" \
    --health-interval 5s --health-timeout 3s --health-retries 5 --health-start-period 120s --limit-cpu 1
  if [[ $ENGINE == mysql ]]; then
    printf '%s\n' --env MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root_password --env MYSQL_DATABASE=myapp \
      --health-cmd 'mysqladmin ping -h 127.0.0.1 --silent' --limit-memory 768M
  else
    printf '%s\n' --env POSTGRES_PASSWORD_FILE=/run/secrets/db_root_password --env POSTGRES_DB=myapp \
      --health-cmd 'pg_isready -h 127.0.0.1 -U postgres -d myapp' --limit-memory 512M
  fi
}

by_hand() {
  swarm_and_images
  step "3. secrets and overlay networks (docker secret create, docker network create -d overlay --attachable)"
  ensure_secrets
  ensure_secret db_root_password db/secrets/root_password
  ensure_secret db_app_password db/secrets/app_password
  ensure_overlay frontend-net
  ensure_overlay backend-net
  ensure_volume "${STACK}_$ENGINE-data"
  step "4. docker service create: database, app-server (x3), web-server"
  local opts=() line
  while IFS= read -r line; do opts+=("$line"); done < <(db_service_opts)
  svc database "$(db_image "$ENGINE")" "${opts[@]}"
  svc app-server "$APP_IMAGE" --replicas 3 --endpoint-mode "$APP_ENDPOINT_MODE" \
    --network "name=${STACK}_backend-net,alias=app-server" --network "name=${STACK}_frontend-net,alias=app-server" \
    --secret "source=${STACK}_db_app_password,target=db_app_password" \
    --env DB_ENGINE="$ENGINE" --env DATABASE_HOST=database --env DB_USER=appuser --env DB_NAME=myapp \
    --env DB_PASSWORD_FILE=/run/secrets/db_app_password \
    --update-parallelism 1 --update-order start-first --update-delay 2s --update-monitor 10s \
    --update-failure-action rollback --rollback-parallelism 1 --rollback-order start-first \
    --restart-condition on-failure --restart-max-attempts 5 \
    --env DRAIN_SECONDS=5 --limit-cpu 0.5 --limit-memory 256M --reserve-memory 64M --stop-grace-period 15s
  svc web-server "$WEB_IMAGE" --replicas 1 --network "name=${STACK}_frontend-net,alias=web-server" \
    --publish "published=$HOST_PORT,target=80,protocol=tcp,mode=$WEB_PUBLISH_MODE" \
    --env BACKEND_HOST=app-server --env BACKEND_PORT=3000 --env RESOLVER_VALID=2s \
    --update-order "$WEB_UPDATE_ORDER" --limit-cpu 0.5 --limit-memory 128M
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
from_attached() { docker run --rm --network "${STACK}_frontend-net" --label "$LAB_LABEL=probe" "$TOOLBOX_IMAGE" "$@"; }

task_addresses() { from_attached getent ahostsv4 "tasks.$1" | awk '{print $1}' | sort -u; }

each_task_answers() {
  local ip
  for ip in $(task_addresses app-server); do
    from_attached wget -q -O /dev/null -T 3 "http://$ip:3000/healthz" || return 1
  done
}

verify() {
  step "4. 확인 / verify: through nginx, across the replicas, over the overlay networks"
  local base="http://127.0.0.1:$HOST_PORT" web app distinct tasks vip
  # nginx may have started before app-server's tasks were in Docker's DNS: it asks again every 2 s.
  log "  waiting for $base/api/ to answer 200 through nginx (at most 20 s)"
  wait_http "$base/api/" 20 || true
  run curl -s --max-time 10 "$base/api/" >&2 && echo >&2 || true
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
  check "app-server resolves 'database' and opens its port (backend-net)" \
    given "$app" port_open "$app" database "$(db_port "$ENGINE")"
  check "web-server's resolver answers: it resolves 'app-server' (frontend-net)" \
    given "$web" resolves "$web" app-server
  check "web-server cannot resolve 'database' (not on backend-net)" \
    given "$web" not resolves "$web" database
  finish_checks
}

# --update: a new app image tag, rolled out one task at a time (start-first) while wrk keeps 16 connections
# busy through nginx (hundreds of requests a second). Every request must be answered 200: nginx keeps its
# connections to the tasks (nginx/templates: upstream keepalive) and a stopping task drains first
# (DRAIN_SECONDS), so no request meets a task that is going away.
LOAD=lab-swarm-load
MIN_RATE=200

rolling_update() {
  local tag state deadline
  tag=my-app:update-$(date +%s)
  ensure_wrk
  refuse_foreign container "$LOAD"
  remove_ours container "$LOAD"
  LOAD_OUT=$(mktemp)
  trap end_update EXIT
  step "rolling update: docker service update --image $tag ${STACK}_app-server, under load"
  run docker tag "$APP_IMAGE" "$tag"
  log "  the load: wrk, 16 connections to http://127.0.0.1:$HOST_PORT/api/ until the update has finished (at most 240 s)"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name "$LOAD" --network host $(labels) "$WRK_IMAGE" \
    -t 2 -c 16 -d 240s --timeout 2s --latency "http://127.0.0.1:$HOST_PORT/api/" >/dev/null
  sleep 3
  run docker service update --detach=true --image "$tag" "${STACK}_app-server" >/dev/null
  deadline=$((SECONDS + 200))
  while :; do
    state=$(docker service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "${STACK}_app-server")
    [[ $state == completed || $state == rollback_completed || $state == paused ]] && break
    ((SECONDS < deadline)) || die "the update did not finish within 200 s (state: ${state:-none}); see 'docker service ps ${STACK}_app-server'"
    log "  update state: ${state:-starting} (${SECONDS}s; waiting for 'completed', at most 200 s)"
    sleep 5
  done
  wait_service app-server 3 120
  sleep 3   # the load goes on a little after the last old task has stopped
  stop_load >"$LOAD_OUT"
  sed 's/^/    | /' "$LOAD_OUT" >&2
  wrk_read "$LOAD_OUT" || die "wrk printed no report (above)"
  log "  update state: $state"
  check "the rolling update finished with every task on $tag" \
    test "$(docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "${STACK}_app-server")" = "$tag"
  check "the load averaged $MIN_RATE req/s or more during the update ($W_RPS req/s, $W_REQS requests)" \
    test "$W_RPS" -ge "$MIN_RATE"
  check "no request failed during the update ($W_NON2XX answers other than 2xx/3xx, $W_ERRS socket errors or timeouts, of $W_REQS)" \
    test "$W_NON2XX" -eq 0 -a "$W_ERRS" -eq 0 -a "$W_REQS" -gt 0
  finish_checks
}

# end_update: on any exit of --update, the load is stopped and its report file removed.
end_update() {
  stop_load >/dev/null
  rm -f "$LOAD_OUT"
}

# stop_load: wrk stopped with SIGINT (it then prints its report, on stdout here) and removed; nothing when absent.
stop_load() {
  if ! exists container "$LOAD" || ! is_ours container "$LOAD"; then return 0; fi
  docker kill --signal INT "$LOAD" >/dev/null 2>&1 || true
  docker wait "$LOAD" >/dev/null 2>&1 || true
  docker logs "$LOAD" 2>&1 || true
  docker rm -f "$LOAD" >/dev/null 2>&1 || true
}

# remove_labelled_swarm KIND: services, networks, secrets or volumes of this layout (stack or by hand).
remove_labelled_swarm() {
  local ids
  ids=$(docker "$1" ls -q --filter "label=$LAB_LABEL=$LAYOUT")
  [[ -z $ids ]] && return 0
  # shellcheck disable=SC2086  # a list of IDs
  run docker "$1" rm $ids >/dev/null
}

# wait_gone WHAT CMD...: until CMD prints nothing (bounded: task containers stop within their grace period).
wait_gone() {
  local deadline=$((SECONDS + 60))
  while "${@:2}" | grep -q . && ((SECONDS < deadline)); do sleep 1; done
}

down() {
  step "down: the stack (docker stack rm) or its by-hand twin (docker service rm ...)"
  if swarm_active; then
    refuse_foreign_stack
    if docker stack ls --format '{{.Name}}' | grep -qx "$STACK"; then run docker stack rm "$STACK" >/dev/null; fi
    remove_labelled_swarm service
    wait_gone "task containers" docker ps -aq --filter "label=$LAB_LABEL=$LAYOUT"
    remove_labelled_swarm network
    wait_gone "networks" docker network ls -q --filter "label=$LAB_LABEL=$LAYOUT"
    remove_labelled_swarm secret
  fi
  if ((DROP_VOLUMES)); then remove_labelled_swarm volume; fi
  # the tags --update made (my-app:update-N): the image itself stays as my-app:latest
  local tags
  tags=$(docker image ls --format '{{.Repository}}:{{.Tag}}' my-app | grep '^my-app:update-' || true)
  # shellcheck disable=SC2086  # a list of tags
  [[ -z $tags ]] || run docker image rm $tags >/dev/null 2>&1 || true
  leave_swarm_if_ours "$OWNER"
  log "swarm layout removed."
}

main() {
  ENGINE=postgres HOST_PORT=8080 MODE=auto BY_HAND=0
  local args=() update=0
  while (($#)); do
    case $1 in
      --mode) [[ ${2:-} =~ ^(auto|mesh|dnsrr)$ ]] || usage_error "--mode takes auto, mesh or dnsrr (got '${2:-}')"
              MODE=$2; shift ;;
      --update) update=1 ;;
      --by-hand) BY_HAND=1 ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  parse_run_args ${args[@]+"${args[@]}"}
  [[ $BIND_IP == 127.0.0.1 ]] || usage_error "--public does not apply: Swarm publishes on every interface"
  require_engine
  cd "$LAB_ROOT"
  if ((DOWN)); then down; return; fi
  if ((OFFLINE)); then use_offline_images; fi
  if ((update)); then
    swarm_active && docker service inspect "${STACK}_app-server" >/dev/null 2>&1 \
      || die "no stack to update: run extras/swarm/run-swarm.sh first"
    refuse_foreign_stack
    MODE=auto; pick_mode >/dev/null 2>&1
    rolling_update
    return
  fi
  if ! swarm_active || ! docker service inspect "${STACK}_web-server" >/dev/null 2>&1; then
    port_busy "$HOST_PORT" && die "port $HOST_PORT is busy on this machine. Pick another: extras/swarm/run-swarm.sh --port 8081"
  fi
  if ((BY_HAND)); then by_hand; else deploy; fi
  verify
}

main "$@"
