# shellcheck shell=bash
# Section "네트워크 명령어": ls, inspect, create, rm, connect, disconnect, and prune — restricted to this
# lab's label, because a plain `docker network prune` deletes EVERY unused network on the engine (a learner's
# own ones included), not just the tutorial's.
# Sourced by scripts/lab.sh, which provides lib.sh (run, check, probe ...) and removes what this made.
# shellcheck disable=SC2034  # LAB_TITLE is read by lab.sh
LAB_TITLE="네트워크 명령어 › 네트워크 관리 + 컨테이너 네트워크 연결/해제 — prune by label only"

PRUNE_LABEL=io.docker-net-lab.prune   # marks the networks this section's prune may remove

networks_of() { docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$1" | xargs; }
# listed NAME: in docker network ls. (grep on a here-string, not `ls | grep -q`: with pipefail, grep -q
# quitting early can fail the pipeline and turn a `not` check into a false pass.)
listed() { grep -qxF -- "$1" <<<"$(docker network ls --format '{{.Name}}')"; }
# unlisted NET: docker network ls answers, lists the built-in bridge, and does not list NET (a failed ls fails).
unlisted() {
  local names
  names=$(docker network ls --format '{{.Name}}') && grep -qxF bridge <<<"$names" && ! grep -qxF -- "$1" <<<"$names"
}
builtins_listed() { listed bridge && listed host && listed none; }
on_network() { [[ " $(networks_of "$1") " == *" $2 "* ]]; }                 # on_network CONTAINER NET

# bridge_summary: what `docker network inspect bridge` says about the default bridge, in one line.
bridge_summary() {
  docker network inspect -f \
    'driver={{.Driver}} subnet={{range .IPAM.Config}}{{.Subnet}}{{end}} gateway={{range .IPAM.Config}}{{.Gateway}}{{end}}' \
    bridge
}

lab_main() {
  require_free container my-app-container prune-user
  require_free network my-app-network prune-me prune-keep prune-in-use
  step "네트워크 목록 확인: docker network ls"
  run docker network ls >&2
  check "docker network ls lists the default networks bridge, host and none" \
    builtins_listed

  step "네트워크 상세 정보: docker network inspect bridge"
  run docker network inspect bridge >/dev/null
  log "  (the JSON is long; its key fields: $(bridge_summary))"
  check "inspect bridge: driver bridge, with a subnet and a gateway ($(bridge_summary))" \
    grep -Eq '^driver=bridge subnet=[0-9.]+/[0-9]+ gateway=[0-9.]+$' <<<"$(bridge_summary)"

  step "네트워크 생성: docker network create my-app-network"
  ensure_network my-app-network
  check "my-app-network now appears in docker network ls (driver $(docker network inspect -f '{{.Driver}}' \
    my-app-network 2>/dev/null), the default for create)" listed my-app-network

  step "컨테이너 네트워크 연결/해제: docker network connect my-app-network my-app-container"
  log "  (tutorial: docker network connect my-network my-container — the custom lab runs exactly that and shows"
  log "  what it changes for name resolution; here: what connect and disconnect do to the container's networks)"
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker run -d --name my-app-container $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
  run docker network connect my-app-network my-app-container
  check "after connect, my-app-container is on bridge and my-app-network ($(networks_of my-app-container))" \
    on_network my-app-container my-app-network
  check "docker network inspect my-app-network lists my-app-container among its containers" \
    grep -qw my-app-container <<<"$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' my-app-network)"
  run docker network disconnect my-app-network my-app-container
  check "after disconnect, my-app-container is on bridge only ($(networks_of my-app-container))" \
    test "$(networks_of my-app-container)" = bridge

  step "네트워크 삭제: docker network rm my-app-network"
  run docker network rm my-app-network >/dev/null
  check "my-app-network is gone from docker network ls" unlisted my-app-network

  step "사용하지 않는 네트워크 정리: docker network prune — with a label filter"
  log "  tutorial: docker network prune. As written it deletes EVERY network no container uses — on a"
  log "  learner's machine that includes their own projects' networks (compose networks of stopped stacks,"
  log "  say). Scope it with a label filter: we only prune networks that carry $PRUNE_LABEL=yes and this"
  log "  lab's labels (several --filter label=... must all match)."
  prune_demo
}

# prune_demo: three networks of ours — unused + prune label, unused without it, used + prune label —
# then a filtered prune: only the first may go.
prune_demo() {
  # shellcheck disable=SC2046  # labels() is a list of words by design
  run docker network create $(labels) --label "$PRUNE_LABEL=yes" prune-me >/dev/null
  # shellcheck disable=SC2046
  run docker network create $(labels) prune-keep >/dev/null
  # shellcheck disable=SC2046
  run docker network create $(labels) --label "$PRUNE_LABEL=yes" prune-in-use >/dev/null
  # shellcheck disable=SC2046
  run docker run -d --name prune-user --network prune-in-use $(labels) "$TOOLBOX_IMAGE" sleep 1000 >/dev/null
  check "before the prune: prune-me, prune-keep and prune-in-use are all listed" \
    eval 'listed prune-me && listed prune-keep && listed prune-in-use'
  run docker network prune -f --filter "label=$LAB_LABEL=$LAYOUT" --filter "label=$PRUNE_LABEL=yes" >&2
  check "prune removed prune-me (unused, and it matches both label filters)" unlisted prune-me
  check "prune kept prune-keep (unused too, but without $PRUNE_LABEL=yes: the filter set the scope)" \
    listed prune-keep
  check "prune kept prune-in-use (it matches the filters, but prune never removes a network in use)" \
    listed prune-in-use
  run docker network rm prune-keep >/dev/null
  check "prune-keep removed by name afterwards (docker network rm)" unlisted prune-keep
}
