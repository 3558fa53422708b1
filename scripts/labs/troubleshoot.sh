# shellcheck shell=bash
# Section "네트워크 문제 해결": the tutorial's debugging commands (ping, nslookup, nc -zv, ip addr, netstat, ss,
# route -n), each run against a small layout of our own — the tutorial's app-network with a target named
# my-container serving HTTP on :80 — and each with its expected answer checked.
#
# The tutorial's `docker exec container-name ip addr` needs the tools inside the target's image; nginx, mysql
# and postgres images carry few or none ("executable file not found"). The fixed form runs them from the
# toolbox image inside the target's network namespace: docker run --rm --network container:NAME TOOLBOX ...
# (scripts/troubleshoot.sh does the same for any container). Sourced by scripts/lab.sh.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="네트워크 문제 해결 — ping, nslookup, nc -zv, ip addr, netstat, ss, route -n"

TARGET=my-container
NET=app-network

ok_and_has() { ((RUN_RC == 0)) && grep -Eq -- "$1" <<<"$RUN_OUT"; }    # ok_and_has REGEX: exit 0, OUT matches
failed_with() { ((RUN_RC != 0)) && grep -Eq -- "$1" <<<"$RUN_OUT"; }   # failed_with REGEX

# on_net CMD...: the tutorial's `docker run --rm --network app-network alpine CMD` (toolbox for alpine)
on_net() {
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run_capture docker run --rm --network "$NET" $(labels) "$TOOLBOX_IMAGE" "$@"
}
# in_target CMD...: the fixed `docker exec my-container CMD`: the toolbox in the target's network namespace
# (and its PID namespace, so netstat/ss -p can name the listening process).
in_target() {
  # shellcheck disable=SC2046
  run_capture docker run --rm --network "container:$TARGET" --pid "container:$TARGET" $(labels) "$TOOLBOX_IMAGE" "$@"
}

wait_listening() {  # wait_listening: bounded, until the target accepts on :80
  local deadline=$((SECONDS + 30))
  until port_open "$TARGET" 127.0.0.1 80 >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { docker logs --tail 20 "$TARGET" >&2 || true; die "$TARGET does not listen on :80 after 30s"; }
    sleep 1
  done
}

lab_main() {
  step "set-up: the tutorial's app-network and a target named my-container (nginx, serving on :80)"
  ensure_network "$NET"
  refuse_foreign container "$TARGET"
  # lab.sh removed this section's leftovers: a my-container now belongs to someone else (another section
  # running at the same time uses the name too), so stop rather than probe the wrong container.
  if exists container "$TARGET"; then
    die "a container named $TARGET exists already (layout '$(label_of container "$TARGET")'): remove it or wait for it to go, then run again."
  fi
  # shellcheck disable=SC2046
  run docker run -d --network "$NET" --name "$TARGET" $(labels) "$NGINX_IMAGE" >/dev/null
  wait_listening
  local ip gw rip
  ip=$(ip_on "$TARGET" "$NET")
  rip=${ip//./\\.}   # the address as a regular expression
  gw=$(docker network inspect -f '{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}' "$NET" \
    | awk '{print $1}')
  log "  my-container is $ip on $NET; the network's gateway is $gw (docker network inspect $NET)"
  log "  the tutorial's 'alpine' is the toolbox image here: $TOOLBOX_IMAGE (ping, nslookup, nc, ip, ss, netstat, route)"

  step "연결 테스트: docker run --rm --network app-network alpine ping -c 3 my-container"
  on_net ping -c 3 -W 2 "$TARGET"
  check "ping my-container: 3 packets transmitted, 3 received" \
    ok_and_has '3 packets transmitted, 3 received'
  check "ping's first line names my-container's address ($ip)" ok_and_has "PING $TARGET \\($rip\\)"

  step "DNS 확인: docker run --rm --network app-network alpine nslookup my-container"
  on_net nslookup "$TARGET"
  check "nslookup is answered by Docker's embedded DNS (Server: 127.0.0.11)" ok_and_has 'Server:[[:space:]]+127\.0\.0\.11'
  check "nslookup my-container answers $ip" ok_and_has "Address: $rip\$"
  on_net nslookup no-such-container
  check "nslookup no-such-container fails (NXDOMAIN): a typo looks like this" failed_with "NXDOMAIN|can't find"

  step "포트 스캔: docker run --rm --network app-network alpine nc -zv my-container 80"
  on_net nc -zv -w 3 "$TARGET" 80
  check "nc -zv my-container 80 succeeds" ok_and_has "$TARGET \\($rip\\) 80 port .* succeeded"
  on_net nc -zv -w 3 "$TARGET" 81
  check "nc -zv my-container 81 fails: connection refused (nothing listens there)" failed_with 'refused'

  step "네트워크 디버깅: docker exec container-name ip addr / netstat -tulpn / ss -tulpn / route -n"
  log "  as written (docker exec runs the tool inside my-container's own image):"
  run_capture docker exec "$TARGET" netstat -tulpn
  check "docker exec my-container netstat -tulpn fails: the nginx image has no netstat (executable file not found)" \
    failed_with 'executable file not found'
  log "  fixed: the same tools from the toolbox image, inside my-container's namespaces"
  log "  (--network container:my-container shares its interfaces; --pid container:my-container lets -p name the process)"
  in_target ip addr
  check "ip addr (in my-container's namespace) shows lo and eth0 with $ip" \
    eval 'ok_and_has "inet 127\.0\.0\.1/8" && ok_and_has "inet $rip/[0-9]+ .* eth0"'
  in_target netstat -tulpn
  check "netstat -tulpn shows nginx LISTENing on :80" ok_and_has ':80 .*LISTEN .*nginx'
  in_target ss -tulpn
  check "ss -tulpn shows LISTEN on :80 by nginx" ok_and_has 'LISTEN .*:80 .*nginx'
  in_target route -n
  check "route -n has the default route via $NET's gateway $gw" ok_and_has "^0\.0\.0\.0 +${gw//./\\.} +0\.0\.0\.0 +UG"
}
