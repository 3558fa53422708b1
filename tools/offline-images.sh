#!/usr/bin/env bash
# offline-images.sh — build the offline stand-ins for every official image the lab uses, and the lab's own tool
# images (the tests' browser and load generator), from Debian packages.
#
# Usage: tools/offline-images.sh [--rebuild] [--no-wheels]
#        eval "$(tools/offline-images.sh)"      # build (or reuse), then export the image variables
#
# No registry is needed: a Debian base is made with debootstrap and `docker import`, and each stand-in is a
# Dockerfile under offline/ FROM that base. Tags are our own (lab-offline/...), never an official name.
# The toolbox (alpine's stand-in) builds busybox from Debian's source package against musl: a few minutes.
# The tool images (chromium, wrk) are also built online from the same Dockerfiles FROM debian:trixie-slim,
# under their default names (lab/browser:latest, lab/wrk:latest) on first use; here they get a lab-offline tag.
# Python wheels for the app image are downloaded on the host into app_server/wheels/ (containers cannot
# reach PyPI here), Granian's into extras/bench/granian/wheels/, and the npm packages of the bench's Express
# app into extras/bench/express/npm-cache/ (with the host's npm; without it, that folder stays empty).
# Progress goes to stderr; stdout carries only the `export` lines.
#
#   --rebuild    re-import the bases and rebuild every stand-in without the build cache
#   --no-wheels  skip the downloads on the host: the wheelhouses and the npm cache (images only)
#   -h, --help   show this help
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OFFLINE=$ROOT/offline
WHEELS=$ROOT/app_server/wheels
GRANIAN=$ROOT/extras/bench/granian   # its requirements.txt, and wheels/ beside it
EXPRESS=$ROOT/extras/bench/express   # its package-lock.json, and npm-cache/ beside it
SCRATCH=''   # a private folder (mktemp -d, mode 0700) for the debootstrap trees, made when one is needed

# variable  tag  base-suite  folder under offline/
STANDINS=(
  "PYTHON_IMAGE   lab-offline/python:3.13     trixie python"
  "MYSQL_IMAGE    lab-offline/mysql:9.7       sid    mysql"
  "POSTGRES_IMAGE lab-offline/postgres:17     trixie postgres"
  "NGINX_IMAGE    lab-offline/nginx:1.30      sid    nginx"
  "TOOLBOX_IMAGE  lab-offline/toolbox:alpine-3.22 trixie toolbox"
  "NODE_IMAGE     lab-offline/node:28         sid    node"
  "NODEJS_IMAGE   lab-offline/node.js:24      sid    nodejs"
  "BROWSER_IMAGE  lab-offline/chromium:trixie trixie chromium"
  "WRK_IMAGE      lab-offline/wrk:trixie      trixie wrk"
)
IMAGE_LABEL=io.docker-net-lab.offline=1

log() { printf 'offline-images: %s\n' "$*" >&2; }
die() { printf 'offline-images: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "$0"; }

# The machine's own Debian mirror, from its apt sources (deb822 first, then one-line format).
mirror() {
  local uri
  uri=$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
  [[ -n $uri ]] || uri=$(awk '/^deb / {print $2}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -v security | head -n1 || true)
  [[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources.list*; add one, or set MIRROR=http://..."
  printf '%s\n' "${MIRROR:-$uri}"
}

need_debootstrap() {
  command -v debootstrap >/dev/null && return
  log "installing debootstrap (apt-get)"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2 \
    || die "could not install debootstrap; install it with your package manager and run again"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Trim a fresh rootfs to what an image should hold, and make it safe to build on.
clean_rootfs() {
  local dir=$1 suite=$2
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/tmp/* "$dir"/var/log/*.log
  : >"$dir/etc/resolv.conf"    # the host's resolver; docker writes its own at run time
  : >"$dir/etc/hostname"
  printf '#!/bin/sh\n# no daemons start while an image builds\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$dir/etc/apt/apt.conf.d/90lab"
  if [[ $suite == sid ]]; then  # the mirror's sid Release file can be past its Valid-Until date
    printf 'Acquire::Check-Valid-Until "false";\n' >"$dir/etc/apt/apt.conf.d/91no-valid-until"
  fi
}

# lab-offline/debian:SUITE from debootstrap + docker import (kept when it exists: a re-import would change
# its ID and throw away every build cache downstream).
build_base() {
  local suite=$1 tag=lab-offline/debian:$1 dir
  if image_exists "$tag" && [[ $REBUILD == 0 ]]; then log "base $tag exists, reusing"; return; fi
  need_debootstrap
  if [[ -z $SCRATCH ]]; then
    SCRATCH=$(mktemp -d "${TMPDIR:-/var/tmp}/lab-offline.XXXXXX") || die "could not make a temporary folder"
    trap 'rm -rf "$SCRATCH"' EXIT
  fi
  dir=$SCRATCH/$suite
  mkdir "$dir"
  log "debootstrap --variant=minbase $suite $dir $(mirror)  (about half a minute)"
  debootstrap --variant=minbase "$suite" "$dir" "$(mirror)" >"$SCRATCH/debootstrap-$suite.log" 2>&1 \
    || { tail -n 20 "$SCRATCH/debootstrap-$suite.log" >&2; die "debootstrap $suite failed (log above)"; }
  clean_rootfs "$dir" "$suite"
  log "docker import -> $tag"
  tar -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL $IMAGE_LABEL" \
    --change 'CMD ["bash"]' - "$tag" >/dev/null
  rm -rf "$dir"
}

# The stand-ins name their base BASE_IMAGE; the toolbox's build stage and the tool images, which learners
# build online too, DEBIAN_IMAGE (default debian:trixie-slim). The one the Dockerfile declares is passed.
build_standin() {
  local tag=$1 suite=$2 folder=$3 args=() base_arg
  [[ $REBUILD == 1 ]] && args+=(--no-cache)
  # the Dockerfile's ARG for the Debian base: BASE_IMAGE (FROM it), or DEBIAN_IMAGE (the toolbox's build
  # stage: its image is FROM scratch)
  base_arg=$(awk -F'[ =]' '$1 == "ARG" && ($2 == "BASE_IMAGE" || $2 == "DEBIAN_IMAGE") {print $2; exit}' \
    "$OFFLINE/$folder/Dockerfile")
  [[ -n $base_arg ]] || die "offline/$folder/Dockerfile declares no ARG BASE_IMAGE or DEBIAN_IMAGE"
  log "docker build -t $tag -f offline/$folder/Dockerfile offline/"
  docker build -q "${args[@]}" --build-arg "$base_arg=lab-offline/debian:$suite" --label "$IMAGE_LABEL" \
    -t "$tag" -f "$OFFLINE/$folder/Dockerfile" "$OFFLINE" >/dev/null \
    || die "building $tag failed; run the docker build above by hand to see why"
}

# cp313 manylinux wheels for an image, downloaded on the host (pip inside a container has no PyPI): REQ's
# packages into DIR (app_server/wheels/ for the app, extras/bench/granian/wheels/ for Granian).
build_wheelhouse() {
  local req=$1 dir=$2 stamp=$2/.requirements.cksum sum
  sum=$(cksum <"$req")   # POSIX cksum: on macOS and Linux alike (sha256sum is GNU coreutils only)
  if [[ -f $stamp && $(cat "$stamp") == "$sum" && $REBUILD == 0 ]] && compgen -G "$dir/*.whl" >/dev/null; then
    log "wheelhouse ${dir#"$ROOT"/}/ is current, reusing"; return
  fi
  log "pip download -> ${dir#"$ROOT"/}/ (Python 3.13, manylinux x86_64)"
  find "$dir" -name '*.whl' -delete
  python3 -m pip download -q --isolated --disable-pip-version-check --only-binary=:all: \
    --python-version 3.13 --implementation cp --abi cp313 --abi abi3 --abi none \
    --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d "$dir" -r "$req" >&2 || die "pip download failed: is PyPI reachable from this host?"
  printf '%s\n' "$sum" >"$stamp"
}

# The Express app's npm packages (extras/bench/express/), fetched by the host's npm into npm-cache/ beside it
# (npm inside a container has no registry here): `npm ci` in a scratch copy of package*.json fills the cache
# with every tarball the lockfile pins, and the image's `npm ci --offline --cache` installs from it. No npm on
# this host, or no registry: one line, an empty folder, and the express image builds online only.
build_npm_cache() {
  local cache=$EXPRESS/npm-cache stamp=$EXPRESS/npm-cache/.package-lock.cksum sum work
  sum=$(cksum <"$EXPRESS/package-lock.json")
  if [[ -f $stamp && $(cat "$stamp") == "$sum" && $REBUILD == 0 && -d $cache/_cacache ]]; then
    log "npm cache extras/bench/express/npm-cache/ is current, reusing"; return
  fi
  find "$cache" -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
  if ! command -v npm >/dev/null; then
    log "no npm on this host: extras/bench/express/npm-cache/ left empty (the express image then builds online only)"
    return
  fi
  log "npm ci --cache -> extras/bench/express/npm-cache/ (node $(node --version 2>/dev/null || echo '?'), npm $(npm --version))"
  work=$(mktemp -d "${TMPDIR:-/tmp}/lab-npm.XXXXXX") || die "could not make a temporary folder"
  cp "$EXPRESS/package.json" "$EXPRESS/package-lock.json" "$work/"
  # --ignore-scripts: nothing from the registry runs on this host. --logs-max=0: npm prints its errors, and
  # writes no log file into the cache (a file in the scratch folder would be gone when npm names it).
  if ! (cd "$work" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error --logs-max=0 \
      --fetch-retries=1 --fetch-timeout=30000 --cache "$cache" >/dev/null); then
    rm -rf "$work"
    find "$cache" -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
    log "npm ci failed (is the npm registry reachable from this host?): extras/bench/express/npm-cache/ left empty"
    return
  fi
  rm -rf "$work"
  printf '%s\n' "$sum" >"$stamp"
}

main() {
  REBUILD=0
  local wheels=1 entry var tag suite folder
  while (($#)); do
    case $1 in
      --rebuild) REBUILD=1 ;;
      --no-wheels) wheels=0 ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; printf 'offline-images: unknown option: %s\n' "$1" >&2; exit 2 ;;
    esac
    shift
  done
  docker info >/dev/null 2>&1 || die "no Docker engine answers; start Docker first (Docker Desktop, or 'sudo systemctl start docker')"
  build_base trixie
  build_base sid
  for entry in "${STANDINS[@]}"; do
    read -r var tag suite folder <<<"$entry"
    build_standin "$tag" "$suite" "$folder"
  done
  if ((wheels)); then
    build_wheelhouse "$ROOT/app_server/requirements.txt" "$WHEELS"
    build_wheelhouse "$GRANIAN/requirements.txt" "$GRANIAN/wheels"
    build_npm_cache
  fi
  for entry in "${STANDINS[@]}"; do
    read -r var tag _ <<<"$entry"
    printf 'export %s=%s\n' "$var" "$tag"
  done
  log "done: $(docker image ls --filter "label=$IMAGE_LABEL" --filter dangling=false --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')"
}

main "$@"
