# shellcheck shell=bash
# Section "네트워크 문제 해결": the tutorial's debugging commands (ping, nslookup, nc -zv, ip addr, netstat, ss,
# route -n), each run against a small layout of our own — the tutorial's app-network with a target named
# my-container serving HTTP on :80 — and each judged by its outcome: exit status, addresses, listeners.
# The tutorial's `ss -tulpn` is not in alpine (busybox has no ss): the lab shows that, then runs
# `netstat -tulpn`, which is (docs/errata.md).
#
# The tutorial's `docker exec container-name ip addr` needs the tools inside the target's image; nginx, mysql
# and postgres images carry few or none ("executable file not found"). The fixed form runs them from the
# toolbox image inside the target's network namespace: docker run --rm --network container:NAME TOOLBOX ...
# (scripts/troubleshoot.sh does the same for any container). Sourced by scripts/lab.sh.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="네트워크 문제 해결 — ping, nslookup, nc -zv, ip addr, netstat (for ss), route -n"

TARGET=my-container
NET=app-network

ok_and_has() { ((RUN_RC == 0)) && grep -Eq -- "$1" <<<"$RUN_OUT"; }    # ok_and_has REGEX: exit 0, OUT matches
exited() { ((RUN_RC == $1)); }                                          # exited N: the last command exited N
failed() { ((RUN_RC != 0)); }
# listens PORT [PROGRAM]: netstat's table (RUN_OUT) has a TCP listener on local port PORT, owned by PROGRAM.
# Columns as in net-tools' and busybox's netstat: proto, recv-q, send-q, local, foreign, state, pid/program.
listens() {
  awk -v port=":$1" -v prog="${2:-}" '$1 ~ /^tcp/ && $6 == "LISTEN" && substr($4, length($4) - length(port) + 1) == port \
    && (prog == "" || index($7, "/" prog) > 0) {found = 1} END {exit !found}' <<<"$RUN_OUT"
}
# default_via GW: route -n's table (RUN_OUT) has the default route (destination and mask 0.0.0.0) via GW.
default_via() { awk -v gw="$1" '$1 == "0.0.0.0" && $2 == gw && $3 == "0.0.0.0" {f = 1} END {exit !f}' <<<"$RUN_OUT"; }

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
  ip=$(ip_on "$TARGET" "$NET") || ip=''
  rip=${ip//./\\.}   # the address as a regular expression
  gw=$(docker network inspect -f '{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}' "$NET" \
    | awk '{print $1}')
  log "  my-container is $ip on $NET; the network's gateway is $gw (docker network inspect $NET)"
  log "  the tutorial's 'alpine' is the toolbox image here: $TOOLBOX_IMAGE (busybox: ping, nslookup, nc, ip, netstat, route)"

  step "연결 테스트: docker run --rm --network app-network alpine ping -c 3 my-container"
  on_net ping -c 3 -W 2 "$TARGET"
  check "ping my-container gets its replies (ping exits $RUN_RC: 0 means replies came back)" exited 0
  check "ping resolved my-container to its address ($ip): the first line names it in parentheses" \
    eval '[[ -n $ip ]] && head -n 1 <<<"$RUN_OUT" | grep -qF "($ip)"'

  step "DNS 확인: docker run --rm --network app-network alpine nslookup my-container"
  on_net nslookup "$TARGET"
  check "nslookup my-container exits 0 and answers $ip" eval '[[ -n $ip ]] && ok_and_has "^Address:[[:space:]]+$rip\$"'
  check "nslookup asked Docker's embedded DNS, 127.0.0.11 (its Server line)" ok_and_has '^Server:[[:space:]]+127\.0\.0\.11'
  on_net nslookup no-such-container
  check "nslookup no-such-container fails (exit $RUN_RC): a typo in a name looks like this" failed

  step "포트 스캔: docker run --rm --network app-network alpine nc -zv my-container 80"
  on_net nc -zv -w 3 "$TARGET" 80
  check "nc -zv my-container 80 exits 0: the port is open" exited 0
  on_net nc -zv -w 3 "$TARGET" 81
  check "nc -zv my-container 81 exits non-zero ($RUN_RC): nothing listens there" failed

  step "네트워크 디버깅: docker exec container-name ip addr / netstat -tulpn / ss -tulpn / route -n"
  log "  as written (docker exec runs the tool inside my-container's own image):"
  local tool
  for tool in "ip addr" "netstat -tulpn" "ss -tulpn" "route -n"; do
    # shellcheck disable=SC2086  # the tool and its options, as words
    run_capture docker exec "$TARGET" $tool
    check "docker exec my-container $tool exits 127: the nginx image has no ${tool%% *}" exited 127
  done
  log "  fixed: the same tools from the toolbox image, inside my-container's namespaces"
  log "  (--network container:my-container shares its interfaces; --pid container:my-container lets -p name the process)"
  in_target ip addr
  check "ip addr (in my-container's namespace) shows lo and eth0 with $ip" \
    eval 'ok_and_has "inet 127\.0\.0\.1/8" && [[ -n $ip ]] && ok_and_has "inet $rip/[0-9]+ .* eth0"'
  in_target netstat -tulpn
  check "netstat -tulpn shows nginx listening on TCP port 80" listens 80 nginx
  check "… and nothing listening on port 81 (why nc -zv my-container 81 failed)" eval '((RUN_RC == 0)) && ! listens 81'
  in_target ss -tulpn
  check "ss -tulpn exits 127 in the toolbox: alpine has no ss (netstat -tulpn above shows the same sockets)" \
    exited 127
  in_target route -n
  check "route -n has the default route via $NET's gateway ${gw:-?}" eval '[[ -n $gw ]] && default_via "$gw"'
}
