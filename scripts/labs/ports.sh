# shellcheck shell=bash
# Section "포트 매핑": one port, two ports, every interface (0.0.0.0), a random host port found with
# `docker port`, and UDP — each checked by connecting on 127.0.0.1; 0.0.0.0 also from a container of ours, through
# the host's address on the default bridge.
# Host ports are chosen free at run time (the tutorial's 8080/8443/514 may be taken, and 514 is privileged).
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="포트 매핑 › 포트 공개 및 매핑 + 포트 확인 — TCP, UDP, random ports"


nginx_on() {  # nginx_on NAME [docker run -p options...]: the tutorial's `docker run -d -p ... nginx`
  local name=$1; shift
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name "$name" $(labels) "$@" "$NGINX_IMAGE" >/dev/null
}

# answers URL: nginx answers on URL (we wait a little: nginx takes a moment to start).
answers() { wait_http "$1" 20 && http_has "$1" nginx; }

# mapped NAME PORT/PROTO HOST_IP:HOST_PORT: `docker port` shows exactly that binding (among others).
# (A here-string, not `docker port | grep -q`: with pipefail an early-quitting grep can fail the pipeline.)
mapped() { grep -qxF -- "$3" <<<"$(docker port "$1" "$2")"; }
# port_matches_inspect NAME: `docker port NAME` lists exactly the bindings `docker inspect` holds
# (.NetworkSettings.Ports), as PORT/PROTO -> HOST_IP:HOST_PORT lines, and at least one.
port_matches_inspect() {
  local shown held
  shown=$(docker port "$1" | sort)
  held=$(docker inspect -f '{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{$p}} -> {{.HostIp}}:{{.HostPort}}
{{end}}{{end}}' "$1" | sed '/^$/d' | sort)
  [[ -n $held && $shown == "$held" ]]
}

# recorded NAME PORT/PROTO HOST_PORT: the container's own record (docker inspect .NetworkSettings.Ports)
# binds PORT/PROTO to HOST_PORT — what `docker port` reads is checked against the engine's record.
recorded() {
  local ports
  PROBE="docker inspect -f '{{json .NetworkSettings.Ports}}' $1"
  ports=$(docker inspect -f "{{range (index .NetworkSettings.Ports \"$2\")}}{{.HostPort}} {{end}}" "$1") || return 1
  [[ -n $3 && " $ports" == *" $3 "* ]]
}

# fetch_from NAME URL: NAME (a container of ours) gets an HTTP answer from URL.
fetch_from() { PROBE="docker exec $1 wget -q -O /dev/null -T 5 $2"; docker exec "$1" wget -q -O /dev/null -T 5 "$2"; }

lab_main() {
  require_free container web-single web-two web-all web-default web-random syslog ports-peer
  local p1 p2 p3 p4 p5 p_udp random_port
  pick_port p1; pick_port p2; pick_port p3; pick_port p4; pick_port p5; pick_port p_udp

  step "단일 포트 매핑: docker run -d -p 8080:80 nginx"
  log "  tutorial: -p 8080:80, which publishes on every interface of the host. We publish on 127.0.0.1 (the"
  log "  lab's default; 0.0.0.0 is the next step, on purpose) and on a free port, $p1, instead of 8080."
  nginx_on web-single -p "127.0.0.1:$p1:80"
  check "web-single: 80/tcp is mapped to 127.0.0.1:$p1 ($(docker port web-single 80 | xargs))" \
    mapped web-single 80/tcp "127.0.0.1:$p1"
  check "curl http://127.0.0.1:$p1/ reaches nginx in web-single" answers "http://127.0.0.1:$p1/"

  step "여러 포트 매핑: docker run -d -p 8080:80 -p 8443:443 nginx"
  nginx_on web-two -p "127.0.0.1:$p2:80" -p "127.0.0.1:$p3:443"
  check "web-two: 80/tcp is mapped to 127.0.0.1:$p2" mapped web-two 80/tcp "127.0.0.1:$p2"
  check "web-two: 443/tcp is mapped to 127.0.0.1:$p3 (a second mapping on the same container)" \
    mapped web-two 443/tcp "127.0.0.1:$p3"
  check "curl http://127.0.0.1:$p2/ reaches nginx through the first mapping" answers "http://127.0.0.1:$p2/"
  log "  The nginx image has no TLS site: nothing listens on 443 inside, so the second mapping leads nowhere"
  log "  until a learner configures one. A mapping only forwards; it does not make a server."
  check "127.0.0.1:$p3 (-> 443) gets no HTTP answer: nginx does not listen on 443 without a TLS config" \
    not curl -s --max-time 3 -o /dev/null "http://127.0.0.1:$p3/"

  step "호스트의 모든 인터페이스에 바인딩: docker run -d -p 0.0.0.0:8080:80 nginx"
  log "  As written (with a free port, $p4): reachable from other machines too, and published ports bypass"
  log "  host firewalls such as ufw (Docker writes its own iptables rules): see the errata."
  nginx_on web-all -p "0.0.0.0:$p4:80"
  check "web-all: 80/tcp is mapped to 0.0.0.0:$p4, every interface ($(docker port web-all 80 | xargs))" \
    mapped web-all 80/tcp "0.0.0.0:$p4"
  check "curl http://127.0.0.1:$p4/ reaches web-all (loopback is one of every interface)" \
    answers "http://127.0.0.1:$p4/"
  log "  Another interface of this host: its address on the default bridge (the gateway), seen from a container"
  log "  of ours, ports-peer. A 0.0.0.0 binding answers there; web-single's 127.0.0.1 binding does not."
  toolbox ports-peer
  local gateway
  gateway=$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' bridge) || gateway=''
  check "the default bridge has a gateway address (${gateway:-none}): the host's own interface there" \
    test -n "$gateway"
  check "from ports-peer, http://$gateway:$p4/ reaches web-all: 0.0.0.0 is every interface, not only loopback" \
    eval '[[ -n $gateway ]] && fetch_from ports-peer "http://$gateway:$p4/"'
  check "from ports-peer, http://$gateway:$p1/ gets no answer: web-single's 127.0.0.1 binding is loopback only" \
    eval '[[ -n $gateway ]] && not fetch_from ports-peer "http://$gateway:$p1/"'
  log "  The tutorial's first form, -p 8080:80 with no address, is the same thing: every interface."
  nginx_on web-default -p "$p5:80"
  check "web-default (-p $p5:80, no address) is on 0.0.0.0 too ($(docker port web-default 80 | xargs))" \
    mapped web-default 80/tcp "0.0.0.0:$p5"

  step "임의의 호스트 포트 사용: docker run -d -p 80 nginx"
  log "  tutorial: -p 80 (a random port on every interface). We write -p 127.0.0.1::80: the same random pick,"
  log "  on loopback only."
  nginx_on web-random -p 127.0.0.1::80

  step "포트 확인: docker port container-name; docker port container-name 80"
  run docker port web-random >&2
  run docker port web-random 80 >&2
  random_port=$(docker port web-random 80 | head -n 1 | sed 's/.*://')
  check "docker port web-random lists exactly the bindings docker inspect holds ($(docker port web-random | xargs))" \
    port_matches_inspect web-random
  check "docker port web-random 80 shows the host port Docker picked (${random_port:-?}, as inspect records)" \
    eval '[[ -n $random_port ]] && recorded web-random 80/tcp "$random_port"'
  check "curl http://127.0.0.1:${random_port:-?}/ reaches web-random on that port" \
    eval '[[ -n $random_port ]] && answers "http://127.0.0.1:$random_port/"'

  step "UDP 포트 매핑: docker run -d -p 514:514/udp syslog-server"
  log "  tutorial: -p 514:514/udp syslog-server. There is no image called syslog-server (erratum), and host port"
  log "  514 is privileged. We run a UDP listener of ours (nc -u) on 514 in the container, published on"
  log "  127.0.0.1:$p_udp, and send it a datagram from the host."
  # shellcheck disable=SC2046
  run docker run -d --name syslog $(labels) -p "127.0.0.1:$p_udp:514/udp" "$TOOLBOX_IMAGE" nc -u -k -l -p 514 \
    >/dev/null
  check "syslog: 514/udp is mapped to 127.0.0.1:$p_udp ($(docker port syslog 514/udp | xargs))" \
    mapped syslog 514/udp "127.0.0.1:$p_udp"
  local message="<14>docker-net-lab: hello over udp $RANDOM"
  log "  $ printf '%s\\n' '$message' > /dev/udp/127.0.0.1/$p_udp      (bash sends one UDP datagram)"
  check "a datagram sent from the host to 127.0.0.1:$p_udp/udp arrives in the container (docker logs syslog)" \
    udp_delivered syslog "$p_udp" "$message"
  run docker logs syslog >&2
}

# udp_delivered NAME PORT MESSAGE: send MESSAGE to 127.0.0.1:PORT over UDP until NAME's log shows it
# (bounded: UDP has no handshake, so a datagram sent before the listener is up is simply lost).
udp_delivered() {
  for _ in {1..10}; do
    printf '%s\n' "$3" >"/dev/udp/127.0.0.1/$2" || return 1
    sleep 0.5
    grep -qF -- "$3" <<<"$(docker logs "$1" 2>&1)" && return 0
  done
  return 1
}
