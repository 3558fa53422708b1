# shellcheck shell=bash
# wrk.sh — sourced by the extras that put load on a layout (extras/bench/bench.sh, extras/swarm/run-swarm.sh):
# the load generator's image, and what its report says.
# Needs scripts/lib/objects.sh (build_image, die, log) sourced first.
[[ -z ${_LAB_EXTRAS_WRK:-} ]] || return 0
_LAB_EXTRAS_WRK=1

WRK_DEFAULT=lab/wrk:latest

# ensure_wrk: the load generator's image. WRK_IMAGE when set (it must exist: nothing is pulled), else ours,
# built from offline/wrk/Dockerfile when missing (Debian's wrk, so its progress shows on a terminal).
ensure_wrk() {
  WRK_IMAGE=${WRK_IMAGE:-$WRK_DEFAULT}
  docker image inspect "$WRK_IMAGE" >/dev/null 2>&1 && return 0
  [[ $WRK_IMAGE == "$WRK_DEFAULT" ]] \
    || die "WRK_IMAGE=$WRK_IMAGE is not on this engine: build it (tools/offline-images.sh) or unset WRK_IMAGE"
  log "  $WRK_IMAGE (the load generator) is missing: building it from offline/wrk/Dockerfile (once)"
  build_image docker build -t "$WRK_IMAGE" -f offline/wrk/Dockerfile offline/
}

# to_ms VALUE-WITH-UNIT: wrk prints 812.00us, 1.23ms, 1.02s or 1.50m.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
                         else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

# wrk_read FILE: wrk --latency's report in FILE, as the variables W_RPS (req/s), W_P50 and W_P99 (ms),
# W_REQS (requests completed), W_NON2XX (answers that were not 2xx/3xx) and W_ERRS (socket errors: connect,
# read, write and timeout together). Returns 1 when FILE holds no wrk summary.
# shellcheck disable=SC2034  # the W_ variables are read by the scripts that source this file
wrk_read() {
  W_RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1")
  W_REQS=$(awk '/ requests in / { print $1 }' "$1")
  [[ $W_RPS =~ ^[0-9]+$ && $W_REQS =~ ^[0-9]+$ ]] || return 1
  W_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$1")")
  W_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$1")")
  W_NON2XX=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$1")
  W_NON2XX=${W_NON2XX:-0}
  W_ERRS=$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$1")
  W_ERRS=${W_ERRS:-0}
}
