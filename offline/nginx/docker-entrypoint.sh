#!/usr/bin/env bash
# Entrypoint of the nginx stand-in: when the command is nginx, run /docker-entrypoint.d/*.sh in order
# (template rendering is one of them), then exec the command so nginx is PID 1 and gets the signals.
set -Eeuo pipefail

run_entrypoint_dir() {
  local f
  for f in /docker-entrypoint.d/*; do
    [[ -e $f ]] || continue
    case $f in
      *.sh) echo "$0: running $f"; "$f" ;;
      *) echo "$0: ignoring $f" ;;
    esac
  done
  echo "$0: configuration complete; ready for start up"
}

main() {
  if [[ ${1:-} == nginx || ${1:-} == nginx-debug ]]; then
    run_entrypoint_dir
  fi
  exec "$@"
}

main "$@"
