# shellcheck shell=bash
# Section "2. Host": a container on the host network uses the host's network stack — it serves on a host
# port with no -p, sees the host's interfaces, and -p is ignored (Docker warns).
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="Docker 네트워크 드라이버 › 2. Host — the host's ports and interfaces, -p ignored"

# links: the interface names of the current network namespace, sorted, one line. veth* come and go as
# other containers start and stop, so they are left out of the comparison.
# Read from /sys/class/net, which every Linux container has: the nginx image has no `ip` (see docs/errata.md).
# shellcheck disable=SC2010  # interface names are plain words (no spaces or newlines): ls | grep is safe here
links() { ls /sys/class/net | grep -v '^veth' | sort | xargs; }
links_in() { docker exec "$1" ls /sys/class/net | grep -v '^veth' | sort | xargs; }

# same_links_as_host NAME: NAME sees the host's interfaces. Compared up to 3 times, because another
# network created or removed between the two readings changes the list.
same_links_as_host() {
  for _ in 1 2 3; do
    [[ $(links_in "$1") == "$(links)" ]] && return 0
    sleep 1
  done
  return 1
}

# write_site_template: nginx's default site, listening on ${NGINX_PORT} (filled in by the image's envsubst
# step) instead of 80. In a temporary folder that lab_cleanup removes.
write_site_template() {
  TEMPLATE_DIR=$(mktemp -d)
  chmod 755 "$TEMPLATE_DIR"   # nginx reads it as its own user
  # shellcheck disable=SC2016  # ${NGINX_PORT} is for nginx's envsubst, not for this shell
  printf '%s\n' 'server {' '    listen ${NGINX_PORT};' \
    '    location / { root /usr/share/nginx/html; index index.html; }' '}' >"$TEMPLATE_DIR/default.conf.template"
  chmod 644 "$TEMPLATE_DIR/default.conf.template"
}

lab_cleanup() { if [[ -n ${TEMPLATE_DIR:-} ]]; then rm -rf "$TEMPLATE_DIR"; fi; }

# lab_unsupported: on Docker Desktop the engine's "host" is its VM, not this machine: a host-network container
# sees the VM's interfaces and ports, so this section's checks (against this machine's) do not apply there.
lab_unsupported() {
  on_docker_desktop || return 1
  echo "Docker Desktop: --network host means the Desktop VM's network, not this machine's (the container sees"
  echo "  the VM's interfaces, and host networking must be turned on in Settings > Resources > Network)."
  echo "  This section compares with this machine's interfaces and ports, so it runs on a Linux engine only."
}

lab_main() {
  require_free container web bridged host-with-p
  local port p_port url
  pick_port port
  url=http://127.0.0.1:$port/

  step "2. Host: docker run -d --network host --name web nginx"
  if port_busy 80; then log "  port 80 on this host is taken already: the tutorial's nginx could not bind it."
  else log "  port 80 on this host is free right now, but a learner's often is not."; fi
  log "  On the host network the container's port 80 IS the host's port 80 (a common collision: erratum)."
  log "  We move nginx to a free port, $port: the nginx image renders /etc/nginx/templates/*.template at start,"
  log "  so a one-line site template that listens on \${NGINX_PORT} replaces its default site."
  write_site_template
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --network host --name web $(labels) -e "NGINX_PORT=$port" \
    -v "$TEMPLATE_DIR/default.conf.template:/etc/nginx/templates/default.conf.template:ro" "$NGINX_IMAGE" >/dev/null
  wait_http "$url" 20 || log "  nginx did not answer on $url within 20s; its log:$(docker logs --tail 10 web 2>&1 | sed 's/^/    | /')"
  run_capture curl -sSI "$url"
  check "curl $url from the host reaches nginx in the container ($(head -n 1 <<<"$RUN_OUT" | tr -d '\r')), with no -p" \
    http_has "$url" nginx
  check "web's network mode is host ($(docker inspect -f '{{.HostConfig.NetworkMode}}' web))" \
    test "$(docker inspect -f '{{.HostConfig.NetworkMode}}' web)" = host

  step "2. Host: the container sees the host's interfaces"
  log "  host:        $(links)"
  log "  inside web:  $(links_in web)   (veth* left out: they come and go with other containers)"
  run docker exec web ls /sys/class/net >/dev/null
  check "web's interfaces are the host's (same list, docker0 included)" same_links_as_host web
  # shellcheck disable=SC2046
  run docker run -d --name bridged $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
  check "for contrast, a container on the default bridge sees only lo and eth0 ($(links_in bridged))" \
    test "$(links_in bridged)" = "eth0 lo"

  step "2. Host: -p with --network host is ignored"
  pick_port p_port
  # shellcheck disable=SC2046
  run_capture docker run -d --network host -p "127.0.0.1:$p_port:80" --name host-with-p $(labels) \
    "$TOOLBOX_IMAGE" sleep 1000
  check "docker run warns: 'Published ports are discarded when using host network mode'" \
    grep -q 'Published ports are discarded when using host network mode' <<<"$RUN_OUT"
  check "host-with-p still runs ($(docker inspect -f '{{.State.Status}}' host-with-p))" \
    test "$(docker inspect -f '{{.State.Status}}' host-with-p)" = running
  check "host-with-p has no port mapping (docker port is empty)" not_published host-with-p
  check "the listener probe sees web's own socket on 127.0.0.1:$port (what it looks for on $p_port next)" \
    port_busy "$port"
  check "nothing listens on 127.0.0.1:$p_port (the -p mapping was never made)" not port_busy "$p_port"

  step "2. Host: the port was web's own socket, not a mapping"
  run docker stop web >/dev/null
  check "after docker stop web, $url no longer answers: web's own socket served it (docker port web: empty)" \
    eval 'not http_has "$url" nginx && [[ -z $(docker port web) ]]'
}
