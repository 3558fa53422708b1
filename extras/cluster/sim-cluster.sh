#!/usr/bin/env bash
# sim-cluster.sh — many hosts on one machine: Docker engines in containers, joined into a swarm, running the
# 3-tier stack across them; drills for a host that dies and a host that is cut off.
#
# Usage: extras/cluster/sim-cluster.sh [--nodes N] [--managers M] [--db postgres|mysql] [--port N] [--offline]
#        extras/cluster/sim-cluster.sh --drill node-loss|partition [same options]
#        extras/cluster/sim-cluster.sh --down
#
#   --nodes N      hosts in the cluster, 2 to 7 (default 3): containers lab-node1..N, hostnames node1..N
#   --managers M   how many of them are swarm managers, 1 to N (default 1); 3 keeps a quorum when one is lost
#   --db ENGINE    database tier: postgres (default) or mysql
#   --port N       host port (on 127.0.0.1) of nginx, through node1's port mapping (default 8090)
#   --offline      build and use the local stand-in images, the node image included (no registry needed)
#   --drill D      bring the cluster up (or reuse it), then run drill D and put the cluster back:
#                    node-loss  kill a host that runs app tasks; watch the swarm mark it Down, reschedule
#                               its tasks on the survivors, and nginx answer again; then start it again
#                    partition  disconnect a host from lab-hosts; what the managers report, whether the
#                               service keeps answering; then reconnect it and watch it recover
#   --down         remove every node container, volume and the lab-hosts network this script made
#   -h, --help     show this help
#
# Each node is a privileged container running its own dockerd (NODE_IMAGE, default docker:28-dind) with
# /var/lib/docker on a volume, on the user-defined bridge lab-hosts (LAB_HOSTS_SUBNET, default
# 10.213.0.0/24; node K gets .(10+K)). The swarm lives inside the nodes only: this machine's own engine is
# never asked to init, join or leave a swarm. Options you leave out keep the running cluster's values.
set -Eeuo pipefail

# shellcheck source=../../scripts/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/checks.sh"
# shellcheck source=../../scripts/lib/swarm.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/swarm.sh"

export LAYOUT=cluster
: "${NODE_IMAGE:=docker:28-dind}" "${LAB_HOSTS_SUBNET:=10.213.0.0/24}"
export NODE_IMAGE
NET=lab-hosts
STACK=lab-cluster
APP_IMAGE=my-app:latest
WEB_IMAGE=lab/web-server:latest
WEB_LABEL=io.docker-net-lab.web   # node labels the placement in compose/stack-cluster.yaml asks for
DB_LABEL=io.docker-net-lab.db
DRILL_BOUND=${DRILL_BOUND:-120}   # seconds a drill waits for the swarm to recover before it gives up


node_name() { printf 'lab-node%s\n' "$1"; }
node_vol() { printf 'lab-node%s-docker\n' "$1"; }
node_ip() { local base=${LAB_HOSTS_SUBNET%/*}; printf '%s.%s\n' "${base%.*}" "$((10 + $1))"; }
db_node() { echo "$NODES"; }          # the last node holds the database (never node1, which holds nginx)

# on K CMD...: a command inside node K (its own docker CLI talks to its own engine), printed and numbered.
on() { local k=$1; shift; run docker exec "$(node_name "$k")" "$@"; }
# q K CMD...: the same, unprinted (for the script's own queries).
q() { local k=$1; shift; docker exec "$(node_name "$k")" "$@"; }

# show_pipe "CMD1" "CMD2": print a pipeline numbered like `run` does; run_pipe: print it, then run it.
show_pipe() {
  CMD_NO=$((CMD_NO + 1))
  printf '  %s(%d)%s $ %s | %s\n' "$C_B" "$CMD_NO" "$C_0" "$1" "$2" >&2
}
run_pipe() { show_pipe "$1" "$2"; bash -o pipefail -c "$1 | $2"; }

our_nodes() { docker ps -a --filter "label=$LAB_LABEL=$LAYOUT" --filter "label=$LAB_LABEL" \
  --format '{{.Names}}' | grep -E '^lab-node[0-9]+$' | sort -V || true; }

# --- the hosts ----------------------------------------------------------------------------------------

# wait_engine K TIMEOUT: until node K's dockerd answers; its last log lines when it gives up.
wait_engine() {
  local k=$1 deadline=$((SECONDS + $2))
  until q "$k" docker info >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      docker logs --tail 25 "$(node_name "$k")" 2>&1 | sed 's/^/    | /' >&2 || true
      die "the engine in $(node_name "$k") did not answer within $2s (log above). Is the container privileged?"
    fi
    sleep 0.5
  done
}

start_nodes() {
  step "1. 호스트 / hosts: $NODES Docker engines in containers on the bridge $NET"
  ensure_image "$NODE_IMAGE"
  ensure_network "$NET" --subnet "$LAB_HOSTS_SUBNET"
  local k opts t0=$SECONDS
  for ((k = 1; k <= NODES; k++)); do
    ensure_volume "$(node_vol "$k")"
    # --privileged: an engine needs to make namespaces, cgroups, iptables rules and overlay mounts.
    # DOCKER_TLS_CERTDIR= and --host: docker:dind listens on its unix socket only (driven by docker exec).
    opts=(--name "$(node_name "$k")" --hostname "node$k" --network "$NET" --ip "$(node_ip "$k")")
    ((k == 1)) && opts+=(-p "127.0.0.1:$HOST_PORT:80")
    opts+=(-e DOCKER_TLS_CERTDIR= -v "$(node_vol "$k"):/var/lib/docker" --privileged)
    ensure_container "${opts[@]}" "$NODE_IMAGE" --host=unix:///var/run/docker.sock
  done
  for ((k = 1; k <= NODES; k++)); do wait_engine "$k" 60; done
  T_BOOT=$((SECONDS - t0))
  log "  $NODES engines answer (${T_BOOT}s)"
}

# --- the swarm, inside the hosts ----------------------------------------------------------------------

swarm_state() { q "$1" docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }
node_role() { q 1 docker node inspect "node$1" -f '{{.Spec.Role}}' 2>/dev/null || echo none; }

form_swarm() {
  step "2. swarm: docker swarm init on node1, the others join ($MANAGERS manager(s))"
  local k t0=$SECONDS token role
  if [[ $(swarm_state 1) == active ]]; then
    log "  node1 is in a swarm already, reusing it"
  else
    on 1 docker swarm init --advertise-addr "$(node_ip 1)" >/dev/null
  fi
  for ((k = 2; k <= NODES; k++)); do
    if [[ $(swarm_state "$k") == active ]]; then log "  node$k is in the swarm already"; continue; fi
    role=worker; ((k <= MANAGERS)) && role=manager
    token=$(q 1 docker swarm join-token -q "$role")
    on "$k" docker swarm join --token "$token" --advertise-addr "$(node_ip "$k")" "$(node_ip 1):2377" >/dev/null
  done
  set_roles
  forget_stale_nodes
  ensure_node_label 1 "$WEB_LABEL"
  ensure_node_label "$(db_node)" "$DB_LABEL"
  for ((k = 2; k < NODES; k++)); do   # the cluster grew: the database's label moved to the new last host
    if [[ $(q 1 docker node inspect "node$k" -f "{{ index .Spec.Labels \"$DB_LABEL\" }}") == true ]]; then
      on 1 docker node update --label-rm "$DB_LABEL" "node$k" >/dev/null
    fi
  done
  wait_ready "$NODES" 60
  T_SWARM=$((SECONDS - t0))
}

# ensure_node_label K LABEL: LABEL=true on node K (placement in compose/stack-cluster.yaml), if missing.
ensure_node_label() {
  if [[ $(q 1 docker node inspect "node$1" -f "{{ index .Spec.Labels \"$2\" }}") == true ]]; then
    log "  node$1 has the label $2=true"
  else
    on 1 docker node update --label-add "$2=true" "node$1" >/dev/null
  fi
}

# set_roles: nodes 1..M managers, the rest workers (promote/demote only what differs).
set_roles() {
  local k want
  for ((k = 2; k <= NODES; k++)); do
    want=worker; ((k <= MANAGERS)) && want=manager
    [[ $(node_role "$k") == "$want" ]] && continue
    if [[ $want == manager ]]; then on 1 docker node promote "node$k" >/dev/null
    else on 1 docker node demote "node$k" >/dev/null; fi
  done
}

# A node whose engine was replaced (its volume removed by hand) joins again under a new ID; the old entry
# stays Down for ever. Forget entries that no running host claims.
forget_stale_nodes() {
  local k ids=' ' id
  for ((k = 1; k <= NODES; k++)); do ids+="$(q "$k" docker info -f '{{.Swarm.NodeID}}') "; done
  for id in $(q 1 docker node ls --filter role=worker -q) $(q 1 docker node ls --filter role=manager -q); do
    [[ $ids == *" $id "* ]] && continue
    [[ $(q 1 docker node inspect "$id" -f '{{.Status.State}}') == down ]] || continue
    q 1 docker node demote "$id" >/dev/null 2>&1 || true
    on 1 docker node rm --force "$id" >/dev/null
  done
}

ready_count() { q 1 docker node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$' || true; }

wait_ready() {
  local want=$1 deadline=$((SECONDS + $2))
  until [[ $(ready_count) -ge $want ]]; do
    if ((SECONDS > deadline)); then
      q 1 docker node ls >&2 || true
      die "only $(ready_count) of $want nodes are Ready after $2s (docker node ls above)"
    fi
    sleep 1
  done
}

# --- images -------------------------------------------------------------------------------------------

build_images() {
  step "3. images: built on this machine, then copied into each host (no registry)"
  # shellcheck disable=SC2046  # build_arg is a list of words by design
  build_image docker build -t "$APP_IMAGE" $(build_arg PYTHON_IMAGE) app_server
  # shellcheck disable=SC2046
  build_image docker build -t "$WEB_IMAGE" --file nginx/Dockerfile $(build_arg NGINX_IMAGE) .
  ensure_image "$TOOLBOX_IMAGE"
  ensure_image "$(db_image "$ENGINE")"
}

# images_for K: what node K runs: the app everywhere (its tasks spread and move), the toolbox everywhere
# (probes), nginx on node1, the database on its node.
images_for() {
  local k=$1
  printf '%s\n' "$APP_IMAGE" "$TOOLBOX_IMAGE"
  ((k == 1)) && printf '%s\n' "$WEB_IMAGE"
  ((k == $(db_node))) && db_image "$ENGINE"
  return 0
}

# load_images: `docker save | docker exec -i NODE docker load`, only the images a node lacks (same ID), into
# all nodes at once (measured: a third faster than one after another, and faster than a local registry;
# see extras/cluster/README.md).
load_images() {
  local k img missing t0=$SECONDS pids=() loading=() i
  for ((k = 1; k <= NODES; k++)); do
    missing=()
    for img in $(images_for "$k"); do
      [[ $(q "$k" docker image inspect -f '{{.Id}}' "$img" 2>/dev/null) == "$(docker image inspect -f '{{.Id}}' "$img")" ]] \
        || missing+=("$img")
    done
    if ((${#missing[@]} == 0)); then log "  node$k has its images already"; continue; fi
    show_pipe "docker save ${missing[*]}" "docker exec -i $(node_name "$k") docker load -q"
    bash -o pipefail -c "docker save ${missing[*]} | docker exec -i $(node_name "$k") docker load -q" >/dev/null &
    pids+=($!) loading+=("$k")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || die "loading images into $(node_name "${loading[i]}") failed; is its disk full? (docker exec $(node_name "${loading[i]}") docker system df)"
  done
  T_LOAD=$((SECONDS - t0))
  ((${#pids[@]} == 0)) || log "  images loaded into ${#pids[@]} host(s) in parallel (${T_LOAD}s)"
}

# --- the stack ----------------------------------------------------------------------------------------

# copy_files K PATH...: files of this repo into /lab on node K, at the same relative paths (the stack's
# bind mounts and secrets are paths on the node that reads them: node1 for the CLI, the db node for initdb).
copy_files() {
  local k=$1; shift
  run_pipe "tar -C $LAB_ROOT -c $*" "docker exec -i $(node_name "$k") sh -c 'mkdir -p /lab && tar -C /lab -x'"
}

deploy_stack() {
  step "4. docker stack deploy on node1: the tiers spread over the hosts (compose/stack-cluster.yaml)"
  ensure_secrets
  copy_files 1 compose/stack.yaml "compose/stack-$ENGINE.yaml" compose/stack-cluster.yaml \
    db/secrets/root_password db/secrets/app_password
  copy_files "$(db_node)" "db/$ENGINE/initdb"
  # dnsrr everywhere: it works on every kernel (this one has no IPVS for VIPs), and nginx's port is on
  # node1 in any case, so the routing mesh would add nothing here (see extras/cluster/README.md).
  log "  mode: dnsrr (app-server and database by DNS round-robin; web-server published on node1's port 80)"
  on 1 env APP_ENDPOINT_MODE=dnsrr DB_ENDPOINT_MODE=dnsrr WEB_PUBLISH_MODE=host WEB_UPDATE_ORDER=stop-first \
    WEB_PORT=80 "POSTGRES_IMAGE=$POSTGRES_IMAGE" "MYSQL_IMAGE=$MYSQL_IMAGE" \
    docker stack deploy --detach=true --resolve-image never -c /lab/compose/stack.yaml \
    -c "/lab/compose/stack-$ENGINE.yaml" -c /lab/compose/stack-cluster.yaml "$STACK" >/dev/null
  local t0=$SECONDS
  wait_service database 1 180
  wait_service app-server 3 120
  wait_service web-server 1 90
  T_STACK=$((SECONDS - t0))
}

replicas() { q 1 docker service ls --filter "name=${STACK}_$1" --format '{{.Replicas}}' 2>/dev/null | head -n1; }

# wait_service NAME WANT TIMEOUT: WANT/WANT tasks running (a task with a healthcheck counts as running only
# once it is healthy: Swarm keeps it "starting" until then).
wait_service() {
  local name=$1 want=$2 deadline=$((SECONDS + $3))
  log "  waiting for ${STACK}_$name: $want/$want running (at most ${3}s)"
  until [[ $(replicas "$name") == "$want/$want"* ]]; do
    if ((SECONDS > deadline)); then
      q 1 docker service ps --no-trunc "${STACK}_$name" >&2 || true
      die "${STACK}_$name did not reach $want running replicas (tasks above); see: docker exec lab-node1 docker service logs ${STACK}_$name"
    fi
    sleep 2
  done
  log "  ${STACK}_$name: $want/$want running"
}

# tasks SERVICE: "NODE CONTAINER-ID" of each running task of SERVICE, read on every reachable host.
tasks() {
  local k id
  for ((k = 1; k <= NODES; k++)); do
    for id in $(q "$k" docker ps -q --filter "label=com.docker.swarm.service.name=${STACK}_$1" 2>/dev/null); do
      printf 'node%s %s\n' "$k" "$id"
    done
  done
}

# served_by N: the node of the app task behind each of N requests through nginx ("?" if unknown).
served_by() {
  local i map host
  map=$(tasks app-server)
  for ((i = 0; i < $1; i++)); do
    host=$(curl -s -o /dev/null -D - --max-time 5 "http://127.0.0.1:$HOST_PORT/api/" | tr -d '\r' \
      | awk -F': ' 'tolower($1) == "x-served-by" {print $2}')
    awk -v h="${host:-none}" '$2 == h {print $1; found = 1} END {if (!found) print "?"}' <<<"$map"
  done
}

# probe_on K CONTAINER CMD...: the toolbox inside CONTAINER's namespaces on node K.
probe_on() { q "$1" docker run --rm --network "container:$2" --label "$LAB_LABEL=probe" "$TOOLBOX_IMAGE" "${@:3}"; }

# each_task_answers: from a container on node1 attached to the overlay frontend-net, every app task
# answers on its own address, wherever it runs (VXLAN between the hosts).
each_task_answers() {
  local ip
  for ip in $(q 1 docker run --rm --network "${STACK}_frontend-net" --label "$LAB_LABEL=probe" "$TOOLBOX_IMAGE" \
      getent ahostsv4 tasks.app-server | awk '{print $1}' | sort -u); do
    q 1 docker run --rm --network "${STACK}_frontend-net" --label "$LAB_LABEL=probe" "$TOOLBOX_IMAGE" \
      wget -q -O /dev/null -T 3 "http://$ip:3000/healthz" || return 1
  done
}

show_cluster() {
  on 1 docker node ls >&2
  on 1 docker service ps --filter desired-state=running --format 'table {{.Name}}\t{{.Node}}\t{{.CurrentState}}' \
    "${STACK}_web-server" "${STACK}_app-server" "${STACK}_database" >&2
}

verify() {
  step "5. 확인 / verify: N hosts Ready, where each task runs, requests crossing hosts, isolation"
  local base="http://127.0.0.1:$HOST_PORT" ready nodes_seen others web app app_node dbp
  show_cluster
  ready=$(ready_count)
  check "docker node ls on node1: $ready of $NODES nodes Ready" test "$ready" -eq "$NODES"
  check "$MANAGERS manager(s), one of them the leader" \
    test "$(q 1 docker node ls --filter role=manager -q | wc -l)" -eq "$MANAGERS"
  run curl -s --max-time 10 "$base/api/" >&2 && echo >&2 || true
  check "GET $base/api/ answers through nginx on node1 ('Connected to $(engine_title "$ENGINE")!')" \
    http_has "$base/api/" "\"Connected to $(engine_title "$ENGINE")!\""
  nodes_seen=$(served_by 30 | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep = ", "}')
  log "  30 requests, answered by app tasks on: $nodes_seen"
  others=$(grep -oE 'node[0-9]+' <<<"$nodes_seen" | grep -vx node1 | wc -l)
  check "answers came from app tasks on at least 2 hosts ($nodes_seen)" \
    test "$(grep -oE 'node[0-9]+' <<<"$nodes_seen" | wc -l)" -ge 2
  check "nginx on node1 reached app tasks on other hosts ($others other host(s)): cross-host overlay traffic" \
    test "$others" -ge 1
  check "from node1, every app task answers on its own address (tasks.app-server, over VXLAN)" each_task_answers
  dbp=$(db_port "$ENGINE")
  read -r app_node app < <(tasks app-server | grep -v "^node$(db_node) " | tail -n1)
  check "app-server on ${app_node:-?} resolves 'database' and opens its port $dbp on node$(db_node) (backend-net)" \
    probe_on "${app_node#node}" "${app:-none}" nc -z -w 3 database "$dbp"
  web=$(tasks web-server | awk '$1 == "node1" {print $2}' | tail -n1)
  check "web-server runs on node1 (its placement constraint)" test -n "$web"
  check "web-server's resolver answers: it resolves 'app-server' (frontend-net)" \
    given "$web" probe_on 1 "$web" getent hosts app-server
  check "web-server cannot resolve 'database' (not on backend-net)" \
    given "$web" not probe_on 1 "$web" getent hosts database
  # Not probed by address: a container on an overlay has a default route (docker_gwbridge -> the host ->
  # this machine's own uplink), so a connection to a backend-net address from outside that network would
  # leave this machine. Its network list tells the same truth without sending a packet.
  check "web-server has no interface on backend-net (only ${STACK}_frontend-net)" \
    test "$(q 1 docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$web" 2>/dev/null)" \
    = "${STACK}_frontend-net "
}

# --- drills -------------------------------------------------------------------------------------------

# drill_target: a host running app tasks that is neither node1 (nginx, the published port) nor the db node.
drill_target() {
  local k running
  running=$(tasks app-server)   # read whole first: `grep -q` closing the pipe early would fail it (pipefail)
  for ((k = 2; k < NODES; k++)); do
    grep -q "^node$k " <<<"$running" && { echo "$k"; return; }
  done
  die "no host runs app tasks apart from node1 and the database's node: a drill needs --nodes 3 or more"
}

# rebalance: Swarm never moves a running task. After a drill the survivors hold the replicas and the host
# that came back holds none; remove one surplus task (killed, so on-failure restarts it) and the scheduler
# places its replacement by the spread preference: on the emptiest host.
rebalance() {
  local running empty full id round deadline k
  for ((round = 1; round < NODES; round++)); do
    running=$(tasks app-server)
    empty=$(for ((k = 1; k <= NODES; k++)); do grep -q "^node$k " <<<"$running" || echo "$k"; done | head -n1)
    full=$(awk '{n[$1]++} END {for (h in n) if (n[h] > 1) print h}' <<<"$running" | head -n1)
    [[ -n $empty && -n $full ]] || return 0
    id=$(awk -v h="$full" '$1 == h {print $2}' <<<"$running" | tail -n1)
    log "  node$empty runs no app task, $full runs more than one: removing one there; its replacement goes to node$empty"
    on "${full#node}" docker rm -f "$id" >/dev/null
    deadline=$((SECONDS + 90))
    until [[ $(replicas app-server) == 3/3* && $'\n'$(tasks app-server) == *$'\n'"node$empty "* ]]; do
      if ((SECONDS > deadline)); then
        q 1 docker service ps "${STACK}_app-server" >&2 || true
        die "app-server did not get a task on node$empty within 90s (tasks above)"
      fi
      sleep 1
    done
  done
}

node_state() { q 1 docker node inspect "node$1" -f '{{.Status.State}}' 2>/dev/null || echo unknown; }
app_tasks_off() {  # app tasks running (per node1's view) on nodes other than K
  q 1 docker service ps "${STACK}_app-server" --filter desired-state=running \
    --format '{{.Node}} {{.CurrentState}}' 2>/dev/null | awk -v n="node$1" '$1 != n && $2 == "Running"' | wc -l
}
code() { curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "http://127.0.0.1:$HOST_PORT/api/" || true; }

# watch_recovery K: after a host went away, poll once a second (at most DRILL_BOUND s): when node1 marks it
# Down, when 3 app tasks run on the other hosts, and every request through nginx. Sets T_DOWN, T_MOVED,
# T_OK (the last failed request's time + 1: from then on nginx answered 200), FAILED, TOTAL, SLOWEST.
watch_recovery() {
  local k=$1 t0=$SECONDS ok_run=0 c t now
  T_DOWN='' T_MOVED='' T_OK=0 FAILED=0 TOTAL=0 SLOWEST=0
  while ((SECONDS - t0 <= DRILL_BOUND)); do
    now=$((SECONDS - t0))
    read -r c t <<<"$(code)"; TOTAL=$((TOTAL + 1))
    SLOWEST=$(awk -v a="$SLOWEST" -v b="${t:-0}" 'BEGIN {print (b + 0 > a + 0) ? b : a}')
    if [[ $c == 200 ]]; then ok_run=$((ok_run + 1)); else FAILED=$((FAILED + 1)); ok_run=0; T_OK=$((now + 1)); fi
    if [[ -z $T_DOWN && $(node_state "$k") == down ]]; then T_DOWN=$now; log "  ${now}s: node1 reports node$k Down"; fi
    if [[ -n $T_DOWN && -z $T_MOVED && $(app_tasks_off "$k") -ge 3 ]]; then
      T_MOVED=$now; log "  ${now}s: 3 app-server tasks running on the other hosts"
    fi
    [[ -n $T_MOVED ]] && ((ok_run >= 5)) && break
    sleep 1
  done
  log "  requests through nginx while it recovered: $((TOTAL - FAILED)) of $TOTAL answered 200, the slowest in ${SLOWEST}s"
  log "  (nginx tries the next app address when one does not answer within proxy_connect_timeout, 3s)"
}

# rejoin_wait K: node K is Ready again and has shut down the tasks the managers replaced meanwhile.
rejoin_wait() {
  local k=$1 t0=$SECONDS deadline
  wait_engine "$k" 60
  wait_ready "$NODES" 90
  T_REJOIN=$((SECONDS - t0))
  log "  node$k is Ready again (${T_REJOIN}s)"
  deadline=$((SECONDS + 60))
  until [[ $(tasks app-server | wc -l) -eq 3 ]]; do
    ((SECONDS < deadline)) || { warn "node$k still runs replaced app tasks after 60s"; break; }
    sleep 1
  done
  log "  3 app tasks in the cluster again, node$k's replaced ones stopped ($((SECONDS - t0))s). Swarm does not move"
  log "  tasks back by itself; rebalancing by hand: remove a surplus task, the scheduler spreads its replacement."
}

drill_node_loss() {
  local k
  rebalance
  k=$(drill_target)
  step "drill: node-loss: node$k (running app tasks) loses its power"
  show_cluster
  run docker kill "$(node_name "$k")" >/dev/null
  watch_recovery "$k"
  check "the swarm marked node$k Down (after ${T_DOWN:-never}s)" test -n "$T_DOWN"
  check "its app tasks were rescheduled: 3 running on the surviving hosts (after ${T_MOVED:-never}s)" test -n "$T_MOVED"
  check "nginx answers 200 again within ${DRILL_BOUND}s (every request since ${T_OK}s did)" \
    test "$T_OK" -le "$DRILL_BOUND" -a "$(code | cut -d' ' -f1)" = 200
  show_cluster
  step "drill: node-loss: power node$k on again"
  run docker start "$(node_name "$k")" >/dev/null
  rejoin_wait "$k"
  check "node$k rejoined the swarm and is Ready" test "$(node_state "$k")" = ready
  rebalance
  log "  timings: Down after ${T_DOWN:-?}s, tasks rescheduled after ${T_MOVED:-?}s, 200s again from ${T_OK}s," \
    "$FAILED of $TOTAL requests failed, rejoin ${T_REJOIN}s"
}

# manager_view K: what node K's manager says about the swarm: its node list, or its error (a manager
# without a quorum waits for a leader until its request times out). Sets VIEW_OK[K] to 1 or 0.
manager_view() {
  local out ok=1
  out=$(q "$1" docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' 2>&1) || ok=0
  VIEW_OK[$1]=$ok
  sed "s/^/    node$1 says: /" <<<"$out" >&2
}

drill_partition() {
  local k m
  local -a VIEW_OK=()
  rebalance
  k=$(drill_target)
  step "drill: partition: node$k is cut off from lab-hosts ($MANAGERS manager(s))"
  show_cluster
  run docker network disconnect "$NET" "$(node_name "$k")"
  watch_recovery "$k"
  log "  what the managers report now:"
  for ((m = 1; m <= MANAGERS; m++)); do manager_view "$m"; done
  if ((k > MANAGERS)); then
    log "  node$k is a worker: no manager view of its own; it still runs $(tasks app-server | grep -c "^node$k ")" \
      "app task(s) that nobody can reach, until a manager tells it otherwise"
  fi
  check "the managers on the majority side mark node$k Down (after ${T_DOWN:-never}s)" test -n "$T_DOWN"
  if ((MANAGERS >= 3)); then
    check "node1 still has a leader and answers docker node ls: $((MANAGERS - 1)) of $MANAGERS managers keep the quorum" \
      test "${VIEW_OK[1]}" = 1
    check "the cut-off manager node$k has lost the quorum (its docker node ls fails)" test "${VIEW_OK[$k]}" = 0
  fi
  check "the service kept answering: 3 app tasks on the connected hosts (after ${T_MOVED:-never}s)" test -n "$T_MOVED"
  check "nginx answers 200 ($FAILED of $TOTAL requests failed during the partition; all 200 since ${T_OK}s)" \
    test "$T_OK" -le "$DRILL_BOUND" -a "$(code | cut -d' ' -f1)" = 200
  step "drill: partition: reconnect node$k"
  run docker network connect --ip "$(node_ip "$k")" "$NET" "$(node_name "$k")"
  rejoin_wait "$k"
  check "node$k is back and Ready" test "$(node_state "$k")" = ready
  rebalance
  if ((k <= MANAGERS)); then
    check "node$k sees the leader again (its docker node ls works)" q "$k" docker node ls
  fi
  log "  timings: Down after ${T_DOWN:-?}s, tasks rescheduled after ${T_MOVED:-?}s, 200s again from ${T_OK}s," \
    "$FAILED of $TOTAL requests failed, recovery after reconnect ${T_REJOIN}s"
}

# --- down ---------------------------------------------------------------------------------------------

down() {
  step "down: the node containers, their volumes and $NET (the swarm inside them goes with them)"
  local name
  for name in $(docker ps -aq --filter "label=$LAB_LABEL" --filter "label=$LAB_LABEL=$LAYOUT"); do
    run docker rm -f -v "$(docker inspect -f '{{.Name}}' "$name" | sed 's#^/##')" >/dev/null
  done
  for name in $(docker volume ls -q --filter "label=$LAB_LABEL" --filter "label=$LAB_LABEL=$LAYOUT"); do
    run docker volume rm "$name" >/dev/null
  done
  if exists network "$NET" && is_ours network "$NET"; then run docker network rm "$NET" >/dev/null; fi
  log "cluster removed; this machine's own swarm state was not touched."
}

# --- options ------------------------------------------------------------------------------------------

# Options not given keep the running cluster's values (so a drill runs on the cluster as it is).
adopt_running_cluster() {
  local names n env
  names=$(our_nodes)
  [[ -n $names ]] || return 0
  n=$(wc -l <<<"$names")
  [[ -n ${OPT_NODES:-} ]] || NODES=$n
  ((NODES >= n)) || die "the cluster has $n hosts; to run it with $NODES, remove it first: extras/cluster/sim-cluster.sh --down"
  if [[ -z ${OPT_MANAGERS:-} && $(swarm_state 1) == active ]]; then
    MANAGERS=$(q 1 docker node ls --filter role=manager -q | wc -l)
  fi
  if [[ -z ${OPT_PORT:-} ]]; then
    HOST_PORT=$(docker port lab-node1 80/tcp 2>/dev/null | head -n1 | sed 's/.*://')
    HOST_PORT=${HOST_PORT:-8090}
  fi
  if [[ -z ${OPT_DB:-} ]]; then
    env=$(q 1 docker service inspect -f '{{range .Spec.TaskTemplate.ContainerSpec.Env}}{{println .}}{{end}}' \
      "${STACK}_app-server" 2>/dev/null || true)
    if grep -qx 'DB_ENGINE=mysql' <<<"$env"; then ENGINE=mysql; fi
  fi
}

parse_args() {
  NODES=3 MANAGERS=1 ENGINE=postgres HOST_PORT=8090 OFFLINE=0 DOWN=0 DRILL=''
  OPT_NODES='' OPT_MANAGERS='' OPT_PORT='' OPT_DB=''
  while (($#)); do
    case $1 in
      --nodes) [[ ${2:-} =~ ^[2-7]$ ]] || usage_error "--nodes takes a number from 2 to 7 (got '${2:-}')"
               NODES=$2 OPT_NODES=1; shift ;;
      --managers) [[ ${2:-} =~ ^[1-7]$ ]] || usage_error "--managers takes a number from 1 to 7 (got '${2:-}')"
                  MANAGERS=$2 OPT_MANAGERS=1; shift ;;
      --drill) [[ ${2:-} == node-loss || ${2:-} == partition ]] \
                 || usage_error "--drill takes node-loss or partition (got '${2:-}')"
               DRILL=$2; shift ;;
      --down) DOWN=1 ;;
      *) case $1 in --db) OPT_DB=1 ;; --port) OPT_PORT=1 ;; esac
         shared_flag "$@" || usage_error "unknown option: $1"; shift $((FLAG_ARGS - 1)) ;;
    esac
    shift
  done
  ((MANAGERS <= NODES)) || usage_error "--managers ($MANAGERS) cannot exceed --nodes ($NODES)"
  if ((DOWN)) && [[ -n $DRILL ]]; then usage_error "--down and --drill do not go together"; fi
}

summary() {
  log ""
  log "timings: hosts up ${T_BOOT}s, swarm ${T_SWARM}s, images loaded ${T_LOAD}s, stack healthy ${T_STACK}s," \
    "cluster ready after ${SECONDS}s in all"
  log "try: curl -i http://127.0.0.1:$HOST_PORT/api/   (X-Served-By: the app task; docker exec lab-node1 docker service ps ${STACK}_app-server)"
}

main() {
  parse_args "$@"
  require_engine
  cd "$LAB_ROOT"
  if ((DOWN)); then down; return; fi
  adopt_running_cluster
  ((MANAGERS <= NODES)) || usage_error "--managers ($MANAGERS) cannot exceed the cluster's $NODES hosts"
  if [[ -z $(our_nodes) ]] && port_busy "$HOST_PORT"; then
    die "port $HOST_PORT is busy on this machine. Pick another: extras/cluster/sim-cluster.sh --port 8091"
  fi
  if ((OFFLINE)); then use_offline_images; fi
  log "cluster: $NODES hosts, $MANAGERS manager(s), database $ENGINE, nginx on 127.0.0.1:$HOST_PORT"
  start_nodes
  form_swarm
  build_images
  load_images
  deploy_stack
  verify
  summary
  case $DRILL in
    node-loss) drill_node_loss ;;
    partition) drill_partition ;;
  esac
  finish_checks
}

main "$@"
