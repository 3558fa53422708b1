#!/usr/bin/env bash
# Entrypoint of the node stand-in: start dockerd the way docker:dind does, on the unix socket only.
#   docker run --privileged -v VOL:/var/lib/docker lab-offline/node:28 [DOCKERD_FLAGS...]
# Arguments that start with '-' are extra dockerd flags (e.g. --insecure-registry NAME:5000); anything else
# is run as a command instead of dockerd. No TLS and no TCP socket: the node is driven with `docker exec`.
set -Eeuo pipefail

log() { printf '%s [node]: %s\n' "$(date -u +%FT%TZ)" "$*"; }

# A privileged container sees the host's /sys read-write; dockerd also wants securityfs (AppArmor's
# profiles live there) and shared mount propagation for the volumes of its own containers.
prepare_mounts() {
  if [[ -d /sys/kernel/security ]] && ! mountpoint -q /sys/kernel/security; then
    mount -t securityfs none /sys/kernel/security 2>/dev/null || log "securityfs not mounted (AppArmor off)"
  fi
  mount --make-rshared / 2>/dev/null || true
  # A stale pid file from a stopped node would stop dockerd from starting again.
  rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid
}

if (($# == 0)) || [[ $1 == -* ]]; then
  prepare_mounts
  # Like docker:dind, add the unix socket only when the flags name no --host of their own.
  case " $* " in
    *" --host"*|*" -H "*|*" -H="*) ;;
    *) set -- --host=unix:///var/run/docker.sock "$@" ;;
  esac
  log "starting dockerd $(dockerd --version | awk '{print $3}' | tr -d ,) $*"
  exec dockerd --storage-driver=overlay2 "$@"
fi
exec "$@"
