#!/usr/bin/env bash
# drill.sh — fault drills on the 3-tier layout: break one tier on purpose while requests keep coming, measure
# what a user would have seen, and check that the layout heals as it is designed to.
#
# Usage: extras/drills/drill.sh db-restart|db-freeze|app-recreate|db-late|worker-kill|slow-clients|all [--db ENGINE] [--port N]
#
#   db-restart    `docker restart database` under a steady load: how long requests fail, and none fails
#                 once the database is back (the app replaces its broken connections; it is not restarted)
#   db-freeze     `docker pause database` for 12 s under a light load: every request is answered (HTTP 500
#                 with the reason) within the app's query deadline + 1 s, and none fails 2 s after the unpause
#   app-recreate  app-server removed and created again with a new IP address: nginx finds it again once its
#                 DNS answer expires (valid=10s, + 2 s), without a restart or a reload
#   db-late       app-server started 30 s before the database: it waits, not ready (/readyz 503) but alive
#                 (no crash loop), and turns ready by itself when the database comes
#   worker-kill   `kill -9` on one gunicorn worker under load: the master starts a new one, requests go on
#   slow-clients  32 connections that send a request line and then nothing: straight to gunicorn (as the webapp
#                 layout publishes it) health probes time out; through nginx every probe answers, and nginx
#                 closes the slow connections after its client_header_timeout
#   all           the six, in this order
#
#   --db ENGINE   the 3-tier's database when none is up: mysql (default) or postgres
#   --port N      host port of web-server when none is up (default 18280), published on 127.0.0.1 only
#   -h, --help    show this help
#
# A 3-tier that is up (scripts/run-3tier.sh) is used as it is, with its own database and port (app-server's
# DB_ENGINE, `docker port web-server 80/tcp`); a --db or --port that differs from it, a compose-made or an
# unhealthy one stops the drills with the ways out, before anything is touched. With none up, the drills
# bring one up with scripts/run-3tier.sh. It is left up and healthy afterwards; remove it with
# scripts/run-3tier.sh --down. The load is extras/drills/steady_load.py: 20
# requests a second to http://127.0.0.1:PORT/api/, each with a 2 s timeout. Exit 0 only if every check holds.
set -Eeuo pipefail

# shellcheck source=../../scripts/run-3tier.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/run-3tier.sh"   # its tiers: start_database, start_app
# shellcheck source=../lib/running-3tier.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/running-3tier.sh"

export LAYOUT=drill        # the label of what only the drills make (the placeholder); the 3-tier keeps its own
PLACEHOLDER=drill-placeholder
DRILLS=(db-restart db-freeze app-recreate db-late worker-kill slow-clients)
RATE=20                    # requests a second
REQ_TIMEOUT=2              # seconds per request
LATE=30                    # db-late: seconds the database comes after the app
OK_RUN=12                  # app-recreate: this many 200s in a row from the new address = "answers again"
RESULTS=()                 # one line per drill, printed at the end
PLACEHOLDERS=()            # app-recreate's placeholder containers (removed at the end, even on failure)
QUERY_TIMEOUT=5            # app_server/db.py's deadline on a request's database work
FREEZE=12                  # db-freeze: seconds the database stays paused
# db-freeze: requests a second. While the database is frozen each of gunicorn's 8 threads (2 workers x 4) is
# held up to QUERY_TIMEOUT: at most 8 / 5 = 1.6 answers a second. A faster load queues in front of them, and
# the queue, not the deadline, then sets how long a request waits.
FREEZE_RATE=1
FROZEN=0                   # 1 while db-freeze has the database paused (cleanup unpauses it)
SLOW_BOX=drill-slow-clients  # slow-clients: the toolbox container the slow clients and the probes run in
SLOW=32                    # slow-clients: connections that send a request line and then nothing (4 x 8 threads)
PROBES=15                  # slow-clients: health probes per phase, one after another, REQ_TIMEOUT s each
SLOW_MADE=0                # 1 once slow-clients made its toolbox (cleanup removes it)


parse_args() {
  ENGINE='' HOST_PORT='' SELECTED=()   # '' = not given: the running 3-tier's, else the defaults (main)
  case ${1:-} in
    -h|--help) usage; exit 0 ;;
    all) SELECTED=("${DRILLS[@]}") ;;
    db-restart|db-freeze|app-recreate|db-late|worker-kill|slow-clients) SELECTED=("$1") ;;
    '') usage_error "name a drill: ${DRILLS[*]} or all" ;;
    *) usage_error "unknown drill: $1 (the drills: ${DRILLS[*]}, all)" ;;
  esac
  shift
  while (($#)); do
    case $1 in
      --offline) usage_error "--offline does not apply: the drills use the running 3-tier's images" ;;
      *) shared_flag "$@" || usage_error "unknown option: $1"; shift $((FLAG_ARGS - 1)) ;;
    esac
    shift
  done
}

# --- time and small helpers ----------------------------------------------------------------------------

now() { python3 -c 'import time; print("%.3f" % time.time())'; }   # epoch seconds, as steady_load.py writes
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }   # calc EXPR [DECIMALS]
since() { calc "$(now) - $1"; }                           # since T: seconds from T to now
started_at() { docker inspect -f '{{.State.StartedAt}}' "$1"; }
restart_count() { docker inspect -f '{{.RestartCount}}' "$1"; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null; }
is_healthy() { [[ $(health "$1") == healthy ]]; }
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time "$REQ_TIMEOUT" "$1" || true; }

# same_run NAME STARTED_AT RESTART_COUNT: the container was neither restarted nor recreated since.
same_run() {
  [[ $(started_at "$1") == "$2" && $(restart_count "$1") == "$3" && $(docker inspect -f '{{.State.Running}}' "$1") == true ]]
}

# announce CMD...: number and print a command the drill repeats quietly (a poll), as `run` would print it.
announce() { print_cmd "$@"; }

# app_get PATH: "STATUS BODY" of GET http://127.0.0.1:3000PATH from inside app-server (the app image has
# python but no curl); nothing when the container or gunicorn is not there yet. announce_app_get PATH
# prints the command once, numbered, before a poll repeats it quietly.
APP_GET_PY='import http.client as h, sys; c = h.HTTPConnection("127.0.0.1", 3000, timeout=10); c.request("GET", sys.argv[1]); r = c.getresponse(); print(r.status, r.read().decode())'
app_get() { docker exec app-server python -c "$APP_GET_PY" "$1" 2>/dev/null || true; }
announce_app_get() { announce docker exec app-server python -c "$APP_GET_PY" "$1"; }

# wait_for SECONDS CMD...: until CMD succeeds, every 0.25 s; bounded.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# --- the 3-tier: up before, healthy after ---------------------------------------------------------------

# ensure_3tier: the running 3-tier (main read its database and port) when it is healthy and answers; none
# up: scripts/run-3tier.sh brings one up; one up but not well: stop, touching nothing.
ensure_3tier() {
  if ! three_tier_up; then
    run scripts/run-3tier.sh --db "$ENGINE" --port "$HOST_PORT" >&2 \
      || die "scripts/run-3tier.sh failed (its output is above); no drill ran"
    return 0
  fi
  if is_healthy database && is_healthy app-server && is_healthy web-server \
    && http_has "$BASE/api/" "\"Connected to $(engine_title "$ENGINE")!\"" 2>/dev/null; then
    log "  the 3-tier ($ENGINE) is up and answers on $BASE/api/: reusing it"
    return 0
  fi
  die "the 3-tier is up but not healthy or not answering on $BASE/api/ (database $(health database), app-server $(health app-server), web-server $(health web-server)); the drills need it well. Repair it (scripts/run-3tier.sh --db $ENGINE --port $HOST_PORT) or take it down (scripts/run-3tier.sh --down), then run again."
}

all_healthy_and_answering() {
  local deadline=$((SECONDS + 60)) c
  for c in database app-server web-server; do
    until is_healthy "$c"; do ((SECONDS < deadline)) || return 1; sleep 1; done
  done
  [[ $(http_status "$BASE/api/") == 200 ]]
}

# settled DRILL: the check every drill ends with — the layout is as the drill found it.
settled() {
  check "$1: the 3-tier is healthy again (database, app-server, web-server healthy; $BASE/api/ answers 200)" \
    all_healthy_and_answering
}

# --- the load -------------------------------------------------------------------------------------------

# start_load NAME [RATE TIMEOUT]: the load in the background (RATE requests a second, TIMEOUT s each).
start_load() {
  local rate=${2:-$RATE} timeout=${3:-$REQ_TIMEOUT}
  LOAD_FILE=$WORK/$1.tsv
  log "  load: $rate requests a second to $BASE/api/, ${timeout} s timeout each, one line per request"
  local cmd=(python3 "$LAB_ROOT/extras/drills/steady_load.py" "$BASE/api/" --rate "$rate" --timeout "$timeout"
             --out "$LOAD_FILE")
  announce "${cmd[@]}"
  "${cmd[@]}" 2>"$WORK/$1.err" &
  LOAD_PID=$!
}

stop_load() {
  [[ -n ${LOAD_PID:-} ]] || return 0
  kill -TERM "$LOAD_PID" 2>/dev/null || true
  wait "$LOAD_PID" 2>/dev/null || true
  LOAD_PID=''
}

# The load file's lines, by start time: start end status upstream error (tab-separated).
by_start() { sort -n -k1,1 "$LOAD_FILE"; }

# load_summary BASE: "N requests, F failed (HTTP 500: a, no answer: b); failures from +X s to +Y s; slowest
# answer Z s" with times relative to BASE (the moment the fault began).
load_summary() {
  by_start | awk -F'\t' -v base="$1" '
    { total++; if ($2 - $1 > slowest) slowest = $2 - $1 }
    $3 != 200 { fail++; kind = ($3 == 0 ? "no answer" : "HTTP " $3); kinds[kind]++
                if (first == "") first = $1; last = $1 }
    END {
      printf "%d requests, %d failed", total, fail
      if (fail) {
        sep = " ("; for (k in kinds) { printf "%s%s: %d", sep, k, kinds[k]; sep = ", " }
        printf "); failures started from %+.1f s to %+.1f s after the fault", first - base, last - base
      }
      printf "; slowest answer %.2f s\n", slowest
    }'
}

# failed_between FROM TO: failed requests that started in [FROM, TO).
failed_between() {
  by_start | awk -F'\t' -v a="$1" -v b="$2" '$1 >= a && $1 < b && $3 != 200 { n++ } END { print n + 0 }'
}
requests_between() {
  by_start | awk -F'\t' -v a="$1" -v b="$2" '$1 >= a && $1 < b { n++ } END { print n + 0 }'
}

# slowest_between FROM TO: the longest time a request started in [FROM, TO) took (0.00 if none started).
slowest_between() {
  by_start | awk -F'\t' -v a="$1" -v b="$2" '$1 >= a && $1 < b && $2 - $1 > m { m = $2 - $1 } END { printf "%.2f\n", m }'
}
# unanswered_between FROM TO: requests started in [FROM, TO) that got neither a 200 nor the app's 500.
unanswered_between() {
  by_start | awk -F'\t' -v a="$1" -v b="$2" '$1 >= a && $1 < b && $3 != 200 && $3 != 500 { n++ } END { print n + 0 }'
}

# error_window: seconds from the first failed request's start to the last one's end (0 if none failed).
error_window() {
  by_start | awk -F'\t' '$3 != 200 { if (first == "") first = $1; if ($2 > last) last = $2 }
                         END { printf "%.1f\n", first == "" ? 0 : last - first }'
}

# ok_run_start ADDR FROM: start time of the first request of the first run of OK_RUN consecutive 200s
# answered by ADDR (nginx's X-Upstream-Addr) among the requests started at FROM or later; empty if none.
ok_run_start() {
  by_start | awk -F'\t' -v addr="$1" -v from="$2" -v n="$OK_RUN" '
    $1 < from { next }
    { if ($3 == 200 && $4 == addr) { if (run == 0) begin = $1; run++; if (run == n) { print begin; exit } }
      else run = 0 }'
}

# --- the drills -----------------------------------------------------------------------------------------

drill_db_restart() {
  step "db-restart: docker restart database, under load ($(engine_title "$ENGINE"))"
  ensure_3tier
  local app_started app_restarts t0 t_healthy errors_after quiet_from summary window
  app_started=$(started_at app-server) app_restarts=$(restart_count app-server)
  start_load db-restart
  sleep 3   # a baseline: the layout answers before anything breaks
  t0=$(now)
  run docker restart database >/dev/null
  wait_healthy database 120
  t_healthy=$(now)
  log "  database healthy again $(calc "$t_healthy - $t0") s after the restart began"
  sleep 10  # 2 s of grace, then 8 s in which no request may fail
  stop_load
  summary=$(load_summary "$t0") window=$(error_window)
  quiet_from=$(calc "$t_healthy + 2" 3)
  errors_after=$(failed_between "$quiet_from" 9999999999)
  log "  seen: $summary"
  check "db-restart: no request failed from 2 s after the database was healthy again ($errors_after failed of $(requests_between "$quiet_from" 9999999999))" \
    test "$errors_after" -eq 0 -a "$(requests_between "$quiet_from" 9999999999)" -gt 0
  check "db-restart: app-server was not restarted (StartedAt $app_started, RestartCount $app_restarts)" \
    same_run app-server "$app_started" "$app_restarts"
  settled db-restart
  RESULTS+=("db-restart: $summary; error window $window s; database healthy $(calc "$t_healthy - $t0") s after the restart; failed after healthy+2 s: $errors_after")
}

# nginx_workers: the PIDs of web-server's worker processes (inside the container), sorted. A reload
# (nginx -s reload) replaces them; a restart replaces the master as well.
nginx_workers() {
  docker exec web-server sh -c 'grep -l "^nginx: worker process" /proc/[0-9]*/cmdline 2>/dev/null' \
    | sed 's|/proc/||; s|/cmdline||' | sort -n | tr '\n' ' '
}

web_unchanged() {
  [[ $(docker inspect -f '{{.State.StartedAt}} {{.State.Pid}}' web-server) == "$1" && $(nginx_workers) == "$2" ]]
}

app_answers() { [[ $(app_get /) == 200* ]]; }

# resolver_valid: N of `resolver ... valid=Ns` in web-server's rendered nginx config (nginx/templates).
resolver_valid() {
  local v
  v=$(docker exec web-server sh -c 'grep -o "valid=[0-9]*s" /etc/nginx/conf.d/*.conf' 2>/dev/null | head -n 1)
  v=${v#valid=} v=${v%s}
  [[ $v =~ ^[0-9]+$ ]] || die "found no 'resolver ... valid=Ns' in web-server's /etc/nginx/conf.d: is it the lab's nginx?"
  echo "$v"
}
ok_run_seen() { [[ -n $(ok_run_start "$1" "$2") ]]; }

# The engine hands out the lowest free address of a network, so a new app-server would get the old one back
# (and even an nginx that never looked app-server up again would find it). On a busy host any other
# container could take it first; the drill makes that happen, in two steps:
#   fill_gaps_below IP  before the removal: placeholders take every free address below IP (left by containers
#                       removed earlier); the one that lands above IP is not needed and goes at once
#   add_placeholder     after the removal: it gets the lowest free address, IP itself
ip_num() { awk -F. '{ printf "%.0f\n", (($1 * 256 + $2) * 256 + $3) * 256 + $4 }' <<<"$1"; }

add_placeholder() {  # one more labelled placeholder on frontend-net; its address in PLACEHOLDER_IP
  local name=$PLACEHOLDER-$((${#PLACEHOLDERS[@]} + 1))
  refuse_foreign container "$name"
  toolbox "$name" --network frontend-net
  PLACEHOLDERS+=("$name")
  PLACEHOLDER_IP=$(ip_on "$name" frontend-net)
  log "  $name took $PLACEHOLDER_IP"
}

fill_gaps_below() {
  local limit
  limit=$(ip_num "$1")
  for _ in {1..64}; do
    add_placeholder
    if (($(ip_num "$PLACEHOLDER_IP") > limit)); then
      local last=$((${#PLACEHOLDERS[@]} - 1))
      run docker rm -f "${PLACEHOLDERS[last]}" >/dev/null
      unset "PLACEHOLDERS[last]"
      return 0
    fi
  done
  warn "64 placeholders did not fill the addresses below $1: the new app-server may get it back"
}

drill_db_freeze() {
  step "db-freeze: docker pause database for $FREEZE s, under load ($(engine_title "$ENGINE"))"
  ensure_3tier
  local bound=$((QUERY_TIMEOUT + 1)) t0 t1 during failed unanswered slowest quiet_from after errors_after summary
  start_load db-freeze "$FREEZE_RATE" $((bound + 4))
  sleep 3   # a baseline: the layout answers before anything breaks
  t0=$(now)
  run docker pause database >/dev/null
  FROZEN=1
  log "  the database's processes are frozen; its kernel still accepts and acknowledges TCP, so no error comes by itself"
  sleep 1
  run_capture curl -s --max-time 10 "$BASE/api/"
  check "db-freeze: a request while frozen answers HTTP 500 with the app's reason (JSON 'error')" \
    grep -q '"error": "[^"]' <<<"$RUN_OUT"
  sleep "$(calc "$FREEZE - ($(now) - $t0)" 2 | sed 's/^-.*/0/')"   # the rest of the FREEZE s
  run docker unpause database >/dev/null
  FROZEN=0
  t1=$(now)
  log "  database unpaused $(calc "$t1 - $t0") s after the pause"
  sleep 10  # 2 s of grace, then 8 s in which no request may fail
  stop_load
  summary=$(load_summary "$t0")
  during=$(requests_between "$t0" "$t1") failed=$(failed_between "$t0" "$t1")
  unanswered=$(unanswered_between "$t0" "$t1") slowest=$(slowest_between "$t0" "$t1")
  quiet_from=$(calc "$t1 + 2" 3)
  after=$(requests_between "$quiet_from" 9999999999) errors_after=$(failed_between "$quiet_from" 9999999999)
  log "  seen: $summary"
  check "db-freeze: $failed of the $during requests made while frozen failed, each with the app's HTTP 500 ($unanswered got no answer or another status)" \
    test "$during" -gt 0 -a "$failed" -gt 0 -a "$unanswered" -eq 0
  check "db-freeze: every request made while frozen was answered within QUERY_TIMEOUT + 1 = $bound s (slowest $slowest s)" \
    awk -v s="$slowest" -v b="$bound" 'BEGIN { exit !(s > 0 && s <= b) }'
  check "db-freeze: no request failed from 2 s after the unpause ($errors_after failed of $after)" \
    test "$errors_after" -eq 0 -a "$after" -gt 0
  settled db-freeze
  RESULTS+=("db-freeze: $summary; while frozen: $failed of $during failed (HTTP 500), slowest $slowest s")
}

drill_app_recreate() {
  step "app-recreate: app-server removed and created again with a new IP; nginx must find it by itself"
  ensure_3tier
  local web_state web_workers old_ip new_ip t0 t_app t_ok summary recover valid bound
  # nginx asks Docker's DNS for app-server again once its answer is older than valid=N s; it schedules that
  # lookup one second after the answer expires, on its whole-second clock: at most N + 2 s after the new
  # app-server is in DNS (which is before it answers).
  valid=$(resolver_valid) bound=$((valid + 2))
  web_state=$(docker inspect -f '{{.State.StartedAt}} {{.State.Pid}}' web-server)
  web_workers=$(nginx_workers)
  old_ip=$(ip_on app-server frontend-net)
  log "  app-server is $old_ip on frontend-net; nginx: master PID ${web_state#* } (on the host), workers ${web_workers% } (in the container)"
  log "  placeholders: every free address below $old_ip now, $old_ip itself once app-server is gone (so that the new app-server cannot get it back)"
  fill_gaps_below "$old_ip"
  start_load app-recreate
  sleep 3
  t0=$(now)
  run docker rm -f app-server >/dev/null
  add_placeholder
  [[ $PLACEHOLDER_IP == "$old_ip" ]] || warn "the placeholder got $PLACEHOLDER_IP, not $old_ip: the new app-server may get $old_ip back"
  log "  app-server again, with run-3tier.sh's own commands (its start_app); nothing else is touched:"
  LAYOUT=3tier start_app
  announce_app_get /
  log "    (repeated until the new app-server answers 200 itself)"
  wait_for 60 app_answers || die "the new app-server did not answer within 60 s (docker logs app-server)"
  t_app=$(now)
  new_ip=$(ip_on app-server frontend-net)
  log "  the new app-server ($new_ip) answers, $(calc "$t_app - $t0") s after the removal;" \
      "waiting for $OK_RUN 200s in a row through nginx from $new_ip:3000"
  wait_for 40 ok_run_seen "$new_ip:3000" "$t0" || true
  sleep 1
  stop_load
  run docker rm -f "${PLACEHOLDERS[@]}" >/dev/null
  t_ok=$(ok_run_start "$new_ip:3000" "$t0")
  summary=$(load_summary "$t0")
  if [[ -n $t_ok ]]; then recover=$(calc "$t_ok - $t_app"); else recover=never; fi
  log "  seen: $summary; nginx answered from $new_ip:3000 again $recover s after the new app-server answered"
  check "app-recreate: app-server has a new IP address on frontend-net ($old_ip -> $new_ip)" \
    test "$old_ip" != "$new_ip"
  check "app-recreate: nginx answered 200 again ($OK_RUN in a row from $new_ip:3000) within $bound s of the new app-server answering ($recover s; nginx's valid=${valid}s + 2 s)" \
    awk -v r="$recover" -v b="$bound" 'BEGIN { exit !(r != "never" && r <= b) }'
  check "app-recreate: web-server was neither restarted nor reloaded (StartedAt, master PID ${web_state#* }, worker PIDs ${web_workers% } unchanged)" \
    web_unchanged "$web_state" "$web_workers"
  settled app-recreate
  RESULTS+=("app-recreate: $summary; IP $old_ip -> $new_ip; nginx back $recover s after the new app-server answered")
}

# readyz_is CODE: /readyz from inside app-server answers CODE (kept in READYZ).
readyz_is() { READYZ=$(app_get /readyz); [[ $READYZ == "$1 "* ]]; }
not_ready_with_reason() { [[ -n $1 && ${READYZ%% *} == 503 ]]; }
app_alive() { [[ -n $(app_get /healthz) ]]; }
api_is_200() { [[ $(http_status "$BASE/api/") == 200 ]]; }

drill_db_late() {
  step "db-late: app-server first, the database $LATE s later"
  ensure_3tier
  local app_started app_restarts t_app t_db t_ready t_api reason ready_s api_s
  log "  removing database and app-server (the database's named volume $(volume_name) stays)"
  run docker rm -f database app-server >/dev/null
  log "  app-server alone, with run-3tier.sh's own commands (its start_app), and no database:"
  LAYOUT=3tier start_app
  t_app=$(now)
  announce_app_get /readyz
  wait_for 30 app_alive || die "app-server did not answer at all within 30 s of its start (docker logs app-server)"
  readyz_is 503 || true
  log "    -> $READYZ"
  reason=$(sed -n 's/.*"reason": *"\([^"]*\)".*/\1/p' <<<"$READYZ")
  check "db-late: with no database, /readyz answers 503 with the reason (${reason:-none given})" \
    not_ready_with_reason "$reason"
  app_started=$(started_at app-server) app_restarts=$(restart_count app-server)
  log "  the database is late: waiting until $LATE s after app-server's start"
  sleep "$(calc "$LATE - ($(now) - $t_app)" 3)"
  check "db-late: after $LATE s without a database app-server still runs: RestartCount $app_restarts, same StartedAt (no crash loop)" \
    same_run app-server "$app_started" "$app_restarts"
  check "db-late: and Docker calls it healthy (liveness, /healthz, does not need the database)" is_healthy app-server
  log "  now the database, with run-3tier.sh's own commands (its start_database):"
  t_db=$(now)
  LAYOUT=3tier start_database
  announce_app_get /readyz
  log "    (repeated until it answers 200; then GET $BASE/api/ until it answers 200)"
  if wait_for 150 readyz_is 200; then t_ready=$(now); else t_ready=''; fi
  if wait_for 30 api_is_200; then t_api=$(now); else t_api=''; fi
  ready_s=${t_ready:+$(calc "$t_ready - $t_db")} api_s=${t_api:+$(calc "$t_api - $t_db")}
  log "  seen: /readyz 200 after ${ready_s:-never} s, /api/ 200 through nginx after ${api_s:-never} s (from the database's docker run)"
  check "db-late: /readyz turned 200 by itself once the database was up (${ready_s:-never} s after it was started)" \
    test -n "$t_ready"
  check "db-late: GET $BASE/api/ answers 200 through nginx (${api_s:-never} s after the database was started)" \
    test -n "$t_api"
  check "db-late: app-server was the same process throughout (StartedAt $app_started)" \
    same_run app-server "$app_started" "$app_restarts"
  settled db-late
  RESULTS+=("db-late: /readyz 503 with no database (\"${reason:-}\"); no restart in $LATE s; ready ${ready_s:-never} s and /api/ 200 ${api_s:-never} s after the database was started")
}

# gunicorn_workers: the PIDs of gunicorn's workers inside app-server: the children of its master (PID 1,
# the image's exec-form CMD), read from /proc (the image has no ps).
gunicorn_workers() {
  docker exec app-server sh -c 'grep -l "^PPid:[[:space:]]*1$" /proc/[0-9]*/status 2>/dev/null' \
    | sed 's|/proc/||; s|/status||' | sort -n | tr '\n' ' '
}

# replaced COUNT OLD_PIDS: COUNT workers again, one of them new; sets NEW_PID.
replaced() {
  local pids p
  pids=$(gunicorn_workers)
  [[ $(wc -w <<<"$pids") -eq $1 ]] || return 1
  for p in $pids; do
    [[ " $2 " == *" $p "* ]] || { NEW_PID=$p; return 0; }
  done
  return 1
}

# none_after T FAILED: T is known, requests were made from T on, and FAILED of them failed: none.
none_after() { [[ -n $1 && $2 -eq 0 && $(requests_between "$1" 9999999999) -gt 0 ]]; }

# in_flight FROM TO: requests started before TO and ended after FROM: every request the kill could hit.
in_flight() {
  by_start | awk -F'\t' -v a="$1" -v b="$2" '$1 < b && $2 > a { n++ } END { print n + 0 }'
}

drill_worker_kill() {
  step "worker-kill: kill -9 one gunicorn worker under load"
  ensure_3tier
  local app_started app_restarts before count victim t0 t1 t_new errors flying after summary gunicorn_log
  app_started=$(started_at app-server) app_restarts=$(restart_count app-server)
  before=$(gunicorn_workers)
  count=$(wc -w <<<"$before")
  victim=${before%% *}
  log "  gunicorn master: PID 1 in app-server; its $count workers: ${before% }"
  ((count >= 1)) || die "found no gunicorn worker in app-server (children of PID 1)"
  start_load worker-kill
  sleep 3
  t0=$(now)
  run docker exec app-server sh -c "kill -9 $victim"
  t1=$(now)
  NEW_PID=''
  wait_for 30 replaced "$count" "$before" && t_new=$(now) || t_new=''
  log "  workers now: $(gunicorn_workers)"
  sleep 5   # requests after the replacement, which may not fail
  stop_load
  summary=$(load_summary "$t0")
  errors=$(failed_between 0 9999999999)
  flying=$(in_flight "$t0" "$t1")
  after=$(failed_between "${t_new:-9999999999}" 9999999999)
  log "  seen: $summary; $flying request(s) were in flight while the kill ran"
  log "  gunicorn's log since the kill:"
  gunicorn_log=$(docker logs --since "${t0%.*}" app-server 2>&1 | grep -E 'Worker \(pid|Booting worker' || true)
  [[ -z $gunicorn_log ]] || sed 's/^/    | /' <<<"$gunicorn_log" >&2
  check "worker-kill: the master started a replacement: $count workers again, new PID ${NEW_PID:-none} ($( [[ -n $t_new ]] && calc "$t_new - $t0" || echo never) s after the kill)" \
    test -n "$t_new"
  check "worker-kill: gunicorn's log says it: worker $victim was sent SIGKILL, 'Booting worker with pid: ${NEW_PID:-?}'" \
    grep -q "pid:$victim) was sent SIGKILL.*Booting worker with pid: ${NEW_PID:-none}$" <<<"${gunicorn_log//$'\n'/ }"
  check "worker-kill: failed requests ($errors) are no more than the requests in flight when the worker was killed ($flying)" \
    test "$errors" -le "$flying"
  check "worker-kill: no request failed once the replacement was there ($after failed of $(requests_between "${t_new:-9999999999}" 9999999999))" \
    none_after "$t_new" "$after"
  check "worker-kill: app-server itself was not restarted (StartedAt $app_started)" \
    same_run app-server "$app_started" "$app_restarts"
  settled worker-kill
  RESULTS+=("worker-kill: $summary; $flying in flight at the kill; replacement PID ${NEW_PID:-none} after $( [[ -n $t_new ]] && calc "$t_new - $t0" || echo never) s")
}

# --- slow-clients ---------------------------------------------------------------------------------------

# established HEXPORT: the toolbox's TCP connections in state ESTABLISHED to remote port HEXPORT, read from
# its kernel's table (/proc/net/tcp: "local remote state", addresses as hex IP:port, 01 = ESTABLISHED).
ESTABLISHED_AWK='substr($3, length($3) - 4) == p && $4 == "01" { n++ } END { print n + 0 }'
established() { docker exec "$SLOW_BOX" awk -v p=":$1" "$ESTABLISHED_AWK" /proc/net/tcp; }
none_established() { [[ $(established "$1") == 0 ]]; }

# probes URL: PROBES health probes from the toolbox, one after another (REQ_TIMEOUT s each); sets PROBE_FAILED.
probes() {
  local i
  PROBE_FAILED=0
  announce docker exec "$SLOW_BOX" wget -q -T "$REQ_TIMEOUT" -O /dev/null "$1"
  log "    (run $PROBES times, one after another)"
  for ((i = 0; i < PROBES; i++)); do
    docker exec "$SLOW_BOX" wget -q -T "$REQ_TIMEOUT" -O /dev/null "$1" 2>/dev/null || PROBE_FAILED=$((PROBE_FAILED + 1))
  done
  log "    -> $PROBE_FAILED of $PROBES failed"
}

# slow_clients HOST PORT: SLOW connections from the toolbox that send `GET /healthz HTTP/1.1` and then nothing
# (no headers, no blank line), each held open for up to 120 s; then all of them ESTABLISHED, else stop.
slow_clients() {
  local hex
  hex=$(printf '%04X' "$2")
  run docker exec -d "$SLOW_BOX" sh -c "for i in \$(seq $SLOW); do (printf 'GET /healthz HTTP/1.1\r\n'; sleep 120) | nc $1 $2 & done; wait"
  wait_for 10 test_established "$hex" "$SLOW" \
    || die "only $(established "$hex") of the $SLOW slow connections to $1:$2 were established within 10 s"
  log "  $SLOW connections to $1:$2 are open, each has sent a request line and nothing more"
}
test_established() { [[ $(established "$1") == "$2" ]]; }
stop_slow_clients() { run docker exec "$SLOW_BOX" killall -q nc || true; }

# header_timeout: N of `client_header_timeout Ns` in web-server's rendered nginx config (nginx/templates).
header_timeout() {
  local v
  v=$(docker exec web-server sh -c 'grep -ho "client_header_timeout [0-9]*s" /etc/nginx/conf.d/*.conf' 2>/dev/null | head -n 1)
  v=${v#client_header_timeout } v=${v%s}
  [[ $v =~ ^[0-9]+$ ]] || die "found no 'client_header_timeout Ns' in web-server's /etc/nginx/conf.d: is it the lab's nginx?"
  echo "$v"
}

drill_slow_clients() {
  step "slow-clients: $SLOW connections that send a request line and then nothing, to gunicorn alone and to nginx"
  ensure_3tier
  local direct=http://app-server:3000/healthz proxied=http://web-server/api/healthz timeout bound t0 t_closed
  local base_direct base_proxied direct_failed after_failed proxied_failed closed
  timeout=$(header_timeout) bound=$((timeout + 3))
  refuse_foreign container "$SLOW_BOX"
  exists container "$SLOW_BOX" && run docker rm -f "$SLOW_BOX" >/dev/null
  log "  a toolbox on frontend-net, where web-server and app-server are: the slow clients and the probes run in it"
  toolbox "$SLOW_BOX" --network frontend-net
  SLOW_MADE=1
  log "  before: the probes, straight to gunicorn and through nginx"
  probes "$direct"; base_direct=$PROBE_FAILED
  probes "$proxied"; base_proxied=$PROBE_FAILED
  check "slow-clients: with no slow client, every probe answers, straight to gunicorn and through nginx ($base_direct and $base_proxied of $PROBES failed)" \
    test "$base_direct" -eq 0 -a "$base_proxied" -eq 0
  log "  gunicorn alone (the webapp layout publishes app-server:3000 to the host as it is):"
  slow_clients app-server 3000
  probes "$direct"; direct_failed=$PROBE_FAILED
  check "slow-clients: straight to gunicorn, the slow clients hold its threads (2 workers x 4): $direct_failed of $PROBES probes got no answer within $REQ_TIMEOUT s" \
    test "$direct_failed" -gt 0
  stop_slow_clients
  wait_for 10 none_established 0BB8 || true
  probes "$direct"; after_failed=$PROBE_FAILED
  check "slow-clients: once the slow clients are gone, gunicorn answers every probe again ($after_failed of $PROBES failed)" \
    test "$after_failed" -eq 0
  log "  nginx in front (the 3-tier): the same slow clients to web-server:80"
  slow_clients web-server 80
  t0=$(now)
  probes "$proxied"; proxied_failed=$PROBE_FAILED
  check "slow-clients: through nginx, with the $SLOW slow clients connected, every probe answers ($proxied_failed of $PROBES failed)" \
    test "$proxied_failed" -eq 0
  announce docker exec "$SLOW_BOX" awk -v p=:0050 "$ESTABLISHED_AWK" /proc/net/tcp
  log "    (repeated until it counts 0 connections to port 80 (hex 0050) ESTABLISHED, for up to $bound s)"
  if wait_for "$bound" none_established 0050; then t_closed=$(now); closed=$(calc "$t_closed - $t0"); else closed=never; fi
  check "slow-clients: nginx closed all $SLOW slow connections $closed s after they were open (client_header_timeout ${timeout}s; bound $bound s)" \
    test "$closed" != never
  stop_slow_clients
  settled slow-clients
  RESULTS+=("slow-clients: $SLOW slow connections; straight to gunicorn $direct_failed of $PROBES probes failed; through nginx $proxied_failed of $PROBES, and nginx closed them $closed s after they were open")
}

# --- main -----------------------------------------------------------------------------------------------

cleanup() {
  local rc=$?
  stop_load
  if ((FROZEN)); then docker unpause database >/dev/null 2>&1 || true; fi
  local name
  if ((SLOW_MADE)) && exists container "$SLOW_BOX" && is_ours container "$SLOW_BOX"; then
    docker rm -f "$SLOW_BOX" >/dev/null 2>&1 || true
  fi
  for name in "${PLACEHOLDERS[@]}"; do
    if exists container "$name" && is_ours container "$name"; then docker rm -f "$name" >/dev/null 2>&1 || true; fi
  done
  [[ -n ${WORK:-} && -d $WORK ]] && rm -rf "$WORK"
  exit "$rc"
}

main() {
  parse_args "$@"
  require_engine
  cd "$LAB_ROOT"
  command -v python3 >/dev/null || die "python3 is needed for the load (extras/drills/steady_load.py): install Python 3"
  use_running_3tier extras/drills/drill.sh || { ENGINE=${ENGINE:-mysql} HOST_PORT=${HOST_PORT:-18280}; }
  BASE=http://127.0.0.1:$HOST_PORT
  WORK=$(mktemp -d)
  trap cleanup EXIT
  local d
  for d in "${SELECTED[@]}"; do "drill_${d//-/_}"; done
  step "결과 / results ($(engine_title "$ENGINE"), $RATE requests a second through nginx; db-freeze: $FREEZE_RATE)"
  printf '  %s\n' "${RESULTS[@]}"
  finish_checks
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
