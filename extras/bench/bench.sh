#!/usr/bin/env bash
# bench.sh — what each tier costs, measured fairly: the tutorial's own Express app, our app directly, our app
# through nginx and the same app under Granian, every one on the layout's own Docker network with wrk in a
# container beside them; then nginx from the host through the published port (docker-proxy). For each path:
# req/s, p50 and p99, and the CPU time each tier spent per request. Prints a table and writes it as Markdown.
#
# Usage: extras/bench/bench.sh [--db mysql|postgres] [--rounds N] [--duration S] [--connections N] [--quick]
#                               [--port N] [--out FILE | --update-docs] [--replace-layout]
#
#   --db ENGINE       mysql (default: the tutorial's app.js, the peer, is MySQL only) or postgres
#   --rounds N        rounds over every path, in a rotated order, 1-9 (default 3): the medians are reported
#   --duration S      seconds of load per measurement, 1-120 (default 10; --quick: 2)
#   --connections N   concurrent connections (wrk) or clients (mysqlslap/pgbench), 1-256 (default 32)
#   --quick           short runs on the running 3-tier; no cold starts, no gunicorn alternatives: about 2 minutes
#   --port N          host port of the 3-tier's nginx (default 18180), published on 127.0.0.1
#   --out FILE        the Markdown report (default extras/bench/last-run.md, not tracked by git)
#   --update-docs     write the report to extras/bench/results.md, the committed record
#   --replace-layout  let a full run remove a 3-tier that is up, or its data volume (see below)
#   -h, --help        show this help
#
# --quick uses a 3-tier that is up as it is, with its own database and port (app-server's DB_ENGINE,
# `docker port web-server 80/tcp`): a --db or --port that differs from it stops the bench, touching nothing.
# With none up, it brings one up with scripts/run-3tier.sh and leaves it up.
# A full run (no --quick) REMOVES the 3-tier layout with its data (by hand or compose: the names are
# engine-wide), so it refuses while one is up or its data volume exists, unless --replace-layout. It times
# two cold starts from nothing to the first 200 through nginx (`docker compose up --wait` and
# scripts/run-3tier.sh), and measures gunicorn alternatives (GUNICORN_CMD_ARGS, no rebuild).
#
# The paths, each loaded by wrk in a container on the network named (no docker-proxy in the way):
#   express    backend-net   http://bench-express:3000/   the tutorial's app.js (Express + mysql2, one
#                                                          connection), built from extras/bench/express/
#   app        backend-net   http://app-server:3000/      our app alone: gunicorn + Flask (the 3-tier's own)
#   nginx      frontend-net  http://web-server:80/api/    our app through nginx (the 3-tier as it is)
#   granian    backend-net   http://bench-granian:3000/   our app under Granian, built from extras/bench/granian/
#   published  the host's    http://127.0.0.1:PORT/api/   through nginx from the host, as a browser reaches it:
#                                                          docker-proxy carries each connection (userland-proxy)
# CPU per request: each tier's cgroup CPU time (cpu.stat's usage_usec, read with docker exec) after a
# measurement minus before, divided by the requests wrk completed; docker-proxy's from /proc on this host.
# The ceiling: mysqlslap / pgbench inside the database container (no HTTP at all). The images: WRK_IMAGE,
# NODEJS_IMAGE (the peer's base) and the app's; the offline kit sets them. Everything the bench starts carries
# the lab's label (layout bench) and is removed at exit. The machine is shared: the 1-minute load average is
# recorded next to each measurement.
set -Eeuo pipefail

# shellcheck source=../../scripts/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/checks.sh"
# shellcheck source=../lib/running-3tier.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/running-3tier.sh"
# shellcheck source=../lib/wrk.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/wrk.sh"

export LAYOUT=bench             # the label of what only the bench makes (the peers, the twin, wrk)
APP_IMAGE=my-app:latest
WEB_IMAGE=lab/web-server:latest
EXPRESS_IMAGE=webapp-express:latest
GRANIAN_IMAGE=my-app-granian:latest
EXPRESS=bench-express GRANIAN=bench-granian TWIN=bench-app
# The paths: "key|network|url|containers whose CPU is counted (web app db)|name in the report".
PATHS=(
  "express|backend-net|http://bench-express:3000/|- bench-express database|the tutorial's app.js: Express + mysql2, one connection (the peer)"
  "app|backend-net|http://app-server:3000/|- app-server database|our app alone: gunicorn + Flask"
  "nginx|frontend-net|http://web-server:80/api/|web-server app-server database|our app through nginx"
  "granian|backend-net|http://bench-granian:3000/|- bench-granian database|our app under Granian (a Rust WSGI server)"
  "published|host|http://127.0.0.1:PORT/api/|web-server app-server database|through nginx from the host: 127.0.0.1:PORT, docker-proxy"
)
# The gunicorn alternatives of a full run, on the twin: "label|GUNICORN_CMD_ARGS" (empty: gunicorn.conf.py's).
TUNE_CONFIGS=(
  "2 workers x 4 threads (default)|"
  "3 workers x 4 threads|--workers 3 --threads 4"
  "2 workers x 8 threads|--workers 2 --threads 8"
  "4 workers x 2 threads|--workers 4 --threads 2"
  "2 workers x 4 threads, keepalive 2 s (gunicorn's default)|--keep-alive 2"
)


# --- options ---------------------------------------------------------------------------------------------

parse_args() {
  ENGINE='' DURATION='' CONNECTIONS=32 ROUNDS=3 QUICK=0 HOST_PORT='' REPLACE=0 OUT=$LAB_ROOT/extras/bench/last-run.md
  while (($#)); do
    case $1 in
      --duration) in_range "${2:-}" 1 120 || usage_error "--duration takes seconds from 1 to 120 (got '${2:-}')"
                  DURATION=$2; shift ;;
      --connections) in_range "${2:-}" 1 256 || usage_error "--connections takes 1 to 256 (got '${2:-}')"
                     CONNECTIONS=$2; shift ;;
      --rounds) in_range "${2:-}" 1 9 || usage_error "--rounds takes 1 to 9 (got '${2:-}')"
                ROUNDS=$2; shift ;;
      --out) [[ -n ${2:-} && -d $(dirname "$2") ]] || usage_error "--out takes a file in an existing folder (got '${2:-}')"
             OUT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
      --update-docs) OUT=$LAB_ROOT/extras/bench/results.md ;;
      --quick) QUICK=1 ;;
      --replace-layout) REPLACE=1 ;;
      --offline) usage_error "--offline does not apply: the bench uses the 3-tier's images" ;;
      *) shared_flag "$@" || usage_error "unknown option: $1"; shift $((FLAG_ARGS - 1)) ;;
    esac
    shift
  done
  [[ -n $DURATION ]] || { if ((QUICK)); then DURATION=2; else DURATION=10; fi; }
  WARMUP=$((QUICK ? 1 : 3))   # seconds of unrecorded load on each path first: connections opened, caches warm
}

in_range() { [[ $1 =~ ^[1-9][0-9]*$ ]] && (($1 >= $2 && $1 <= $3)); }

# --- small helpers -----------------------------------------------------------------------------------------

# The 1-minute load average: /proc on Linux, sysctl on macOS ("{ 1.52 1.61 1.70 }").
loadavg() { if [[ -r /proc/loadavg ]]; then cut -d' ' -f1 /proc/loadavg; else sysctl -n vm.loadavg | awk '{print $2}'; fi; }
cores() { getconf _NPROCESSORS_ONLN; }   # on Linux and macOS alike (nproc is GNU only)
now() { python3 -c 'import time; print("%.3f" % time.time())'; }   # epoch seconds (GNU date alone has %N)
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }   # calc EXPR [DECIMALS]
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1000000 }'; }
# ratio A B: A/B with 2 decimals and a ×, or n/a when either was not measured
ratio() {
  if [[ ${1:-} =~ ^[0-9.]+$ && ${2:-} =~ ^[0-9.]+$ ]] && [[ $2 != 0 ]]; then printf '%s×\n' "$(calc "$1 / $2" 2)"
  else echo n/a; fi
}

cleanup() {
  local rc=$? c
  for c in "$EXPRESS" "$GRANIAN" "$TWIN" bench-wrk; do remove_bench_container "$c"; done
  [[ -n ${WORK:-} && -d $WORK ]] && rm -rf "$WORK"
  exit "$rc"
}

remove_bench_container() {
  if exists container "$1" && [[ $(label_of container "$1") == bench ]]; then
    run docker rm -f -v "$1" >/dev/null || true
  fi
}

# --- the layout and the peers ------------------------------------------------------------------------------

# The 3-tier: the running one when it answers (main read its engine and port), none up: scripts/run-3tier.sh.
ensure_3tier() {
  local base=http://127.0.0.1:$HOST_PORT
  if ! three_tier_up; then
    run scripts/run-3tier.sh --db "$ENGINE" --port "$HOST_PORT" >&2 \
      || die "scripts/run-3tier.sh failed (its output is above); nothing measured"
  elif http_has "$base/api/" "\"Connected to $(engine_title "$ENGINE")!\"" >/dev/null 2>&1; then
    log "  the 3-tier ($ENGINE) answers on $base/api/: reusing it"
  else
    die "the 3-tier is up but $base/api/ does not answer 'Connected to $(engine_title "$ENGINE")!'; the bench measures it as it is. Repair it (scripts/run-3tier.sh --db $ENGINE --port $HOST_PORT) or take it down (scripts/run-3tier.sh --down), then run again."
  fi
}

# refuse_replacing: a full run removes the 3-tier and its data volume; only with --replace-layout.
refuse_replacing() {
  local v volumes=()
  for v in 3tier-mysql-data 3tier-postgres-data; do exists volume "$v" && volumes+=("$v"); done
  ((REPLACE)) && return 0
  if three_tier_up; then
    die "a 3-tier is up (database, app-server, web-server). A full run removes it and its data to time cold starts: measure it as it is with --quick, take it down first (scripts/run-3tier.sh --down --volumes, or scripts/run-compose.sh 3tier --down --volumes), or run again with --replace-layout to let bench.sh remove it."
  fi
  if ((${#volumes[@]})); then
    die "the 3-tier's data volume ${volumes[*]} exists. A full run deletes it to time cold starts from nothing: remove it yourself (scripts/run-3tier.sh --down --volumes), or run again with --replace-layout to let bench.sh delete it."
  fi
}

# The peers' images: built when missing, with Docker's own progress (nothing is pulled: their bases are
# NODEJS_IMAGE and the app image, both local).
ensure_peer_images() {
  if ! docker image inspect "$EXPRESS_IMAGE" >/dev/null 2>&1; then
    docker image inspect "$NODEJS_IMAGE" >/dev/null 2>&1 || ensure_image "$NODEJS_IMAGE"
    # shellcheck disable=SC2046  # build_arg is a list of words by design
    build_image docker build -t "$EXPRESS_IMAGE" $(build_arg NODEJS_IMAGE) extras/bench/express
  fi
  if ! docker image inspect "$GRANIAN_IMAGE" >/dev/null 2>&1; then
    build_image docker build -t "$GRANIAN_IMAGE" extras/bench/granian
  fi
}

# wait_answers NAME NETWORK URL SECONDS: a toolbox on NETWORK fetches URL until it answers 200, at most SECONDS.
wait_answers() {
  local deadline=$((SECONDS + $4))
  log "  waiting for $1 to answer 200 on $3 (at most $4 s)"
  until docker run --rm --network "$2" "$(labels_word)" "$TOOLBOX_IMAGE" wget -q -O /dev/null -T 2 "$3" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      docker logs --tail 25 "$1" 2>&1 | sed 's/^/    | /' >&2 || true
      die "$1 did not answer 200 on $3 within $4 s (its last log lines are above)"
    fi
    sleep 1
  done
}
labels_word() { printf -- '--label=%s=%s' "$LAB_LABEL" "$LAYOUT"; }

# The tutorial's app: the database's address by name on backend-net, the app's password read from the same
# secret file app-server reads (so no command line shows it), started as the tutorial starts it (node app.js).
start_express() {
  remove_bench_container "$EXPRESS"
  refuse_foreign container "$EXPRESS"
  # shellcheck disable=SC2046,SC2016  # labels() is a list of words; $(cat ...) is for the container's shell
  run docker run -d --name "$EXPRESS" --network backend-net \
    -e DB_HOST=database -e DB_USER=appuser \
    -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
    $(labels) "$EXPRESS_IMAGE" sh -c 'DB_PASSWORD=$(cat /run/secrets/db_app_password) exec node app.js' >/dev/null
  wait_answers "$EXPRESS" backend-net "http://$EXPRESS:3000/" 60
}

# start_app_twin NAME IMAGE [docker run options...]: the app image (or Granian's) with app-server's settings,
# on backend-net.
start_app_twin() {
  local name=$1 image=$2; shift 2
  remove_bench_container "$name"
  refuse_foreign container "$name"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name "$name" --network backend-net \
    -e DB_ENGINE="$ENGINE" -e DATABASE_HOST=database -e DB_USER=appuser -e DB_NAME=myapp \
    -e DB_PASSWORD_FILE=/run/secrets/db_app_password \
    -v ./db/secrets/app_password:/run/secrets/db_app_password:ro \
    ${1+"$@"} $(labels) "$image" >/dev/null
  wait_answers "$name" backend-net "http://$name:3000/" 60
}

# --- the measurements ----------------------------------------------------------------------------------------

# cpu_usec CONTAINER: its cgroup's CPU time so far, in microseconds (cgroup v2's cpu.stat, else v1's cpuacct).
cpu_usec() {
  local v
  v=$(docker exec "$1" cat /sys/fs/cgroup/cpu.stat 2>/dev/null | awk '$1 == "usage_usec" { print $2 }')
  [[ -n $v ]] || v=$(docker exec "$1" cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null | awk '{ printf "%.0f", $1 / 1000 }')
  [[ $v =~ ^[0-9]+$ ]] || die "could not read $1's CPU time (/sys/fs/cgroup/cpu.stat or cpuacct.usage)"
  echo "$v"
}

# proxy_usec: the CPU time (µs) of the docker-proxy processes carrying HOST_PORT, from /proc (a local Linux
# engine; Docker Desktop runs them in its VM): empty when none is visible.
proxy_usec() {
  local pids pid ticks=0 hz
  [[ -d /proc ]] || return 0
  pids=$(pgrep -f "docker-proxy.*-host-port $HOST_PORT( |$)" 2>/dev/null || true)
  [[ -n $pids ]] || return 0
  hz=$(getconf CLK_TCK)
  for pid in $pids; do
    ticks=$((ticks + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.0f", t * 1000000 / hz }'
}

# tier_usecs KEY CONTAINERS...: each one's CPU time, '-' for a tier the path has not; then docker-proxy's on
# the published path.
tier_usecs() {
  local key=$1 c out=''
  shift
  for c in "$@"; do if [[ $c == - ]]; then out+="- "; else out+="$(cpu_usec "$c") "; fi; done
  if [[ $key == published ]]; then out+=$(proxy_usec); fi
  printf '%s\n' "$out"
}

# load_path KEY NETWORK URL DURATION [OUT]: wrk in a container on NETWORK (the host's for "host"), printed.
load_path() {
  local net=$2 threads=$((CONNECTIONS < 2 ? 1 : 2))
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run --rm --network "$net" $(labels) "$WRK_IMAGE" \
    -t "$threads" -c "$CONNECTIONS" -d "$4s" --timeout 5s --latency "$3"
}

# measure KEY NETWORK URL ROUND CONTAINERS...: one recorded run, as a line of results.tsv.
measure() {
  local key=$1 net=$2 url=$3 round=$4 out=$WORK/wrk-$1-$4.txt before after load i cpu=() w a
  shift 4
  load=$(loadavg)
  read -r -a before <<<"$(tier_usecs "$key" "$@")"
  load_path "$key" "$net" "$url" "$DURATION" >"$out" 2>&1 || { sed 's/^/    | /' "$out" >&2; die "wrk failed against $url"; }
  read -r -a after <<<"$(tier_usecs "$key" "$@")"
  wrk_read "$out" || { sed 's/^/    | /' "$out" >&2; die "wrk printed no report for $url"; }
  ((W_REQS > 0)) || die "wrk completed no request against $url"
  for i in 0 1 2 3; do
    w=${before[i]:-} a=${after[i]:-}
    if [[ $w =~ ^[0-9]+$ && $a =~ ^[0-9]+$ ]]; then cpu+=("$(calc "($a - $w) / $W_REQS" 0)"); else cpu+=("-"); fi
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$round" "$W_RPS" "$W_P50" "$W_P99" \
    "$W_REQS" "$W_NON2XX" "$W_ERRS" "$load" "${cpu[0]}" "${cpu[1]}" "${cpu[2]}" "${cpu[3]}" >>"$WORK/results.tsv"
  log "    -> $W_RPS req/s, p50 $W_P50 ms, p99 $W_P99 ms, non-2xx $W_NON2XX, socket errors $W_ERRS; CPU µs/request: web ${cpu[0]}, app ${cpu[1]}, db ${cpu[2]}${cpu[3]:+, docker-proxy ${cpu[3]}} (load $load)"
  ((W_NON2XX == 0 && W_ERRS == 0)) || warn "$key: $W_NON2XX non-2xx answers and $W_ERRS socket errors: this path is not healthy"
}

# path_field ENTRY N: field N of a PATHS entry, with PORT filled in.
path_field() { local f; f=$(printf '%s\n' "$1" | cut -d'|' -f"$2"); printf '%s\n' "${f//PORT/$HOST_PORT}"; }

# measure_paths: a warm-up on each path, then ROUNDS rounds over all of them, each round starting one path
# later than the last (so no path always runs first, or always right after the same one).
measure_paths() {
  local n=${#PATHS[@]} r i entry key net url
  step "2. 부하 / load: ${CONNECTIONS} connections, ${DURATION}s a run, ${ROUNDS} rounds over ${n} paths (after ${WARMUP}s unrecorded on each)"
  for entry in "${PATHS[@]}"; do
    key=$(path_field "$entry" 1)
    path_runs "$key" || continue
    log "  warm-up: $key"
    load_path "$key" "$(path_field "$entry" 2)" "$(path_field "$entry" 3)" "$WARMUP" >/dev/null 2>&1 || true
  done
  for ((r = 1; r <= ROUNDS; r++)); do
    log "  round $r of $ROUNDS"
    for ((i = 0; i < n; i++)); do
      entry=${PATHS[$(((i + r - 1) % n))]}
      key=$(path_field "$entry" 1) net=$(path_field "$entry" 2) url=$(path_field "$entry" 3)
      path_runs "$key" || continue
      log "  $key: $(path_field "$entry" 5)"
      # shellcheck disable=SC2046  # the containers are a list of words
      measure "$key" "$net" "$url" "$r" $(path_field "$entry" 4)
    done
  done
}

# path_runs KEY: whether the path is measured in this run (the tutorial's app is MySQL only).
path_runs() { [[ $1 != express || $ENGINE == mysql ]]; }

# The database's own rate: a native client inside the database container, the app's account, over TCP.
measure_ceiling() {
  step "3. 천장 / ceiling: SELECT NOW() from a native client inside the database container"
  CEILING_LOAD=$(loadavg)
  if [[ $ENGINE == mysql ]]; then ceiling_mysql; else ceiling_postgres; fi
  log "    -> $CEILING queries/s (load $CEILING_LOAD)"
}

# mysqlslap runs a number of queries, not a duration: a short calibration sizes the run to DURATION.
ceiling_mysql() {
  local queries
  mysqlslap_rate $((CONNECTIONS * 200))
  queries=$(calc "$SLAP_RATE * $DURATION" 0)
  ((queries <= 20000000)) || queries=20000000
  mysqlslap_rate "$queries"
  CEILING=$SLAP_RATE
  CEILING_TOOL="mysqlslap --concurrency=$CONNECTIONS --number-of-queries=$queries"
}

# mysqlslap_rate TOTAL_QUERIES: sets SLAP_RATE (queries per second). The password is read from the secret
# file inside the container, so no command line shows it.
mysqlslap_rate() {
  # shellcheck disable=SC2016  # $(cat ...) and $1/$2 are for the container's shell
  run_capture docker exec database sh -c 'MYSQL_PWD=$(cat /run/secrets/db_app_password) exec mysqlslap \
    -h 127.0.0.1 -u appuser --create-schema=myapp --query="SELECT NOW()" \
    --concurrency="$1" --iterations=1 --number-of-queries="$2"' sh "$CONNECTIONS" "$1"
  ((RUN_RC == 0)) || die "mysqlslap failed (see above)"
  SLAP_RATE=$(awk -v q="$1" '/Average number of seconds/ { s = $(NF - 1) }
                             END { if (s > 0) printf "%.0f", q / s; else print "n/a" }' <<<"$RUN_OUT")
  [[ $SLAP_RATE != n/a ]] || die "mysqlslap printed no timing (see above)"
}

ceiling_postgres() {
  # shellcheck disable=SC2016  # the variables are for the container's shell
  run_capture docker exec database sh -c 'echo "SELECT NOW();" >/tmp/bench-now.sql
    PGPASSWORD=$(cat /run/secrets/db_app_password) exec "$(command -v pgbench || echo /usr/lib/postgresql/17/bin/pgbench)" \
      -n -f /tmp/bench-now.sql -c "$1" -j 2 -T "$2" -h 127.0.0.1 -U appuser myapp' sh "$CONNECTIONS" "$DURATION"
  ((RUN_RC == 0)) || die "pgbench failed (see above)"
  CEILING=$(awk '/^tps = / { printf "%.0f", $3 }' <<<"$RUN_OUT")
  CEILING_TOOL="pgbench -n -f (SELECT NOW();) -c $CONNECTIONS -j 2 -T $DURATION"
}

# cold_start KEY CMD...: runs CMD in the background and times nothing -> the first 200 through nginx.
cold_start() {
  local key=$1 start pid rc=0 url=http://127.0.0.1:$HOST_PORT/api/ secs='' load; shift
  load=$(loadavg)
  start=$(now)
  run "$@" >"$WORK/cold-$key.log" 2>&1 &
  pid=$!
  CMD_NO=$((CMD_NO + 1))   # run's numbering happened in the background subshell
  for _ in $(seq 1 1200); do   # 0.25 s steps: at most 300 s
    if curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; then secs=$(since "$start"); break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  wait "$pid" || rc=$?
  if ((rc)) || [[ -z $secs ]]; then
    sed 's/^/    | /' "$WORK/cold-$key.log" | tail -n 30 >&2
    die "$* did not come up (exit $rc); its last lines are above"
  fi
  printf '%s\t%s\t%s\n' "$key" "$secs" "$load" >>"$WORK/cold.tsv"
  log "    -> first 200 through nginx after $secs s (load $load)"
}

cold_starts() {
  step "1. 콜드 스타트 / cold starts: nothing (images built) -> the first 200 through nginx"
  log "  removing the 3-tier layout and its data first (by hand and compose)"
  run scripts/run-3tier.sh --down --volumes >&2
  run scripts/run-compose.sh 3tier --down --volumes >&2
  cold_start compose scripts/run-compose.sh 3tier --db "$ENGINE" --port "$HOST_PORT"
  run scripts/run-compose.sh 3tier --down --volumes >&2
  cold_start by_hand scripts/run-3tier.sh --db "$ENGINE" --port "$HOST_PORT"
}

# tune: the gunicorn alternatives on the twin (the app image, app-server's settings, GUNICORN_CMD_ARGS),
# loaded directly on backend-net, in two rounds.
tune() {
  step "5. 튜닝 / tuning: gunicorn alternatives, the app alone on backend-net (GUNICORN_CMD_ARGS, same image)"
  local r i entry label args
  for ((r = 1; r <= 2; r++)); do
    for ((i = 0; i < ${#TUNE_CONFIGS[@]}; i++)); do
      entry=${TUNE_CONFIGS[$i]} label=${entry%%|*} args=${entry#*|}
      log "  round $r: $label${args:+ ($args)}"
      if [[ -n $args ]]; then start_app_twin "$TWIN" "$APP_IMAGE" -e "GUNICORN_CMD_ARGS=$args"
      else start_app_twin "$TWIN" "$APP_IMAGE"; fi
      load_path "tune$i" backend-net "http://$TWIN:3000/" "$WARMUP" >/dev/null 2>&1 || true
      measure "tune$i" backend-net "http://$TWIN:3000/" "$r" - "$TWIN" database
    done
  done
  remove_bench_container "$TWIN"
}

# --- the report ----------------------------------------------------------------------------------------------

# results.tsv, a line per run: key, round, req/s, p50, p99, requests, non-2xx, socket errors, load average, then
# CPU µs per request of web, app, db and docker-proxy ('-' where the path has none).
# median KEY COLUMN: the median of a column (3 req/s ... 13 docker-proxy) of KEY's rows; — for none.
median() {
  awk -F'\t' -v k="$1" -v c="$2" '$1 == k && $c != "-" && $c != "" { print $c }' "$WORK/results.tsv" | sort -n \
    | awk '{ v[NR] = $1; if ($1 ~ /\./) decimals = 1 } END { if (NR == 0) { print "—"; exit }
             m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
             if (decimals) printf "%.2f\n", m; else printf "%.0f\n", m }'
}
# range KEY COLUMN: "min – max" of a column over the rounds
range() {
  awk -F'\t' -v k="$1" -v c="$2" '$1 == k && $c != "-" { if (n++ == 0 || $c < lo) lo = $c; if ($c > hi) hi = $c }
    END { if (n) printf "%s – %s\n", lo, hi; else print "—" }' "$WORK/results.tsv"
}
sum_col() { awk -F'\t' -v k="$1" -v c="$2" '$1 == k { s += $c } END { print s + 0 }' "$WORK/results.tsv"; }

path_row() {  # path_row KEY NAME: the medians; "sum" adds the tiers' medians
  local web app db
  web=$(median "$1" 10) app=$(median "$1" 11) db=$(median "$1" 12)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$(median "$1" 3)" "$(range "$1" 3)" \
    "$(median "$1" 4)" "$(median "$1" 5)" "$web" "$app" "$db" \
    "$(awk -v w="$web" -v a="$app" -v d="$db" 'BEGIN { printf "%.0f", (w == "—" ? 0 : w) + a + d }')" \
    "$(($(sum_col "$1" 7) + $(sum_col "$1" 8)))"
}

image_size() { docker image inspect -f '{{.Size}}' "$1" 2>/dev/null || echo 0; }

versions() {
  local db
  if [[ $ENGINE == mysql ]]; then db=$(docker exec database mysqld --version 2>/dev/null | awk '{print $3}')
  else db=$(docker exec database postgres --version 2>/dev/null | awk '{print $3}'); fi
  printf -- '- Docker Engine %s; %s %s (%s)\n' "$(docker version -f '{{.Server.Version}}')" \
    "$(engine_title "$ENGINE")" "${db:-?}" "$(db_image "$ENGINE")"
  printf -- '- app: %s, %s (%s on %s); Granian %s\n' "$(docker exec app-server python --version 2>/dev/null)" \
    "$(docker exec app-server gunicorn --version 2>/dev/null)" "$APP_IMAGE" "$PYTHON_IMAGE" "${GRANIAN_VERSION:-—}"
  printf -- '- web: %s (%s on %s)\n' "$(docker exec web-server nginx -v 2>&1 | sed 's/^nginx version: //')" \
    "$WEB_IMAGE" "$NGINX_IMAGE"
  printf -- '- the peer: %s (%s on %s)\n' "${EXPRESS_VERSIONS:-not run}" "$EXPRESS_IMAGE" "$NODEJS_IMAGE"
  printf -- '- load generator: %s in a container (%s)\n' "$(docker run --rm "$WRK_IMAGE" -v 2>&1 | awk 'NR == 1 {print $1, $2}')" "$WRK_IMAGE"
}

report() {
  local title m_express m_app m_nginx m_granian m_pub
  title=$(engine_title "$ENGINE")
  m_express=$(median express 3) m_app=$(median app 3) m_nginx=$(median nginx 3) m_granian=$(median granian 3)
  m_pub=$(median published 3)
  cat <<EOF
# Benchmarks

Generated by \`extras/bench/bench.sh$( ((QUICK)) && printf ' --quick')\` — do not edit by hand; run it again.

- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(cores) cores, load average (1 min) at the start ${START_LOAD}, at the end $(loadavg)
$(versions)
- method: ${ROUNDS} rounds over the paths in a rotated order, ${DURATION} s a run after ${WARMUP} s unrecorded on each
  path, ${CONNECTIONS} connections (wrk -t2); every path but the last on the layout's own network, wrk in a container
  beside it; the medians of the rounds, and the range of req/s

## Paths ($title): medians of ${ROUNDS} rounds

CPU µs/request: the CPU time each tier's container spent during a run (its cgroup's cpu.stat), divided by the
requests wrk completed. "db" is the database's share; "sum" adds the tiers' medians (not wrk's, not
docker-proxy's). "failed": non-2xx answers and socket errors over all rounds.

| path | req/s | req/s range | p50 ms | p99 ms | CPU µs/req web | app | db | sum | failed |
|---|---|---|---|---|---|---|---|---|---|
$(path_row express "the tutorial's app.js (Express + mysql2, one connection): the peer, direct")
$(path_row app "our app alone (gunicorn + Flask), direct")
$(path_row nginx "our app through nginx (web-server → app-server)")
$(path_row granian "our app under Granian, direct (a peer row: gunicorn stays the app's server)")
$(path_row published "through nginx from the host, 127.0.0.1:$HOST_PORT (docker-proxy)")

- our app through nginx / the peer direct: **$(ratio "$m_nginx" "$m_express")** (goal ≥ 0.6×); p99 $(median nginx 5) ms against the peer's $(median express 5) ms: $(ratio "$(median nginx 5)" "$(median express 5)") (goal ≤ 2×)
- our app alone / the peer: **$(ratio "$m_app" "$m_express")** (goal ≥ 0.85×)
- Granian / the peer: $(ratio "$m_granian" "$m_express"); Granian / gunicorn, the same app: $(ratio "$m_granian" "$m_app")
- through nginx / our app alone: $(ratio "$m_nginx" "$m_app")
- CPU per request, nginx + app (the nginx path's web + app): $(calc "$(median nginx 10) + $(median nginx 11)" 0) µs (goal ≤ 600 µs)
- the database's own \`SELECT NOW()\`: ${CEILING:-—} queries/s (${CEILING_TOOL:-—}, inside its container, load ${CEILING_LOAD:-—}); our app alone reaches $(ratio "$m_app" "${CEILING:-}") of it

## The published port: what docker-proxy costs

Through nginx on the network: $m_nginx req/s; through 127.0.0.1:$HOST_PORT on the host: $m_pub req/s
($(ratio "$m_pub" "$m_nginx")). docker-proxy, the engine's userland proxy, accepts each connection on the host's
loopback and copies every byte to web-server and back: $(median published 13) µs of its own CPU per request
(${PROXY_NOTE}). With \`"userland-proxy": false\` in daemon.json the kernel's NAT carries 127.0.0.1 instead
(iptables DNAT and route_localnet), with no process in the path.
$(chart_section)
$(gap_section)
$(rounds_section)
$(tuning_section)
$(decision_section)
$(cold_section)

## Image sizes (each tier against its base)

| tier | image | MB | base | base MB | added MB |
|---|---|---|---|---|---|
$(size_row web-server "$WEB_IMAGE" "$NGINX_IMAGE")
$(size_row app-server "$APP_IMAGE" "$PYTHON_IMAGE")
$(size_row database "$(db_image "$ENGINE")" "$(db_image "$ENGINE")")
$(size_row "the peer" "$EXPRESS_IMAGE" "$NODEJS_IMAGE")
$(size_row "Granian" "$GRANIAN_IMAGE" "$APP_IMAGE")
EOF
}

size_row() {
  local s b
  s=$(image_size "$2") b=$(image_size "$3")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(mb "$s")" "$3" "$(mb "$b")" "$(mb $((s - b)))"
}

# The medians as mermaid charts (GitHub draws them): req/s, and CPU per request summed over the tiers.
chart_section() {
  local keys="express app nginx granian published" k names='' rps='' cpus='' top=0 ctop=0 v
  for k in $keys; do
    path_runs "$k" || continue
    v=$(median "$k" 3)
    names+="${names:+, }\"$(short_name "$k")\"" rps+="${rps:+, }$v"
    cpus+="${cpus:+, }$(awk -v w="$(median "$k" 10)" -v a="$(median "$k" 11)" -v d="$(median "$k" 12)" \
      'BEGIN { printf "%.0f", (w == "—" ? 0 : w) + a + d }')"
    top=$(awk -v t="$top" -v v="$v" 'BEGIN { print (v + 0 > t + 0) ? v + 0 : t }')
    ctop=$(awk -v t="$ctop" -v c="${cpus##*, }" 'BEGIN { print (c + 0 > t + 0) ? c + 0 : t }')
  done
  printf '\n## In pictures\n\n```mermaid\nxychart-beta\n  title "req/s, median of %s rounds (%s, %s connections)"\n' "$ROUNDS" \
    "$(engine_title "$ENGINE")" "$CONNECTIONS"
  printf '  x-axis [%s]\n  y-axis "requests per second" 0 --> %s\n  bar [%s]\n```\n\n' "$names" \
    "$(awk -v t="$top" 'BEGIN { printf "%d", (int(t / 1000) + 1) * 1000 }')" "$rps"
  printf '```mermaid\nxychart-beta\n  title "CPU per request, all tiers (µs, median)"\n'
  printf '  x-axis [%s]\n  y-axis "µs of CPU per request" 0 --> %s\n  bar [%s]\n```\n' "$names" \
    "$(awk -v t="$ctop" 'BEGIN { printf "%d", (int(t / 200) + 1) * 200 }')" "$cpus"
}

short_name() {
  case $1 in
    express) echo "Express (peer)" ;; app) echo "app alone" ;; nginx) echo "via nginx" ;;
    granian) echo "Granian" ;; published) echo "127.0.0.1 port" ;;
  esac
}

# What closing on the peer would take, from this run's CPU figures.
gap_section() {
  [[ $ENGINE == mysql ]] || return 0
  local rate web app db appc peer_app peer_db gran_app need
  rate=$(median express 3) web=$(median nginx 10) app=$(median nginx 11) db=$(median nginx 12)
  appc=$(median app 11) peer_app=$(median express 11) peer_db=$(median express 12) gran_app=$(median granian 11)
  need=$(calc "$rate * ($web + $app + $db) / 1000000" 1)
  cat <<EOF

## What ≥ 1.0× through nginx would take

- The peer answers with ${peer_app} µs of CPU per request in its app tier and ${peer_db} µs in the database. Through
  nginx ours takes ${web} µs in nginx, ${app} µs in the app and ${db} µs in the database. At the peer's
  ${rate} req/s our three tiers would need **${need} cores** of CPU; this machine has $(cores), shared with wrk.
- nginx is not the gap: its ${web} µs is a fraction of the app's, and through nginx our app serves
  $(ratio "$(median nginx 3)" "$(median app 3)") of what it serves alone. The app tier is: ${appc} µs per request alone against the peer's
  ${peer_app} µs.
- **The Granian row** serves the same Flask app, the same pymysql code, with ${gran_app} µs in its app tier:
  $(ratio "$(median granian 3)" "$rate") of the peer, $(ratio "$(median granian 3)" "$(median app 3)") of gunicorn. The server's own request handling (HTTP parsing,
  the thread pool, the event loop) is that difference; what is left is Flask's request handling and
  pymysql's protocol code in Python, which no server swap removes. Reaching 1.0× would take both: a
  server like Granian and an app tier near the peer's ${peer_app} µs (Express and mysql2 run on V8's JIT).
EOF
}

rounds_section() {
  printf '\n## Every run\n\n'
  printf '| path | round | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | load (1 min) | CPU µs/req web | app | db | docker-proxy |\n'
  printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
  awk -F'\t' '$1 !~ /^tune/ { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, ($13 == "-" ? "" : $13) }' "$WORK/results.tsv"
}

tuning_section() {
  ((QUICK)) && return 0
  local i entry args
  printf '\n## gunicorn alternatives (the app alone on backend-net, %s; medians of 2 rounds)\n\n' "$(engine_title "$ENGINE")"
  printf '| configuration | GUNICORN_CMD_ARGS | req/s | req/s range | p50 ms | p99 ms | CPU µs/req app | db |\n'
  printf '|---|---|---|---|---|---|---|---|\n'
  for ((i = 0; i < ${#TUNE_CONFIGS[@]}; i++)); do
    entry=${TUNE_CONFIGS[$i]} args=${TUNE_CONFIGS[$i]#*|}
    printf '| %s | `%s` | %s | %s | %s | %s | %s | %s |\n' "${entry%%|*}" "${args:-(none)}" "$(median "tune$i" 3)" \
      "$(range "tune$i" 3)" "$(median "tune$i" 4)" "$(median "tune$i" 5)" "$(median "tune$i" 11)" "$(median "tune$i" 12)"
  done
}

# The decisions taken from these numbers, and the history of the ones measured by hand.
decision_section() {
  ((QUICK)) && return 0
  cat <<'EOF'

## Tuning decisions

- **nginx keeps its connections to the app** (`nginx/templates/default.conf.template`: an `upstream` with
  `zone`, `server app-server:3000 resolve`, `keepalive 16`, `keepalive_timeout 15s`). Without it, nginx opened a
  TCP connection to gunicorn per request and served about half of what the app serves alone; with it, most
  of it ("through nginx / our app alone" above). It loses no request in Swarm's rolling update because a stopping task
  drains first: it has left Docker's DNS, nginx re-resolves every 2 s there, and gunicorn serves on for
  `DRAIN_SECONDS=5` before its graceful stop (`extras/swarm/run-swarm.sh --update`: 5 runs in a row, 0 failed
  of 63,888 to 73,934 requests each at 1,358 to 1,564 req/s; with `DRAIN_SECONDS=0`, 1 of 2 runs lost one).
- **gunicorn keepalive 20 s**, above nginx's upstream `keepalive_timeout` (15 s): nginx, not gunicorn, closes an
  idle connection, so nginx never writes a request into a connection gunicorn is closing. gunicorn's own
  default (2 s) is in the table above as the last row: on the direct path wrk keeps its connections busy, so
  it costs nothing there; behind nginx it would race.
- **gunicorn 2 workers × 4 threads kept**: the alternatives above stay within the noise of one another on 2
  cores, where the app tier already takes most of a core and a half.
- **nginx's access log is buffered** (`buffer=4k flush=1s`): one write per batch of lines instead of one per
  request; 4 KiB keeps each write atomic on the pipe `docker logs` reads.
- **TLS to MySQL stays on.** PyMySQL negotiates TLS when the server offers it (MySQL does by default); the
  peer's mysql2 does not. Measured by hand (2 A/B pairs, 8 s each): TLS costs about 30 µs per request in
  the app and 15 µs in the database; the data never leaves backend-net, but encryption by default is kept.
- Earlier (A/B by hand on 2026-11-29): no ping per borrowed connection (the kernel is asked whether the
  idle socket was closed) and no gunicorn access log: together +59 % for the app alone.
EOF
}

cold_section() {
  [[ -s $WORK/cold.tsv ]] || return 0
  printf '\n## Cold start: nothing (images built, no volume) → the first 200 through nginx\n\n'
  printf '| how | seconds | load (1 min) |\n|---|---|---|\n'
  awk -F'\t' '{ how = ($1 == "compose") ? "`docker compose up --wait` (scripts/run-compose.sh 3tier)" : "by hand (scripts/run-3tier.sh)"
                printf "| %s | %s | %s |\n", how, $2, $3 }' "$WORK/cold.tsv"
  printf '\nMost of it is the database initialising an empty data directory; both paths wait for healthchecks.\n'
}

main() {
  parse_args "$@"
  require_engine
  cd "$LAB_ROOT"
  if ((QUICK)); then use_running_3tier extras/bench/bench.sh || true; else refuse_replacing; fi
  ENGINE=${ENGINE:-mysql} HOST_PORT=${HOST_PORT:-18180}
  : "${NODEJS_IMAGE:=$(official_image NODEJS_IMAGE)}"
  ensure_wrk
  local c
  for c in "$EXPRESS" "$GRANIAN" "$TWIN"; do refuse_foreign container "$c"; done
  WORK=$(mktemp -d)
  : >"$WORK/results.tsv"
  trap cleanup EXIT
  START_LOAD=$(loadavg)
  log "bench: $ENGINE, $CONNECTIONS connections, ${DURATION}s a run, $ROUNDS rounds$( ((QUICK)) && printf ', quick'); load average $START_LOAD on $(cores) cores"
  if ((QUICK)); then step "1. 3-tier (reused when it answers)"; ensure_3tier; else cold_starts; fi
  step "1b. the peers: the tutorial's app.js and our app under Granian, on backend-net beside app-server"
  ensure_peer_images
  if [[ $ENGINE == mysql ]]; then
    start_express
    EXPRESS_VERSIONS=$(docker exec "$EXPRESS" node -p "'node ' + process.version + ', express ' + require('express/package.json').version + ', mysql2 ' + require('mysql2/package.json').version")
  else
    log "  the tutorial's app.js is MySQL only: its path is skipped with --db postgres"
  fi
  start_app_twin "$GRANIAN" "$GRANIAN_IMAGE"
  GRANIAN_VERSION=$(docker exec "$GRANIAN" granian --version 2>/dev/null | awk '{ print $NF }')
  if [[ -n $(proxy_usec) ]]; then PROXY_NOTE="read from /proc on this host"
  else PROXY_NOTE="no docker-proxy process visible for port $HOST_PORT on this host: an engine in a VM (Docker Desktop), or userland-proxy off"; fi
  measure_paths
  measure_ceiling
  ((QUICK)) || tune
  report >"$WORK/report.md"
  cp "$WORK/report.md" "$OUT"
  step "결과 / results (also in ${OUT#"$LAB_ROOT"/})"
  cat "$WORK/report.md"
}

main "$@"
