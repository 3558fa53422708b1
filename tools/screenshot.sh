#!/usr/bin/env bash
# screenshot.sh — regenerate docs/page.png: the page of a running 3-tier, as headless Chromium shows it.
#
# Usage: tools/screenshot.sh [--out FILE] [--size WIDTHxHEIGHT]
#
#   --out FILE     where the PNG goes (default docs/page.png)
#   --size WxH     the browser window (default 1100x720)
#   -h, --help     show this help
#
# Needs the 3-tier up (scripts/run-3tier.sh, or scripts/run-compose.sh 3tier) with web-server published on
# 127.0.0.1. The browser is a container of its own: BROWSER_IMAGE (the offline kit sets it), else
# lab/browser:latest, built from offline/chromium/Dockerfile the first time. It runs on the host's network
# and loads the published port, so the picture shows the address a learner's browser shows. Prints every
# docker command it runs; removes its container at exit.
set -Eeuo pipefail

# shellcheck source=../scripts/lib/run.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/run.sh"

BROWSER_DEFAULT=lab/browser:latest
SHOT=lab-screenshot                          # the browser container's name while it runs
SHOT_PATH=/home/browser/page.png             # inside it (the browser user's home)

parse_args() {
  OUT=$LAB_ROOT/docs/page.png SIZE=1100x720
  while (($#)); do
    case $1 in
      --out) [[ -n ${2:-} && -d $(dirname "$2") ]] || usage_error "--out takes a file in an existing folder (got '${2:-}')"
             OUT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
      --size) [[ ${2:-} =~ ^[1-9][0-9]{2,3}x[1-9][0-9]{2,3}$ ]] || usage_error "--size takes WIDTHxHEIGHT, e.g. 1100x720 (got '${2:-}')"
              SIZE=$2; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
    shift
  done
}

# ensure_browser: BROWSER_IMAGE when set (it must exist: nothing is pulled), else ours, built when missing.
ensure_browser() {
  BROWSER=${BROWSER_IMAGE:-$BROWSER_DEFAULT}
  docker image inspect "$BROWSER" >/dev/null 2>&1 && return 0
  [[ $BROWSER == "$BROWSER_DEFAULT" ]] \
    || die "BROWSER_IMAGE=$BROWSER is not on this engine: build it (tools/offline-images.sh) or unset BROWSER_IMAGE"
  log "  $BROWSER is missing: building it from offline/chromium/Dockerfile (once; about a minute)"
  run docker build -t "$BROWSER" -f offline/chromium/Dockerfile offline/ >&2 \
    || die "the build above failed: fix what its log says, then run again"
}

# The 127.0.0.1 port web-server publishes for its port 80.
published_port() {
  local port
  [[ $(docker inspect -f '{{.State.Running}}' web-server 2>/dev/null) == true ]] \
    || die "web-server is not running: start the 3-tier first (scripts/run-3tier.sh), then run again"
  port=$(docker port web-server 80/tcp 2>/dev/null | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n1)
  [[ -n $port ]] || die "web-server publishes no port on 127.0.0.1 (docker port web-server): the browser loads that"
  printf '%s\n' "$port"
}

cleanup() {
  docker rm -f "$SHOT" >/dev/null 2>&1 || true
  [[ -n ${LOG:-} ]] && rm -f "$LOG"
}

is_png() { [[ $(LC_ALL=C head -c 4 "$1") == $'\x89PNG' ]]; }

main() {
  parse_args "$@"
  require_engine
  cd "$LAB_ROOT"
  local port browse
  port=$(published_port)
  ensure_browser
  if docker container inspect "$SHOT" >/dev/null 2>&1; then die "a container named $SHOT exists: remove it (docker rm -f $SHOT)"; fi
  trap cleanup EXIT
  LOG=$(mktemp "${TMPDIR:-/tmp}/lab-screenshot.XXXXXX")
  step "screenshot of http://127.0.0.1:$port/ (${SIZE/x/ x })"
  # The virtual time budget lets the page's script run until idle (its fetch of /api/ included);
  # --timeout stops a page that never finishes loading.
  browse=(docker run --name "$SHOT" --network host --pull never "$BROWSER"
    --timeout=30000 --virtual-time-budget=10000 --window-size="${SIZE/x/,}" --screenshot="$SHOT_PATH"
    "http://127.0.0.1:$port/")
  # printed, then run with the browser's chatter (D-Bus, GPU) kept in LOG for when it fails
  print_cmd "${browse[@]}"
  "${browse[@]}" >/dev/null 2>"$LOG" \
    || { grep -v dbus "$LOG" | tail -n 15 >&2; die "the browser failed (its last lines are above)"; }
  run docker cp "$SHOT:$SHOT_PATH" "${OUT#"$LAB_ROOT"/}" >&2
  run docker rm "$SHOT" >/dev/null
  is_png "$OUT" || die "$OUT is not a PNG: the browser wrote something else"
  log "wrote ${OUT#"$LAB_ROOT"/} ($(wc -c <"$OUT" | tr -d ' ') bytes)"
}

main "$@"
