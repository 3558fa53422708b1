# shellcheck shell=bash
# Section "3. None": a container with --network none has only the loopback interface and reaches nothing.
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="Docker 네트워크 드라이버 › 3. None — no network at all"

# no_ping FROM ADDR: FROM gets no reply from ADDR; an empty ADDR (a lookup that found nothing) fails.
no_ping() { [[ -n $2 ]] && ! docker exec "$1" ping -c 1 -W 2 "$2"; }
# no_default_route NAME: `ip route` in NAME works and lists no default route.
no_default_route() {
  local routes
  routes=$(docker exec "$1" ip route) || return 1
  ! grep -q '^default' <<<"$routes"
}
# has_default_route NAME: `ip route` in NAME works and lists a default route.
has_default_route() {
  local routes
  routes=$(docker exec "$1" ip route) && grep -q '^default' <<<"$routes"
}
# link_names NAME: NAME's interface names, sorted, on one line (fails when ip fails).
link_names() {
  local out
  out=$(docker exec "$1" ip -o link show) || return 1
  awk -F': ' '{print $2}' <<<"$out" | sed 's/@.*//' | sort | xargs
}

lab_main() {
  step "3. None: docker run -d --network none --name isolated alpine sleep 1000"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --network none --name isolated $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null

  local links
  links=$(link_names isolated) || links='(ip failed)'
  log "  $ docker exec isolated ip -o link show   ->   ${links}"
  # A target of our own: a container on the default bridge, by IP (no name could resolve anyway). It is
  # also the contrast each "isolated has no ..." check needs: the same probe finds eth0 and a default route.
  # shellcheck disable=SC2046
  run docker run -d --name none-target $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
  toolbox none-peer
  check "none-target (default bridge) has lo and eth0: the same probe lists every interface" \
    test "$(link_names none-target)" = "eth0 lo"
  check "none-target has a default route: ip route shows one where there is one" has_default_route none-target
  check "isolated has only the loopback interface (saw: $links)" test "$links" = lo
  check "isolated has no default route" no_default_route isolated
  local ip
  ip=$(ip_on none-target bridge) || ip=''
  check "none-target has an address on the default bridge (${ip:-none})" test -n "$ip"
  check "from the default bridge, none-peer pings none-target (${ip:-?}): the address answers" \
    docker exec none-peer ping -c 1 -W 2 "$ip"
  check "isolated cannot ping that same address — no route" no_ping isolated "$ip"
}
