# shellcheck shell=bash
# Section "1. Bridge (기본값)" and "컨테이너 간 통신 › 1. 기본 Bridge 네트워크에서의 통신": `docker network ls`
# shows bridge/host/none; containers run without --network land on the default bridge, where they reach
# each other by IP but not by name (the default bridge has no embedded DNS).
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="Docker 네트워크 드라이버 › 1. Bridge + 컨테이너 간 통신 › 1. 기본 Bridge — by IP, not by name"

networks_of() { docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$1" | xargs; }

# builtin_networks_listed: bridge, host and none are listed with their drivers bridge, host and null.
builtin_networks_listed() {
  local listed
  listed=$(docker network ls --format '{{.Name}}={{.Driver}}')
  grep -qx 'bridge=bridge' <<<"$listed" && grep -qx 'host=host' <<<"$listed" && grep -qx 'none=null' <<<"$listed"
}

# not_found FROM NAME: FROM's resolver has no address for NAME (getent exits 2, "not found", as musl's does;
# any other failure is not an answer about NAME).
not_found() {
  local rc=0
  docker exec "$1" getent hosts "$2" || rc=$?
  ((rc == 2))
}

lab_main() {
  require_free container web db container1 container2
  step "1. Bridge (기본값): docker network ls"
  run docker network ls >&2
  check "docker network ls shows the built-in networks bridge (driver bridge), host (host) and none (null)" \
    builtin_networks_listed

  step "1. Bridge (기본값): docker run -d --name web nginx; docker run -d --name db mysql:5.7"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name web $(labels) "$NGINX_IMAGE" >/dev/null
  mysql_as_written db --name db
  log "  mysql:5.7 without MYSQL_ROOT_PASSWORD (or another password variable) exits at once (erratum), and"
  log "  mysql:5.7 is end-of-life. This step is about the network, not the database: a listener of ours on"
  log "  3306 stands in for db."
  # shellcheck disable=SC2046
  # busybox nc keeps listening after a connection (-lk) only when it runs a program per connection (-e)
  run docker run -d --name db $(labels) "$TOOLBOX_IMAGE" nc -lk -p 3306 -e /bin/cat >/dev/null
  local web_nets db_nets db_ip
  web_nets=$(networks_of web) db_nets=$(networks_of db)
  check "web and db, run without --network, are on the default bridge (web: $web_nets; db: $db_nets)" \
    test "$web_nets $db_nets" = "bridge bridge"
  db_ip=$(ip_on db bridge) || db_ip=''
  check "db has an address on the default bridge (${db_ip:-none})" test -n "$db_ip"
  if [[ -n $db_ip ]]; then
    check "web reaches db by IP on the default bridge (opened $db_ip:3306)" port_open web "$db_ip" 3306
  fi

  step "컨테이너 간 통신 › 1. 기본 Bridge: two containers"
  toolbox container1
  toolbox container2

  step "IP 주소 확인: docker inspect container1 | grep IPAddress"
  local ip1 ip2 c ip grepped
  ip1=$(ip_on container1 bridge) || ip1=''
  ip2=$(ip_on container2 bridge) || ip2=''
  log "  as written: docker inspect's JSON (long: only the lines grep IPAddress keeps are shown)"
  for c in container1 container2; do
    ip=$ip1; [[ $c == container1 ]] || ip=$ip2
    print_cmd docker inspect "$c"
    RUN_RC=0
    RUN_OUT=$(docker inspect "$c") || RUN_RC=$?
    grepped=$(grep IPAddress <<<"$RUN_OUT" || true)
    log "  | grep IPAddress:"
    sed 's/^ */      /' <<<"$grepped" >&2
    check "as written, grep IPAddress shows $c's address ${ip:-(none read)} (on the default bridge)" \
      eval '((RUN_RC == 0)) && [[ -n $ip ]] && grep -qF "\"IPAddress\": \"$ip\"" <<<"$grepped"'
  done
  log "  It also matches the deprecated top-level field (empty on user-defined networks) and"
  log "  SecondaryIPAddresses. We read the address the container has on the network: .NetworkSettings.Networks.bridge"
  run docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' container1 >&2
  run docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' container2 >&2
  check "container1 and container2 have addresses on the default bridge (${ip1:-none}, ${ip2:-none})" \
    test -n "$ip1" -a -n "$ip2" -a "$ip1" != "$ip2"

  step "container1에서 container2로 ping (IP 사용): docker exec container1 ping -c 3 ${ip2:-IP}"
  if [[ -n $ip2 ]]; then
    run_capture docker exec container1 ping -c 3 -W 2 "$ip2"
    check "container1 pings container2 by IP $ip2 (ping exits $RUN_RC: 0 means replies came back)" \
      test "$RUN_RC" -eq 0
  fi

  step "… and by name? docker exec container1 ping -c 3 container2"
  # On the default bridge the name goes to the resolvers the host uses (no embedded DNS), which do not
  # know our containers: the lookup fails before any packet is sent to container2.
  run_capture docker exec container1 ping -c 3 -W 2 container2
  check "container1 cannot ping container2 by name (ping exits $RUN_RC)" test "$RUN_RC" -ne 0
  check "… because the name does not resolve: getent hosts container2 in container1 says not found (exit 2)" \
    not_found container1 container2
  local conf
  conf=$(docker exec container1 cat /etc/resolv.conf) || conf=''
  check "container1's /etc/resolv.conf names a resolver ($(grep -m1 '^nameserver' <<<"$conf" || echo none))" \
    grep -q '^nameserver ' <<<"$conf"
  check "container1 has no embedded DNS (no 127.0.0.11 in /etc/resolv.conf): the default bridge has none" \
    not grep -q '^nameserver 127\.0\.0\.11$' <<<"$conf"
}
