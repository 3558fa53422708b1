# shellcheck shell=bash
# running-3tier.sh — sourced by the extras that work on the 3-tier layout (extras/drills/drill.sh,
# extras/bench/bench.sh): is a 3-tier up, and with which database and port. They use the running layout as
# it is, or stop and say how to get out of the way; they never rebuild it on settings of their own.
# Needs scripts/lib/objects.sh (exists, label_of, is_ours, die) sourced first.
[[ -z ${_LAB_EXTRAS_RUNNING:-} ]] || return 0
_LAB_EXTRAS_RUNNING=1

THREE_TIER_CONTAINERS=(database app-server web-server)

# three_tier_up: any of the 3-tier's containers exists (running or not; by hand or through compose).
three_tier_up() {
  local c
  for c in "${THREE_TIER_CONTAINERS[@]}"; do exists container "$c" && return 0; done
  return 1
}

# three_tier_ids: the 3-tier's container IDs that exist now, one a line (what a tool must leave unchanged).
three_tier_ids() {
  local c
  for c in "${THREE_TIER_CONTAINERS[@]}"; do docker inspect -f '{{.Id}}' "$c" 2>/dev/null || true; done
}

# running_engine: DB_ENGINE from app-server's environment (mysql or postgres), or nothing.
running_engine() {
  local engine
  engine=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' app-server 2>/dev/null \
    | sed -n 's/^DB_ENGINE=//p' | head -n 1)
  if [[ $engine == mysql || $engine == postgres ]]; then echo "$engine"; fi
}

# running_port: the host port web-server's 80/tcp is published on (`docker port web-server 80/tcp`), or nothing.
running_port() {
  docker port web-server 80/tcp 2>/dev/null | sed -n 's/^.*:\([0-9][0-9]*\)$/\1/p' | head -n 1
}

# use_running_3tier TOOL: when a 3-tier is up, set ENGINE and HOST_PORT to its own, or stop with the ways out
# when it cannot be used as it is (made by compose, incomplete, or --db/--port asked for something else).
# ENGINE and HOST_PORT hold what the command line asked for ('' = nothing). Returns 1 when no 3-tier is up.
use_running_3tier() {
  local tool=$1 engine port
  three_tier_up || return 1
  local down="take it down first (scripts/run-3tier.sh --down; its data volume is kept), then run $tool again"
  if [[ -n $(label_of container app-server com.docker.compose.project) ]]; then
    die "the 3-tier is up through compose (scripts/run-compose.sh 3tier); $tool works on the by-hand one. Take it down (scripts/run-compose.sh 3tier --down) and run $tool again: it brings up its own."
  fi
  local c
  for c in "${THREE_TIER_CONTAINERS[@]}"; do
    if exists container "$c" && ! is_ours container "$c"; then
      die "a container named '$c' exists and is not the lab's (it has no $LAB_LABEL label). $tool removes and recreates the 3-tier's containers, so it will not touch it: remove or rename it yourself (docker rm -f $c), then run $tool again."
    fi
  done
  engine=$(running_engine) port=$(running_port)
  if [[ -z $engine || -z $port ]]; then
    die "a 3-tier is partly up (of database, app-server, web-server, some exist but app-server's DB_ENGINE or web-server's published port 80 cannot be read). $tool uses a running 3-tier as it is: bring it up whole (scripts/run-3tier.sh), or $down."
  fi
  if [[ -n $ENGINE && $ENGINE != "$engine" ]] || [[ -n $HOST_PORT && $HOST_PORT != "$port" ]]; then
    die "the 3-tier is up with $(engine_title "$engine") on port $port, and $tool uses it as it is (it does not rebuild it with --db ${ENGINE:-$engine} --port ${HOST_PORT:-$port}). Run without --db/--port (or with --db $engine --port $port), or $down."
  fi
  ENGINE=$engine HOST_PORT=$port
  log "  the 3-tier is up with $(engine_title "$ENGINE") on port $HOST_PORT: $tool uses it as it is"
}
