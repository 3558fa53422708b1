# shellcheck shell=bash
# Section "4. Custom Bridge › IPv6": `--ipv6 --subnet 2001:db8:1234::/64` gives containers addresses in that
# subnet, reachable over IPv6; `--ipv6 --ipv4=false` gives no IPv4 address at all, yet IPv6 and names work.
# 2001:db8::/32 is the documentation prefix: it is only ever used inside these two networks.
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="4. Custom Bridge › IPv6 (my-ipv6-net, v6net) — dual stack and IPv6-only"

V6_SUBNET=2001:db8:1234::/64

# has_ipv6_subnet NET SUBNET: NET has IPv6 enabled and SUBNET among its IPAM subnets.
has_ipv6_subnet() {
  [[ $(docker network inspect -f '{{.EnableIPv6}}' "$1") == true ]] && [[ " $(subnets_of "$1") " == *" $2 "* ]]
}
ipv6_on() { docker inspect -f "{{ (index .NetworkSettings.Networks \"$2\").GlobalIPv6Address }}" "$1"; }
subnets_of() { docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$1" | xargs; }

# in_v6_subnet ADDR: ADDR is in 2001:db8:1234::/64 (the first four groups are 2001:db8:1234:0; the
# compressed forms Docker prints are 2001:db8:1234::N or 2001:db8:1234:0:...).
in_v6_subnet() {
  local a
  (($#)) || return 1
  for a in "$@"; do [[ $a =~ ^2001:db8:1234:(:|0:) ]] || return 1; done
}

# pinged RC OUTPUT ADDR: the ping exited 0 (replies came back) and it pinged ADDR, an IPv6 address: every
# ping (iputils' and busybox's) names the address it resolved in parentheses on its first line.
pinged() { (($1 == 0)) && [[ -n $3 ]] && grep -qF "($3)" <<<"$(head -n 1 <<<"$2")"; }

# ipv4_addresses NAME: the IPv4 addresses NAME's interfaces have, besides loopback (fails when ip fails).
ipv4_addresses() {
  local out
  out=$(docker exec "$1" ip -4 -o addr show scope global) || return 1
  awk '{print $4}' <<<"$out" | xargs
}
# ipv4_routes NAME: NAME's IPv4 routing table (fails when ip fails, so an error never reads as "no routes").
ipv4_routes() { docker exec "$1" ip -4 route; }

# resolves_to_v6 FROM NAME ADDR: FROM resolves NAME (any family) and gets exactly ADDR, an IPv6 address.
resolves_to_v6() {
  [[ -n $3 ]] && [[ $(docker exec "$1" getent hosts "$2" | awk '{print $1}' | xargs) == "$3" ]]
}

# lab_unsupported: why this engine cannot show the section (lab.sh skips it), or false.
lab_unsupported() {
  if on_docker_desktop; then
    echo "Docker Desktop runs containers in a VM whose IPv6 setup differs from a Linux engine's (ip6tables, the"
    echo "  VM's own addresses): this section runs on a Linux engine only."
    return 0
  fi
  if (($(engine_major) < 28)); then
    echo "this engine is Docker $(docker version -f '{{.Server.Version}}'); 'docker network create --ipv4=false'"
    echo "  (an IPv6-only network) needs Docker Engine 28 or later. Upgrade the engine to run this section."
    return 0
  fi
  return 1
}

lab_main() {
  require_free container ipv6-a ipv6-b v6only-a v6only-b
  require_free network my-ipv6-net v6net
  local a_v6 b_v6 b_v4
  step "IPv6 지원 네트워크 생성: docker network create --ipv6 --subnet $V6_SUBNET my-ipv6-net"
  ensure_network my-ipv6-net --ipv6 --subnet "$V6_SUBNET"
  check "my-ipv6-net has IPv6 on and the subnet $V6_SUBNET (subnets: $(subnets_of my-ipv6-net))" \
    has_ipv6_subnet my-ipv6-net "$V6_SUBNET"
  toolbox ipv6-a --network my-ipv6-net
  toolbox ipv6-b --network my-ipv6-net
  a_v6=$(ipv6_on ipv6-a my-ipv6-net) b_v6=$(ipv6_on ipv6-b my-ipv6-net)
  b_v4=$(ip_on ipv6-b my-ipv6-net) || b_v4=''
  check "both containers got IPv6 addresses in $V6_SUBNET (ipv6-a: ${a_v6:-none}, ipv6-b: ${b_v6:-none})" \
    in_v6_subnet "$a_v6" "$b_v6"
  check "dual stack: --ipv6 adds IPv6, IPv4 stays (ipv6-b also has ${b_v4:-no IPv4 address})" test -n "$b_v4"
  check "… and ipv6-b's own interfaces show it: ip -4 addr lists ${b_v4:-?}, ip -4 route has a default route" \
    eval '[[ -n $b_v4 && " $(ipv4_addresses ipv6-b) " == *" $b_v4/"* ]] && grep -q "^default" <<<"$(ipv4_routes ipv6-b)"'
  run_capture docker exec ipv6-a ping -6 -c 3 -W 2 ipv6-b
  check "ipv6-a pings ipv6-b by name over IPv6 (ping -6 exits $RUN_RC; it pinged ${b_v6:-no address})" \
    pinged "$RUN_RC" "$RUN_OUT" "$b_v6"
  check "ipv6-b opens a TCP connection back to ipv6-a's IPv6 address [${a_v6:-?}] (listener of ours on 8080)" \
    v6_tcp_reaches ipv6-b ipv6-a "$a_v6"

  step "IPv6 전용 네트워크: docker network create --ipv6 --ipv4=false v6net"
  log "  (no --subnet, as in the tutorial: Docker picks an IPv6 subnet itself — a private fd00::/8 one)"
  ensure_network v6net --ipv6 --ipv4=false
  check "v6net has IPv4 off and IPv6 on (EnableIPv4/EnableIPv6: $(docker network inspect \
    -f '{{.EnableIPv4}}/{{.EnableIPv6}}' v6net); subnets: $(subnets_of v6net))" \
    test "$(docker network inspect -f '{{.EnableIPv4}}/{{.EnableIPv6}}' v6net)" = false/true
  toolbox v6only-a --network v6net
  toolbox v6only-b --network v6net
  a_v6=$(ipv6_on v6only-a v6net) b_v6=$(ipv6_on v6only-b v6net)
  b_v4=$(ip_on v6only-b v6net) || b_v4=''   # ip_on fails when there is no IPv4 address: what we expect here
  run docker exec v6only-b ip -o addr show dev eth0 >&2
  check "v6only-b has no IPv4 address at all (inspect: '${b_v4}'; ip -4 addr: '$(ipv4_addresses v6only-b || echo failed)')" \
    eval '[[ -z $b_v4 ]] && v4=$(ipv4_addresses v6only-b) && [[ -z $v4 ]]'
  check "v6only-b has an IPv6 address (${b_v6:-none})" test -n "$b_v6"
  check "v6only-b has no IPv4 route (ip -4 route is empty)" eval 'r=$(ipv4_routes v6only-b) && [[ -z $r ]]'
  run_capture docker exec v6only-a getent hosts v6only-b
  check "name resolution still works: getent hosts v6only-b answers its IPv6 address (${RUN_OUT:-nothing})" \
    resolves_to_v6 v6only-a v6only-b "$b_v6"
  run_capture docker exec v6only-a ping -c 3 -W 2 v6only-b
  check "v6only-a pings v6only-b by name, over IPv6 (ping exits $RUN_RC; it pinged ${b_v6:-no address})" \
    pinged "$RUN_RC" "$RUN_OUT" "$b_v6"
}

# v6_tcp_reaches FROM TO ADDR: a listener of ours bound to ADDR (TO's IPv6 address) on port 8080, seen by
# netstat; FROM connects to ADDR:8080. busybox nc (netcat 1.10's options) has no -6: an IPv6 literal after
# -s or as the host makes it use IPv6.
v6_tcp_reaches() {
  [[ -n $3 ]] || return 1
  docker exec -d "$2" nc -lk -s "$3" -p 8080 -e /bin/cat
  v6_listening "$2" "$3" || return 1
  docker exec "$1" nc -z -w 3 "$3" 8080
}
# v6_listening NAME ADDR: within 5s, netstat in NAME lists a TCP listener on ADDR:8080.
v6_listening() {
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    docker exec "$1" netstat -tlnW | awk -v a="$2:8080" '$4 == a && $6 == "LISTEN" {f = 1} END {exit !f}' && return 0
    sleep 0.5
  done
  echo "no listener on $2:8080 in $1 (netstat -tlnW)"; return 1
}
