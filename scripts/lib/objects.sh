# shellcheck shell=bash
# objects.sh — sourced: the lab's label and image variables, what exists and whose it is, and the idempotent
# ensure_* builders (check, then act, and say which happened), bounded waits, secrets and host ports.
#
# Every network, container and volume the lab creates carries one label, io.docker-net-lab=LAYOUT (3tier,
# webapp, lab-custom ...), so scripts/cleanup.sh removes exactly those and never anything else.
[[ -z ${_LAB_LIB_OBJECTS:-} ]] || return 0
_LAB_LIB_OBJECTS=1
# shellcheck source=run.sh
. "$(dirname "${BASH_SOURCE[0]}")/run.sh"

LAB_LABEL=io.docker-net-lab
: "${LAYOUT:=lab}"

# Image variables: the official images by default; `--offline` (or eval "$(tools/offline-images.sh)") points
# them at the local stand-ins.
: "${PYTHON_IMAGE:=python:3.13-slim}" "${MYSQL_IMAGE:=mysql:8.4}" "${POSTGRES_IMAGE:=postgres:17}"
: "${NGINX_IMAGE:=nginx:1.27}" "${TOOLBOX_IMAGE:=alpine:3.22}"
export PYTHON_IMAGE MYSQL_IMAGE POSTGRES_IMAGE NGINX_IMAGE TOOLBOX_IMAGE

official_image() {  # official_image VAR: the image VAR names by default
  case $1 in
    PYTHON_IMAGE) echo python:3.13-slim ;; MYSQL_IMAGE) echo mysql:8.4 ;; POSTGRES_IMAGE) echo postgres:17 ;;
    NGINX_IMAGE) echo nginx:1.27 ;; TOOLBOX_IMAGE) echo alpine:3.22 ;;
    NODEJS_IMAGE) echo node:24-alpine ;;   # the bench's peer, the tutorial's app.js (extras/bench/express)
    *) return 1 ;;
  esac
}

# build_arg VAR: `--build-arg VAR=VALUE` when VAR names another image than the official one the Dockerfile
# defaults to (the stand-ins); nothing otherwise, so the printed `docker build` is the one a learner types.
build_arg() {
  local value
  eval "value=\${$1}"
  [[ $value == "$(official_image "$1")" ]] || printf '%s\n' --build-arg "$1=$value"
}

labels() { printf -- '--label %s=%s' "$LAB_LABEL" "$LAYOUT"; }

# --- what exists, and whose it is ---------------------------------------------------------------------

exists() { docker "$1" inspect "$2" >/dev/null 2>&1; }  # exists network|container|volume|service|secret NAME
label_of() {  # label_of KIND NAME [LABEL]: the value of LABEL (default: the lab's) on the object, or nothing
  local where=Labels
  case $1 in container) where=Config.Labels ;; service|secret) where=Spec.Labels ;; esac
  docker "$1" inspect -f "{{ index .$where \"${3:-$LAB_LABEL}\" }}" "$2" 2>/dev/null | sed 's/^<no value>$//'
}
is_ours() { [[ -n $(label_of "$1" "$2") ]]; }                      # is_ours network|container|volume NAME

# refuse_foreign KIND NAME: a same-named object without our label is someone else's: stop, touch nothing.
refuse_foreign() {
  if exists "$1" "$2" && ! is_ours "$1" "$2"; then
    die "a $1 named '$2' already exists and is not the lab's (it has no $LAB_LABEL label). The lab will not touch it: remove or rename it yourself (docker $1 rm $2), then run again."
  fi
}

# refuse_foreign_members WHAT LABEL=VALUE KIND...: the objects of each KIND that carry LABEL=VALUE (a compose
# project's or a stack's own label: what `docker compose down` and `docker stack rm` remove by) must all carry
# the lab's label too; one that does not is someone else's project under the same name: stop, touch nothing.
refuse_foreign_members() {
  local what=$1 filter=$2 kind id all name foreign=''; shift 2
  for kind in "$@"; do
    all=; [[ $kind == container ]] && all=-a
    for id in $(docker "$kind" ls -q $all --filter "label=$filter"); do
      is_ours "$kind" "$id" && continue
      case $kind in service|secret) name=$(docker "$kind" inspect -f '{{.Spec.Name}}' "$id") ;;
                    *) name=$(docker "$kind" inspect -f '{{.Name}}' "$id") ;; esac
      foreign+=" $kind ${name#/};"
    done
  done
  [[ -z $foreign ]] || die "$what holds objects that are not the lab's (no $LAB_LABEL label):${foreign%;}. The lab will not touch them: remove or rename them yourself (docker KIND rm NAME), then run again."
}

# require_free KIND NAME...: stop before doing anything when a name this script needs is taken, by a learner's
# own object or by another part of the lab (names are engine-wide). Nothing is removed or reused.
require_free() {
  local kind=$1 name owner; shift
  for name in "$@"; do
    exists "$kind" "$name" || continue
    owner=$(label_of "$kind" "$name")
    if [[ -n $owner ]]; then owner="it belongs to the lab's '$owner', which may still be running"
    else owner="it is not the lab's"; fi
    die "a $kind named '$name' already exists ($owner). This needs the name: remove it (docker $kind rm $name) or let that finish, then run again."
  done
}

# remove_ours KIND NAME: remove the object if it exists and carries the lab's label; say so when it is not ours.
remove_ours() {
  exists "$1" "$2" || return 0
  if ! is_ours "$1" "$2"; then warn "$1 $2 is not the lab's; left alone"; return 0; fi
  case $1 in
    container) run docker rm -f -v "$2" >/dev/null ;;
    *) run docker "$1" rm "$2" >/dev/null ;;
  esac
}

# --- idempotent builders ------------------------------------------------------------------------------

# ensure_network NAME [docker network create options...]: created, or reused when ours already and internal
# (--internal) or not as asked. One that differs (an earlier run's) is recreated, with the lab's containers on it
# removed first: the steps after this one create them again. A container on it that is not ours stops the run.
ensure_network() {
  local name=$1 internal=false a members c; shift
  for a in "$@"; do [[ $a == --internal ]] && internal=true; done
  refuse_foreign network "$name"
  if exists network "$name"; then
    if [[ $(docker network inspect -f '{{.Internal}}' "$name") == "$internal" ]]; then
      log "  network $name exists, reusing"; return 0
    fi
    members=$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$name")
    for c in $members; do
      is_ours container "$c" || die "network $name must be recreated (internal: $internal), but container '$c' on it is not the lab's. Disconnect it (docker network disconnect $name $c), then run again."
    done
    log "  network $name exists with internal: $([[ $internal == true ]] && echo false || echo true): recreating it"
    for c in $members; do remove_ours container "$c"; done
    run docker network rm "$name" >/dev/null
  fi
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker network create ${1+"$@"} $(labels) "$name" >/dev/null
}

ensure_volume() {  # ensure_volume NAME
  refuse_foreign volume "$1"
  if exists volume "$1"; then log "  volume $1 exists, reusing"; return 0; fi
  # shellcheck disable=SC2046
  run docker volume create $(labels) "$1" >/dev/null
}

# What decides whether a container is up to date: its image and the settings `docker run` options give it,
# one per line (sorted before comparing: the engine keeps -e and -v in no fixed order).
SETTINGS='image {{json .Image}}
{{range .Config.Env}}env {{json .}}
{{end}}{{range .HostConfig.Binds}}bind {{json .}}
{{end}}cmd {{json .Config.Cmd}}
entrypoint {{json .Config.Entrypoint}}
user {{json .Config.User}}
labels {{json .Config.Labels}}
health {{json .Config.Healthcheck}}
mounts {{json .HostConfig.Mounts}}
ports {{json .HostConfig.PortBindings}}
network {{json .HostConfig.NetworkMode}}
caps {{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}}
security {{json .HostConfig.SecurityOpt}} {{json .HostConfig.ReadonlyRootfs}} {{json .HostConfig.Tmpfs}}
limits {{json .HostConfig.Memory}} {{json .HostConfig.PidsLimit}}
restart {{json .HostConfig.RestartPolicy}} {{json .HostConfig.Init}}
sysctls {{json .HostConfig.Sysctls}}'

settings_of() { docker inspect -f "$SETTINGS" "$1" 2>/dev/null | LC_ALL=C sort; }

# same_settings NAME OPTIONS... IMAGE [COMMAND...]: would `docker run OPTIONS IMAGE COMMAND` make a container
# like NAME? Asked of the engine itself: a twin is created (never started) with the same options and removed.
same_settings() {
  local name=$1 twin want have; shift
  twin=$(docker create "$@" 2>/dev/null) || return 1
  want=$(settings_of "$twin")
  docker rm -f -v "$twin" >/dev/null 2>&1 || true
  have=$(settings_of "$name")
  [[ -n $want && $want == "$have" ]]
}

# ensure_container --name NAME OPTIONS... IMAGE [COMMAND...]: `docker run -d` with these options and the lab's
# label, unless our NAME runs with exactly these settings and image already (then it is reused, or started
# if stopped). A NAME with other settings, or a rebuilt image, is recreated; a NAME that is not ours, refused.
ensure_container() {
  [[ $1 == --name && -n ${2:-} ]] || die "ensure_container: the options start with --name NAME"
  local name=$2 argv=("$@") i=2
  while ((i < ${#argv[@]})) && [[ ${argv[i]} == -* ]]; do
    if takes_value "${argv[i]}"; then i=$((i + 2)); else i=$((i + 1)); fi
  done
  ((i < ${#argv[@]})) || die "ensure_container $name: no image after the options"
  # shellcheck disable=SC2207  # labels() is a list of words by design
  local opts=("${argv[@]:0:i}" $(labels)) rest=("${argv[@]:i}")
  refuse_foreign container "$name"
  if exists container "$name"; then
    if same_settings "$name" "${opts[@]:2}" "${rest[@]}"; then
      if [[ $(docker inspect -f '{{.State.Running}}' "$name") == true ]]; then
        log "  container $name is up to date, reusing"
      else
        run docker start "$name" >/dev/null
      fi
      return 0
    fi
    log "  container $name exists with other settings (or a rebuilt image): recreating it"
    run docker rm -f "$name" >/dev/null
  fi
  run docker run -d "${opts[@]}" "${rest[@]}" >/dev/null
}

# ensure_connected NETWORK CONTAINER: `docker network connect`, unless it is connected already.
ensure_connected() {
  if [[ -n $(docker inspect -f "{{ with index .NetworkSettings.Networks \"$1\" }}on{{ end }}" "$2") ]]; then
    log "  $2 is on $1 already"
  else
    run docker network connect "$1" "$2"
  fi
}

# ensure_image IMAGE: present locally, or pulled (Docker's own progress shows); without a registry, say how
# to go offline.
ensure_image() {
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  run docker pull "$1" >&2 \
    || die "cannot pull $1 (no registry reachable?). Run again with --offline to build local stand-ins from Debian packages instead."
}

# build_image docker build OPTIONS... CONTEXT: the build, printed and with Docker's own progress on stderr.
build_image() {
  run "$@" >&2 || die "the build above failed: fix what its log says, then run again"
}

# use_offline_images: build (or reuse) the stand-ins and point the image variables at them; stop if it fails.
use_offline_images() {
  local out
  log "  --offline: building (or reusing) the stand-in images: tools/offline-images.sh"
  out=$("$LAB_ROOT/tools/offline-images.sh") || die "the offline kit failed (see above); nothing was built"
  [[ $out == *TOOLBOX_IMAGE=* ]] || die "the offline kit printed no image variables; nothing was built"
  eval "$out"
}

# --- least privilege: each tier's docker run options (compose/*.yaml says the same) --------------------

# Every capability is dropped, and only what a tier's process uses is added back:
#   app-server, webapp (gunicorn as uid 10001 on port 3000): none.
#   web-server (nginx): CHOWN, for the master (root) to hand its temporary folders under /var/cache/nginx to the
#     workers' user, and SETGID + SETUID, for it to start the workers as that user. Port 80 needs no
#     NET_BIND_SERVICE: Docker sets net.ipv4.ip_unprivileged_port_start=0 in each container's network namespace.
#   database: none. It runs as its image's own user (uid 999), so the image's entrypoint neither chowns its
#     folders nor switches user; the secrets it reads are mode 644 (ensure_secrets).
# Every tier also gets no-new-privileges, a read-only root with tmpfs where its process writes, memory and
# pids limits, and restart unless-stopped (`docker stop` and `docker kill` leave it stopped; a crash restarts).
# shellcheck disable=SC2034  # used by the layouts' scripts (run-3tier.sh, run-webapp.sh)
APP_HARDENING=(--cap-drop ALL --security-opt no-new-privileges --read-only --tmpfs /tmp
  --memory 256m --pids-limit 128 --restart unless-stopped)
# shellcheck disable=SC2034  # used by run-3tier.sh
WEB_HARDENING=(--cap-drop ALL --cap-add CHOWN --cap-add SETGID --cap-add SETUID --security-opt no-new-privileges
  --read-only --tmpfs /run --tmpfs /var/cache/nginx --tmpfs /etc/nginx/conf.d
  --memory 128m --pids-limit 64 --restart unless-stopped)
# db_hardening ENGINE: the database's options, one per line (the socket folder is a tmpfs owned by uid 999)
db_hardening() {
  local user=mysql run=/var/run/mysqld
  [[ $1 == postgres ]] && user=postgres run=/var/run/postgresql
  printf '%s\n' --user "$user" --cap-drop ALL --security-opt no-new-privileges \
    --read-only --tmpfs "$run:uid=999,gid=999" --tmpfs /tmp --memory 1g --pids-limit 512 --restart unless-stopped
}

# --- secrets ------------------------------------------------------------------------------------------

SECRETS_DIR=$LAB_ROOT/db/secrets

# ensure_secrets: db/secrets/root_password and app_password, each generated (24 random characters) if
# missing. The folder is 0700 on every run, so other users of this machine cannot read the files; the files
# are 0644 because the database (uid 999) and the app (uid 10001) read them inside their containers.
ensure_secrets() {
  local name file pw
  mkdir -p "$SECRETS_DIR" && chmod 700 "$SECRETS_DIR"
  for name in root_password app_password; do
    file=$SECRETS_DIR/$name
    if [[ ! -s $file ]]; then
      # 512 random bytes hold ~120 letters and digits; no pipe into head, whose early exit would kill tr
      pw=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 512 /dev/urandom))
      ((${#pw} >= 24)) || die "could not generate a password from /dev/urandom"
      (umask 077 && printf '%s' "${pw:0:24}" >"$file")
      log "  generated db/secrets/$name (never committed; see db/secrets/README.md)"
    fi
    chmod 644 "$file"
  done
}

# --- bounded waits ------------------------------------------------------------------------------------

# wait_healthy NAME TIMEOUT: until the container's healthcheck says healthy, saying every 10 s how long it has
# waited; at TIMEOUT (or when it exits) it shows the container's last log lines and stops.
wait_healthy() {
  local name=$1 timeout=$2 status start=$SECONDS next=$((SECONDS + 10))
  log "  waiting for $name to be healthy (at most ${timeout}s)"
  while :; do
    status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' \
      "$name" 2>/dev/null || echo missing)
    case $status in
      healthy) log "  $name is healthy after $((SECONDS - start))s"; return 0 ;;
      exited|dead|missing|unhealthy) break ;;
    esac
    ((SECONDS - start < timeout)) || break
    if ((SECONDS >= next)); then log "  still waiting for $name ($status, $((SECONDS - start))s of at most ${timeout}s)"
      next=$((SECONDS + 10)); fi
    sleep 1
  done
  log "  $name is $status after $((SECONDS - start))s; its last log lines:"
  docker logs --tail 25 "$name" 2>&1 | sed 's/^/    | /' >&2 || true
  die "$name did not become healthy. Fix what the log above says, then run again (or --down to start over)."
}

# --- host ports ---------------------------------------------------------------------------------------

# port_busy PORT: does something on this machine already listen on 127.0.0.1:PORT?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# holds_port NAME CONTAINER_PORT HOST_PORT: NAME publishes CONTAINER_PORT on HOST_PORT, on any address. A layout
# asks this of its own container: then the port is busy because of it, and recreating it frees the port first.
holds_port() { grep -q ":$3\$" <<<"$(docker port "$1" "$2/tcp" 2>/dev/null)"; }

# require_port NAME CONTAINER_PORT HOST_PORT FIX: stop when HOST_PORT is busy, unless NAME holds it.
require_port() {
  if ! holds_port "$1" "$2" "$3" && port_busy "$3"; then
    die "port $3 is busy on this machine (something already listens there). Pick another: $4"
  fi
}

# pick_port VAR: set VAR to a port nothing listens on at 127.0.0.1 (TCP), picked at random in 20000-59999 so
# that labs running at the same time rarely pick the same one, and never one picked before in this run. (A
# VAR, not $(...): TAKEN_PORTS must be updated in this shell, not in a subshell.)
TAKEN_PORTS=" "
pick_port() {
  local candidate _
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    candidate=$((20000 + RANDOM % 40000))
    [[ $TAKEN_PORTS == *" $candidate "* ]] && continue
    port_busy "$candidate" && continue
    TAKEN_PORTS+="$candidate "
    printf -v "$1" '%s' "$candidate"; return 0
  done
  die "found no free port on 127.0.0.1 in 20 tries; free some ports and run again"
}

# toolbox NAME [docker run options...]: a throwaway container (the tutorial's `alpine sleep 1000`).
toolbox() {
  local name=$1; shift
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name "$name" ${1+"$@"} $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
}
