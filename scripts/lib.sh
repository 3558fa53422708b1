# shellcheck shell=bash
# lib.sh — sourced by the lab's scripts: messages, the numbered `run`, idempotent ensure_* helpers,
# bounded waits, the lab's labels and image variables, and the checks that verify a layout.
#
# Every network, container and volume created through these helpers carries LAB_LABEL (and the layout's
# label), so scripts/cleanup.sh removes exactly those and never anything else.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_LABEL=io.docker-net-lab
LAYOUT_LABEL=io.docker-net-lab.layout
CONFIG_LABEL=io.docker-net-lab.config   # hash of a container's run arguments: changed -> recreate

# Image variables: the official images by default; `--offline` (or eval "$(scripts/offline-images.sh)")
# points them at the local stand-ins.
: "${PYTHON_IMAGE:=python:3.13-slim}" "${MYSQL_IMAGE:=mysql:8.4}" "${POSTGRES_IMAGE:=postgres:17}"
: "${NGINX_IMAGE:=nginx:1.27}" "${TOOLBOX_IMAGE:=alpine:3.22}"
export PYTHON_IMAGE MYSQL_IMAGE POSTGRES_IMAGE NGINX_IMAGE TOOLBOX_IMAGE

SECRETS_DIR=$LAB_ROOT/db/secrets
CMD_NO=0          # numbers every docker command printed by `run`
CHECK_FAILED=0    # counts failed `check`s
CHECK_COUNT=0     # counts every `check`: a run that checked nothing has proved nothing

if [[ -t 1 ]]; then C_B=$'\e[1m' C_G=$'\e[32m' C_R=$'\e[31m' C_Y=$'\e[33m' C_0=$'\e[0m'
else C_B='' C_G='' C_R='' C_Y='' C_0=''; fi

log() { printf '%s\n' "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$C_Y" "$C_0" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$C_R" "$C_0" "$*" >&2; exit 1; }
step() { printf '\n%s== %s ==%s\n' "$C_B" "$*" "$C_0" >&2; }

# require_engine: one clear message, and exit 1, when no Docker engine answers.
require_engine() {
  docker info >/dev/null 2>&1 || die "no Docker engine answers 'docker info'. Start Docker (Docker Desktop, or 'sudo systemctl start docker'), then run again."
}

# usage_from_header FILE: print the comment block at the top of FILE (after the shebang) as usage text.
usage_from_header() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "$1"; }

# Print a command the way a learner would type it (quote only what needs quoting).
show_cmd() {
  local out='' a
  for a in "$@"; do
    # plain words as they are; anything else in single quotes, as a learner would type it
    if [[ $a =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s\n' "${out# }"
}

# run CMD...: print the command, numbered, then run it.
run() {
  CMD_NO=$((CMD_NO + 1))
  printf '  %s(%d)%s $ %s\n' "$C_B" "$CMD_NO" "$C_0" "$(show_cmd "$@")" >&2
  "$@"
}

# --- what exists, and whose it is -------------------------------------------------------------------

exists() { docker "$1" inspect "$2" >/dev/null 2>&1; }          # exists network|container|volume NAME
label_of() { docker "$1" inspect -f "{{ index .${3:-Labels} \"$4\" }}" "$2" 2>/dev/null; }
is_ours() {  # is_ours network|container|volume NAME
  local where=Labels
  [[ $1 == container ]] && where=Config.Labels
  [[ $(label_of "$1" "$2" "$where" "$LAB_LABEL") == 1 ]]
}

# refuse_foreign KIND NAME: a same-named object without our label is someone else's: stop, touch nothing.
refuse_foreign() {
  if exists "$1" "$2" && ! is_ours "$1" "$2"; then
    die "a $1 named '$2' already exists and is not the lab's (it has no $LAB_LABEL label). The lab will not touch it: remove or rename it yourself (docker $1 rm $2), then run again."
  fi
}

labels() { printf -- '--label %s=1 --label %s=%s' "$LAB_LABEL" "$LAYOUT_LABEL" "$LAYOUT"; }

# --- idempotent builders ------------------------------------------------------------------------------

ensure_network() {  # ensure_network NAME [docker network create options...]
  local name=$1; shift
  refuse_foreign network "$name"
  if exists network "$name"; then log "  network $name exists, reusing"; return 0; fi
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker network create $(labels) "$@" "$name" >/dev/null
}

ensure_volume() {
  local name=$1
  refuse_foreign volume "$name"
  if exists volume "$name"; then log "  volume $name exists, reusing"; return 0; fi
  # shellcheck disable=SC2046
  run docker volume create $(labels) "$name" >/dev/null
}

# ensure_container NAME IMAGE [docker run options...] [-- command args...]
# Reuses our container when its run arguments and image are unchanged, starts it if stopped, recreates it
# when they changed; refuses a same-named container that is not ours.
ensure_container() {
  local name=$1 image=$2; shift 2
  local opts=() cmd=() hash current
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  (($#)) && { shift; cmd=("$@"); }
  hash=$(printf '%s\n' "$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" "${opts[@]}" "${cmd[@]}" \
    | sha256sum | cut -c1-16)
  refuse_foreign container "$name"
  if exists container "$name"; then
    current=$(label_of container "$name" Config.Labels "$CONFIG_LABEL")
    if [[ $current == "$hash" ]]; then
      if [[ $(docker inspect -f '{{.State.Running}}' "$name") == true ]]; then
        log "  container $name is up to date, reusing"
      else
        run docker start "$name" >/dev/null
      fi
      return 0
    fi
    log "  container $name exists with other settings (or a rebuilt image): recreating it"
    run docker rm -f -v "$name" >/dev/null
  fi
  # shellcheck disable=SC2046
  run docker run -d --name "$name" $(labels) --label "$CONFIG_LABEL=$hash" "${opts[@]}" "$image" "${cmd[@]}" \
    >/dev/null
}

# ensure_connected NETWORK CONTAINER: `docker network connect`, unless it is connected already.
ensure_connected() {
  local net=$1 name=$2
  if docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$name" | grep -qw -- "$net"; then
    log "  $name is on $net already"
  else
    run docker network connect "$net" "$name"
  fi
}

# ensure_image IMAGE: present locally, or pulled; when no registry answers, say how to go offline.
ensure_image() {
  local image=$1
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  run docker pull -q "$image" >/dev/null 2>&1 \
    || die "cannot pull $image (no registry reachable?). Run again with --offline to build local stand-ins from Debian packages instead."
}

# build_image TAG CONTEXT [docker build options...]
build_image() {
  local tag=$1 context=$2; shift 2
  run docker build -q --label "$LAB_LABEL=1" -t "$tag" "$@" "$context" >/dev/null \
    || die "building $tag failed; run the command above by hand to see the whole build log"
}

# secret_file NAME: path of db/secrets/NAME, generated (24 random characters) if missing.
secret_file() {
  local file=$SECRETS_DIR/$1
  if [[ ! -s $file ]]; then
    mkdir -p "$SECRETS_DIR" && chmod 700 "$SECRETS_DIR"
    (umask 022 && LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$file")
    log "  generated $file (never committed; see db/secrets/README.md)"
  fi
  # 0644: the database (uid 999) and the app (uid 10001) read it inside their containers; the folder's
  # 0700 keeps other users of this machine out.
  chmod 644 "$file"
  printf '%s\n' "$file"
}

# wait_healthy NAME TIMEOUT: until the container's healthcheck says healthy; bounded; shows the log on failure.
wait_healthy() {
  local name=$1 timeout=$2 status deadline=$((SECONDS + $2))
  log "  waiting for $name to be healthy (at most ${timeout}s)"
  while :; do
    status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$name" \
      2>/dev/null || echo missing)
    case $status in
      healthy) log "  $name is healthy (${SECONDS}s)"; return 0 ;;
      exited|dead|missing|unhealthy) break ;;
    esac
    ((SECONDS < deadline)) || break
    sleep 1
  done
  log "  $name is $status after ${timeout}s; its last log lines:"
  docker logs --tail 25 "$name" 2>&1 | sed 's/^/    | /' >&2 || true
  die "$name did not become healthy. Fix what the log above says, then run again (or --down to start over)."
}

# port_busy PORT: does something on this machine already listen on 127.0.0.1:PORT?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- checks -------------------------------------------------------------------------------------------

# check "what should hold" CMD...: PASS/FAIL line; a failure is counted, not fatal (all checks run).
check() {
  local what=$1; shift
  CHECK_COUNT=$((CHECK_COUNT + 1))
  if "$@" >/dev/null 2>&1; then
    printf '  %sCHECK PASS%s %s\n' "$C_G" "$C_0" "$what"
  else
    printf '  %sCHECK FAIL%s %s\n' "$C_R" "$C_0" "$what"
    CHECK_FAILED=$((CHECK_FAILED + 1))
  fi
}
not() { ! "$@"; }

# Probes run from inside FROM's network namespace with the toolbox image, so app images need no tools.
probe() { docker run --rm --network "container:$1" --label "$LAB_LABEL=1" "$TOOLBOX_IMAGE" "${@:2}"; }
resolves() { probe "$1" getent hosts "$2"; }                        # resolves FROM NAME
port_open() { probe "$1" nc -z -w 3 "$2" "$3"; }                   # port_open FROM HOST PORT
ip_on() { docker inspect -f "{{ (index .NetworkSettings.Networks \"$2\").IPAddress }}" "$1"; }  # ip_on NAME NET
not_published() { [[ -z $(docker port "$1") ]]; }
# http_has URL TEXT (a here-string, not a pipe: grep -q quitting early must not fail curl under pipefail)
http_has() { grep -q -- "$2" <<<"$(curl -fsS --max-time 5 "$1")"; }

# finish_checks: the summary line and the exit status for the checks run so far.
finish_checks() {
  if ((CHECK_COUNT == 0)); then
    printf '\n%sNo check ran: nothing was verified.%s\n' "$C_R" "$C_0"
    return 1
  fi
  if ((CHECK_FAILED)); then
    printf '\n%s%d check(s) failed.%s\n' "$C_R" "$CHECK_FAILED" "$C_0"
    return 1
  fi
  printf '\n%sAll checks passed.%s\n' "$C_G" "$C_0"
}

# --- the tiers, shared by run-webapp.sh and run-3tier.sh ------------------------------------------------

APP_DB_USER=appuser
APP_DB_NAME=myapp

# parse_run_args ARG...: the flags both run scripts share. Sets ENGINE (default: $ENGINE), HOST_PORT
# (default: $HOST_PORT), BIND_IP, OFFLINE, DOWN, DROP_VOLUMES. Bad usage -> usage + exit 2.
parse_run_args() {
  BIND_IP=127.0.0.1 OFFLINE=0 DOWN=0 DROP_VOLUMES=0
  while (($#)); do
    case $1 in
      --db) [[ ${2:-} == mysql || ${2:-} == postgres ]] || usage_error "--db takes mysql or postgres (got '${2:-}')"
            ENGINE=$2; shift ;;
      --port) [[ ${2:-} =~ ^[0-9]+$ ]] && ((${2} >= 1 && ${2} <= 65535)) \
                || usage_error "--port takes a port number from 1 to 65535 (got '${2:-}')"
              HOST_PORT=$2; shift ;;
      --public) BIND_IP=0.0.0.0 ;;
      --offline) OFFLINE=1 ;;
      --down) DOWN=1 ;;
      --volumes) DROP_VOLUMES=1 ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
    shift
  done
  if ((DROP_VOLUMES && !DOWN)); then usage_error "--volumes goes with --down"; fi
  export ENGINE HOST_PORT BIND_IP OFFLINE DOWN DROP_VOLUMES
}

usage_error() { usage >&2; printf '\n%serror:%s %s\n' "$C_R" "$C_0" "$*" >&2; exit 2; }

# use_offline_images: build (or reuse) the stand-ins and point the image variables at them.
use_offline_images() {
  log "  --offline: building (or reusing) the stand-in images: scripts/offline-images.sh"
  eval "$("$LAB_ROOT/scripts/offline-images.sh")" || die "the offline kit failed (see above)"
}

db_image() { if [[ $1 == mysql ]]; then echo "$MYSQL_IMAGE"; else echo "$POSTGRES_IMAGE"; fi; }
db_port() { if [[ $1 == mysql ]]; then echo 3306; else echo 5432; fi; }
engine_title() { if [[ $1 == mysql ]]; then echo MySQL; else echo PostgreSQL; fi; }

# start_database NAME NETWORK ENGINE VOLUME: the database tier, its passwords as files, the app's
# least-privilege account from db/ENGINE/initdb, a TCP healthcheck (the init server is socket-only).
start_database() {
  local name=$1 net=$2 engine=$3 volume=$4 root_pw app_pw opts
  root_pw=$(secret_file root_password)
  app_pw=$(secret_file app_password)
  ensure_volume "$volume"
  opts=(--network "$net"
        -v "$root_pw:/run/secrets/db_root_password:ro" -v "$app_pw:/run/secrets/db_app_password:ro"
        -v "$LAB_ROOT/db/$engine/initdb:/docker-entrypoint-initdb.d:ro"
        -e APP_DB_PASSWORD_FILE=/run/secrets/db_app_password
        --health-interval 5s --health-timeout 3s --health-retries 5 --health-start-period 120s
        --health-start-interval 1s)
  if [[ $engine == mysql ]]; then
    opts+=(-e MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root_password -e "MYSQL_DATABASE=$APP_DB_NAME"
           -v "$volume:/var/lib/mysql" --health-cmd 'mysqladmin ping -h 127.0.0.1 --silent')
  else
    opts+=(-e POSTGRES_PASSWORD_FILE=/run/secrets/db_root_password -e "POSTGRES_DB=$APP_DB_NAME"
           -v "$volume:/var/lib/postgresql/data"
           --health-cmd "pg_isready -h 127.0.0.1 -U postgres -d $APP_DB_NAME")
  fi
  ensure_container "$name" "$(db_image "$engine")" "${opts[@]}"
}

# app_options ENGINE HOST_VAR DB_HOST: the app's settings (env contract in README "The app"); the password
# is a file, so `docker inspect` shows none.
app_options() {
  local engine=$1 host_var=$2 host=$3
  printf '%s\n' -e "DB_ENGINE=$engine" -e "$host_var=$host" -e "DB_USER=$APP_DB_USER" -e "DB_NAME=$APP_DB_NAME" \
    -e DB_PASSWORD_FILE=/run/secrets/db_app_password \
    -v "$(secret_file app_password):/run/secrets/db_app_password:ro"
}

# --- the 3-tier's tiers, shared by run-3tier.sh and drill.sh (which starts them in other orders) ---------

three_tier_volume() { echo "3tier-$1-data"; }   # three_tier_volume ENGINE: the database's named volume

# start_3tier_database ENGINE: the 3-tier's database, on backend-net only, its data on the named volume.
start_3tier_database() { start_database database backend-net "$1" "$(three_tier_volume "$1")"; }

# start_3tier_app ENGINE IMAGE: the 3-tier's app-server as the tutorial runs it: created on backend-net with
# the app's settings, then connected to frontend-net. Same arguments, same container: run-3tier.sh reuses
# one that drill.sh started.
start_3tier_app() {
  local opts
  mapfile -t opts < <(app_options "$1" DATABASE_HOST database)
  ensure_container app-server "$2" --network backend-net "${opts[@]}"
  ensure_connected frontend-net app-server
}

# --- verification, shared by the by-hand scripts and run-compose.sh --------------------------------------

# verify_3tier PORT ENGINE BIND_IP
verify_3tier() {
  local port=$1 engine=$2 bind=$3 base="http://127.0.0.1:$1" db_ip dbp
  dbp=$(db_port "$engine")
  log "  $ curl -s $base/api/"
  curl -sS --max-time 10 "$base/api/" >&2 && echo >&2 || true
  check "web-server: GET $base/api/ answers the app's JSON through nginx ('Connected to $(engine_title "$engine")!')" \
    http_has "$base/api/" "\"Connected to $(engine_title "$engine")!\""
  check "web-server: GET $base/ serves the page (web/index.html)" http_has "$base/" 'id="db-time"'
  check "web-server resolves 'app-server' (both on frontend-net)" resolves web-server app-server
  check "web-server opens app-server:3000 (frontend-net)" port_open web-server app-server 3000
  check "web-server cannot resolve 'database' (it is not on backend-net)" not resolves web-server database
  db_ip=$(ip_on database backend-net)
  check "web-server cannot open database's address $db_ip:$dbp either (no route between the networks)" \
    not port_open web-server "${db_ip:-0.0.0.0}" "$dbp"
  check "app-server resolves 'database' (both on backend-net)" resolves app-server database
  check "app-server opens database:$dbp (backend-net)" port_open app-server database "$dbp"
  check "database publishes no port on the host" not_published database
  check "app-server publishes no port on the host" not_published app-server
  check "web-server is published on $bind:$port only" published_on web-server 80 "$bind" "$port"
}

# verify_webapp PORT ENGINE DB_NAME
verify_webapp() {
  local port=$1 engine=$2 db=$3 base="http://127.0.0.1:$1"
  log "  $ curl -s $base"
  curl -sS --max-time 10 "$base/" >&2 && echo >&2 || true
  check "webapp: GET $base/ answers the JSON ('Connected to $(engine_title "$engine")!')" \
    http_has "$base/" "\"Connected to $(engine_title "$engine")!\""
  check "webapp resolves '$db' by container name (webapp-network's DNS)" resolves webapp "$db"
  check "webapp opens $db:$(db_port "$engine")" port_open webapp "$db" "$(db_port "$engine")"
  check "$db publishes no port on the host" not_published "$db"
  check "webapp is published on 127.0.0.1:$port only" published_on webapp 3000 127.0.0.1 "$port"
}

# published_on NAME CONTAINER_PORT HOST_IP HOST_PORT: the port's only binding is HOST_IP:HOST_PORT.
published_on() {
  [[ $(docker port "$1" "$2/tcp") == "$3:$4" ]]
}

# holds_port NAME CONTAINER_PORT HOST_PORT: NAME publishes CONTAINER_PORT on HOST_PORT, on any address. A run
# script's preflight asks this of its own container: then the port is busy because of it, and recreating it
# (another address with --public, or back to 127.0.0.1) frees the port first.
holds_port() { grep -q ":$3\$" <<<"$(docker port "$1" "$2/tcp" 2>/dev/null)"; }

# --- Swarm: join only when needed, leave only what we made ---------------------------------------------

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

# --- helpers shared by the lab sections (scripts/labs/*.sh) ---------------------------------------------

# run_capture CMD...: `run`, keeping the command's output (stdout and stderr) in RUN_OUT and its exit status
# in RUN_RC, and showing the output indented. Not `$(run ...)`: a subshell would lose run's numbering.
export RUN_RC=0 RUN_OUT=""   # set by run_capture, read by the sections
run_capture() {
  local f
  f=$(mktemp)
  RUN_RC=0
  run "$@" >"$f" 2>&1 || RUN_RC=$?
  head -n 1 "$f" >&2                       # the numbered command line that run printed
  RUN_OUT=$(tail -n +2 "$f")
  rm -f "$f"
  if [[ -n $RUN_OUT ]]; then sed 's/^/      /' <<<"$RUN_OUT" >&2; fi
}

# require_free KIND NAME...: stop before doing anything when a name this section uses is taken — by a
# learner's own object or by another lab still running (names are engine-wide). The lab never removes or
# reuses what this section did not make.
require_free() {
  local kind=$1 name owner where=Labels; shift
  [[ $kind == container ]] && where=Config.Labels
  for name in "$@"; do
    exists "$kind" "$name" || continue
    owner=$(label_of "$kind" "$name" "$where" "$LAYOUT_LABEL")
    if [[ -n $owner ]]; then owner="it belongs to the lab's '$owner' run, which may still be going"
    else owner="it is not the lab's"; fi
    die "a $kind named '$name' already exists ($owner). This section needs the name: remove it (docker $kind rm $name) or let that run finish, then run again."
  done
}

# toolbox NAME [docker run options...]: a throwaway container (the tutorial's `alpine sleep 1000`).
toolbox() {
  local name=$1; shift
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name "$name" $(labels) "$@" "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
}

# pick_port VAR: set VAR to a port nothing listens on at 127.0.0.1 (TCP), picked at random in 20000-59999
# so that labs running at the same time rarely pick the same one, and never one picked before in this run.
# UDP cannot be probed this way; a random pick in that range is free in practice, and docker run says so
# plainly if it is not. (A VAR, not $(...): TAKEN_PORTS must be updated in this shell, not in a subshell.)
TAKEN_PORTS=" "
pick_port() {
  local candidate   # not `port`: printf -v must set the caller's variable, which may well be named port
  for _ in {1..50}; do
    candidate=$((20000 + RANDOM % 40000))
    [[ $TAKEN_PORTS == *" $candidate "* ]] && continue
    port_busy "$candidate" && continue
    TAKEN_PORTS+="$candidate "
    printf -v "$1" '%s' "$candidate"; return 0
  done
  die "found no free port on 127.0.0.1 in 50 tries; free some ports and run again"
}

# wait_http URL SECONDS: until URL answers HTTP 2xx (bounded).
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
