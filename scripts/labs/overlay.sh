# shellcheck shell=bash
# Section "5. Overlay": a swarm service with 3 replicas on overlay networks. The service name resolves to one
# virtual IP (VIP), tasks.NAME to every task; a standalone container joins an --attachable overlay (not a
# plain one) and reaches each task. Without IPVS in the kernel the VIP cannot carry connections: the lab
# detects that, says so, and shows --endpoint-mode dnsrr instead.
#
# One machine, so a one-node swarm: `docker swarm init` only if this engine is in no swarm, and `docker swarm
# leave --force` at the end only if this lab made it (lib.sh's ensure_swarm / leave_swarm_if_ours) and nothing
# else runs in it. Sourced by scripts/lab.sh (lib.sh; it removes what carries our labels).
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="Docker 네트워크 드라이버 › 5. Overlay — swarm services (one-node swarm), VIP and tasks.NAME"

OVERLAY_OWNER=lab-overlay   # lib.sh's ensure_swarm marks the node with it when this lab runs `docker swarm init`
OVERLAY_SERVICE_WAIT=90     # seconds for the replicas to run

# --- swarm -------------------------------------------------------------------------------------------------

swarm_state() { docker info -f '{{.Swarm.LocalNodeState}}'; }

# overlay_swarm: lib.sh's ensure_swarm (init only if this engine is in no swarm; marks the node as ours),
# after refusing the states it cannot work with.
overlay_swarm() {
  local state
  state=$(swarm_state)
  case $state in
    active)
      [[ $(docker info -f '{{.Swarm.ControlAvailable}}') == true ]] \
        || die "this engine is a swarm worker, not a manager: services can only be created on a manager. Run the lab on a manager node." ;;
    inactive) log "  no swarm yet: the lab makes a one-node swarm and leaves it at the end" ;;
    *) die "swarm state is '$state' (not active, not inactive). Fix the swarm (docker swarm leave --force if it is yours), then run again." ;;
  esac
  ensure_swarm "$OVERLAY_OWNER"
}

# --- services ----------------------------------------------------------------------------------------------

refuse_foreign_service() {
  if docker service inspect "$1" >/dev/null 2>&1 \
    && [[ $(docker service inspect -f "{{ index .Spec.Labels \"$LAB_LABEL\" }}" "$1") != 1 ]]; then
    die "a swarm service named '$1' exists and is not the lab's. The lab will not touch it: remove it yourself (docker service rm $1), then run again."
  fi
}

# create_service NAME [docker service create options...]: 3 replicas of the nginx image, labelled (the
# service and its containers: lab.sh removes both by label), without asking a registry for the image.
create_service() {
  local name=$1; shift
  refuse_foreign_service "$name"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker service create -d --name "$name" "$@" --replicas 3 --no-resolve-image $(labels) \
    --container-label "$LAB_LABEL=$LAYOUT" "$NGINX_IMAGE" >/dev/null
}

running_tasks() { docker service ps "$1" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true; }

# wait_replicas NAME: bounded wait for 3 running tasks; shows the tasks' errors when it gives up.
wait_replicas() {
  local name=$1 deadline=$((SECONDS + OVERLAY_SERVICE_WAIT)) n
  log "  waiting for 3 running tasks of $name (at most ${OVERLAY_SERVICE_WAIT}s)"
  while n=$(running_tasks "$name"); ((n < 3 && SECONDS < deadline)); do sleep 1; done
  if ((n < 3)); then
    docker service ps --no-trunc "$name" 2>&1 | sed 's/^/    | /' >&2 || true
    die "$name has $n of 3 tasks running after ${OVERLAY_SERVICE_WAIT}s (errors above)."
  fi
  log "  $name: 3/3 tasks running"
}

# task_ips SERVICE NETWORK: the tasks' addresses on NETWORK, read from the task containers (sorted).
task_ips() {
  local id
  for id in $(docker ps -q --filter "label=com.docker.swarm.service.name=$1"); do ip_on "$id" "$2"; echo; done \
    | grep . | sort -V
}

# vip_on SERVICE NETWORK: the service's virtual IP on NETWORK (no mask).
vip_on() {
  local net_id
  net_id=$(docker network inspect -f '{{.ID}}' "$2")
  docker service inspect -f '{{range .Endpoint.VirtualIPs}}{{.NetworkID}} {{.Addr}}{{"\n"}}{{end}}' "$1" \
    | awk -v id="$net_id" '$1 == id {sub(/\/.*/, "", $2); print $2}'
}

# from the standalone client container on the attachable overlay
lookup() { docker exec overlay-client getent ahostsv4 "$1" | awk '{print $1}' | sort -uV; }
# http_ok HOST [SECONDS]: GET http://HOST/ from overlay-client answers HTTP 2xx (busybox wget exits 0 only
# then; Alpine has no curl), within SECONDS (5).
http_ok() { docker exec overlay-client wget -q -O /dev/null -T "${2:-5}" "http://$1/"; }
all_answer() {  # all_answer ADDR...: each answers HTTP 2xx on port 80
  local ip
  (($#)) || return 1
  for ip in "$@"; do http_ok "$ip" || return 1; done
}
same() { [[ -n $1 && $1 == "$2" ]]; }   # same A B: equal and not empty
count_is() { [[ $(grep -c . <<<"$2") == "$1" ]]; }
has_text() { grep -q -- "$1" <<<"$2"; }
kernel_has_ipvs() { docker exec overlay-client test -e /proc/net/ip_vs; }
# encrypted_opt NET: NET's driver options hold "encrypted" (docker network inspect's .Options).
encrypted_opt() { grep -q '"encrypted":' <<<"$(docker network inspect -f '{{json .Options}}' "$1")"; }

# --- the lab -----------------------------------------------------------------------------------------------

lab_main() {
  require_free container overlay-client overlay-secure-1 overlay-secure-2
  require_free network my-overlay my-attachable-overlay my-encrypted-overlay
  step "5. Overlay: docker swarm init (only if this engine is in no swarm yet)"
  log "  $ docker info -f '{{.Swarm.LocalNodeState}}'   ->   $(swarm_state)"
  overlay_swarm
  check "this engine is an active swarm manager" test "$(docker info -f '{{.Swarm.ControlAvailable}}')" = true

  step "5. Overlay: docker network create -d overlay my-overlay"
  ensure_network my-overlay -d overlay
  log "  a standalone container (docker run, not a service) tries to join it:"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run_capture docker run --rm --network my-overlay $(labels) "$TOOLBOX_IMAGE" true
  check "docker run --network my-overlay is refused: 'not manually attachable' (only services may join)" \
    eval '((RUN_RC != 0)) && has_text "not manually attachable" "$RUN_OUT"'

  step "5. Overlay: docker network create -d overlay --attachable my-attachable-overlay"
  ensure_network my-attachable-overlay -d overlay --attachable
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name overlay-client --network my-attachable-overlay $(labels) "$TOOLBOX_IMAGE" sleep 600 \
    >/dev/null
  check "a standalone container joined my-attachable-overlay (overlay-client has an address on it)" \
    test -n "$(ip_on overlay-client my-attachable-overlay)"

  step "5. Overlay: '안전한 통신' needs --opt encrypted (beyond the tutorial's commands)"
  log "  between hosts an overlay carries its traffic as plain VXLAN (UDP 4789) unless the network asks for"
  log "  IPsec: --opt encrypted (errata: overlay-encryption)."
  ensure_network my-encrypted-overlay -d overlay --attachable --opt encrypted
  check "my-encrypted-overlay holds the option encrypted ($(docker network inspect -f '{{json .Options}}' \
    my-encrypted-overlay))" encrypted_opt my-encrypted-overlay
  check "for contrast, my-attachable-overlay (no --opt) does not ($(docker network inspect \
    -f '{{json .Options}}' my-attachable-overlay))" not encrypted_opt my-attachable-overlay
  toolbox overlay-secure-1 --network my-encrypted-overlay
  toolbox overlay-secure-2 --network my-encrypted-overlay
  run_capture docker exec overlay-secure-1 ping -c 2 -W 2 overlay-secure-2
  check "overlay-secure-1 pings overlay-secure-2 by name on the encrypted overlay (ping exits $RUN_RC)" \
    test "$RUN_RC" -eq 0
  log "  one node: these packets never leave this host, so none is encrypted on a wire here; with two or more"
  log "  nodes the engines set up IPsec (ESP) between them for this network's traffic."

  step "5. Overlay: docker service create --name my-nginx --network my-overlay --replicas 3 nginx"
  log "  as the tutorial, plus --network my-attachable-overlay so our standalone client can reach the tasks"
  create_service my-nginx --network my-overlay --network my-attachable-overlay
  wait_replicas my-nginx
  check "my-nginx runs 3/3 replicas" test "$(running_tasks my-nginx)" = 3

  local vip names tasks expected
  vip=$(vip_on my-nginx my-attachable-overlay)
  names=$(lookup my-nginx)
  tasks=$(lookup tasks.my-nginx)
  expected=$(task_ips my-nginx my-attachable-overlay)
  log "  $ docker exec overlay-client getent ahostsv4 my-nginx         ->   ${names//$'\n'/ }   (service VIP: $vip)"
  log "  $ docker exec overlay-client getent ahostsv4 tasks.my-nginx   ->   ${tasks//$'\n'/ }"
  check "my-nginx resolves to one address, the service's VIP ($vip)" same "$names" "$vip"
  check "tasks.my-nginx resolves to 3 addresses, the tasks' own (${expected//$'\n'/ })" \
    eval 'count_is 3 "$tasks" && same "$tasks" "$expected"'
  # shellcheck disable=SC2086  # one address per word
  check "overlay-client (standalone) gets HTTP 2xx from every task by address on port 80 (wget -q -O /dev/null)" all_answer $tasks

  step "5. Overlay: the VIP needs IPVS (the kernel's load balancer)"
  if kernel_has_ipvs; then
    log "  this kernel has IPVS (/proc/net/ip_vs exists): the VIP balances connections over the tasks"
    check "wget http://my-nginx/ through the VIP answers HTTP 2xx" http_ok my-nginx
  else
    log "  no IPVS in this kernel: the VIP resolves but cannot carry connections; showing --endpoint-mode dnsrr instead"
    log "  (there is no /proc/net/ip_vs in the engine's kernel; on a stock Linux kernel the ip_vs module loads itself)"
    check "without IPVS, wget http://my-nginx/ through the VIP gets no answer within 3s (each task answered above)" \
      not http_ok my-nginx 3
    step "5. Overlay: docker service create --endpoint-mode dnsrr (DNS round-robin: no VIP, no IPVS)"
    create_service my-nginx-dnsrr --endpoint-mode dnsrr --network my-attachable-overlay
    wait_replicas my-nginx-dnsrr
    names=$(lookup my-nginx-dnsrr)
    expected=$(task_ips my-nginx-dnsrr my-attachable-overlay)
    log "  $ docker exec overlay-client getent ahostsv4 my-nginx-dnsrr   ->   ${names//$'\n'/ }"
    check "my-nginx-dnsrr has no VIP" test -z "$(vip_on my-nginx-dnsrr my-attachable-overlay)"
    check "my-nginx-dnsrr resolves straight to its 3 task addresses (${expected//$'\n'/ })" \
      eval 'count_is 3 "$names" && same "$names" "$expected"'
    # shellcheck disable=SC2086
    check "every my-nginx-dnsrr task answers HTTP 2xx on port 80" all_answer $names
    check "wget http://my-nginx-dnsrr/ (by service name) answers HTTP 2xx" http_ok my-nginx-dnsrr
  fi
}

# --- cleanup (lab.sh calls it before removing what carries our labels) ------------------------------------

# Services first, then wait until their task containers are gone (a network in use cannot be removed), then
# the overlay networks, then the swarm if this lab made it (lib.sh's leave_swarm_if_ours reads the node mark).
lab_cleanup() {
  local filter="label=$LAB_LABEL=$LAYOUT" ids deadline=$((SECONDS + 60))
  if [[ $(docker info -f '{{.Swarm.ControlAvailable}}' 2>/dev/null) == true ]]; then
    ids=$(docker service ls -q --filter "$filter")
    # shellcheck disable=SC2086
    [[ -z $ids ]] || docker service rm $ids >/dev/null
  fi
  ids=$(docker ps -aq --filter "$filter")   # overlay-client, overlay-secure-*: by label, never by name
  # shellcheck disable=SC2086
  [[ -z $ids ]] || docker rm -f $ids >/dev/null 2>&1 || true
  while [[ -n $(docker ps -aq --filter "$filter") ]] && ((SECONDS < deadline)); do sleep 1; done
  # an overlay network stays "in use" for a moment after its last task is gone: retry, bounded
  while ids=$(docker network ls -q --filter "$filter"); [[ -n $ids ]]; do
    # shellcheck disable=SC2086
    docker network rm $ids >/dev/null 2>&1 && break
    ((SECONDS < deadline)) || { warn "overlay networks still in use after 60s: $ids"; break; }
    sleep 1
  done
  leave_swarm_if_ours "$OVERLAY_OWNER"   # and only when no other service runs in it
}
