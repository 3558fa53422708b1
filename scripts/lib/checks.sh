# shellcheck shell=bash
# checks.sh — sourced: `check` (a PASS/FAIL line that shows its probe when it fails, or always with
# LAB_VERBOSE=1), the probes, and the checks that verify the two layouts (by hand and through compose).
[[ -z ${_LAB_LIB_CHECKS:-} ]] || return 0
_LAB_LIB_CHECKS=1
# shellcheck source=objects.sh
. "$(dirname "${BASH_SOURCE[0]}")/objects.sh"
# shellcheck source=engines.sh
. "$(dirname "${BASH_SOURCE[0]}")/engines.sh"

CHECK_FAILED=0    # counts failed checks
CHECK_COUNT=0     # counts every check: a run that checked nothing has proved nothing
PROBE=''          # the command a probe ran, as a learner would type it (set by the probe functions)
: "${LAB_VERBOSE:=0}"

# check [--hint FIX] "what should hold" CMD...: a PASS or FAIL line on stdout; a failure is counted, not fatal
# (every check runs). A FAIL shows the probe that ran, what it printed and FIX; LAB_VERBOSE=1 shows the probe
# of a PASS too.
check() {
  local hint='' what out rc=0 f
  if [[ $1 == --hint ]]; then hint=$2; shift 2; fi
  what=$1; shift
  CHECK_COUNT=$((CHECK_COUNT + 1))
  PROBE=''
  f=$(mktemp "${TMPDIR:-/tmp}/lab-check.XXXXXX")
  "$@" >"$f" 2>&1 || rc=$?
  out=$(head -c 2000 "$f"); rm -f "$f"
  [[ -n $PROBE ]] || PROBE=$(printf '%s ' "$@")
  if ((rc == 0)); then
    printf '  %sCHECK PASS%s %s\n' "$C_G" "$C_0" "$what"
    ((LAB_VERBOSE)) && printf '      %sprobe: %s%s\n' "$C_D" "$PROBE" "$C_0"
  else
    printf '  %sCHECK FAIL%s %s\n' "$C_R" "$C_0" "$what"
    printf '      probe: %s (exit %d)\n' "$PROBE" "$rc"
    [[ -z $out ]] || printf '%s\n' "$out" | sed 's/^/      | /'
    [[ -z $hint ]] || printf '      hint: %s\n' "$hint"
    CHECK_FAILED=$((CHECK_FAILED + 1))
  fi
  return 0
}
not() { ! "$@"; }
# given VALUE CMD...: VALUE (a name or address a lookup found) is not empty, and CMD holds. So a negative
# check about a container a lookup did not find fails instead of passing.
given() { [[ -n $1 ]] && "${@:2}"; }

# probe FROM CMD...: CMD run from inside FROM's network namespace with the toolbox image, so app images need
# no tools.
probe() {
  local args=(docker run --rm --network "container:$1" --label "$LAB_LABEL=probe" "$TOOLBOX_IMAGE" "${@:2}")
  PROBE=$(show_cmd "${args[@]}" | tr -d '\\\n' | tr -s ' ')
  "${args[@]}"
}
resolves() { probe "$1" getent hosts "$2"; }                        # resolves FROM NAME
port_open() { probe "$1" nc -z -w 3 "$2" "$3"; }                   # port_open FROM HOST PORT
# ip_on NAME NET: NAME's address on NET; fails (and prints nothing) when NAME is not on NET.
ip_on() {
  local ip
  ip=$(docker inspect -f "{{ with index .NetworkSettings.Networks \"$2\" }}{{ .IPAddress }}{{ end }}" "$1" 2>/dev/null)
  [[ -n $ip ]] && printf '%s\n' "$ip"
}
not_published() { PROBE="docker port $1"; [[ -z $(docker port "$1") ]] && exists container "$1"; }
# http_has URL TEXT (a here-string, not a pipe: grep -q quitting early must not fail curl under pipefail)
http_has() {
  local body
  PROBE="curl -fsS $1"
  body=$(curl -fsS --max-time 5 "$1") || return 1
  grep -q -- "$2" <<<"$body" || { printf '%s\n' "$body"; return 1; }
}
# published_on NAME CONTAINER_PORT HOST_IP HOST_PORT: the port's only binding is HOST_IP:HOST_PORT.
published_on() {
  local got
  PROBE="docker port $1 $2/tcp"
  got=$(docker port "$1" "$2/tcp") || return 1
  printf '%s\n' "$got"
  [[ $got == "$3:$4" ]]
}
# wait_http URL SECONDS: until URL answers HTTP 2xx (bounded).
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
# unreachable_ip FROM NAME NET PORT: FROM cannot open NAME's address on NET. The address is looked up first;
# no address is a failure, never a pass.
unreachable_ip() {
  local ip
  ip=$(ip_on "$2" "$3") || { PROBE="docker inspect $2 (its address on $3)"; echo "$2 has no address on $3"; return 1; }
  not port_open "$1" "$ip" "$4"
}

# confined NAME CAPS MEMORY PIDS: what the kernel applies to NAME's PID 1, read with sh and cat (every image has
# them): the capability bounding set is CAPS (a number: 0xc1 = CHOWN, SETGID, SETUID), no-new-privileges is on,
# / is mounted read-only, and the container's cgroup (v2, or v1's memory and pids controllers) allows MEMORY
# bytes and PIDS tasks.
CONFINED_SH='cat /proc/1/status /proc/1/mounts
echo "memory.max $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
echo "pids.max $(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max)"'
confined() {
  local got want
  PROBE="docker exec $1 sh -c '$CONFINED_SH'"
  got=$(docker exec "$1" sh -c "$CONFINED_SH") || return 1
  got=$(awk '$1 == "CapBnd:" || $1 == "NoNewPrivs:" || $1 == "memory.max" || $1 == "pids.max" { print $1, $2 }
    $2 == "/" && NF == 6 { split($4, o, ","); print "root", o[1] }' <<<"$got")
  want=$(printf 'CapBnd: %016x\nNoNewPrivs: 1\nroot ro\nmemory.max %s\npids.max %s' "$2" "$3" "$4")
  printf '%s\n' "$got"
  [[ $got == "$want" ]] || { printf 'expected:\n%s\n' "$want"; return 1; }
}
# restarts_unless_stopped NAME...: each one's restart policy is unless-stopped.
restarts_unless_stopped() {
  local c policy rc=0
  PROBE="docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' $*"
  for c in "$@"; do
    policy=$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$c") || return 1
    printf '%s: %s\n' "$c" "$policy"
    [[ $policy == unless-stopped ]] || rc=1
  done
  return "$rc"
}
# routes FROM: FROM's IPv4 routing table, read by the kernel's /proc/net/route from inside its namespace.
routes() {
  local table
  table=$(probe "$1" cat /proc/net/route) || return 1
  [[ $table == Iface* ]] || { printf '%s\n' "$table"; return 1; }
  printf '%s\n' "$table"
}
# has_default_route FROM / no_default_route FROM: a default route (destination 00000000) is there, or is not;
# a table that cannot be read fails both.
has_default_route() { local t; t=$(routes "$1") || return 1; awk 'NR > 1 && $2 == "00000000" { f = 1 } END { exit !f }' <<<"$t"; }
no_default_route() { local t; t=$(routes "$1") || return 1; printf '%s\n' "$t"; ! awk 'NR > 1 && $2 == "00000000" { f = 1 } END { exit !f }' <<<"$t"; }

# confinement_checks DB APP [WEB]: the CHECK lines for each tier's least privilege (scripts/lib/objects.sh
# says what each tier gets and why).
confinement_checks() {
  local db=$1 app=$2 web=${3:-}
  local hint="run it with the layout's options: docker rm -f it and run the script again"
  [[ -z $web ]] || check --hint "$hint" \
    "$web: capabilities CHOWN, SETGID, SETUID only; no-new-privileges; read-only /; 128 MiB, 64 pids" \
    confined "$web" 0xc1 134217728 64
  check --hint "$hint" "$app: no capability; no-new-privileges; read-only /; 256 MiB, 128 pids" \
    confined "$app" 0 268435456 128
  check --hint "$hint" "$db: no capability (runs as its image's user, uid 999); no-new-privileges; read-only /; 1 GiB, 512 pids" \
    confined "$db" 0 1073741824 512
  # shellcheck disable=SC2086  # web is empty or one name
  check --hint "$hint" "restart policy unless-stopped: $db $app${web:+ $web}" restarts_unless_stopped "$db" "$app" $web
}

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

# --- the layouts' checks, shared by the by-hand scripts and run-compose.sh --------------------------------

# verify_3tier PORT ENGINE BIND_IP
verify_3tier() {
  local port=$1 engine=$2 bind=$3 base="http://127.0.0.1:$1" dbp title
  dbp=$(db_port "$engine") title=$(engine_title "$engine")
  run curl -s --max-time 10 "$base/api/" >&2 && echo >&2 || true
  check --hint "see 'docker logs web-server' and 'docker logs app-server'" \
    "web-server: GET $base/api/ answers the app's JSON through nginx ('Connected to $title!')" \
    http_has "$base/api/" "\"Connected to $title!\""
  check --hint "web-server serves web/ at /: see 'docker logs web-server'" \
    "web-server: GET $base/ serves the page (web/index.html)" http_has "$base/" 'id="db-time"'
  check --hint "both must be on frontend-net: docker network connect frontend-net app-server" \
    "web-server resolves 'app-server' (both on frontend-net)" resolves web-server app-server
  check --hint "app-server listens on 3000: see 'docker logs app-server'" \
    "web-server opens app-server:3000 (frontend-net)" port_open web-server app-server 3000
  check --hint "both must be on backend-net: docker network connect backend-net app-server" \
    "app-server resolves 'database' (both on backend-net)" resolves app-server database
  check --hint "the database listens on $dbp once healthy: see 'docker logs database'" \
    "app-server opens database:$dbp (backend-net)" port_open app-server database "$dbp"
  check --hint "web-server must be on frontend-net only: docker network disconnect backend-net web-server" \
    "web-server cannot resolve 'database' (it is not on backend-net)" not resolves web-server database
  check --hint "web-server must be on frontend-net only: docker network disconnect backend-net web-server" \
    "web-server cannot open database's address on backend-net, port $dbp (no route between the networks)" \
    unreachable_ip web-server database backend-net "$dbp"
  check --hint "run web-server with -p $bind:$port:80" \
    "web-server is published on $bind:$port only" published_on web-server 80 "$bind" "$port"
  check --hint "run the database without -p" "database publishes no port on the host" not_published database
  check --hint "run app-server without -p" "app-server publishes no port on the host" not_published app-server
  check --hint "app-server must be on frontend-net: docker network connect frontend-net app-server" \
    "app-server opens web-server:80 (it reaches both sides)" port_open app-server web-server 80
  check --hint "frontend-net must not be internal: it carries app-server's default route" \
    "app-server has a default route (through frontend-net)" has_default_route app-server
  check --hint "recreate backend-net with --internal: scripts/run-3tier.sh does it" \
    "database has no default route: backend-net is internal, nothing leaves it" no_default_route database
  confinement_checks database app-server web-server
}

# verify_webapp PORT ENGINE DB_NAME
verify_webapp() {
  local port=$1 engine=$2 db=$3 base="http://127.0.0.1:$1"
  run curl -s --max-time 10 "$base/" >&2 && echo >&2 || true
  check --hint "see 'docker logs webapp'" "webapp: GET $base/ answers the JSON ('Connected to $(engine_title "$engine")!')" \
    http_has "$base/" "\"Connected to $(engine_title "$engine")!\""
  check --hint "both must be on webapp-network: docker network connect webapp-network webapp" \
    "webapp resolves '$db' by container name (webapp-network's DNS)" resolves webapp "$db"
  check --hint "see 'docker logs $db'" "webapp opens $db:$(db_port "$engine")" port_open webapp "$db" "$(db_port "$engine")"
  check --hint "run webapp with -p 127.0.0.1:$port:3000" \
    "webapp is published on 127.0.0.1:$port only" published_on webapp 3000 127.0.0.1 "$port"
  check --hint "run $db without -p" "$db publishes no port on the host" not_published "$db"
  confinement_checks "$db" webapp
}
