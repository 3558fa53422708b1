#!/usr/bin/env bash
# troubleshoot.sh — a network report on any running container, from inside its namespaces: the tutorial's
# "네트워크 문제 해결" commands (ip addr, ip route, netstat -tulpn for the tutorial's ss -tulpn, getent, nc -z)
# run for you.
#
# Usage: scripts/troubleshoot.sh [--offline] CONTAINER
#        scripts/troubleshoot.sh web-server          # e.g. on the 3-tier layout (scripts/run-3tier.sh)
#
#   The report: the container's networks (name, IP, gateway, DNS names), its interfaces and routes, the
#   sockets it listens on, its /etc/resolv.conf, its published ports, and for every other container on
#   its networks: what that name resolves to from here, and whether its exposed ports (EXPOSE) are open.
#
#   The tools come from the toolbox image ($TOOLBOX_IMAGE, default alpine:3.22), run as
#     docker run --rm --network container:CONTAINER --pid container:CONTAINER TOOLBOX CMD
#   so CONTAINER's own image needs no tools (nginx, mysql and postgres images have none of them). Only
#   what alpine's busybox has is used: netstat stands in for ss, which alpine does not ship.
#   It only reads: the only things it creates are those --rm probe containers (labelled io.docker-net-lab=probe).
#
#   --offline   use the lab's local stand-in images (tools/offline-images.sh), no registry needed
#   -h, --help  show this help
set -Eeuo pipefail

# shellcheck source=lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.sh"


TARGET=''

parse_args() {
  local offline=0
  while (($#)); do
    case $1 in
      -h|--help) usage; exit 0 ;;
      --offline) offline=1 ;;
      -*) usage_error "unknown option: $1" ;;
      *) [[ -z $TARGET ]] || usage_error "name one container (got '$TARGET' and '$1')"; TARGET=$1 ;;
    esac
    shift
  done
  [[ -n $TARGET ]] || usage_error "name the container to look at (docker ps lists the running ones)"
  [[ $TARGET =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] \
    || usage_error "'$TARGET' is not a container name (letters, digits, _ . -; docker ps lists the names)"
  if ((offline)); then use_offline_images; fi
}

check_target() {
  require_engine
  docker container inspect "$TARGET" >/dev/null 2>&1 \
    || die "no container named '$TARGET' (docker ps -a lists them; the name is the last column)."
  local status
  status=$(docker inspect -f '{{.State.Status}}' "$TARGET")
  [[ $status == running ]] \
    || die "container '$TARGET' is $status, not running: it has no network namespace to look into. Start it (docker start $TARGET) or read why it stopped (docker logs $TARGET)."
  ensure_image "$TOOLBOX_IMAGE" 2>/dev/null
}

# tool CMD...: run CMD from the toolbox inside the target's network and PID namespaces (--pid lets netstat -p
# name the process), labelled so scripts/cleanup.sh would know it. TOOL_STDIN=1: pass stdin in (-i).
tool() {
  docker run --rm ${TOOL_STDIN:+-i} --network "container:$TARGET" --pid "container:$TARGET" --label "$LAB_LABEL=probe" \
    "$TOOLBOX_IMAGE" "$@"
}

section() { printf '\n%s== %s ==%s\n' "$C_B" "$*" "$C_0"; }
indent() { sed 's/^/  /'; }

# --- the report ----------------------------------------------------------------------------------------------

report_header() {
  local image mode
  image=$(docker inspect -f '{{.Config.Image}}' "$TARGET")
  mode=$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$TARGET")
  printf '%sNetwork report: %s%s  (image %s, network mode %s)\n' "$C_B" "$TARGET" "$C_0" "$image" "$mode"
  printf 'The commands below run as: %s CMD\n' \
    "$(show_cmd docker run --rm --network "container:$TARGET" --pid "container:$TARGET" "$TOOLBOX_IMAGE")"
  case $mode in
    host) printf 'It uses the host network: the interfaces, routes and sockets below are the host'"'"'s.\n' ;;
    none) printf 'It has no network (--network none): only lo, and nothing to reach.\n' ;;
    container:*) printf 'It shares the network namespace of container %s.\n' "${mode#container:}" ;;
  esac
}

# networks_of NAME: one line per network: NAME IP/PREFIX GATEWAY DNS-NAMES(comma list)
networks_of() {
  docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{with $v.IPAddress}}{{.}}/{{$v.IPPrefixLen}}{{else}}-{{end}} {{with $v.Gateway}}{{.}}{{else}}-{{end}} {{with $v.DNSNames}}{{join . ","}}{{else}}{{with $v.Aliases}}{{join . ","}}{{else}}-{{end}}{{end}}{{"\n"}}{{end}}' "$1" \
    | grep .
}

report_networks() {
  section "networks (docker inspect $TARGET)"
  local lines
  lines=$(networks_of "$TARGET" || true)
  if [[ -z $lines ]]; then echo "  (none: no network Docker manages)"; return; fi
  printf '  %-22s %-20s %-16s %s\n' NETWORK ADDRESS GATEWAY 'NAMES OTHERS CAN USE'
  # shellcheck disable=SC2086
  while read -r net addr gw names; do printf '  %-22s %-20s %-16s %s\n' "$net" "$addr" "$gw" "${names//,/ }"; done \
    <<<"$lines"
}

report_published() {
  section "published ports (docker port $TARGET)"
  local ports
  ports=$(docker port "$TARGET")
  if [[ -z $ports ]]; then echo "  (none: reachable only from containers on its networks)"; else indent <<<"$ports"; fi
}

report_namespace() {
  section "interfaces (ip addr)"; tool ip addr | indent
  section "routes (ip route)"; tool ip route | indent
  section "listening sockets (netstat -tulpn; alpine has no ss)"; tool netstat -tulpn | indent
  section "DNS settings (cat /etc/resolv.conf)"
  local conf
  conf=$(tool cat /etc/resolv.conf | grep -v '^#' | grep . || true)
  indent <<<"$conf"
  if grep -q '^nameserver 127\.0\.0\.11' <<<"$conf"; then
    echo "  (127.0.0.11 is Docker's embedded DNS: it answers the names of containers on its user-defined networks)"
  else
    echo "  (not Docker's embedded DNS 127.0.0.11: container names will not resolve here — default bridge or host network)"
  fi
}

# peers_on NET: the other containers on NET: NAME IP (no mask)
peers_on() {
  docker network inspect -f '{{range $id, $c := .Containers}}{{$c.Name}} {{$c.IPv4Address}}{{"\n"}}{{end}}' "$1" \
    | awk -v me="$TARGET" 'NF == 2 && $1 != me {sub(/\/.*/, "", $2); print $1, $2}' | sort
}

exposed_tcp() {  # exposed_tcp NAME: the container's EXPOSEd TCP ports
  docker inspect -f '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$1" 2>/dev/null \
    | tr ' ' '\n' | sed -n 's#/tcp$##p'
}

# The peer probes as one toolbox run: input lines "NAME IP PORT...", output lines "NAME RESOLVED PORT:STATE...".
# shellcheck disable=SC2016  # expanded by the probe's shell, not this one
PEER_PROBE='while read -r name ip ports; do
  got=$(getent ahostsv4 "$name" | awk "{print \$1}" | sort -u | tr "\n" ",")
  host=$name; [ -n "$got" ] || host=$ip
  out="$name ${got:-none}"
  for p in $ports; do
    if nc -z -w 2 "$host" "$p" 2>/dev/null; then out="$out $p:open"; else out="$out $p:closed"; fi
  done
  echo "$out"
done'

report_peers() {
  section "peers: what $TARGET resolves and reaches (getent hosts NAME; nc -zv NAME PORT)"
  local net name ip ports input results any=0 line got states state
  for net in $(networks_of "$TARGET" | awk '{print $1}'); do
    [[ $net == host || $net == none ]] && continue
    input=''
    while read -r name ip; do
      [[ -n $name ]] || continue
      docker container inspect "$name" >/dev/null 2>&1 || continue   # overlay load-balancer endpoints
      ports=$(exposed_tcp "$name" | tr '\n' ' ')
      input+="$name $ip $ports"$'\n'
    done < <(peers_on "$net")
    printf '  %s%s%s\n' "$C_B" "$net" "$C_0"
    any=1
    if [[ -z $input ]]; then echo "    (no other container on it)"; continue; fi
    input=${input%$'\n'}
    results=$(TOOL_STDIN=1 tool sh -c "$PEER_PROBE" <<<"$input")
    while read -r name ip ports; do
      line=$(grep -m1 "^$name " <<<"$results" || true)
      got=$(awk '{print $2}' <<<"$line"); got=${got%,}
      if [[ $got == none || -z $got ]]; then
        got="does not resolve"
        [[ $net != bridge ]] || got+=" (the default bridge has no DNS by name: use a user-defined network)"
      elif [[ ",$got," == *",$ip,"* ]]; then got="resolves to $got"
      else got="resolves to $got (its address on $net is $ip: the name belongs to another network here)"
      fi
      printf '    %-20s %-16s %s\n' "$name" "$ip" "$got"
      states=''
      for state in $(cut -d' ' -f3- <<<"$line"); do states+="${state%%:*}/tcp ${state#*:}, "; done
      [[ -n $ports ]] && printf '    %-20s %-16s ports: %s\n' '' '' "${states%, }"
      [[ -n $ports ]] || printf '    %-20s %-16s ports: (it EXPOSEs none; probe one by hand: nc -zv %s PORT)\n' '' '' "$name"
    done <<<"$input"
  done
  ((any)) || echo "  (it is on no network with other containers)"
}

main() {
  parse_args "$@"
  check_target
  report_header
  report_networks
  report_published
  report_namespace
  report_peers
}

main "$@"
