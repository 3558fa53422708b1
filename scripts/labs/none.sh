# shellcheck shell=bash
# Section "3. None": a container with --network none has only the loopback interface and reaches nothing.
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="Docker 네트워크 드라이버 › 3. None — no network at all"

lab_main() {
  step "3. None: docker run -d --network none --name isolated alpine sleep 1000"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --network none --name isolated $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null

  local links
  links=$(docker exec isolated ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | tr '\n' ' ')
  log "  $ docker exec isolated ip -o link show   ->   ${links}"
  check "isolated has only the loopback interface (saw: ${links% })" test "${links% }" = lo
  check "isolated has no default route" not docker exec isolated sh -c 'ip route | grep -q default'
  # A target of our own: a container on the default bridge, by IP (no name could resolve anyway).
  # shellcheck disable=SC2046
  run docker run -d --name none-target $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
  local ip
  ip=$(ip_on none-target bridge)
  check "isolated cannot reach another container ($ip) — no route" not docker exec isolated ping -c 1 -W 2 "$ip"
}
