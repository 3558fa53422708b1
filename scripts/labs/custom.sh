# shellcheck shell=bash
# Section "4. Custom Bridge", "컨테이너 간 통신 › 2. 사용자 정의 네트워크에서의 통신" and "컨테이너 네트워크
# 연결/해제": on a user-defined bridge containers reach each other by name (Docker's embedded DNS at
# 127.0.0.11), and `docker network connect`/`disconnect` change that on a running container.
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="4. Custom Bridge + 컨테이너 간 통신 › 2. 사용자 정의 네트워크 + 연결/해제 — by name, live"

# resolves_to FROM NAME IP: FROM's resolver answers NAME with IP (the address NAME has on the network).
# (A here-string, not `getent | grep -q`: with pipefail an early-quitting grep can fail the pipeline.)
resolves_to() { [[ -n $3 ]] && grep -qxF -- "$3" <<<"$(docker exec "$1" getent hosts "$2" | awk '{print $1}')"; }
# not_found FROM NAME: FROM's resolver has no address for NAME (getent exits 2, "not found", as musl's does;
# a failure of any other kind is no answer about NAME).
not_found() {
  local rc=0
  docker exec "$1" getent hosts "$2" || rc=$?
  ((rc == 2))
}
# args_hold_e NAME: the container's arguments (after the image) begin with -e MYSQL_ROOT_PASSWORD=secret.
args_hold_e() { [[ $(docker inspect -f '{{json .Args}}' "$1") == '["-e","MYSQL_ROOT_PASSWORD=secret"]' ]]; }
# mysql_answers NAME: MySQL in NAME answers SELECT 1 over TCP as root with the password 'secret' (the
# temporary server of the image's first initialisation listens on no TCP port, so this means initialised).
mysql_answers() {
  [[ $(docker exec -e MYSQL_PWD=secret "$1" mysql -uroot -h127.0.0.1 -N -e 'SELECT 1' 2>/dev/null) == 1 ]]
}
# wait_mysql NAME SECONDS: until mysql_answers NAME, NAME stops, or SECONDS pass; says how long it waited.
wait_mysql() {
  local start=$SECONDS next=$((SECONDS + 10))
  log "  waiting for MySQL in $1 to initialise and answer (at most ${2}s)"
  until mysql_answers "$1"; do
    [[ $(docker inspect -f '{{.State.Status}}' "$1") == running ]] || { log "  $1 stopped"; return 0; }
    ((SECONDS - start < $2)) || { log "  $1 did not answer within ${2}s"; return 0; }
    if ((SECONDS >= next)); then log "  still waiting for $1 ($((SECONDS - start))s of at most ${2}s)"
      next=$((SECONDS + 10)); fi
    sleep 1
  done
  log "  MySQL in $1 answers after $((SECONDS - start))s"
}
uses_embedded_dns() { docker exec "$1" grep -q '^nameserver 127.0.0.11$' /etc/resolv.conf; }

lab_main() {
  require_free container web db my-container
  require_free network my-network
  step "4. Custom Bridge: docker network create my-network"
  log "  (컨테이너 간 통신 › 2 runs the same commands on a network named app-network; the troubleshoot lab uses"
  log "  that name. Here both blocks are one: my-network, web and db.)"
  ensure_network my-network

  step "4. Custom Bridge: docker run -d --network my-network --name web nginx / --name db mysql:5.7"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --network my-network --name web $(labels) "$NGINX_IMAGE" >/dev/null
  mysql_as_written db --network my-network --name db
  log "  tutorial: docker run -d --network my-network --name db mysql:5.7 -e MYSQL_ROOT_PASSWORD=secret."
  log "  As written (the MySQL image for mysql:5.7): -e after the image name is an argument to the container."
  # shellcheck disable=SC2046
  run docker run -d --network my-network --name db $(labels) "$MYSQL_IMAGE" -e MYSQL_ROOT_PASSWORD=secret >/dev/null
  wait_exited db
  check "-e after the image, as written: db exits with a failure (exit code $(exit_code_of db))" exited_nonzero db
  check "-e after the image, as written: db's arguments hold -e ($(docker inspect -f '{{json .Args}}' db))" \
    args_hold_e db
  remove_ours container db
  log "  That line fails twice (errata): -e after the image name is passed to mysqld as an argument, so MySQL"
  log "  sees no password and exits; and mysql:5.7 is end-of-life. Fixed: -e before the image (mysql:8.4):"
  # shellcheck disable=SC2046
  run docker run -d --network my-network --name db -e MYSQL_ROOT_PASSWORD=secret $(labels) "$MYSQL_IMAGE" >/dev/null
  wait_mysql db 180
  check "fixed, db runs MySQL: root logs in with the password 'secret' over TCP (SELECT 1 answered)" \
    mysql_answers db
  remove_ours container db
  log "  The rest of this section is about names on the network, not the database: a listener of ours on"
  log "  3306 stands in for db (the toolbox image has ping, which the MySQL image lacks)."
  # shellcheck disable=SC2046
  # busybox nc keeps listening after a connection (-lk) only when it runs a program per connection (-e)
  run docker run -d --network my-network --name db $(labels) "$TOOLBOX_IMAGE" nc -lk -p 3306 -e /bin/cat >/dev/null

  step "컨테이너 이름으로 통신 (DNS 자동 설정): docker exec web ping -c 3 db; docker exec db ping -c 3 web"
  log "  nginx's image has no ping: we run the toolbox in web's network namespace (--network container:web),"
  log "  which has web's interfaces and web's resolver — the same as 'docker exec web ping' would."
  # shellcheck disable=SC2046
  run_capture docker run --rm --network container:web $(labels) "$TOOLBOX_IMAGE" ping -c 3 -W 2 db
  check "web pings db by name on my-network (ping exits $RUN_RC: 0 means replies came back)" test "$RUN_RC" -eq 0
  run_capture docker exec db ping -c 3 -W 2 web
  check "db pings web by name on my-network (ping exits $RUN_RC)" test "$RUN_RC" -eq 0
  check "web opens db:3306 by name (our listener)" port_open web db 3306
  local db_ip web_ip
  db_ip=$(ip_on db my-network) || db_ip=''
  web_ip=$(ip_on web my-network) || web_ip=''
  check "the name 'web' resolves from db to web's address on my-network (${web_ip:-web has none})" \
    resolves_to db web "$web_ip"
  run docker exec db cat /etc/resolv.conf >&2
  check "db asks Docker's embedded DNS: /etc/resolv.conf says nameserver 127.0.0.11" uses_embedded_dns db

  step "컨테이너 네트워크 연결/해제: a running container outside my-network"
  # shellcheck disable=SC2046
  run docker run -d --name my-container $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
  run_capture docker exec my-container ping -c 1 -W 2 db
  check "before connect: my-container (default bridge) cannot resolve 'db' (getent: not found; ping exited $RUN_RC)" \
    not_found my-container db

  step "docker network connect my-network my-container"
  run docker network connect my-network my-container
  run_capture docker exec my-container ping -c 3 -W 2 db
  check "after connect: my-container pings db by name, without a restart (ping exits $RUN_RC)" \
    test "$RUN_RC" -eq 0
  check "after connect: my-container has an address on my-network ($(ip_on my-container my-network || echo none))" \
    ip_on my-container my-network
  check "after connect: my-container opens db's address ${db_ip:-?}:3306 (what the disconnect will take away)" \
    port_open my-container "$db_ip" 3306
  check "after connect: my-container's resolver is the embedded DNS (127.0.0.11)" uses_embedded_dns my-container

  step "docker network disconnect my-network my-container"
  run docker network disconnect my-network my-container
  run_capture docker exec my-container ping -c 1 -W 2 db
  check "after disconnect: 'db' no longer resolves for my-container (getent: not found; ping exited $RUN_RC)" not_found my-container db
  check "after disconnect: my-container cannot open db's address on my-network, port 3306 either (no shared network)" \
    unreachable_ip my-container db my-network 3306
  check "after disconnect: my-container is still on the default bridge ($(ip_on my-container bridge || echo none))" \
    ip_on my-container bridge
}
