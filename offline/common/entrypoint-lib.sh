#!/usr/bin/env bash
# Helpers shared by the stand-ins' entrypoints (sourced, not run). Our own small versions of what the
# official images document: *_FILE secrets and one-time /docker-entrypoint-initdb.d scripts.

entry_log() { printf '%s [Entrypoint]: %s\n' "$(date -u +%FT%TZ)" "$*"; }
entry_die() { printf '%s [Entrypoint]: error: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; exit 1; }

# file_env VAR [DEFAULT]: VAR from $VAR, or from the file $VAR_FILE names (a docker/compose secret).
# Setting both is an error, as in the official images.
file_env() {
  local var=$1 def=${2:-} file_var="${1}_FILE" val
  val=$def
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    entry_die "both $var and $file_var are set (but they are exclusive); keep one"
  fi
  if [[ -n ${!var:-} ]]; then
    val=${!var}
  elif [[ -n ${!file_var:-} ]]; then
    [[ -r ${!file_var} ]] || entry_die "$file_var=${!file_var}: no such readable file"
    val=$(<"${!file_var}")
  fi
  export "$var=$val"
  unset "$file_var"
}

# run_initdb_dir SQL_RUNNER: run /docker-entrypoint-initdb.d/* in name order. *.sh runs (executable) or is
# sourced (not executable); *.sql and *.sql.gz are piped to SQL_RUNNER, a function reading SQL on stdin.
run_initdb_dir() {
  local runner=$1 f
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e $f ]] || continue
    case $f in
      *.sh)
        if [[ -x $f ]]; then entry_log "running $f"; "$f"
        else entry_log "sourcing $f"; # shellcheck disable=SC1090
          . "$f"; fi ;;
      *.sql) entry_log "running $f"; "$runner" <"$f" ;;
      *.sql.gz) entry_log "running $f"; gunzip -c "$f" | "$runner" ;;
      *) entry_log "ignoring $f" ;;
    esac
  done
}
