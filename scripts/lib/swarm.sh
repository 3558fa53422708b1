# shellcheck shell=bash
# swarm.sh — sourced by the Swarm extras and the overlay lab: join a swarm only when needed, leave only the
# one the lab made.
[[ -z ${_LAB_LIB_SWARM:-} ]] || return 0
_LAB_LIB_SWARM=1
# shellcheck source=objects.sh
. "$(dirname "${BASH_SOURCE[0]}")/objects.sh"

SWARM_MARK=io.docker-net-lab.swarm-created   # node label: this lab ran `docker swarm init`

swarm_active() { [[ $(docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null) == active ]]; }

# The IPv4 address of the default-route interface (read from the routing table; no packet is sent),
# else the first global address.
advertise_addr() {
  local dev addr
  dev=$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
  [[ -n $dev ]] && addr=$(ip -4 -o addr show dev "$dev" scope global | awk '{print $4; exit}')
  [[ -n ${addr:-} ]] || addr=$(ip -4 -o addr show scope global | awk '{print $4; exit}')
  [[ -n ${addr:-} ]] || die "no IPv4 address to advertise for 'docker swarm init'; pass one: ADVERTISE_ADDR=x.x.x.x"
  printf '%s\n' "${ADVERTISE_ADDR:-${addr%/*}}"
}

# ensure_swarm OWNER: `docker swarm init` only if this engine is not in a swarm yet, and mark which part
# of the lab (OWNER: run-swarm, lab-overlay ...) did, so only that part leaves it again.
ensure_swarm() {
  if swarm_active; then log "  this engine is in a swarm already, using it"; return 0; fi
  # --listen-addr on loopback: a one-node lab swarm need not open its manager port (2377) to the network
  run docker swarm init --advertise-addr "$(advertise_addr)" --listen-addr 127.0.0.1:2377 >/dev/null
  run docker node update --label-add "$SWARM_MARK=$1" "$(docker info -f '{{.Swarm.NodeID}}')" >/dev/null
}

# leave_swarm_if_ours OWNER: `docker swarm leave --force` only if the lab initialised this swarm (the node
# mark) and no service runs in it any more: another part of the lab may have deployed into the swarm that
# OWNER made (run-swarm.sh and the overlay lab both use one), and leaving would take its services down.
leave_swarm_if_ours() {
  swarm_active || return 0
  local mark others
  mark=$(docker node inspect self -f "{{ index .Spec.Labels \"$SWARM_MARK\" }}" 2>/dev/null || true)
  if [[ -z $mark || $mark == '<no value>' ]]; then
    log "  the swarm was not started by the lab: leaving it as it was"; return 0
  fi
  others=$(docker service ls --format '{{.Name}}' 2>/dev/null | tr '\n' ' ')
  if [[ -n ${others// /} ]]; then
    log "  services still run in this swarm ($others): $1 leaves it up"; return 0
  fi
  run docker swarm leave --force >/dev/null
  # the bridge `swarm init` made for task containers outlives the swarm; it is unused now
  docker network rm docker_gwbridge >/dev/null 2>&1 || true
}

