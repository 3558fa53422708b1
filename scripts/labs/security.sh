# shellcheck shell=bash
# Section "네트워크 보안": isolation by network (web on frontend and backend, db on backend only: a container
# on frontend alone cannot reach db), a subnet with an --ip-range (containers get addresses inside the range),
# and --internal (members reach each other, nothing else: no default route).
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="네트워크 보안 › 1. 네트워크 격리 + 2. 네트워크 정책 (--subnet, --ip-range, --internal)"

# The tutorial's 172.20.0.0/16 first; when another network on this engine holds it (Docker hands out
# 172.17-172.31 by default, so it often does), the next /16 from this list, with the same /20 ip-range shape.
SUBNET_PREFIXES=(172.20 172.29 172.30 172.31 10.213 10.214 10.215 192.168.213)

networks_of() { docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$1" | xargs; }
# not_found FROM NAME: FROM's resolver has no address for NAME (getent exits 2, "not found", as musl's does;
# a failure of any other kind is no answer about NAME). FROM runs the toolbox image.
not_found() {
  local rc=0
  docker exec "$1" getent hosts "$2" || rc=$?
  ((rc == 2))
}
# (A here-string, not `ip route | grep -q`: with pipefail an early-quitting grep can fail the pipeline,
# and `not has_default_route` would pass for the wrong reason.)
has_default_route() { grep -q '^default' <<<"$(docker exec "$1" ip route)"; }

# in_cidr IP CIDR: the IPv4 address IP lies inside CIDR.
in_cidr() {
  local ip=$1 net=${2%/*} bits=${2#*/} mask
  [[ $ip =~ ^[0-9]+(\.[0-9]+){3}$ ]] || return 1
  mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
  (( ($(ip_int "$ip") & mask) == ($(ip_int "$net") & mask) ))
}
ip_int() {  # ip_int A.B.C.D: the address as one 32-bit number
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) + (b << 16) + (c << 8) + d))
}

# holder_of SUBNET: " (network NAME)" when a network has exactly SUBNET (Docker's default pool often
# hands out 172.20.0.0/16 itself), else nothing.
holder_of() {
  local name
  name=$(docker network ls -q | xargs docker network inspect -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}' \
    | awk -v s="$1" '{for (i = 2; i <= NF; i++) if ($i == s) print $1}' | head -n 1)
  if [[ -n $name ]]; then printf ' (network %s)' "$name"; fi
}

# create_secure_network: the tutorial's command; on "Pool overlaps", the same shape on the next free /16.
# Sets SUBNET and IP_RANGE.
create_secure_network() {
  local prefix
  refuse_foreign network secure-network
  for prefix in "${SUBNET_PREFIXES[@]}"; do
    SUBNET=$prefix.0.0/16 IP_RANGE=$prefix.240.0/20
    # shellcheck disable=SC2046  # labels() is a list of words by design
    run_capture docker network create $(labels) --driver bridge --subnet "$SUBNET" --ip-range "$IP_RANGE" \
      secure-network
    ((RUN_RC == 0)) && return 0
    # IPAM says "Pool overlaps with other one on this address space"; since Docker 28 the bridge driver
    # may say "networks have overlapping IPv4" instead. Both mean: that range is taken here.
    if ! grep -Eq 'Pool overlaps|overlapping IPv4' <<<"$RUN_OUT"; then
      warn "creating secure-network failed for another reason than an overlapping subnet (see above)"
      return 1
    fi
    log "  $SUBNET overlaps a network that already exists on this engine$(holder_of "$SUBNET")."
    log "  Keeping the tutorial's shape — a /16 with the /20 ip-range at .240.0 — on the next candidate."
  done
  warn "every candidate subnet (${SUBNET_PREFIXES[*]}) is in use on this engine"
  return 1
}

lab_main() {
  require_free container web db visitor secure-1 secure-2 internal-1 internal-2
  require_free network frontend backend secure-network internal-net
  isolation
  subnet_and_ip_range
  internal_network
}

isolation() {
  step "1. 네트워크 격리: docker network create frontend; docker network create backend"
  ensure_network frontend
  ensure_network backend

  step "1. 네트워크 격리: web on both networks, db on backend only"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name web --network frontend $(labels) "$NGINX_IMAGE" >/dev/null
  run docker network connect backend web
  mysql_as_written db --name db --network backend
  log "  mysql:5.7 without a password variable exits at once (erratum; also end-of-life): a listener of ours"
  log "  on 3306 stands in for db."
  # shellcheck disable=SC2046
  # busybox nc keeps listening after a connection (-lk) only when it runs a program per connection (-e)
  run docker run -d --name db --network backend $(labels) "$TOOLBOX_IMAGE" nc -lk -p 3306 -e /bin/cat >/dev/null
  log "  and a container on frontend only — a stand-in for anything facing the outside:"
  toolbox visitor --network frontend

  check "web is on both networks ($(networks_of web))" test "$(networks_of web)" = "backend frontend"
  check "db is on backend only ($(networks_of db))" test "$(networks_of db)" = backend
  check "web resolves 'db' and opens db:3306 (they share backend)" port_open web db 3306
  check "visitor resolves 'web' and opens web:80 (they share frontend)" port_open visitor web 80
  check "visitor cannot resolve 'db' (getent: not found; visitor is not on backend)" not_found visitor db
  check "visitor cannot open db's address on backend, port 3306, either (Docker drops traffic between networks)" \
    unreachable_ip visitor db backend 3306
}

subnet_and_ip_range() {
  step "2. 네트워크 정책: docker network create --driver bridge --subnet 172.20.0.0/16 --ip-range 172.20.240.0/20 secure-network"
  SUBNET='' IP_RANGE=''
  create_secure_network || true
  check "secure-network exists with subnet ${SUBNET:-?} and ip-range ${IP_RANGE:-?}" \
    test "$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.IPRange}}{{end}}' secure-network \
      2>/dev/null)" = "$SUBNET $IP_RANGE"
  toolbox secure-1 --network secure-network
  toolbox secure-2 --network secure-network
  local ip1 ip2
  ip1=$(ip_on secure-1 secure-network) ip2=$(ip_on secure-2 secure-network)
  check "containers get addresses inside the ip-range $IP_RANGE (secure-1: ${ip1:-none}, secure-2: ${ip2:-none})" \
    in_cidr_all "$IP_RANGE" "$ip1" "$ip2"
  # Only a log line: where the bridge's own address goes is the engine's choice (Docker 28 takes the
  # range's first address when no --gateway is given).
  log "  secure-1's gateway (the bridge on the host): $(docker inspect -f \
    '{{ (index .NetworkSettings.Networks "secure-network").Gateway }}' secure-1 2>/dev/null); prefix length /16:"
  log "  the whole subnet is one link, --ip-range only narrows which addresses Docker hands out."
}

in_cidr_all() {  # in_cidr_all CIDR IP...: every IP is inside CIDR (and there is at least one)
  local cidr=$1 ip; shift
  (($#)) || return 1
  for ip in "$@"; do in_cidr "$ip" "$cidr" || return 1; done
}

internal_network() {
  step "--internal (beyond the tutorial's policy step): docker network create --internal internal-net"
  ensure_network internal-net --internal
  toolbox internal-1 --network internal-net
  toolbox internal-2 --network internal-net
  run docker exec internal-1 ip route >&2
  check "internal-1 pings internal-2 by name (members of an internal network reach each other)" \
    docker exec internal-1 ping -c 1 -W 2 internal-2
  check "secure-1 (an ordinary bridge) has a default route: ip route shows one where there is one" \
    has_default_route secure-1
  check "internal-1 has no default route: nothing outside internal-net is reachable" not has_default_route internal-1
  check "internal-1 cannot open web's address on frontend, port 80 (no route; visitor opened web:80 above)" \
    unreachable_ip internal-1 web frontend 80
}
